"""The money receipt (issue 15): a Bengali PDF of the fee's lines, their total in figures and in words and the payment,
for the citizen on the track page (with the right mobile number), the UDC operator who filed the application and the
union's officers, and no one else; each fetch on the union's audit log.

The stack's tests work in a union of their own (`mr-*`), so that its receipts are numbered from 1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import subprocess

import httpx
import pytest

from api.pages.common import TOKEN_COOKIE
from sonod.bengali import DHAKA, number_in_words_bn, taka_in_words_bn
from sonod.domain import Status
from tests.stack import PORTAL_KEY
from tests.unions_kit import Gateway, add_portal, audit_rows, bearer, person, portal, token, union_for, wait_for

on_stack = pytest.mark.asyncio(loop_scope="session")

TRADE = {"business_name_bn": "মায়ের দোয়া স্টোর", "business_type_bn": "মুদি দোকান",
         "business_address_bn": "বাজার রোড", "fiscal_year": "2025-2026", "holding_tax_receipt_no": "HT-2025-0042"}
MOBILE = "01711000000"  # tests.stack.citizen's
OTHER_PORTAL = "mr-other-portal-key"


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


# --- the words and the page, without a stack -----------------------------------------------------------------------

@pytest.mark.parametrize(("n", "words"), [
    (0, "শূন্য"), (19, "উনিশ"), (90, "নব্বই"), (100, "একশত"), (690, "ছয়শত নব্বই"), (1000, "এক হাজার"),
    (1290, "এক হাজার দুইশত নব্বই"), (100000, "এক লক্ষ"), (2050075, "বিশ লক্ষ পঞ্চাশ হাজার পঁচাত্তর"),
    (12345678, "এক কোটি তেইশ লক্ষ পঁয়তাল্লিশ হাজার ছয়শত আটাত্তর"), (1000000000, "একশত কোটি"),
])
def test_taka_are_written_in_bengali_words(n, words):
    assert number_in_words_bn(n) == words
    assert taka_in_words_bn(n) == f"{words} টাকা মাত্র"


def test_the_receipt_pdf_has_each_fee_line_the_total_in_figures_and_in_words_and_no_whole_nid():
    from activities.receipt import ReceiptDocument, ReceiptRenderer
    from activities.render import FeeLineView, UnionView

    lines = [("licence_fee", "লাইসেন্স ফি", 500), ("signboard_tax", "সাইনবোর্ড কর", 100), ("vat", "ভ্যাট (১৫%)", 90),
             ("arrears", "বকেয়া (২০২৪-২৫)", 600)]
    doc = ReceiptDocument(
        receipt_no="PAIKKANDI-MR-2026-000007",
        union=UnionView(slug="paikkandi", name_bn="পাইককান্দি", name_en="Paikkandi", upazila_bn="গোপালগঞ্জ সদর",
                        upazila_en="Gopalganj Sadar", district_bn="গোপালগঞ্জ", district_en="Gopalganj"),
        application_id="A261206-0123456789ABCDEF", service_bn="ট্রেড লাইসেন্স", payer_bn="মোঃ রফিকুল ইসলাম",
        nid_masked="*******789",
        lines=[FeeLineView(code=c, name_bn=n, name_en=c, amount=a) for c, n, a in lines],
        paid_at=dt.datetime(2026, 12, 5, 19, 10, tzinfo=dt.UTC), method="bkash", transaction_id="BKX9AB12CD",
        issued_at=dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.UTC))
    text = pdf_text(ReceiptRenderer().render(doc))
    rows = {re.sub(r"\s+", " ", line.strip()) for line in text.splitlines()}
    assert {"১ লাইসেন্স ফি ৫০০", "২ সাইনবোর্ড কর ১০০", "৩ ভ্যাট (১৫%) ৯০", "৪ বকেয়া (২০২৪-২৫) ৬০০",
            "সর্বমোট ১,২৯০"} <= rows, rows
    assert "টাকা কথায়: এক হাজার দুইশত নব্বই টাকা মাত্র" in rows
    for fact in ("মানি রিসিট", "PAIKKANDI-MR-2026-000007", "A261206-0123456789ABCDEF", "মোঃ রফিকুল ইসলাম",
                 "XXXXXXX789", "বিকাশ (bKash)", "BKX9AB12CD", "৬ ডিসেম্বর ২০২৬", "সচিব (প্রশাসনিক কর্মকর্তা)"):
        assert fact in text, fact  # paid at 01:10 on 6 December in Bangladesh (19:10 UTC the day before)


# --- on the stack ----------------------------------------------------------------------------------------------------

@pytest.fixture
async def union(request, settings, stack) -> str:
    return await union_for(request, settings.db_url, "mr")


async def paid_trade_licence(stack, union: str, index: int = 15, headers: dict | None = None) -> dict:
    body = person(index, union=union, certificate_type="trade_licence", details=TRADE)
    r = await stack.http.post("/api/v1/applications", json=body, headers=headers or portal())
    assert r.status_code == 202, r.text
    app_id = r.json()["application_id"]
    reader = {k: v for k, v in (headers or {"X-API-Key": PORTAL_KEY}).items() if k != "Idempotency-Key"}
    await wait_for(stack.http, app_id, Status.AWAITING_PAYMENT, headers=reader)
    paid = await Gateway(stack.http).confirm(app_id, 690, f"TX-{app_id[-8:]}")
    assert paid.status_code == 200, paid.text
    await wait_for(stack.http, app_id, Status.AWAITING_VERIFICATION, headers=reader)
    return {"application_id": app_id, "nid": body["applicant"]["nid"], "transaction_id": f"TX-{app_id[-8:]}"}


async def tracked(browser: httpx.AsyncClient, union: str, path: str, app_id: str, mobile: str) -> httpx.Response:
    page = await browser.get(f"/unions/{union}/track")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return await browser.post(f"/unions/{union}{path}", data={"csrf": csrf, "application_id": app_id,
                                                              "mobile": mobile})


def receipt_fetches(url: str, union: str, app_id: str) -> list:
    return [e for e in audit_rows(url, union) if e.action == "payment.receipt" and e.target == app_id]


@on_stack
async def test_the_citizen_with_the_right_mobile_downloads_the_receipt_once_made_and_each_fetch_is_audited(
        stack, settings, union):
    app = await paid_trade_licence(stack, union)
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=60) as browser:
        page = await tracked(browser, union, "/track", app["application_id"], MOBILE)
        assert page.status_code == 200 and 'id="money-receipt"' in page.text
        first = await tracked(browser, union, "/track/money-receipt", app["application_id"], MOBILE)
        again = await tracked(browser, union, "/track/money-receipt", app["application_id"], MOBILE)
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf", first.text[:300]
    assert again.content == first.content  # stored once, served as stored
    text = pdf_text(first.content)
    rows = {re.sub(r"\s+", " ", line.strip()) for line in text.splitlines()}
    assert {"১ লাইসেন্স ফি ৫০০", "২ সাইনবোর্ড কর ১০০", "৩ ভ্যাট (১৫%) ৯০", "সর্বমোট ৬৯০"} <= rows, rows
    assert "টাকা কথায়: ছয়শত নব্বই টাকা মাত্র" in rows
    assert f"{union.upper()}-MR-" in text and app["application_id"] in text and app["transaction_id"] in text
    assert app["nid"] not in text and app["nid"][-3:] in text
    fetches = await asyncio.to_thread(receipt_fetches, settings.db_url, union, app["application_id"])
    assert [(e.actor, e.role) for e in fetches] == [("citizen", "citizen")] * 2
    number = f"{union.upper()}-MR-{dt.datetime.now(DHAKA).year}-000001"  # the union's first receipt this year
    assert [e.detail["receipt_no"] for e in fetches] == [number] * 2 and number in text


@on_stack
async def test_a_wrong_mobile_number_gets_404_and_no_receipt(stack, settings, union):
    app = await paid_trade_licence(stack, union, 16)
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=60) as browser:
        r = await tracked(browser, union, "/track/money-receipt", app["application_id"], "01911999999")
    assert r.status_code == 404 and not r.content.startswith(b"%PDF")
    assert await asyncio.to_thread(receipt_fetches, settings.db_url, union, app["application_id"]) == []


@on_stack
async def test_an_unpaid_fee_has_no_receipt(stack, union):
    r = await stack.http.post("/api/v1/applications", headers=portal(),
                              json=person(17, union=union, certificate_type="trade_licence", details=TRADE))
    app_id = r.json()["application_id"]
    await stack.wait_for(app_id, Status.AWAITING_PAYMENT)
    secretary = await stack.as_officer(f"secretary.{union}")
    assert (await stack.http.get(f"/api/v1/applications/{app_id}/money-receipt", headers=secretary)).status_code == 404
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=60) as browser:
        page = await tracked(browser, union, "/track", app_id, MOBILE)
    assert page.status_code == 200 and 'id="money-receipt"' not in page.text


@on_stack
async def test_the_filing_operator_and_the_unions_officers_get_the_receipt_and_no_one_else(
        stack, settings, union, request):
    udc = bearer(await token(stack.http, f"udc.{union}"))
    app = await paid_trade_licence(stack, union, 18, headers=udc | {"Idempotency-Key": f"mr-{union}"})
    app_id = app["application_id"]
    other_union = await union_for(request, settings.db_url, "mr2")
    await asyncio.to_thread(add_portal, settings.db_url, "mr-other-portal", OTHER_PORTAL)
    url = f"/api/v1/applications/{app_id}/money-receipt"
    allowed = {"the operator who filed it": udc, "the union's secretary": await stack.as_officer(f"secretary.{union}"),
               "the union's chairman": await stack.as_officer(f"chairman.{union}")}
    for who, headers in allowed.items():
        r = await stack.http.get(url, headers=headers)
        assert r.status_code == 200 and r.content.startswith(b"%PDF"), (who, r.status_code, r.text[:200])
    refused = {"another union's chairman": await stack.as_officer(f"chairman.{other_union}"),
               "another union's operator": bearer(await token(stack.http, f"udc.{other_union}")),
               "a portal that did not file it": {"X-API-Key": OTHER_PORTAL},
               "the demo portal, which did not file it": {"X-API-Key": PORTAL_KEY}}
    for who, headers in refused.items():
        r = await stack.http.get(url, headers=headers)
        assert r.status_code in (403, 404) and not r.content.startswith(b"%PDF"), (who, r.status_code)
    assert (await stack.http.get(url)).status_code == 401
    # the desk's link: the dashboard's route, with the operator's page session
    desk = await stack.http.get(f"/desk/receipt/{app_id}", cookies={TOKEN_COOKIE: udc["Authorization"][7:]})
    assert f'href="/dashboard/applications/{app_id}/money-receipt"' in desk.text
    page = await stack.http.get(f"/dashboard/applications/{app_id}/money-receipt",
                                cookies={TOKEN_COOKIE: udc["Authorization"][7:]})
    assert page.status_code == 200 and page.content.startswith(b"%PDF")
    detail = await stack.http.get(f"/dashboard/applications/{app_id}",
                                  cookies={TOKEN_COOKIE: await stack.login(f"secretary.{union}")})
    assert f'href="/dashboard/applications/{app_id}/money-receipt"' in detail.text  # the officers' link
    elsewhere = await stack.http.get(f"/dashboard/applications/{app_id}/money-receipt",
                                     cookies={TOKEN_COOKIE: await stack.login(f"chairman.{other_union}")})
    assert elsewhere.status_code == 403 and not elsewhere.content.startswith(b"%PDF")
    fetches = await asyncio.to_thread(receipt_fetches, settings.db_url, union, app_id)
    assert [e.actor for e in fetches] == [f"udc.{union}", f"secretary.{union}", f"chairman.{union}", f"udc.{union}"]


# --- the activity, on the database: numbered once, the gateway named -----------------------------------------------

def test_a_receipt_is_numbered_once_per_application_in_order_and_names_the_gateway_that_took_the_fee(
        database_url, tmp_path):
    import uuid

    from temporalio.exceptions import ApplicationError
    from temporalio.testing import ActivityEnvironment

    from activities.receipt import ReceiptRenderer, Receipts
    from sonod import db
    from sonod.db import make_engine, make_session_factory
    from tests.unions_kit import add_union, database
    from workflows.messages import ReceiptRequest

    union = f"mr-act-{uuid.uuid4().hex[:6]}"
    add_union(database_url, union)
    lines = [{"code": "licence_fee", "name_bn": "লাইসেন্স ফি", "name_en": "Licence fee", "amount": 500},
             {"code": "vat", "name_bn": "ভ্যাট (১৫%)", "name_en": "VAT (15%)", "amount": 75}]
    ids = [f"A261206-{uuid.uuid4().hex[:16].upper()}" for _ in range(3)]
    with database(database_url) as session:
        for app_id, paid in zip(ids, (True, True, False), strict=True):
            session.add(db.Application(
                id=app_id, union_slug=union, certificate_type="trade_licence", status="awaiting_verification",
                submitted_by="portal:demo-portal", applicant={"nid": "1990123456789", "name_bn": "রহিম"},
                contact={"mobile": MOBILE}, details={}, identity={"name_bn": "মোঃ রহিম উদ্দিন"}, fee_amount=575,
                fee_lines=lines, fee_paid=paid))
        session.flush()
        now = db.utcnow()
        session.add(db.PaymentOrder(order_id=f"{ids[0]}-P1", application_id=ids[0], union_slug=union,
                                    provider="bkash", provider_ref="ref", amount=575, currency="BDT", state="paid",
                                    created_at=now, expires_at=now, paid_at=now, transaction_id="BKTX0001"))
        session.add(db.Payment(transaction_id="bkash:BKTX0001", application_id=ids[0], amount=575, currency="BDT"))
        session.add(db.Payment(transaction_id="TX-CALLBACK-7", application_id=ids[1], amount=575, currency="BDT"))
    engine = make_engine(database_url)
    receipts, env = Receipts(make_session_factory(engine), ReceiptRenderer(), tmp_path), ActivityEnvironment()
    try:
        first = env.run(receipts.issue, ReceiptRequest(application_id=ids[0]))
        second = env.run(receipts.issue, ReceiptRequest(application_id=ids[1]))
        again = env.run(receipts.issue, ReceiptRequest(application_id=ids[0]))
        with pytest.raises(ApplicationError) as unpaid:
            env.run(receipts.issue, ReceiptRequest(application_id=ids[2]))
    finally:
        engine.dispose()
    year = dt.datetime.now(DHAKA).year
    assert [first.receipt_no, second.receipt_no] == [f"{union.upper()}-MR-{year}-00000{n}" for n in (1, 2)]
    assert again == first
    assert unpaid.value.type == "NotPaid" and unpaid.value.non_retryable
    by_gateway, by_callback = (pdf_text((tmp_path / r.pdf_ref).read_bytes()) for r in (first, second))
    assert "বিকাশ (bKash)" in by_gateway and "BKTX0001" in by_gateway and "মোঃ রহিম উদ্দিন" in by_gateway
    assert "অনলাইন পেমেন্ট গেটওয়ে" in by_callback and "TX-CALLBACK-7" in by_callback
    for text in (by_gateway, by_callback):
        assert "সর্বমোট ৫৭৫" in re.sub(r"\s+", " ", text) and "পাঁচশত পঁচাত্তর টাকা মাত্র" in text
        assert "1990123456789" not in text and "XXXXXXXXXX789" in text
