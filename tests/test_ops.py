"""Issue #7: `sonod ops` on the real stack: stuck applications found through visibility, and the operator's verbs
going through the workflow's own updates (or the server's activity reset), audited in the union's log."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from infra.ops import Problem, Thresholds, find_stuck
from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import Role, Status
from tests.stack import citizen
from tests.unions_kit import add_union, person, refused, set_timing, start, submissions
from workflows.application import CertificateApplication
from workflows.messages import Actor, Resend
from workflows.refusals import Refusal
from workflows.search_attributes import CERTIFICATE_TYPE, SONOD_STATUS, UNION_SLUG

pytestmark = pytest.mark.asyncio(loop_scope="session")

SONOD = Path(sys.executable).parent / "sonod"


async def sonod(settings, *args: str) -> tuple[int, str, str]:
    """`sonod ...` as an operator runs it, in its own process, against the test stack."""
    env = {**os.environ, "SONOD_TEMPORAL_ADDRESS": settings.temporal_address,
           "SONOD_TEMPORAL_NAMESPACE": settings.temporal_namespace, "SONOD_DATABASE_URL": settings.db_url,
           "SONOD_VAR_DIR": str(settings.var_dir), "SONOD_TEMPORAL_UI_URL": settings.temporal_ui_url,
           "COLUMNS": "250"}
    proc = await asyncio.create_subprocess_exec(SONOD, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def eventually(probe, timeout: float = 30, every: float = 0.25):
    """The probe's first truthy answer, or AssertionError with its last one."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"still {answer!r} after {timeout}s")
        await asyncio.sleep(every)


async def stuck_entry(settings, union: str, application_id: str, problem: Problem, *extra: str) -> dict:
    async def probe():
        code, out, err = await sonod(settings, "ops", "stuck", "--union", union, "--json", *extra)
        assert code == 0, err
        return next((s for s in json.loads(out) if s["application_id"] == application_id
                     and s["problem"] == problem.value), None)
    return await eventually(probe, timeout=45, every=0.5)


async def pending_attempt(client, application_id: str) -> int:
    description = await client.get_workflow_handle(application_id).describe()
    return max((p.attempt for p in description.raw_description.pending_activities), default=0)


async def read(settings, query) -> list:
    """Rows from the database, read off the event loop: SQLite's writers must not wait on a blocked loop."""
    def run():
        engine = make_engine(settings.db_url)
        try:
            with make_session_factory(engine)() as session:
                rows = list(session.scalars(query))
                session.expunge_all()
                return rows
        finally:
            engine.dispose()
    return await asyncio.to_thread(run)


async def audit_entries(settings, application_id: str) -> list[db.AuditEntry]:
    return await read(settings, select(db.AuditEntry).where(db.AuditEntry.target == application_id)
                      .order_by(db.AuditEntry.seq))


# --- sonod ops stuck ---------------------------------------------------------------------------------------------


async def test_stuck_shows_an_application_retrying_on_the_nid_gateway_with_its_last_error(stack, porichoy, settings,
                                                                                         temporal_env):
    union = "chandradighalia"
    porichoy.faults(down=True)
    try:
        app_id = await stack.submitted(citizen(union, 0))
        await eventually(lambda: _attempt_at_least(temporal_env.client, app_id, 2))
        entry = await stuck_entry(settings, union, app_id, Problem.RETRYING, "--retrying-for", "0s")
        assert entry["activity"] == "NidGateway.verify" and entry["attempt"] >= 2
        assert entry["status"] == "verifying_nid" and entry["certificate_type"] == "citizenship"
        assert "503" in entry["last_error"] and "GatewayDown" in entry["last_error"] and "NID gateway" in entry["cause"]
        assert entry["url"] == f"{settings.temporal_ui_url}/namespaces/default/workflows/{app_id}"

        code, table, err = await sonod(settings, "ops", "stuck", "--union", union, "--retrying-for", "0s")
        assert code == 0, err
        assert app_id in table and "retrying" in table and "503" in table

        code, out, _ = await sonod(settings, "ops", "stuck", "--union", union, "--json")  # default: 5 minutes
        assert not [s for s in json.loads(out) if s["application_id"] == app_id]
    finally:
        porichoy.reset()
    await stack.wait_for(app_id, Status.AWAITING_DECISION, timeout=60)


async def _attempt_at_least(client, application_id: str, n: int) -> bool:
    return await pending_attempt(client, application_id) >= n


