"""Issue #5 on the real stack: approval chains as data. Sending back and amending, preconditions of a type, the fee
step with the payment gateway's signed callback, and an operator's escalation to the acting chairman.

Each test works in a union of its own (`chn-*`).
"""

from __future__ import annotations

import asyncio

import pytest

from sonod.domain import Role, Status
from sonod.security import hmac_sha256_hex
from tests.stack import PORTAL_KEY, people, warish_details
from tests.unions_kit import (
    STEP,
    Gateway,
    add_portal,
    person,
    portal,
    union_for,
    wait_for,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

TRADE = {"business_name_bn": "মায়ের দোয়া স্টোর", "business_type_bn": "মুদি দোকান",
         "business_address_bn": "বাজার রোড", "fiscal_year": "2025-2026", "holding_tax_receipt_no": "HT-2025-0042"}
OTHER_PORTAL = "chn-other-portal-key"


@pytest.fixture
async def union(request, settings, stack) -> str:
    return await union_for(request, settings.db_url, "chn")


async def submit(stack, body: dict) -> str:
    r = await stack.http.post("/api/v1/applications", json=body, headers=portal())
    assert r.status_code == 202, r.text
    return r.json()["application_id"]


async def amend(stack, app_id: str, body: dict, headers: dict | None = None):
    return await stack.http.post(f"/api/v1/applications/{app_id}/amend", json=body, headers=headers or portal())


def statuses(app: dict) -> list[str]:
    """The statuses the application went through, without the outbox's delivery notes."""
    out = [e["status"] for e in app["events"] if e["kind"] != "notified"]
    return [s for i, s in enumerate(out) if i == 0 or s != out[i - 1]]


# --- send back and amend ---------------------------------------------------------------------------------------


async def test_a_returned_application_is_amended_rechecked_and_goes_through_the_chain_again(stack, union):
    index = 12
    ward = people("paikkandi")[index]["ward_no"]
    app_id = await submit(stack, person(index, union=union, certificate_type="warish", details=warish_details()))
    await stack.wait_for(app_id, STEP[Role.WARD_MEMBER])
    assert (await stack.decide(f"ward{ward}.{union}", app_id)).status_code == 200
    await stack.wait_for(app_id, STEP[Role.SECRETARY])
    r = await stack.decide(f"secretary.{union}", app_id, "return", "the heirs' table lacks the daughter")
    assert r.status_code == 200 and r.json()["status"] == "returned", r.text
    app = await stack.wait_for(app_id, Status.RETURNED)
    assert any(e["note"] == "the heirs' table lacks the daughter" and e["actor"] == f"secretary.{union}"
               for e in app["events"])

    details = warish_details()
    details["heirs"].append({"name_bn": "মোছাঃ সুমাইয়া আক্তার", "relation": "daughter"})
    r = await amend(stack, app_id, {"details": details})
    assert r.status_code == 200, r.text
    app = await stack.wait_for(app_id, STEP[Role.WARD_MEMBER])  # the chain starts again from the ward member
    assert app["round"] == 1
    assert statuses(app) == ["submitted", "verifying_nid", "awaiting_recommendation", "awaiting_verification",
                             "returned", "submitted", "verifying_nid", "awaiting_recommendation"]
    await stack.through_chain(app_id, union, [Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN], ward)


async def test_an_amended_applicant_is_checked_with_porichoy_again(stack, union):
    app_id = await submit(stack, person(13, union=union))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await stack.decide(f"chairman.{union}", app_id, "return", "spell the name as on the NID")).status_code \
        == 200
    await stack.wait_for(app_id, Status.RETURNED)
    applicant = person(13, union=union)["applicant"] | {"name_en": "Somebody Else Entirely"}
    assert (await amend(stack, app_id, {"applicant": applicant})).status_code == 200
    app = await stack.wait_for(app_id, Status.NID_FAILED)
    assert statuses(app)[-3:] == ["submitted", "verifying_nid", "nid_failed"]


