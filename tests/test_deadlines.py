"""Durable timers under time skipping: reminders, the deadline, and escalation to the acting chairman."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from sonod import db
from sonod.codec import data_converter
from sonod.db import make_engine, make_session_factory
from sonod.domain import DecisionKind, Role, Status
from tests.stack import TEST_SERVER
from tests.unions_kit import (
    add_union,
    person,
    reach,
    refused,
    register_search_attributes,
    set_timing,
    start,
    submissions,
)
from workers.main import build_worker
from workflows.application import CertificateApplication
from workflows.messages import Actor, Decision
from workflows.refusals import Refusal
from workflows.search_attributes import SONOD_OVERDUE, SONOD_STATUS

pytestmark = pytest.mark.asyncio(loop_scope="session")



def officer(role: Role, union: str, name: str) -> Actor:
    return Actor(username=f"{name}.{union}", role=role, union=union, upazila="gopalganj-sadar")


async def indexed(handle: WorkflowHandle) -> tuple[str | None, bool | None]:
    """The application's SonodStatus and SonodOverdue as the server holds them (what operators filter on)."""
    attributes = (await handle.describe()).typed_search_attributes
    return attributes.get(SONOD_STATUS), attributes.get(SONOD_OVERDUE)


async def test_the_chairmans_step_reminds_goes_overdue_then_escalates(settings, porichoy):
    union = "deadlines-ts"  # its own, with the union's clock shortened
    add_union(settings.db_url, union)
    set_timing(settings.db_url, union, deadline_days=3, reminder_every=timedelta(days=1),
               escalate_after=timedelta(days=1))
    engine = make_engine(settings.db_url)
    sessions = make_session_factory(engine)
    env = await WorkflowEnvironment.start_time_skipping(data_converter=data_converter(settings),
                                                        test_server_existing_path=str(TEST_SERVER))
    await register_search_attributes(env.client)
    queue = f"deadlines-{uuid.uuid4().hex[:6]}"
    try:
        [app] = submissions(settings.db_url, [person(0, union=union)],
                            Actor(username="portal:demo", role=Role.PORTAL))
        async with httpx.AsyncClient() as http, build_worker(env.client, settings, sessions, http, queue):
            handle = await start(env.client, queue, app)
            await reach(env, handle, Status.AWAITING_DECISION)
            acting = Decision(kind=DecisionKind.APPROVE, actor=officer(Role.ACTING_CHAIRMAN, union, "acting"))
            assert await refused(handle, CertificateApplication.decide, acting) == (
                Refusal.NOT_IN_CHAIN, {"role": "acting_chairman", "certificate_type": "citizenship"})

            await env.sleep(timedelta(days=2, hours=1))
            view = await handle.query(CertificateApplication.view)
            assert not view.overdue and not view.escalated
            assert await indexed(handle) == (Status.AWAITING_DECISION, False)
            await env.sleep(timedelta(days=1))
            view = await handle.query(CertificateApplication.view)
            assert view.overdue and not view.escalated
            assert await indexed(handle) == (Status.AWAITING_DECISION, True)
            await env.sleep(timedelta(days=1, hours=1))
            view = await handle.query(CertificateApplication.view)
            assert view.escalated

            result = await handle.execute_update(CertificateApplication.decide, acting)
            assert result.status is Status.ISSUING
            assert (await handle.result()).status is Status.ISSUED
            assert await indexed(handle) == (Status.ISSUED, True)

        with sessions() as session:
            inbox = session.scalars(select(db.OutboxMessage.idempotency_key).where(
                db.OutboxMessage.application_id == app.application_id)).all()
        reminders = [k for k in inbox if ":reminder-" in k and k.endswith(f"inbox:chairman.{union}")]
        assert len(reminders) >= 3, inbox
        assert any(":r0:escalated:" in k and "uno.gopalganj-sadar" in k for k in inbox), inbox
        assert any(":r0:overdue:" in k for k in inbox)
    finally:
        await env.shutdown()
        engine.dispose()
