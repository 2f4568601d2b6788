"""Fixtures of the fault tests: a sonod worker run as a subprocess of its own, so that a test can kill -9 it and
start it again, on the session's Temporal dev server, database and Porichoy simulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """`python -m infra.cli worker` on a task queue of its own; its output goes to a log the failures quote."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def task_queue(self) -> str:
        return self.env["SONOD_TASK_QUEUE"]

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the worker is already running"
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts}\n".encode())
            out.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", "infra.cli", "worker"], cwd=ROOT, env=self.env,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a power cut would: no shutdown, nothing reported to Temporal."""
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def check_running(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the worker exited with {self.proc.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@pytest.fixture
def worker_process(settings, porichoy, temporal_env, tmp_path) -> Iterator[WorkerProcess]:
    """Not started yet: the test may change `env` first, then starts it (and kills and restarts it)."""
    env = dict(os.environ)  # the same SONOD_* secrets as the session's settings, then this session's stack
    env.update({
        "PYTHONUNBUFFERED": "1",
        "SONOD_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "SONOD_TEMPORAL_NAMESPACE": temporal_env.client.namespace,
        "SONOD_DATABASE_URL": settings.db_url,
        "SONOD_VAR_DIR": str(settings.var_dir),
        "SONOD_PORICHOY_URL": porichoy.url,
        "SONOD_PUBLIC_URL": settings.public_url,
        "SONOD_TASK_QUEUE": f"chaos-{uuid.uuid4().hex[:8]}",
    })
    worker = WorkerProcess(env, tmp_path / "worker.log")
    yield worker
    worker.stop()
