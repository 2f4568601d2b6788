"""Revoking a certificate is a workflow of its own (`CertificateRevocation`): it checks who revokes, records the
revocation once, tells the holder by SMS with the reason, and is found in Temporal by `SonodStatus = "revoked"`
(issue 18)."""

from __future__ import annotations

import json

import pytest
from temporalio.client import WorkflowFailureError

from api.pages.common import TOKEN_COOKIE
from sonod.domain import Role, Status
from tests.stack import citizen
from workflows.messages import Actor, Revocation
from workflows.refusals import Refusal, refusal_of
from workflows.revocation import CertificateRevocation, revocation_id

UNION = "gobra"


async def issued(stack, index: int, mobile: str) -> dict:
    application_id = await stack.submitted(citizen(UNION, index, contact={"mobile": mobile}))
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    assert (await stack.decide(f"chairman.{UNION}", application_id)).status_code == 200
    return await stack.wait_for(application_id, Status.ISSUED)


async def revoke(stack, certificate_no: str, username: str = f"chairman.{UNION}"):
    return await stack.http.post(f"/api/v1/certificates/{certificate_no}/revoke", json={"reason": "জাল কাগজ"},
                                 headers=await stack.as_officer(username))


def texts_to(settings, mobile: str) -> list[str]:
    lines = (settings.var_dir / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    return [m["text"] for m in map(json.loads, lines) if m["to"].endswith(mobile[-10:])]


async def test_the_holder_is_told_by_sms_with_the_reason_and_temporal_finds_it(stack, settings, temporal_env):
    app = await issued(stack, 2, "01922000111")
    number = app["certificate_no"]
    r = await revoke(stack, number)
    assert r.status_code == 200, r.text
    assert [t for t in texts_to(settings, "01922000111") if number in t and "বাতিল" in t and "জাল কাগজ" in t]
    found = [wf.id async for wf in temporal_env.client.list_workflows(
        f"SonodStatus = 'revoked' AND UnionSlug = '{UNION}'")]
    assert revocation_id(number) in found
    assert (await revoke(stack, number)).status_code == 409
    pdf = await stack.http.get(f"/api/v1/certificates/{number}/pdf", headers={"X-API-Key": "demo-portal-key"})
    assert pdf.status_code == 410 and "জাল কাগজ" in pdf.json()["detail"]
    assert (await stack.get(app["application_id"]))["revoked"] is True
    listed = await stack.http.get("/api/v1/applications", params={"union": UNION, "status": "issued"},
                                  headers=await stack.as_officer(f"chairman.{UNION}"))
    assert {i["application_id"]: i["revoked"] for i in listed.json()["items"]}[app["application_id"]] is True
    chairman = {TOKEN_COOKIE: await stack.login(f"chairman.{UNION}")}
    page = await stack.http.get("/dashboard/applications", cookies=chairman)
    row = next(tr for tr in page.text.split("<tr")[1:] if app["application_id"] in tr)
    assert "s-revoked" in row


async def test_the_workflow_itself_refuses_whoever_is_not_the_chairman(stack, settings, temporal_env):
    """Even sealed by sonod (a hacked API process), a secretary's revocation fails in the workflow."""
    app = await issued(stack, 3, "01922000222")
    secretary = Actor(username=f"secretary.{UNION}", role=Role.SECRETARY, union=UNION)
    with pytest.raises(WorkflowFailureError) as failed:
        await temporal_env.client.execute_workflow(
            CertificateRevocation.run, Revocation(certificate_no=app["certificate_no"], union=UNION, reason="x",
                                                  actor=secretary),
            id=revocation_id(app["certificate_no"]), task_queue=settings.task_queue)
    assert refusal_of(failed.value.cause) == (Refusal.NOT_REVOKER, {})
    r = await stack.http.get(f"/api/v1/certificates/{app['certificate_no']}", headers={"X-API-Key": "demo-portal-key"})
    assert r.json()["status"] == "valid", r.text


async def test_a_revocation_id_squatted_through_temporal_does_not_block_the_chairman(stack, settings, temporal_env):
    """Whoever reaches Temporal starts `R-<number>` in clear first: the worker refuses its input, and the chairman's
    revocation still goes through (and the holder still gets the SMS)."""
    import dataclasses

    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    app = await issued(stack, 4, "01922000333")
    number = app["certificate_no"]
    attacker = Client(temporal_env.client.service_client, namespace=temporal_env.client.namespace,
                      data_converter=dataclasses.replace(pydantic_data_converter, payload_codec=None))
    await attacker.start_workflow("CertificateRevocation", {"certificate_no": number}, id=revocation_id(number),
                                  task_queue=settings.task_queue)
    r = await revoke(stack, number)
    assert r.status_code == 200, r.text
    assert [t for t in texts_to(settings, "01922000333") if number in t and "জাল কাগজ" in t]
    assert (await revoke(stack, number)).status_code == 409