async def start_directly(settings, client, union: str, index: int, **timing) -> str:
    """An application started as the API starts it, in a union of the test's own whose clock is `timing`."""
    def build():
        add_union(settings.db_url, union)
        set_timing(settings.db_url, union, **timing)
        return submissions(settings.db_url, [person(index, union=union)],
                           Actor(username="portal:demo", role=Role.PORTAL))[0]
    submission = await asyncio.to_thread(build)
    await start(client, settings.task_queue, submission)
    return submission.application_id


async def test_stuck_shows_an_overdue_application_and_whom_it_waits_for(stack, settings, temporal_env):
    union = "ops-overdue"
    client = temporal_env.client
    app_id = await start_directly(settings, client, union, 1, deadline_days=0, escalate_after=timedelta(days=30))
    handle = client.get_workflow_handle(app_id)

    async def marked():
        return (await handle.query(CertificateApplication.view)).overdue
    await eventually(marked)
    entry = await stuck_entry(settings, union, app_id, Problem.OVERDUE)
    assert entry["status"] == "awaiting_decision" and entry["waiting_on"] == "chairman"
    assert "waiting for the chairman" in entry["cause"] and "marked overdue" in entry["cause"]
    assert entry["url"].endswith(f"/workflows/{app_id}")
    await handle.terminate("test over")


# A stand-in for a broken deploy: the same workflow type on a queue of its own, whose issuer fails for good.
@activity.defn(name="Issuer.issue")
async def issue_without_a_key(_: dict) -> None:
    raise ApplicationError("no signing key for the union", type="NoSigningKey", non_retryable=True)


@workflow.defn(name="CertificateApplication", sandboxed=False)
class FailingApplication:
    @workflow.run
    async def run(self, _: dict) -> None:
        await workflow.execute_activity(issue_without_a_key, {}, start_to_close_timeout=timedelta(seconds=5),
                                        retry_policy=RetryPolicy(non_retryable_error_types=["NoSigningKey"]))


def issuing_in(union: str):
    """The search attributes of a citizenship application of `union` that is issuing."""
    return TypedSearchAttributes([SearchAttributePair(UNION_SLUG, union),
                                  SearchAttributePair(CERTIFICATE_TYPE, "citizenship"),
                                  SearchAttributePair(SONOD_STATUS, "issuing")])


async def test_stuck_shows_a_failed_application_with_the_failing_activity_and_error(stack, settings, temporal_env):
    union = "chandradighalia"
    client = temporal_env.client
    queue = f"ops-failing-{uuid.uuid4().hex[:6]}"
    app_id = f"T-FAIL-{uuid.uuid4().hex[:6].upper()}"
    attributes = issuing_in(union)
    async with Worker(client, task_queue=queue, workflows=[FailingApplication], activities=[issue_without_a_key]):
        handle = await client.start_workflow("CertificateApplication", {}, id=app_id, task_queue=queue,
                                             search_attributes=attributes)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError) and isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.type == "NoSigningKey"
    found = await eventually(lambda: _found(client, settings, union, app_id, Problem.FAILED))
    assert "Issuer.issue failed" in found.cause and "NoSigningKey: no signing key for the union" in found.cause
    assert found.status == "issuing"


async def _found(client, settings, union, app_id, problem):
    found = await find_stuck(client, settings.temporal_ui_url, Thresholds(union=union))
    return next((s for s in found if s.application_id == app_id and s.problem is problem), None)


# --- the verbs ----------------------------------------------------------------------------------------------------


async def test_retry_runs_the_failing_nid_check_now_instead_of_after_its_backoff(stack, porichoy, settings,
                                                                                temporal_env):
    union = "raghunathpur"
    client = temporal_env.client
    porichoy.faults(down=True)
    try:
        app_id = await stack.submitted(citizen(union, 0))

        async def next_attempt_far_off():  # the backoff has grown to 16 s: room for the CLI's start on a busy machine
            description = await client.get_workflow_handle(app_id).describe()
            pending = description.raw_description.pending_activities
            if not pending or not pending[0].HasField("next_attempt_schedule_time"):
                return None
            at = pending[0].next_attempt_schedule_time.ToDatetime().replace(tzinfo=UTC).timestamp()
            return at if at - time.time() > 12 else None
        next_attempt_at = await eventually(next_attempt_far_off, timeout=60)
    finally:
        porichoy.reset()
    code, out, err = await sonod(settings, "ops", "retry", app_id)
    assert code == 0, err
    assert "reset NidGateway.verify" in out and "503" in out
    await stack.wait_for(app_id, Status.AWAITING_DECISION, timeout=max(0.5, next_attempt_at - time.time() - 0.5))
    assert time.time() < next_attempt_at
    assert [e.action for e in (await audit_entries(settings, app_id))] == ["ops.retry"]


