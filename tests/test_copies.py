"""Duplicate copies (অনুলিপি, issue 16): for the union's fee, the same certificate printed again and marked a copy with
its date; nothing is signed or numbered again, and the copy's QR is the certificate's own."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

from sqlalchemy import update

from sonod import db
from sonod.bengali import DHAKA, format_date_bn
from sonod.db import make_engine, make_session_factory
from sonod.domain import Role
from tests.certificates_kit import PORTAL, application, download, own_union, qr_of_pdf, revoke, run, verify
from tests.stack import people

REGISTRY_UNION = "raghunathpur"


async def issued(stack, settings, slug: str, index: int) -> str:
    union = await own_union(settings, slug)
    app_id = await stack.submitted(application(union, index))
    app = await stack.through_chain(app_id, union, [Role.CHAIRMAN], people(REGISTRY_UNION)[index]["ward_no"])
    return app["certificate_no"]


async def pay(stack, settings, copy_id: str, amount: int, transaction_id: str):
    raw = json.dumps({"application_id": copy_id, "amount": amount, "currency": "BDT",
                      "transaction_id": transaction_id}).encode()
    signature = hmac.new(settings.payment_secret.encode(), raw, hashlib.sha256).hexdigest()
    return await stack.http.post("/api/v1/payments/callback", content=raw,
                                 headers={"X-Signature": signature, "Content-Type": "application/json"})


async def made(stack, status_url: str, timeout: float = 20) -> dict:
    for _ in range(int(timeout / 0.2)):
        copy = (await stack.http.get(status_url, headers=PORTAL)).json()
        if copy["status"] == "made":
            return copy
        await asyncio.sleep(0.2)
    raise AssertionError(f"the copy is {copy['status']}, not made")


def set_copy_fee(settings, union: str, fee: int) -> None:
    engine = make_engine(settings.db_url)
    try:
        with make_session_factory(engine).begin() as session:
            session.execute(update(db.Union).where(db.Union.slug == union).values(copy_fee=fee))
    finally:
        engine.dispose()


async def test_a_paid_copy_prints_the_same_certificate_marked_a_copy_and_signs_nothing(stack, settings, tmp_path):
    number = await issued(stack, settings, "copy-paid", 41)
    original = await download(stack, tmp_path, number)
    r = await stack.http.post(f"/api/v1/certificates/{number}/copies", headers=PORTAL)
    assert r.status_code == 202, r.text
    copy = r.json()
    assert copy["status"] == "awaiting_payment" and copy["fee"] == {"amount": 50, "currency": "BDT", "paid": False}
    assert (await stack.http.get(copy["status_url"] + "/pdf", headers=PORTAL)).status_code == 404

    wrong = await pay(stack, settings, copy["copy_id"], 10, f"tx-{copy['copy_id']}-short")
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "amount"], wrong.text
    paid = await pay(stack, settings, copy["copy_id"], 50, f"tx-{copy['copy_id']}")
    assert paid.status_code == 200, paid.text
    again = await pay(stack, settings, copy["copy_id"], 50, f"tx-{copy['copy_id']}")
    assert again.status_code == 200, again.text  # a repeated callback is harmless
    done = await made(stack, copy["status_url"])
    assert done["fee"]["paid"] is True

    pdf = await stack.http.get(done["pdf_url"], headers=PORTAL)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf.content)
    assert await qr_of_pdf(path) == original.qr  # not signed again: the certificate's own QR
    assert (await verify(stack, original.qr))["status"] == "valid"
    _, text = await run("pdftotext", "-layout", path, "-")
    flat = " ".join(text.split())
    assert "অনুলিপি" in flat and "COPY" in flat and number in flat
    assert format_date_bn(db.utcnow().astimezone(DHAKA).date()) in flat  # the copy's date
    assert b"/ByteRange" in original.pdf.read_bytes() and b"/ByteRange" not in pdf.content  # no new signature
    assert (await stack.http.get(f"/api/v1/certificates/{number}", headers=PORTAL)).json()["certificate_no"] == number


async def test_the_unions_own_fee_is_charged_and_no_fee_makes_it_at_once(stack, settings):
    number = await issued(stack, settings, "copy-fee", 42)
    set_copy_fee(settings, "copy-fee", 30)
    copy = (await stack.http.post(f"/api/v1/certificates/{number}/copies", headers=PORTAL)).json()
    assert copy["fee"]["amount"] == 30
    set_copy_fee(settings, "copy-fee", 0)
    free = (await stack.http.post(f"/api/v1/certificates/{number}/copies", headers=PORTAL)).json()
    assert (await made(stack, free["status_url"]))["fee"] == {"amount": 0, "currency": "BDT", "paid": True}


async def test_who_may_ask_for_a_copy_and_of_what(stack, settings, temporal_env):
    number = await issued(stack, settings, "copy-who", 43)
    secretary = await stack.http.post(f"/api/v1/certificates/{number}/copies",
                                      headers=await stack.as_officer("secretary.copy-who"))
    assert secretary.status_code == 202, secretary.text
    query = "WorkflowType = 'CertificateCopy' AND UnionSlug = 'copy-who'"
    for _ in range(50):  # the Temporal Web UI finds a union's copies (visibility follows within moments)
        found = [wf.id async for wf in temporal_env.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.2)
    assert found == [secretary.json()["copy_id"]]
    ward = await stack.http.post(f"/api/v1/certificates/{number}/copies",
                                 headers=await stack.as_officer("ward1.copy-who"))
    assert ward.status_code == 403
    keyed = [await stack.http.post(f"/api/v1/certificates/{number}/copies",
                                   headers=PORTAL | {"Idempotency-Key": "copy-who-1"}) for _ in range(2)]
    assert keyed[0].json()["copy_id"] == keyed[1].json()["copy_id"]
    app_id = (await stack.http.get(f"/api/v1/certificates/{number}", headers=PORTAL)).json()["application_id"]
    application = await stack.http.get(f"/api/v1/certificates/{number}/copies/{app_id}", headers=PORTAL)
    assert application.status_code == 404  # an application's workflow is no copy, though it answers `view` too
    assert (await revoke(stack, "chairman.copy-who", number)).status_code == 200
    gone = await stack.http.post(f"/api/v1/certificates/{number}/copies", headers=PORTAL)
    assert gone.status_code == 410
