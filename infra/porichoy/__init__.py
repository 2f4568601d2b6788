"""A Porichoy-compatible NID gateway simulator and its synthetic registry."""

from pathlib import Path

REGISTRY_PATH = Path(__file__).resolve().parent / "registry.jsonl"
