"""The application workflow end to end, through API v1, on real Temporal and the real database."""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx
import pytest
from sqlalchemy import select

from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import Role, Status
from tests.stack import ZBARIMG, citizen, people, warish_details
from workflows.application import CertificateApplication

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_citizenship_goes_from_portal_to_issued_with_a_verifiable_qr(stack, settings, tmp_path):
    app_id = await stack.submitted(citizen("paikkandi", 0))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    r = await stack.decide("chairman.paikkandi", app_id)
    assert r.status_code == 200 and r.json()["status"] in ("issuing", "issued")
    app = await stack.wait_for(app_id, Status.ISSUED)
    assert app["certificate_no"].startswith("PAIKKANDI-")

    pdf = await stack.http.get(f"/api/v1/certificates/{app['certificate_no']}/pdf",
                               headers={"X-API-Key": "demo-portal-key"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    (tmp_path / "c.pdf").write_bytes(pdf.content)
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", tmp_path / "c.pdf", tmp_path / "p"],
                   check=True)
    png = next(tmp_path.glob("p*.png"))
    qr = subprocess.run([*ZBARIMG, png], capture_output=True, text=True, check=True).stdout.strip()
    assert qr.startswith(f"{settings.public_url}/verify?c=")
    verdict = (await stack.http.post("/api/v1/verify", json={"qr": qr})).json()
    assert verdict["status"] == "valid", verdict
    assert verdict["certificate"]["certificate_no"] == app["certificate_no"]
    for _ in range(100):  # the workflow records "issued" first, then the SMS that tells of it
        delivered = [e["note"] for e in app["events"] if e["kind"] == "notified"]
        if any("issued" in note and "sms" in note for note in delivered):
            break
        await asyncio.sleep(0.1)
        app = await stack.get(app_id)
    assert any("issued" in note and "sms" in note for note in delivered), app["events"]


async def test_warish_passes_ward_member_secretary_and_chairman(stack):
    person = people("kajulia")[1]
    app_id = await stack.submitted(citizen("kajulia", 1, "warish", details=warish_details()))
    app = await stack.through_chain(app_id, "kajulia", [Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN],
                                    person["ward_no"])
    statuses = [e["status"] for e in app["events"]]
    for s in ("awaiting_recommendation", "awaiting_verification", "awaiting_decision", "issuing", "issued"):
        assert s in statuses


async def test_an_nid_mismatch_says_the_same_whatever_failed_and_can_be_corrected(stack):
    """The applicant's side hears one message, whichever field failed (so that no one learns from it whether an NID
    exists); the portal that submitted corrects the name under the same application number."""
    body = citizen("gobra", 0)
    wrong_name = await stack.submitted(body | {"applicant": body["applicant"] | {"name_en": "Somebody Else"}})
    other = citizen("gobra", 1)
    born = other["applicant"]["date_of_birth"]
    elsewhen = born[:5] + ("02-01" if born[5:] != "02-01" else "03-01")  # the same year: a 17-digit NID holds it
    wrong_birth = await stack.submitted(other | {"applicant": other["applicant"] | {"date_of_birth": elsewhen}})
    said = []
    for app_id in (wrong_name, wrong_birth):
        app = await stack.wait_for(app_id, Status.NID_FAILED)
        failed = [e for e in app["events"] if e["status"] == Status.NID_FAILED and e["kind"] != "notified"]
        said.append([(e["note"], e["reason"]) for e in failed])
        assert app["certificate_no"] is None
    assert said[0] == said[1] == [("the NID record does not match", None)]

    r = await stack.http.post(f"/api/v1/applications/{wrong_name}/amend", json={"applicant": body["applicant"]},
                              headers={"X-API-Key": "demo-portal-key"})
    assert r.status_code == 200, r.text
    await stack.wait_for(wrong_name, Status.AWAITING_DECISION)


def unavailable(porichoy) -> int:
    """How often the simulator has answered 503 so far."""
    return httpx.get(f"{porichoy.url}/_sim/calls", timeout=5).json()["by_outcome"].get("unavailable", 0)


async def test_gateway_outage_delays_but_does_not_lose_the_application(stack, porichoy):
    porichoy.faults(down=True)
    try:
        refused_before = unavailable(porichoy)
        app_id = await stack.submitted(citizen("urfi", 0))
        deadline = time.monotonic() + 30
        while unavailable(porichoy) < refused_before + 2:  # the gateway refused the check twice: it is retrying
            assert time.monotonic() < deadline, "the NID check never reached the gateway"
            await asyncio.sleep(0.1)
        assert (await stack.get(app_id))["status"] == Status.VERIFYING_NID
    finally:
        porichoy.reset()
    await stack.wait_for(app_id, Status.AWAITING_DECISION, timeout=60)


async def test_chairman_of_another_union_cannot_decide(stack):
    app_id = await stack.submitted(citizen("paikkandi", 2))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    r = await stack.decide("chairman.kajulia", app_id)
    assert r.status_code == 403, r.text


async def test_a_secretary_cannot_take_the_chairmans_decision(stack):
    app_id = await stack.submitted(citizen("paikkandi", 3))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    r = await stack.decide("secretary.paikkandi", app_id)
    assert r.status_code == 403, r.text  # a citizenship certificate's chain is the chairman alone
    assert (r.json()["code"], r.json()["params"]) == (
        "not_in_chain", {"role": "secretary", "certificate_type": "citizenship"})
    assert (await stack.get(app_id))["status"] == Status.AWAITING_DECISION


async def test_a_second_decision_gets_409(stack):
    app_id = await stack.submitted(citizen("durgapur", 0))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await stack.decide("chairman.durgapur", app_id, "reject", "incomplete")).status_code == 200
    r = await stack.decide("chairman.durgapur", app_id, "approve")
    assert r.status_code == 409, r.text
    assert (await stack.wait_for(app_id, Status.REJECTED))["certificate_no"] is None