async def test_amending_is_refused_unless_returned_and_for_the_applicants_side(stack, settings, union):
    app_id = await submit(stack, person(14, union=union))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await amend(stack, app_id, {"contact": {"mobile": "01811000000"}})).status_code == 409
    assert (await stack.decide(f"chairman.{union}", app_id, "return", "add a mobile number")).status_code == 200
    await stack.wait_for(app_id, Status.RETURNED)
    chairman = await stack.as_officer(f"chairman.{union}")
    assert (await amend(stack, app_id, {"contact": {"mobile": "01811000000"}}, chairman)).status_code == 403
    await asyncio.to_thread(add_portal, settings.db_url, "chn-other", OTHER_PORTAL)
    other = await amend(stack, app_id, {"contact": {"mobile": "01811000000"}}, portal(OTHER_PORTAL))
    assert other.status_code == 403
    bad = await amend(stack, app_id, {"applicant": person(14, union=union)["applicant"] | {"nid": "12345"}})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "applicant", "nid"], bad.text
    bad = await amend(stack, app_id, {"contact": {"mobile": "not a phone"}})
    assert bad.status_code == 422 and "mobile" in bad.json()["detail"][0]["loc"], bad.text
    assert (await stack.get(app_id))["status"] == Status.RETURNED
    ok = await amend(stack, app_id, {"contact": {"mobile": "01811000000"}})
    assert ok.status_code == 200, ok.text
    await stack.wait_for(app_id, Status.AWAITING_DECISION)


# --- preconditions as data -------------------------------------------------------------------------------------


async def test_warish_needs_a_death_registration_number(stack, union):
    details = warish_details()
    del details["deceased"]["death_registration_no"]
    r = await stack.http.post("/api/v1/applications", headers=portal(),
                              json=person(0, union=union, certificate_type="warish", details=details))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "details", "deceased", "death_registration_no"]


async def test_a_trade_licence_needs_a_holding_tax_receipt(stack, union):
    details = {k: v for k, v in TRADE.items() if k != "holding_tax_receipt_no"}
    r = await stack.http.post("/api/v1/applications", headers=portal(),
                              json=person(0, union=union, certificate_type="trade_licence", details=details))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "details", "holding_tax_receipt_no"]


async def test_the_catalogue_publishes_the_preconditions_as_required_fields(stack, union):
    types = {t["code"]: t for t in (await stack.http.get("/api/v1/certificate-types",
                                                          params={"union": union})).json()}
    assert "death_registration_no" in types["warish"]["fields"]["$defs"]["Deceased"]["required"]
    assert "holding_tax_receipt_no" in types["trade_licence"]["fields"]["required"]
    assert types["trade_licence"]["fee"]["amount"] == 690
    assert [line["amount"] for line in types["trade_licence"]["fee"]["lines"]] == [500, 100, 90]
    assert types["warish"]["chain"] == ["ward_member", "secretary", "chairman"]


# --- the fee ---------------------------------------------------------------------------------------------------


async def trade_licence(stack, union: str, index: int = 15) -> str:
    app_id = await submit(stack, person(index, union=union, certificate_type="trade_licence", details=TRADE))
    app = await stack.wait_for(app_id, Status.AWAITING_PAYMENT)
    assert app["fee"] == {"amount": 690, "currency": "BDT", "paid": False}
    return app_id


async def test_a_trade_licence_waits_for_its_fee_before_the_first_officer(stack, union):
    app_id = await trade_licence(stack, union)
    r = await stack.decide(f"secretary.{union}", app_id)
    assert r.status_code == 409, r.text
    gateway = Gateway(stack.http)
    paid = await gateway.confirm(app_id, 690, "TX-FIRST")
    assert paid.status_code == 200 and paid.json()["status"] == "awaiting_verification", paid.text
    app = await stack.wait_for(app_id, Status.AWAITING_VERIFICATION)
    assert app["fee"]["paid"] is True
    again = await gateway.confirm(app_id, 690, "TX-FIRST")
    assert again.status_code == 200 and again.json()["status"] == "awaiting_verification", again.text
    another = await gateway.confirm(app_id, 690, "TX-SECOND")
    assert another.status_code == 200, another.text
    app = await stack.wait_for(app_id, Status.AWAITING_VERIFICATION)
    assert statuses(app).count("awaiting_verification") == 1
    await stack.through_chain(app_id, union, [Role.SECRETARY, Role.CHAIRMAN], 1)


