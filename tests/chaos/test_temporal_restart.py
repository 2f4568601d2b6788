"""The Temporal server itself stops mid-run (SIGTERM) and starts again on the same SQLite file: every application
still ends issued, numbered once and told once.

The test runs a dev server of its own (free ports, its own database file, the WAL pragmas and sonod's search
attributes, as `sonod dev` starts it) and a worker of its own in this process, so that stopping Temporal touches no
other test. The session's database and Porichoy simulator are shared; the applications are of a union of this
test's own.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from temporalio.client import WorkflowHandle

from infra.temporal_server import find_binary, serving, start_dev_command
from sonod.db import make_engine, make_session_factory
from sonod.domain import DecisionKind, Role, Status
from sonod.settings import Settings
from sonod.temporal import connect
from tests.chaos.outcomes import check_issued_once
from tests.stack import free_port
from tests.unions_kit import add_union, person, start, submissions
from workers.main import build_worker
from workflows.application import CertificateApplication
from workflows.messages import Actor, Decision, Submission

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "tmprestart"
APPLICATIONS = 20
PORTAL = Actor(username="portal:demo", role=Role.PORTAL)
CHAIRMAN = Actor(username=f"chairman.{UNION}", role=Role.CHAIRMAN, union=UNION, upazila="gopalganj-sadar")


class DevServer:
    """`temporal server start-dev` on free ports and a database file of its own; stopped and started at will."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings, self.log = settings, log
        self.command = [*start_dev_command(find_binary(settings), settings), "--headless"]
        self.proc: subprocess.Popen | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 30
        while not await serving(self.settings):
            assert self.proc.poll() is None, f"temporal exited with {self.proc.returncode}:\n{self.tail()}"
            assert time.monotonic() < deadline, f"temporal did not come up:\n{self.tail()}"
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """SIGTERM, as systemd or `make run` stops it, and wait for it to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.proc.wait, 20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait, 5)
            raise AssertionError(f"temporal ignored SIGTERM for 20 s:\n{self.tail()}") from None

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
async def own_temporal(settings, tmp_path):
    """A Temporal dev server of this test's own; yields (its settings, the server)."""
    ours = settings.model_copy(update={
        "temporal_address": f"127.0.0.1:{free_port()}", "temporal_ui_port": free_port(), "var_dir": tmp_path,
        "task_queue": f"restart-{uuid.uuid4().hex[:8]}"})
    server = DevServer(ours, tmp_path / "temporal.log")
    await server.start()
    try:
        yield ours, server
    finally:
        await server.stop()


async def test_temporal_stopped_mid_run_and_restarted_on_its_file_loses_no_application(own_temporal, porichoy):
    ours, server = own_temporal
    await asyncio.to_thread(add_union, ours.db_url, UNION)
    assert (ours.var_dir / "temporal.db").is_file()
    engine = make_engine(ours.db_url)
    client = await connect(ours)
    async with (httpx.AsyncClient(timeout=10) as gateway_http,
                build_worker(client, ours, make_session_factory(engine), gateway_http)):
        apps = await asyncio.to_thread(inputs, ours, range(APPLICATIONS))
        await asyncio.to_thread(porichoy.faults, latency_ms=1500)  # NID checks are in flight at the stop
        try:
            handles = await asyncio.gather(*(start(client, ours.task_queue, app) for app in apps))
            early = await until(handles, Status.AWAITING_DECISION, at_least=5, timeout=30)
            await asyncio.gather(*(approve(h) for h in early))  # their numbers and PDFs are in flight too

            await server.stop()
            await asyncio.sleep(1)
            await server.start()
        finally:
            await asyncio.to_thread(porichoy.faults, latency_ms=0)

        late = [h for h in handles if h not in early]
        await until(late, Status.AWAITING_DECISION, at_least=len(late), timeout=90)
        await asyncio.gather(*(approve(h) for h in late))
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), timeout=90)
    engine.dispose()

    assert {r.status for r in results} == {Status.ISSUED}
    await asyncio.to_thread(check_issued_once, ours.db_url, UNION,
                            {h.id: r.certificate_no for h, r in zip(handles, results, strict=True)},
                            ours.var_dir / "sms.jsonl")


# --- helpers -------------------------------------------------------------------------------------------------


def inputs(settings: Settings, indices: range) -> list[Submission]:
    return submissions(settings.db_url, [person(i, union=UNION) for i in indices], PORTAL)


async def approve(handle: WorkflowHandle) -> None:
    view = await handle.execute_update(CertificateApplication.decide,
                                       Decision(kind=DecisionKind.APPROVE, actor=CHAIRMAN), id=f"decide-{handle.id}")
    assert view.status in (Status.ISSUING, Status.ISSUED), view.status


async def until(handles: list[WorkflowHandle], status: Status, at_least: int, timeout: float) -> list[WorkflowHandle]:
    """The handles in `status`, once at least `at_least` of them are (queries ride out the restart)."""
    deadline = time.monotonic() + timeout
    while True:
        views = await asyncio.gather(*(h.query(CertificateApplication.view) for h in handles),
                                     return_exceptions=True)
        there = [h for h, v in zip(handles, views, strict=True)
                 if not isinstance(v, BaseException) and v.status is status]
        if len(there) >= at_least:
            return there
        assert time.monotonic() < deadline, Counter(getattr(v, "status", type(v).__name__) for v in views)
        await asyncio.sleep(0.3)
