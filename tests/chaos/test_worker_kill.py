"""A worker killed mid-flight and restarted: every application still ends issued, with one certificate number.

The worker runs as a subprocess with a few activity slots. Early applications wait for the chairman; then the
NID gateway slows down and the late applications' NID checks take every slot. The chairman approves the early
ones, so their certificate numbers are due but wait for a slot. At that moment the worker gets SIGKILL: NID
checks die half-done on it, issues are pending. A new worker process takes over; the dead one's NID checks are
retried once their attempts time out (NID_POLICY), and the chairman approves the late ones as they arrive.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowHandle

from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import DecisionKind, Role, Status
from tests.stack import citizen
from tests.unions_kit import start as start_one
from tests.unions_kit import submissions
from workflows.application import CertificateApplication
from workflows.messages import Actor, Decision, Submission

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNIONS = ("borashi", "kathi", "shuktail")  # used by no other test: their number sequences are ours alone
SLOTS = 8  # the worker's activity slots, all taken by the late applications' slowed NID checks
EARLY, LATE = 22, SLOTS
SLOW_NID_MS = 25_000  # holds the slots until well after the kill; the dead worker's attempts time out at 15 s
PORTAL = Actor(username="portal:demo", role=Role.PORTAL)
SCHEDULED = PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
STARTED = PendingActivityState.PENDING_ACTIVITY_STATE_STARTED


async def test_a_worker_killed_mid_flight_and_restarted_issues_every_application_once(
        temporal_env, settings, porichoy, worker_process):
    client: Client = temporal_env.client
    worker = worker_process
    worker.env["SONOD_MAX_CONCURRENT_ACTIVITIES"] = str(SLOTS)
    worker.env["SONOD_PORICHOY_TIMEOUT_S"] = "30"  # the slowed gateway answers late rather than never
    worker.start()

    early = await start(client, worker.task_queue, await asyncio.to_thread(inputs, settings, range(EARLY)))
    await until(worker, early, awaiting_chairman_and_idle, "awaiting the chairman, nothing pending", timeout=40)

    await asyncio.to_thread(porichoy.faults, latency_ms=SLOW_NID_MS)
    try:
        late = await start(client, worker.task_queue,
                           await asyncio.to_thread(inputs, settings, range(EARLY, EARLY + LATE)))
        await until(worker, late, lambda h: has_pending(h, "NidGateway.verify", STARTED), "checking the NID")
        views = await asyncio.gather(*(approve(h) for h in early))
        assert {v.status for v in views} == {Status.ISSUING}
        await until(worker, early, lambda h: has_pending(h, "Issuer.issue", SCHEDULED),
                    "waiting to be numbered and issued")
        worker.kill()
    finally:
        await asyncio.to_thread(porichoy.faults, latency_ms=0)

    worker.start()
    await until(worker, late, lambda h: is_status(h, Status.AWAITING_DECISION), "awaiting the chairman", timeout=60)
    await asyncio.gather(*(approve(h) for h in late))
    handles = early + late
    results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), timeout=90)

    assert {r.status for r in results} == {Status.ISSUED}
    numbers = {h.id: r.certificate_no for h, r in zip(handles, results, strict=True)}
    assert None not in numbers.values()
    assert len(set(numbers.values())) == len(handles), "two applications share a certificate number"

    rows, sequences, counters = await asyncio.to_thread(certificates, settings.db_url, list(numbers))
    assert Counter(row.application_id for row in rows) == Counter(numbers.keys()), "not one certificate row each"
    assert {row.application_id: row.certificate_no for row in rows} == numbers
    assert all(row.pdf_path and (settings.pdf_dir / row.pdf_path).is_file() for row in rows)
    for (union, year), seqs in sequences.items():
        assert seqs == list(range(1, len(seqs) + 1)), f"{union} {year}: the numbers have gaps: {seqs}"
        assert counters[union, year] == len(seqs), f"{union} {year}: the counter is off"


# --- helpers -------------------------------------------------------------------------------------------------

def inputs(settings, indices: range) -> list[Submission]:
    """Citizenship applications of real registry people, round the test's unions (database work: in a thread)."""
    return submissions(settings.db_url, [citizen(UNIONS[i % len(UNIONS)], i // len(UNIONS)) for i in indices],
                       PORTAL)


async def start(client: Client, task_queue: str, apps: list[Submission]) -> list[WorkflowHandle]:
    return list(await asyncio.gather(*(start_one(client, task_queue, app) for app in apps)))


async def approve(handle: WorkflowHandle):
    view = await handle.query(CertificateApplication.view)
    chairman = Actor(username=f"chairman.{view.union}", role=Role.CHAIRMAN, union=view.union,
                     upazila="gopalganj-sadar")
    return await handle.execute_update(CertificateApplication.decide,
                                       Decision(kind=DecisionKind.APPROVE, actor=chairman), id=f"decide-{handle.id}")


async def pending(handle: WorkflowHandle) -> dict[str, int]:
    description = await handle.describe()
    return {a.activity_type.name: a.state for a in description.raw_description.pending_activities}


async def has_pending(handle: WorkflowHandle, activity: str, state: int) -> bool:
    return (await pending(handle)).get(activity) == state


async def is_status(handle: WorkflowHandle, status: Status) -> bool:
    return (await handle.query(CertificateApplication.view)).status is status


async def awaiting_chairman_and_idle(handle: WorkflowHandle) -> bool:
    """Awaiting the chairman with the officers' notice sent: no activity holds a slot any more."""
    return await is_status(handle, Status.AWAITING_DECISION) and not await pending(handle)


async def until(worker, handles: list[WorkflowHandle], check, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(handles)
    while waiting:
        worker.check_running()
        done = await asyncio.gather(*(check(h) for h in waiting))
        waiting = [h for h, ok in zip(waiting, done, strict=True) if not ok]
        if waiting and time.monotonic() > deadline:
            raise AssertionError(f"{len(waiting)} applications are not {what} after {timeout:.0f} s, e.g. "
                                 f"{waiting[0].id}; worker log:\n{worker.tail()}")
        await asyncio.sleep(0.2)


def certificates(url: str, application_ids: list[str]):
    """Our applications' certificate rows, and every number of our unions by year, with their counters."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.scalars(select(db.Certificate)
                                   .where(db.Certificate.application_id.in_(application_ids))).all()
            sequences: dict[tuple[str, int], list[int]] = defaultdict(list)
            for union, year, seq in session.execute(
                    select(db.Certificate.union_slug, db.Certificate.year, db.Certificate.seq)
                    .where(db.Certificate.union_slug.in_(UNIONS)).order_by(db.Certificate.seq)):
                sequences[union, year].append(seq)
            counters = {(c.union_slug, c.year): c.last_no for c in session.scalars(
                select(db.CertificateCounter).where(db.CertificateCounter.union_slug.in_(UNIONS)))}
            return rows, dict(sequences), counters
    finally:
        engine.dispose()
