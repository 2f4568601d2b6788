"""The architecture holds: the workflow and its contract load no activity implementation, the top-level packages
import each other in one direction only, and every activity the workflow calls is implemented under its name."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import typing

import httpx

from sonod.db import make_engine, make_session_factory
from sonod.settings import Settings
from tests.stack import ROOT
from workers.main import build_activities
from workflows import activities as contract

# Who may import whom. infra/ (the CLI, the dev launcher) may import everything; tests and bench are not packages.
LAYERS = {
    "sonod": set(),
    "workflows": {"sonod"},
    "activities": {"sonod", "workflows"},
    "api": {"sonod", "workflows"},
    "workers": {"sonod", "workflows", "activities"},
    "infra": {"sonod", "workflows", "activities", "api", "workers"},
}


def imports_of(package: str) -> set[tuple[str, str]]:
    """(imported top-level package, importing file), for imports at any depth of the code (functions included)."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found |= {(name.split(".")[0], str(path.relative_to(ROOT))) for name in names}
    return found


def test_each_package_imports_only_the_layers_below_it():
    wrong = sorted(f"{where} imports {target}" for package, allowed in LAYERS.items()
                   for target, where in imports_of(package) if target in LAYERS and target not in allowed | {package})
    assert not wrong, "\n".join(wrong)


def test_the_api_process_loads_neither_the_renderer_nor_any_activity():
    probe = ("import sys, api.main, infra.ops; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('reportlab', 'activities', 'workers')))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout


def interfaces() -> dict[str, object]:
    return {method.__temporal_activity_definition.name: method
            for _, cls in inspect.getmembers(contract, inspect.isclass) if cls.__module__ == contract.__name__
            for _, method in inspect.getmembers(cls, inspect.isfunction)}


async def test_every_activity_of_the_contract_is_registered_by_the_worker_under_its_name_and_types(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/contract.db")
    async with httpx.AsyncClient() as http:
        built = build_activities(Settings(var_dir=tmp_path), make_session_factory(engine), http)
    engine.dispose()
    registered = {fn.__temporal_activity_definition.name: fn for fn in built}
    assert registered.keys() == interfaces().keys()
    for name, interface in interfaces().items():
        implementation = registered[name]
        assert isinstance(implementation.__self__, getattr(contract, interface.__qualname__.split(".")[0])), name
        assert typing.get_type_hints(implementation) == typing.get_type_hints(interface), name
        assert inspect.iscoroutinefunction(implementation) == inspect.iscoroutinefunction(interface), name
