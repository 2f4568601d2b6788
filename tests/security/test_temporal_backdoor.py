"""Whoever reaches Temporal's frontend (or its Web UI) cannot speak to sonod's workflows: the worker takes only
payloads that sonod sealed, each sealed for one application, and the workflow takes its rules from the union.

Each attack sends what an outsider can send: a workflow start or an update in clear JSON, or a payload that sonod
sealed for another application, replayed byte for byte.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence

import pytest
from sqlalchemy import select
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec, WorkflowSerializationContext

from sonod import db
from sonod.codec import PiiCodec
from sonod.domain import Status
from tests.stack import citizen, people

UNION = "kajulia"


def clear_client(client: Client, codec: PayloadCodec | None = None) -> Client:
    """A client on the same frontend that sends payloads as the attacker makes them: in clear, or replayed."""
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=codec)
    return Client(client.service_client, namespace=client.namespace, data_converter=converter)


class Replay(PayloadCodec):
    """Sends the captured payloads instead of whatever the SDK encodes."""

    def __init__(self, captured: list[Payload]) -> None:
        self.captured = captured

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(self.captured)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


def chairman(union: str) -> dict:
    return {"username": f"chairman.{union}", "role": "chairman", "union": union}


async def awaiting_decision(stack, index: int) -> str:
    application_id = await stack.submitted(citizen(UNION, index))
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    return application_id


async def history_has(handle, event_type: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history = await handle.fetch_history()
        if any(e.event_type == event_type for e in history.events):
            return True
        await asyncio.sleep(0.2)
    return False


def certificate_of(settings, application_id: str) -> db.Certificate | None:
    engine = db.make_engine(settings.db_url)
    try:
        with db.make_session_factory(engine)() as session:
            return session.scalar(select(db.Certificate).where(db.Certificate.application_id == application_id))
    finally:
        engine.dispose()


async def test_a_workflow_started_in_clear_with_no_chain_and_no_fee_issues_nothing(stack, temporal_env, settings):
    person = people(UNION)[3]
    forged = {
        "application_id": "A261206-FORGED000001",
        "union": {"slug": UNION, "name_bn": "কাজুলিয়া", "name_en": "Kajulia", "upazila_bn": "গোপালগঞ্জ সদর",
                  "upazila_en": "Gopalganj Sadar", "upazila_slug": "gopalganj-sadar", "district_bn": "গোপালগঞ্জ",
                  "district_en": "Gopalganj"},
        "certificate_type": "citizenship",
        "applicant": {k: person[k] for k in ("nid", "date_of_birth", "name_bn", "name_en")},
        "contact": {"mobile": "01711000000"}, "details": {}, "chain": [], "fee": {"amount": 0},
        "timing": {"deadline_days": 7, "reminder_every": 86400, "escalate_after": 86400, "payment_expiry": 86400,
                   "correction_expiry": 86400},
        "escalation_roles": [], "submitted_by": chairman(UNION), "submitted_at": "2026-12-06T00:00:00Z",
    }
    attacker = clear_client(temporal_env.client)
    handle = await attacker.start_workflow("CertificateApplication", forged, id=forged["application_id"],
                                           task_queue=settings.task_queue)
    # the worker refuses the input: its workflow task fails, and nothing is ever recorded or signed
    assert await history_has(handle, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
    await handle.terminate("test: forged start")
    assert certificate_of(settings, forged["application_id"]) is None


async def test_a_decision_sent_in_clear_to_temporal_is_refused(stack, temporal_env, settings):
    application_id = await awaiting_decision(stack, 4)
    attacker = clear_client(temporal_env.client)
    with pytest.raises(WorkflowUpdateFailedError):
        await attacker.get_workflow_handle(application_id).execute_update(
            "decide", {"kind": "approve", "reason": "", "actor": chairman(UNION)})
    assert (await stack.get(application_id))["status"] == Status.AWAITING_DECISION
    assert certificate_of(settings, application_id) is None


async def test_an_approval_sealed_for_one_application_cannot_be_replayed_into_another(stack, temporal_env, settings):
    sealed_for, target = await awaiting_decision(stack, 5), await awaiting_decision(stack, 6)
    decision = pydantic_data_converter.payload_converter.to_payloads(
        [{"kind": "approve", "reason": "", "actor": chairman(UNION)}])
    codec = PiiCodec.from_settings(settings).with_context(
        WorkflowSerializationContext(namespace=temporal_env.client.namespace, workflow_id=sealed_for))
    captured = await codec.encode(decision)

    attacker = clear_client(temporal_env.client, Replay(captured))
    with pytest.raises(WorkflowUpdateFailedError):
        await attacker.get_workflow_handle(target).execute_update("decide", "ignored")
    assert (await stack.get(target))["status"] == Status.AWAITING_DECISION
    assert certificate_of(settings, target) is None


async def test_the_codec_server_does_not_seal_payloads_for_anyone(stack):
    """The Web UI's codec endpoint decodes for the operator; sealing stays inside sonod's own processes."""
    payload = {"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "e30="}
    r = await stack.http.post("/api/v1/codec/encode", json={"payloads": [payload]},
                              headers=await stack.as_officer("operator"))
    assert r.status_code == 403, r.text