async def test_a_retried_decision_is_applied_once(stack):
    app_id = await stack.submitted(citizen("durgapur", 1))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    first, again = await asyncio.gather(stack.decide("chairman.durgapur", app_id, "reject", "no"),
                                        stack.decide("chairman.durgapur", app_id, "reject", "no"))
    # Both carry one update ID while the application awaits the chairman, and Temporal applies it once and answers
    # both; one sent once the decision is recorded is another update, which the workflow refuses.
    codes = sorted([first.status_code, again.status_code])
    assert codes in ([200, 200], [200, 409]), (first.text, again.text)
    if codes == [200, 409]:
        refusal = (first if first.status_code == 409 else again).json()
        assert refusal["code"] == "not_awaiting_officer", refusal
    app = await stack.wait_for(app_id, Status.REJECTED)
    assert [e["status"] for e in app["events"] if e["kind"] != "notified"].count("rejected") == 1


async def test_approve_racing_reject_has_exactly_one_winner(stack):
    app_id = await stack.submitted(citizen("latifpur", 0))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    approve, reject = await asyncio.gather(stack.decide("chairman.latifpur", app_id, "approve"),
                                           stack.decide("chairman.latifpur", app_id, "reject", "no"))
    assert sorted([approve.status_code, reject.status_code]) == [200, 409], (approve.text, reject.text)
    loser = approve if approve.status_code == 409 else reject
    # refused by the workflow's validator, or, when the rejection won, by Temporal: a rejection ends the application
    # in the task that accepts it, before the approval's validator runs
    assert loser.json().get("code") == "not_awaiting_officer" or (
        reject.status_code == 200 and loser.json()["detail"] == "the application has finished and takes no more "
                                                                "decisions"), loser.text
    final = await stack.wait_for(app_id, Status.ISSUED, Status.REJECTED)
    assert final["status"] == (Status.ISSUED if approve.status_code == 200 else Status.REJECTED)


