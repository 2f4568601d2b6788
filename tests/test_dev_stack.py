"""`sonod dev`, which `make run` runs: the whole stack comes up, stops cleanly, and keeps its data.

Each test runs the real launcher in a subprocess with its own var/ and free ports, on embedded SQLite, or on
a fresh PostgreSQL database when SONOD_DATABASE_URL names a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.smoke

UP_TIMEOUT = 180.0  # a cold start on a 2-core CI machine: Temporal creates its database, imports warm up
STOP_TIMEOUT = 25.0


def free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    ports = [s.getsockname()[1] for s in sockets]
    for sock in sockets:
        sock.close()
    return ports


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def processes_with(marker: str) -> list[int]:
    """The live processes whose environment holds `marker` (our children carry SONOD_VAR_DIR=<this test's>)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes().split(b"\0"):
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(proc.name))
        except OSError:
            continue
    return found


@dataclass
class Stack:
    """One `sonod dev` in a subprocess."""

    env: dict[str, str]
    var_dir: Path
    grpc_port: int
    ui_port: int
    porichoy_port: int
    api_port: int
    proc: subprocess.Popen | None = None
    runs: int = 0

    @property
    def marker(self) -> str:
        return f"SONOD_VAR_DIR={self.var_dir}"

    @property
    def output_path(self) -> Path:
        return self.var_dir.parent / f"sonod-dev-{self.runs}.out"

    def output(self) -> str:
        return self.output_path.read_text(errors="replace") if self.output_path.exists() else ""

    def start(self, *args: str) -> None:
        self.runs += 1
        with self.output_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "infra.cli", "dev", *args], env=self.env, cwd=self.var_dir.parent,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )

    def finish(self, timeout: float = 60.0) -> int:
        """Wait for `sonod dev` to exit on its own (a failed preflight, say)."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"sonod dev still runs after {timeout} s:\n{self.output()}")

    def wait_until_up(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + UP_TIMEOUT
        with httpx.Client(trust_env=False, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    pytest.fail(f"sonod dev exited with {self.proc.returncode} while starting:\n{self.output()}")
                if "sonod is running" in self.output() and \
                        _status(http, f"http://127.0.0.1:{self.api_port}/healthz") == 200 and \
                        (_status(http, f"http://127.0.0.1:{self.ui_port}/") or 500) < 500:
                    return
                time.sleep(0.5)
        pytest.fail(f"the stack was not up after {UP_TIMEOUT} s:\n{self.output()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, float]:
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=STOP_TIMEOUT + 30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"sonod dev did not exit after {sig.name}:\n{self.output()}")
        return code, time.monotonic() - began

    def kill_leftovers(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in processes_with(self.marker):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _status(http: httpx.Client, url: str) -> int | None:
    try:
        return http.get(url).status_code
    except httpx.HTTPError:
        return None


@pytest.fixture
def stack(tmp_path, request) -> Iterator[Stack]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SONOD_")}
    database = os.environ.get("SONOD_DATABASE_URL", "")
    if database.startswith("postgresql"):
        database = request.getfixturevalue("empty_database_url")  # a fresh database, dropped afterwards
    grpc, ui, porichoy, api, gateways, smsgw, tsa = free_ports(7)
    var_dir = tmp_path / "var"
    env |= {
        "SONOD_VAR_DIR": str(var_dir),
        "SONOD_DATABASE_URL": database,
        "SONOD_TEMPORAL_ADDRESS": f"127.0.0.1:{grpc}",
        "SONOD_TEMPORAL_UI_PORT": str(ui),
        "SONOD_TEMPORAL_UI_URL": f"http://127.0.0.1:{ui}",
        "SONOD_PORICHOY_PORT": str(porichoy),
        "SONOD_PORICHOY_URL": f"http://127.0.0.1:{porichoy}",
        "SONOD_API_PORT": str(api),
        "SONOD_GATEWAYS_PORT": str(gateways),
        "SONOD_SMSGW_PORT": str(smsgw),
        "SONOD_TSA_PORT": str(tsa),
        "SONOD_PUBLIC_URL": f"http://127.0.0.1:{api}",
    }
    running = Stack(env, var_dir, grpc, ui, porichoy, api)
    yield running
    running.kill_leftovers()


def test_stack_comes_up_and_stops_cleanly_on_sigterm(stack):
    stack.start()
    stack.wait_until_up()

    code, seconds = stack.stop(signal.SIGTERM)

    assert code == 0, stack.output()
    assert seconds < STOP_TIMEOUT, stack.output()
    assert processes_with(stack.marker) == []
    for port in (stack.grpc_port, stack.ui_port, stack.porichoy_port, stack.api_port):
        assert port_is_free(port), port
    assert "Traceback" not in stack.output()


def test_stack_prints_its_urls_and_demo_log_ins(stack):
    stack.start()
    stack.wait_until_up()
    stack.stop(signal.SIGINT)

    printed = stack.output()
    for url in (f"http://127.0.0.1:{stack.api_port}", f"http://127.0.0.1:{stack.ui_port}",
                f"http://127.0.0.1:{stack.porichoy_port}"):
        assert url in printed
    for login in ("chairman.paikkandi", "secretary.paikkandi", "udc.paikkandi", "ward1.paikkandi",
                  "uno.gopalganj-sadar", "sonod-demo", "demo-portal-key", "SHW5O47OQTSWH5WN44AOAYKOTYDOC2UH"):
        assert login in printed
    assert f"curl -s http://127.0.0.1:{stack.api_port}/api/v1/applications" in printed
    for log in ("temporal", "porichoy", "tsa", "worker", "api"):
        assert (stack.var_dir / "log" / f"{log}.log").exists()


def test_a_restarted_stack_keeps_temporal_history_and_the_database(stack):
    workflow_id = f"smoke-{uuid.uuid4().hex[:8]}"
    stack.start()
    stack.wait_until_up()
    asyncio.run(start_idle_workflow(stack, workflow_id))
    assert stack.stop()[0] == 0

    stack.start()
    stack.wait_until_up()
    status = asyncio.run(workflow_status(stack, workflow_id))
    assert stack.stop()[0] == 0

    assert status == "RUNNING"
    assert "nothing new" in stack.output()  # the seed found its data


def test_a_busy_port_is_named_and_nothing_starts(stack):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", stack.api_port))
        holder.listen()
        stack.start()
        code = stack.finish()

    printed = stack.output()
    assert code != 0
    assert str(stack.api_port) in printed and "API" in printed
    assert "SONOD_API_PORT" in printed
    assert "Traceback" not in printed
    assert processes_with(stack.marker) == []


def test_a_missing_temporal_binary_is_a_clear_error(stack):
    stack.env["SONOD_TEMPORAL_BIN"] = "/nonexistent/temporal"
    stack.start()
    code = stack.finish()

    printed = stack.output()
    assert code != 0
    assert "/nonexistent/temporal" in printed and "temporal-bin" in printed
    assert "Traceback" not in printed


def test_a_child_that_dies_is_named_with_its_log_and_the_rest_stop(stack, tmp_path):
    fake = tmp_path / "temporal"
    fake.write_text("#!/bin/sh\necho 'fake temporal: cannot open the database' >&2\nexit 3\n")
    fake.chmod(0o755)
    stack.env["SONOD_TEMPORAL_BIN"] = str(fake)
    stack.start()
    code = stack.finish()

    printed = stack.output()
    assert code != 0
    assert "Temporal dev server" in printed and "exited with code 3" in printed
    assert "fake temporal: cannot open the database" in printed
    assert processes_with(stack.marker) == []


async def start_idle_workflow(stack: Stack, workflow_id: str) -> None:
    """A workflow on a task queue that no worker polls: it stays running, in Temporal's database only."""
    from temporalio.client import Client

    client = await Client.connect(f"127.0.0.1:{stack.grpc_port}")
    await client.start_workflow("SmokeIdle", id=workflow_id, task_queue=f"smoke-idle-{workflow_id}")


async def workflow_status(stack: Stack, workflow_id: str) -> str:
    from temporalio.client import Client

    client = await Client.connect(f"127.0.0.1:{stack.grpc_port}")
    description = await client.get_workflow_handle(workflow_id).describe()
    return description.status.name