async def test_retry_explains_when_nothing_is_failing(stack, settings):
    app_id = await stack.submitted(citizen("raghunathpur", 1))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    code, _out, err = await sonod(settings, "ops", "retry", app_id)
    assert code == 1 and "no failing activity" in err and "waiting for the chairman" in err


async def test_reassign_lets_the_acting_chairman_decide_and_is_audited(stack, settings):
    union = "raghunathpur"
    app_id = await stack.submitted(citizen(union, 2))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await stack.decide(f"acting.{union}", app_id)).status_code == 403

    code, _out, err = await sonod(settings, "ops", "reassign", app_id, "--reason", "the chairman is abroad",
                                 "--as", "ops:rahim")
    assert code == 0, err
    r = await stack.decide(f"acting.{union}", app_id)
    assert r.status_code == 200, r.text
    app = await stack.wait_for(app_id, Status.ISSUED)
    assert any(e["actor"] == "ops:rahim" and "the chairman is abroad" in e["note"] for e in app["events"])
    entries = [(e.action, e.actor, e.role, e.union_slug) for e in await audit_entries(settings, app_id)]
    assert entries == [("application.escalate", "ops:rahim", "operator", union),  # the workflow's own entry
                       ("ops.reassign", "ops:rahim", "operator", union),
                       ("decision.approve", f"acting.{union}", "acting_chairman", union),
                       ("certificate.issue", "sonod", "operator", union)]


async def test_cancel_by_an_operator_ends_the_application_and_is_audited(stack, settings):
    union = "raghunathpur"
    app_id = await stack.submitted(citizen(union, 3))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    code, out, err = await sonod(settings, "ops", "cancel", app_id, "--reason", "duplicate application")
    assert code == 0, err
    assert "cancelled" in out
    app = await stack.wait_for(app_id, Status.CANCELLED)
    assert any("duplicate application" in e["note"] for e in app["events"])
    entries = await audit_entries(settings, app_id)
    assert [(e.action, e.role, e.detail["reason"]) for e in entries] == \
        [("application.cancel", "operator", "duplicate application"),  # the workflow's own entry
         ("ops.cancel", "operator", "duplicate application")]

    code, out, err = await sonod(settings, "ops", "cancel", app_id, "--reason", "again")
    assert code == 1 and "finished" in err


async def test_resend_sends_the_last_notification_again_under_a_new_key(stack, settings):
    union = "raghunathpur"
    app_id = await stack.submitted(citizen(union, 4))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    for _ in range(2):
        code, out, err = await sonod(settings, "ops", "resend", app_id, "--reason", "the chairman lost it")
        assert code == 0, err
        assert "resent awaiting_chairman" in out
    keys = await read(settings, select(db.OutboxMessage.idempotency_key).where(
        db.OutboxMessage.application_id == app_id))
    for n in (1, 2):
        assert f"{app_id}:r0:resend-{n}:inbox:chairman.{union}" in keys, keys
    assert [e.action for e in (await audit_entries(settings, app_id))] == ["ops.resend", "ops.resend"]


async def test_an_officer_cannot_use_the_operators_updates(stack, temporal_env):
    app_id = await stack.submitted(citizen("raghunathpur", 5))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    chairman = Actor(username="chairman.raghunathpur", role=Role.CHAIRMAN, union="raghunathpur")
    assert await refused(temporal_env.client.get_workflow_handle(app_id), CertificateApplication.resend,
                         Resend(actor=chairman)) == (Refusal.OPERATORS_ONLY, {"verb": "resend notifications"})


# A stand-in for a bad deploy: code the worker cannot run, so the workflow task fails and retries for ever.
@workflow.defn(name="CertificateApplication", sandboxed=False)
class BrokenApplication:
    @workflow.run
    async def run(self, _: dict) -> None:
        raise RuntimeError("this build cannot run this history")


async def test_stuck_shows_an_application_whose_workflow_task_keeps_failing(stack, settings, temporal_env):
    union = "chandradighalia"
    client = temporal_env.client
    queue = f"ops-broken-{uuid.uuid4().hex[:6]}"
    app_id = f"T-BROKEN-{uuid.uuid4().hex[:6].upper()}"
    attributes = issuing_in(union)
    async with Worker(client, task_queue=queue, workflows=[BrokenApplication]):
        handle = await client.start_workflow("CertificateApplication", {}, id=app_id, task_queue=queue,
                                             search_attributes=attributes)
        try:
            found = await eventually(lambda: _found(client, settings, union, app_id, Problem.WORKFLOW_TASK))
        finally:
            await handle.terminate("test over")
    assert "cannot run this workflow's code" in found.cause and found.attempt >= 2