async def test_the_applicant_cancels_before_the_decision(stack):
    app_id = await stack.submitted(citizen("ulpur", 0))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    r = await stack.http.post(f"/api/v1/applications/{app_id}/cancel", json={"reason": "no longer needed"},
                              headers={"X-API-Key": "demo-portal-key"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert (await stack.decide("chairman.ulpur", app_id)).status_code == 409


async def test_same_key_same_body_gives_the_same_application(stack):
    body = citizen("satpar", 0)
    one, two = await stack.submit(body, key="same-1"), await stack.submit(body, key="same-1")
    assert one.status_code == two.status_code == 202
    assert one.json()["application_id"] == two.json()["application_id"]


async def test_same_key_other_body_gives_409(stack):
    assert (await stack.submit(citizen("satpar", 1), key="same-2")).status_code == 202
    assert (await stack.submit(citizen("satpar", 2), key="same-2")).status_code == 409


async def test_ten_concurrent_identical_submissions_make_one_workflow(stack, temporal_env):
    body = citizen("sahapur", 0)
    answers = await asyncio.gather(*(stack.submit(body, key="ten-at-once") for _ in range(10)))
    ids = {a.json()["application_id"] for a in answers}
    assert [a.status_code for a in answers] == [202] * 10 and len(ids) == 1
    (app_id,) = ids
    count = await temporal_env.client.count_workflows(f"WorkflowId = '{app_id}'")
    assert count.count == 1


@pytest.mark.parametrize("body, field", [
    ({"certificate_type": "citizenship"}, "applicant"),
    ({"union": "nowhere", "certificate_type": "citizenship", "applicant": {}}, "applicant"),
    ("garbage", None),
    ({"union": "paikkandi", "certificate_type": 7, "applicant": []}, "certificate_type"),
])
async def test_garbage_gets_422_naming_the_field(stack, body, field):
    r = await stack.http.post("/api/v1/applications", json=body,
                              headers={"X-API-Key": "demo-portal-key", "Idempotency-Key": "g"})
    assert r.status_code == 422, r.text
    if field:
        assert any(field in map(str, e["loc"]) for e in r.json()["detail"]), r.text


async def test_unknown_union_and_bad_nid_are_named(stack):
    r = await stack.submit(citizen("paikkandi", 0) | {"union": "nowhere"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "union"]
    r = await stack.submit(citizen("paikkandi", 0, applicant={"nid": "12345"}))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "applicant", "nid"]
    r = await stack.submit(citizen("paikkandi", 0, applicant={"name_en": "x" * 100_000}))
    assert r.status_code == 422


async def test_history_holds_no_nid_or_name_in_plaintext(stack, temporal_env):
    body = citizen("karpara", 0)
    app_id = await stack.submitted(body)
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    await stack.decide("chairman.karpara", app_id, "reject", "test")
    await stack.wait_for(app_id, Status.REJECTED)
    history = await temporal_env.client.get_workflow_handle(app_id).fetch_history()
    raw = history.to_json()
    for secret in (body["applicant"]["nid"], body["applicant"]["name_en"], body["applicant"]["name_bn"]):
        assert secret not in raw
    # and the client, holding the key, can read it back
    view = await temporal_env.client.get_workflow_handle(app_id).query(CertificateApplication.view)
    assert view.status is Status.REJECTED


async def test_officers_list_their_union_with_keyset_pagination(stack):
    for i in range(3):
        await stack.wait_for(await stack.submitted(citizen("nizra", i)), Status.AWAITING_DECISION)
    seen, cursor = [], None
    while True:
        params = {"union": "nizra", "limit": 2} | ({"cursor": cursor} if cursor else {})
        r = await stack.http.get("/api/v1/applications", params=params,
                                 headers=await stack.as_officer("chairman.nizra"))
        assert r.status_code == 200, r.text
        seen += [a["application_id"] for a in r.json()["items"]]
        if not (cursor := r.json()["next_cursor"]):
            break
    assert len(seen) == len(set(seen)) >= 3
    foreign = await stack.http.get("/api/v1/applications", params={"union": "nizra"},
                                   headers=await stack.as_officer("chairman.kathi"))
    assert foreign.status_code == 403


async def test_concurrent_issues_number_certificates_without_gaps(stack, settings):
    ids = [await stack.submitted(citizen("haridaspur", i)) for i in range(4)]
    await asyncio.gather(*(stack.wait_for(i, Status.AWAITING_DECISION) for i in ids))
    await asyncio.gather(*(stack.decide("chairman.haridaspur", i) for i in ids))
    numbers = [(await stack.wait_for(i, Status.ISSUED))["certificate_no"] for i in ids]
    assert await asyncio.to_thread(certificate_seqs, settings.db_url, "haridaspur") == [1, 2, 3, 4]
    assert len(set(numbers)) == 4


def certificate_seqs(url: str, union: str) -> list[int]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        seqs = sorted(session.scalars(select(db.Certificate.seq).where(db.Certificate.union_slug == union)))
    engine.dispose()
    return seqs


async def test_operators_find_applications_by_typed_search_attributes(stack, temporal_env):
    app_id = await stack.submitted(citizen("boultali", 0))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    query = ("SonodStatus = 'awaiting_decision' AND UnionSlug = 'boultali' AND CertificateType = 'citizenship' "
             "AND SonodWaitingOn = 'chairman' AND SonodOverdue = false")
    for _ in range(50):
        found = [w.id async for w in temporal_env.client.list_workflows(query)]
        if app_id in found:
            break
        await asyncio.sleep(0.2)
    assert app_id in found
    description = await temporal_env.client.get_workflow_handle(app_id).describe()
    values = {k.name: v for k, v in description.typed_search_attributes}  # no NID or name among them
    body = citizen("boultali", 0)["applicant"]
    assert not {body["nid"], body["name_en"], body["name_bn"]} & {str(v) for v in values.values()}


async def test_the_applicant_cancels_while_the_gateway_is_down(stack, porichoy):
    porichoy.faults(down=True)
    try:
        app_id = await stack.submitted(citizen("jalalabad", 0))
        await stack.wait_for(app_id, Status.VERIFYING_NID)
        r = await stack.http.post(f"/api/v1/applications/{app_id}/cancel", json={"reason": "applied twice"},
                                  headers={"X-API-Key": "demo-portal-key"})
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    finally:
        porichoy.reset()


async def test_the_events_name_no_internal_actor(stack):
    """Officers by their account and office, the applicant's side as `portal` or `applicant`, sonod as `sonod`."""
    app_id = await stack.submitted(citizen("gobra", 3))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await stack.decide("chairman.gobra", app_id, "approve", "ঠিক আছে")).status_code == 200
    app = await stack.wait_for(app_id, Status.ISSUED)
    actors = {(e["actor"], e["office"]) for e in app["events"]}
    assert actors == {("portal", None), ("sonod", None), ("chairman.gobra", "chairman")}, actors
    decided = [e for e in app["events"] if e["kind"] == "decided"]
    assert [(e["decision"], e["reason"]) for e in decided] == [("approve", "ঠিক আছে")]