async def test_a_wrong_amount_is_refused_with_422(stack, union):
    app_id = await trade_licence(stack, union)
    r = await Gateway(stack.http).confirm(app_id, 500)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "amount"], r.text
    assert (await stack.get(app_id))["status"] == Status.AWAITING_PAYMENT


@pytest.mark.parametrize("how", ["wrong secret", "no signature", "edited body"])
async def test_a_badly_signed_callback_is_refused_with_401(stack, union, how):
    app_id = await trade_licence(stack, union)
    gateway = Gateway(stack.http)
    if how == "wrong secret":
        r = await gateway.confirm(app_id, 690, secret="not-the-secret")
    else:
        body = f'{{"application_id": "{app_id}", "amount": 690, "currency": "BDT", "transaction_id": "TX-1"}}'
        signature = hmac_sha256_hex("demo-payment-secret", body.replace("690", "6900").encode())
        headers = {"Content-Type": "application/json"} | ({"X-Signature": signature} if how == "edited body" else {})
        r = await stack.http.post("/api/v1/payments/callback", content=body, headers=headers)
    assert r.status_code == 401, r.text
    assert (await stack.get(app_id))["status"] == Status.AWAITING_PAYMENT


async def test_a_signed_callback_with_garbage_gets_422_not_500(stack, union):
    gateway = Gateway(stack.http)
    for body in (b"not json", b'{"application_id": "x", "amount": "lots", "transaction_id": "t"}', b"[]"):
        r = await stack.http.post("/api/v1/payments/callback", content=body,
                                  headers={"X-Signature": hmac_sha256_hex(gateway.secret, body)})
        assert r.status_code == 422, (body, r.text)
    r = await gateway.confirm("A000000-NOSUCHAPP", 690)
    assert r.status_code == 404, r.text


# --- escalation by an operator ---------------------------------------------------------------------------------


async def test_an_operator_escalates_and_the_acting_chairman_decides(stack, union):
    app_id = await submit(stack, person(16, union=union))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await stack.decide(f"acting.{union}", app_id)).status_code == 403
    url = f"/api/v1/applications/{app_id}/escalate"
    for who in (f"chairman.{union}", f"secretary.{union}", "uno.gopalganj-sadar"):
        r = await stack.http.post(url, json={"reason": "the chairman is abroad"}, headers=await stack.as_officer(who))
        assert r.status_code == 403, (who, r.text)
    assert (await stack.http.post(url, json={"reason": "x"}, headers={"X-API-Key": PORTAL_KEY})).status_code == 403
    r = await stack.http.post(url, json={"reason": "the chairman is abroad"},
                              headers=await stack.as_officer("operator"))
    assert r.status_code == 200, r.text
    assert (await stack.decide("uno.gopalganj-sadar", app_id)).status_code == 403
    r = await stack.decide(f"acting.{union}", app_id)
    assert r.status_code == 200, r.text
    app = await stack.wait_for(app_id, Status.ISSUED)
    assert any(e["note"] == "escalated: the chairman is abroad" for e in app["events"])


async def test_escalating_what_does_not_await_the_chairman_gets_409(stack, union):
    app_id = await submit(stack, person(17, union=union, certificate_type="character"))
    await wait_for(stack.http, app_id, Status.AWAITING_RECOMMENDATION, headers={"X-API-Key": PORTAL_KEY})
    r = await stack.http.post(f"/api/v1/applications/{app_id}/escalate", json={"reason": "hurry"},
                              headers=await stack.as_officer("operator"))
    assert r.status_code == 409, r.text
