"""Issue #5 under time skipping: who may decide once the chairman's step is escalated, and what happens to an
unpaid fee or an uncorrected application when their days run out.

Each test runs one workflow on Temporal's time-skipping test server, with the real activities, the Porichoy
simulator and the database, in a union of this module's own (`esc-ts`).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

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
from workflows.messages import Actor, Amendment, Decision
from workflows.refusals import Refusal

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "esc-ts"
UPAZILA = "gopalganj-sadar"
TRADE = {"business_name_bn": "মায়ের দোয়া স্টোর", "business_type_bn": "মুদি দোকান",
         "business_address_bn": "বাজার রোড", "fiscal_year": "2025-2026", "holding_tax_receipt_no": "HT-2025-0042"}


def officer(role: Role, username: str, union: str | None = UNION) -> Actor:
    return Actor(username=username, role=role, union=union, upazila=UPAZILA)


ADMINISTRATOR = officer(Role.ADMINISTRATOR, f"admin.{UPAZILA}", None)
UNO = officer(Role.UPAZILA_ADMIN, f"uno.{UPAZILA}", None)
PORTAL = Actor(username="portal:demo-portal", role=Role.PORTAL)


@pytest.fixture(scope="module")
async def env(settings, porichoy):
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    env = await WorkflowEnvironment.start_time_skipping(data_converter=data_converter(settings),
                                                        test_server_existing_path=str(TEST_SERVER))
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture
async def run(env, settings):
    """Starts one application on a worker of its own; yields a function that starts it with the union's timing
    set to `timing` (the workflow reads it when it admits the application, before `reach` returns)."""
    engine = make_engine(settings.db_url)
    sessions = make_session_factory(engine)
    queue = f"esc-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient() as http, build_worker(env.client, settings, sessions, http, queue):
        async def started(body: dict, **timing) -> WorkflowHandle:
            await asyncio.to_thread(set_timing, settings.db_url, UNION, **timing)
            [submission] = await asyncio.to_thread(submissions, settings.db_url, [body], PORTAL)
            return await start(env.client, queue, submission)
        yield started
    engine.dispose()


def waited(view, status: Status) -> timedelta:
    """How long the application stayed in `status` before it was cancelled."""
    entered = next(e.at for e in view.events if e.status is status)
    return next(e.at for e in view.events if e.status is Status.CANCELLED) - entered


async def test_after_escalation_the_administrator_decides_but_not_the_upazila_admin(env, run):
    handle = await run(person(20, union=UNION), deadline_days=3, escalate_after=timedelta(days=1),
                       reminder_every=timedelta(days=2))
    await reach(env, handle, Status.AWAITING_DECISION)
    approve = Decision(kind=DecisionKind.APPROVE, reason="escalated", actor=ADMINISTRATOR)
    assert await refused(handle, CertificateApplication.decide, approve) == (
        Refusal.NOT_IN_CHAIN, {"role": "administrator", "certificate_type": "citizenship"})

    await env.sleep(timedelta(days=4, hours=1))
    assert (await handle.query(CertificateApplication.view)).escalated
    assert await refused(handle, CertificateApplication.decide,
                         Decision(kind=DecisionKind.APPROVE, actor=UNO)) == (Refusal.NOT_THIS_UNION, {"union": UNION})
    elsewhere = officer(Role.ACTING_CHAIRMAN, "acting.paikkandi", "paikkandi")
    assert await refused(handle, CertificateApplication.decide,
                         Decision(kind=DecisionKind.APPROVE, actor=elsewhere)) == (
        Refusal.NOT_THIS_UNION, {"union": UNION})
    assert (await handle.execute_update(CertificateApplication.decide, approve)).status is Status.ISSUING
    assert (await handle.result()).status is Status.ISSUED


async def test_an_unpaid_fee_expires_after_the_payment_expiry(env, run):
    body = person(21, union=UNION, certificate_type="trade_licence", details=TRADE)
    handle = await run(body, payment_expiry=timedelta(days=2))
    await reach(env, handle, Status.AWAITING_PAYMENT)
    await env.sleep(timedelta(days=1))
    assert (await handle.query(CertificateApplication.view)).status is Status.AWAITING_PAYMENT
    await env.sleep(timedelta(days=1, hours=1))
    result = await handle.result()
    assert result.status is Status.CANCELLED
    view = await handle.query(CertificateApplication.view)
    assert not view.fee_paid
    assert any(e.status is Status.CANCELLED and e.note == "the fee was not paid in time" for e in view.events)
    assert timedelta(days=2) <= waited(view, Status.AWAITING_PAYMENT) < timedelta(days=3)  # the union's 2 days


async def test_a_returned_application_not_corrected_in_time_is_cancelled(env, run):
    handle = await run(person(22, union=UNION), correction_expiry=timedelta(days=10))
    await reach(env, handle, Status.AWAITING_DECISION)
    chairman = officer(Role.CHAIRMAN, f"chairman.{UNION}")
    await handle.execute_update(CertificateApplication.decide,
                                Decision(kind=DecisionKind.RETURN, reason="a clearer photo", actor=chairman))
    await reach(env, handle, Status.RETURNED)
    assert await refused(handle, CertificateApplication.amend,
                         Amendment(actor=chairman)) == (Refusal.NOT_SUBMITTER, {"username": f"chairman.{UNION}"})
    await env.sleep(timedelta(days=10, hours=1))
    assert (await handle.result()).status is Status.CANCELLED
    view = await handle.query(CertificateApplication.view)
    assert timedelta(days=10) <= waited(view, Status.RETURNED) < timedelta(days=11)  # the union's 10, not 30
