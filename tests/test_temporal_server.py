"""The dev server that `make run` starts: its Web UI is pointed at sonod's codec server (issue 18)."""

from __future__ import annotations

from pathlib import Path

from infra.temporal_server import start_dev_command
from sonod.settings import Settings


def test_the_web_ui_decodes_through_sonods_codec_server(tmp_path):
    command = start_dev_command(Path("temporal"), Settings(var_dir=tmp_path, public_url="http://127.0.0.1:8000/"))
    assert command[command.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8000/api/v1/codec"
    assert command[command.index("--ip") + 1] == "127.0.0.1"  # the frontend and its UI on loopback only
