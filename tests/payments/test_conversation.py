"""The payment step as a conversation with the union's gateway, through a real Temporal dev server and the
gateways' simulator over HTTP: only the gateway's status call makes a fee paid, once; a notification is only a
nudge; an expired or cancelled order is never paid late, and a payment to it is refunded."""

from __future__ import annotations

import asyncio
import html
import re

import httpx
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType

from sonod import db
from sonod.domain import Status
from tests.payments.conversation_kit import orders
from tests.stack import PORTAL_KEY
from tests.unions_kit import audit_rows, database
from workflows.payment_messages import NoticeOutcome, OrderState


def ledger(url: str, application_id: str) -> int:
    with database(url) as session:
        return session.scalar(select(func.count()).select_from(db.Payment)
                              .where(db.Payment.application_id == application_id))


def notifications(url: str, order_id: str | None = None, provider: str | None = None) -> list[tuple[str, str]]:
    """(kind, outcome) of the stored notifications of an order (or of a provider's with no order)."""
    with database(url) as session:
        query = select(db.PaymentNotification.kind, db.PaymentNotification.outcome).order_by(
            db.PaymentNotification.id)
        query = query.where(db.PaymentNotification.order_id == order_id) if order_id else query.where(
            db.PaymentNotification.provider == provider)
        return [tuple(row) for row in session.execute(query)]


async def signals(client, application_id: str) -> int:
    history = await client.get_workflow_handle(application_id).fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)


async def until(check, timeout: float = 30):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await asyncio.to_thread(check)):
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.1)
    return found


async def test_a_fee_paid_at_ekpay_is_taken_once_the_status_call_confirms_the_ipn(request, paying, gateway_sim):
    union = await paying.union(request, "ekpay")
    application_id, order = await paying.awaiting_payment(union)
    view = await paying.api.get(application_id)
    assert view["fee"] == {"amount": 690, "currency": "BDT", "paid": False}
    assert view["pay_url"] == order.redirect_url
    await paying.pay(order)  # the gateway sends its IPN; the payer's browser does not come back

    app = await paying.api.wait_for(application_id, Status.AWAITING_VERIFICATION)
    assert app["fee"]["paid"] and app["pay_url"] is None
    paid = await paying.order_of(application_id)
    assert (paid.state, paid.provider) == (OrderState.PAID, "ekpay") and paid.transaction_id
    assert notifications(paying.settings.db_url, order.order_id) == [("ipn", NoticeOutcome.NUDGED)]
    assert ledger(paying.settings.db_url, application_id) == 1
    assert [e.action for e in audit_rows(paying.settings.db_url, union)
            if e.target == application_id and e.action.startswith("payment.")] == ["payment.received"]


async def test_a_bkash_payment_is_taken_from_the_payers_return_alone(request, paying, gateway_sim):
    union = await paying.union(request, "bkash")  # bKash sends no IPN
    application_id, order = await paying.awaiting_payment(union, 1)
    back = await paying.pay(order)
    assert back.startswith(f"{paying.settings.public_url}/api/v1/payments/bkash/return?")
    returned = await paying.api.http.get(back)
    assert returned.status_code == 303 and returned.headers["location"] == f"/unions/{union}/track?id={application_id}"

    await paying.api.wait_for(application_id, Status.AWAITING_VERIFICATION)
    assert (await paying.order_of(application_id)).state == OrderState.PAID
    assert notifications(paying.settings.db_url, order.order_id) == [("return", NoticeOutcome.NUDGED)]


async def test_with_no_word_from_the_gateway_the_workflow_asks_it_until_the_fee_is_paid(request, paying, gateway_sim):
    union = await paying.union(request, "bkash", poll=2)
    application_id, order = await paying.awaiting_payment(union, 2)
    await asyncio.sleep(2.5)  # a poll or two finds it unpaid
    assert (await paying.api.get(application_id))["status"] == Status.AWAITING_PAYMENT.value
    await paying.pay(order)  # and the payer's browser never comes back

    await paying.api.wait_for(application_id, Status.AWAITING_VERIFICATION, timeout=20)
    assert notifications(paying.settings.db_url, order.order_id) == []
    assert ledger(paying.settings.db_url, application_id) == 1


async def test_a_payment_of_another_amount_is_never_taken(request, paying, gateway_sim):
    union = await paying.union(request, "ekpay")
    application_id, order = await paying.awaiting_payment(union, 3)
    gateway_sim.faults(wrong_amount=True)  # the gateway records one taka less
    await paying.pay(order)

    await until(lambda: notifications(paying.settings.db_url, order.order_id))
    refused = await until(lambda: [e for e in audit_rows(paying.settings.db_url, union)
                                   if e.target == application_id and e.action == "payment.refused"])
    assert refused[0].detail["reason"] == "amount"
    assert (await paying.api.get(application_id))["status"] == Status.AWAITING_PAYMENT.value
    assert (await paying.order_of(application_id)).state == OrderState.OPEN
    assert ledger(paying.settings.db_url, application_id) == 0


async def test_a_repeated_ipn_records_the_fee_once_and_tells_the_workflow_once(request, paying, gateway_sim):
    union = await paying.union(request, "ekpay")
    application_id, order = await paying.awaiting_payment(union, 4)
    ipn = {"msg_code": "1020", "trnx_info": {"mer_trnx_id": order.order_id, "trnx_amt": "690.00"}}
    answers = [await paying.api.http.post("/api/v1/payments/ekpay/ipn", json=ipn) for _ in range(2)]
    assert [r.json()["outcome"] for r in answers] == [NoticeOutcome.NUDGED, NoticeOutcome.DUPLICATE]
    for _ in range(100):  # the nudge reaches the workflow, which asks the gateway: still unpaid
        if await signals(paying.client, application_id):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    assert await signals(paying.client, application_id) == 1
    assert (await paying.api.get(application_id))["status"] == Status.AWAITING_PAYMENT.value  # not paid: asked

    gateway_sim.faults(duplicate_ipn=True)  # now the gateway itself sends its IPN twice
    await paying.pay(order)
    await paying.api.wait_for(application_id, Status.AWAITING_VERIFICATION)
    stored = await until(lambda: len(got := notifications(paying.settings.db_url, order.order_id)) >= 4 and got)
    assert sorted(stored) == sorted([("ipn", NoticeOutcome.NUDGED), ("ipn", NoticeOutcome.DUPLICATE)] * 2)
    assert await signals(paying.client, application_id) == 2  # once for each distinct notification
    assert ledger(paying.settings.db_url, application_id) == 1


async def test_a_notification_of_an_order_that_is_not_ours_is_refused_and_kept(request, paying, gateway_sim):
    forged = {"msg_code": "1020", "trnx_info": {"mer_trnx_id": "A261206-0000000000000000-P1", "trnx_amt": "690.00"}}
    r = await paying.api.http.post("/api/v1/payments/ekpay/ipn", json=forged)
    assert r.status_code == 404, r.text
    assert (await paying.api.http.post("/api/v1/payments/ekpay/ipn", content=b"\x00garbage")).status_code == 400
    kept = notifications(paying.settings.db_url, provider="ekpay")
    assert ("ipn", NoticeOutcome.UNKNOWN_ORDER) in kept and ("ipn", NoticeOutcome.UNREADABLE) in kept


async def test_a_payment_made_to_another_merchant_for_our_order_is_not_taken(request, paying, gateway_sim):
    union = await paying.union(request, "ekpay")
    application_id, order = await paying.awaiting_payment(union, 5)
    # another merchant of the same gateway opens a payment under our order's number, is paid, and its IPN is
    # pointed at us; our own merchant's order stays unpaid
    other = await paying.api.http.post(f"{gateway_sim.url}/ekpay/ekpaypg/v1/merchant-api", json={
        "mer_info": {"mer_reg_id": "other-merchant", "mer_pas_key": "other-ekpay-key"},
        "feed_uri": {"s_uri": "http://127.0.0.1:9/back"},
        "trns_info": {"trnx_id": order.order_id, "trnx_amt": "690.00", "trnx_currency": "BDT"},
        "ipn_info": {"ipn_uri": f"{paying.settings.public_url}/api/v1/payments/ekpay/ipn"}})
    token = other.json()["secure_token"]
    async with httpx.AsyncClient() as browser:
        await browser.post(f"{gateway_sim.url}/ekpay/pay/{token}", data={"choice": "pay"})

    await until(lambda: notifications(paying.settings.db_url, order.order_id))
    await asyncio.sleep(1)  # the workflow has asked the gateway by now
    assert (await paying.api.get(application_id))["status"] == Status.AWAITING_PAYMENT.value
    assert (await paying.order_of(application_id)).state == OrderState.OPEN
    assert ledger(paying.settings.db_url, application_id) == 0


async def test_a_payment_after_the_fee_expired_is_refunded_and_never_taken(request, paying, gateway_sim):
    union = await paying.union(request, "sslcommerz", expiry=4)
    application_id, order = await paying.awaiting_payment(union, 6)
    app = await paying.api.wait_for(application_id, Status.CANCELLED, timeout=30)
    assert not app["fee"]["paid"]
    assert (await paying.order_of(application_id)).state == OrderState.EXPIRED
    await paying.pay(order)  # the gateway still lets the payer pay; its IPN comes to a closed order

    refunded = await paying.order_of(application_id, lambda o: o.state == OrderState.REFUNDED)
    assert refunded.refund_ref
    assert notifications(paying.settings.db_url, order.order_id) == [("ipn", NoticeOutcome.LATE)]
    assert ledger(paying.settings.db_url, application_id) == 0
    assert (await paying.api.get(application_id))["status"] == Status.CANCELLED.value
    assert gateway_sim.transaction(order.order_id)["refunds"]


async def test_a_payment_after_the_application_was_cancelled_is_refunded(request, paying, gateway_sim):
    union = await paying.union(request, "sslcommerz")
    application_id, order = await paying.awaiting_payment(union, 7)
    r = await paying.api.http.post(f"/api/v1/applications/{application_id}/cancel",
                                   json={"reason": "applied twice"}, headers={"X-API-Key": PORTAL_KEY})
    assert r.status_code == 200, r.text
    await paying.api.wait_for(application_id, Status.CANCELLED)
    assert (await paying.order_of(application_id)).state == OrderState.CANCELLED
    await paying.pay(order)

    refunded = await paying.order_of(application_id, lambda o: o.state == OrderState.REFUNDED)
    assert refunded.refund_ref
    assert ledger(paying.settings.db_url, application_id) == 0


async def test_a_union_on_a_gateway_takes_no_fee_from_the_signed_callback(request, paying, gateway_sim):
    from tests.unions_kit import Gateway

    union = await paying.union(request, "ekpay")
    application_id, _ = await paying.awaiting_payment(union, 8)
    r = await Gateway(paying.api.http).confirm(application_id, 690)
    assert r.status_code == 409, r.text
    assert (await paying.api.get(application_id))["status"] == Status.AWAITING_PAYMENT.value


async def test_the_track_page_links_to_the_gateways_page_while_the_fee_is_due(request, paying, gateway_sim):
    union = await paying.union(request, "sslcommerz")
    application_id, order = await paying.awaiting_payment(union, 9)
    http = paying.api.http
    form = await http.get(f"/unions/{union}/track")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    page = await http.post(f"/unions/{union}/track", data={"csrf": csrf.group(1), "application_id": application_id,
                                                           "mobile": "01711000000"})
    assert page.status_code == 200, page.text
    link = re.search(r'<a [^>]*id="pay-link" href="([^"]+)"', page.text)
    assert link and html.unescape(link.group(1)) == order.redirect_url
    assert 'id="simulated-gateway"' not in page.text  # the signed callback takes no fee of this union


async def test_after_the_payer_cancels_at_the_gateway_a_new_order_is_opened_and_paid(request, paying, gateway_sim):
    union = await paying.union(request, "ekpay")
    application_id, first = await paying.awaiting_payment(union, 10)
    await paying.pay(first, "cancel")

    second = await paying.order_of(application_id, lambda o: o.order_id.endswith("-P2") and o.redirect_url)
    assert (await paying.order_of(application_id, lambda o: True)).order_id == second.order_id
    assert (await paying.api.get(application_id))["pay_url"] == second.redirect_url
    await paying.pay(second)
    await paying.api.wait_for(application_id, Status.AWAITING_VERIFICATION)
    states = {o.order_id: o.state for o in orders(paying.settings.db_url, application_id)}
    assert states == {first.order_id: OrderState.CANCELLED, second.order_id: OrderState.PAID}
    assert ledger(paying.settings.db_url, application_id) == 1


async def test_while_the_gateway_is_down_the_fee_still_expires_and_a_cancellation_still_ends_it(
        request, paying, gateway_sim):
    from tests.payments.conversation_kit import TRADE
    from tests.unions_kit import person

    gateway_sim.faults(down=True)  # no order can be opened
    union = await paying.union(request, "nagad", expiry=4)
    expiring = await paying.api.submitted(person(12, union=union, certificate_type="trade_licence", details=TRADE))
    cancelled = await paying.api.submitted(person(13, union=union, certificate_type="trade_licence", details=TRADE))
    await paying.api.wait_for(cancelled, Status.AWAITING_PAYMENT)
    r = await paying.api.http.post(f"/api/v1/applications/{cancelled}/cancel", json={"reason": "gave up"},
                                   headers={"X-API-Key": PORTAL_KEY})
    assert r.status_code == 200, r.text
    for application_id in (expiring, cancelled):
        app = await paying.api.wait_for(application_id, Status.CANCELLED, timeout=60)
        assert not app["fee"]["paid"] and app["pay_url"] is None
    # cancelled before the gateway answered: no order reached the payer (or perhaps even the gateway)
    assert all(o.redirect_url is None for o in orders(paying.settings.db_url, cancelled))


async def test_whatever_comes_to_a_gateways_routes_is_kept_and_never_a_500(paying, gateway_sim):
    bodies = [b"", b"\x00\xff\xfe", b"{", b"[1,2]", b'{"trnx_info": []}', b'{"tran_id": {"$ne": 1}}',
              b"a=1&a=2&order_id=%00", "অর্ডার=১".encode(), b'{"x":' * 2000]
    for provider in ("ekpay", "bkash", "sslcommerz", "nagad"):
        for kind in ("ipn", "return"):
            for body in bodies:
                r = await paying.api.http.post(f"/api/v1/payments/{provider}/{kind}?order_id=%ff", content=body)
                assert r.status_code in (303, 400, 404, 409) or r.json()["outcome"] == "received", (provider, r.text)
    assert (await paying.api.http.get("/api/v1/payments/paypal/ipn")).status_code == 404


async def test_a_payment_to_an_order_left_open_by_an_ended_application_is_refunded(request, paying, gateway_sim):
    union = await paying.union(request, "sslcommerz")
    application_id, order = await paying.awaiting_payment(union, 14)
    r = await paying.api.http.post(f"/api/v1/applications/{application_id}/cancel", json={"reason": "moved away"},
                                   headers={"X-API-Key": PORTAL_KEY})
    assert r.status_code == 200, r.text
    await paying.api.wait_for(application_id, Status.CANCELLED)
    with database(paying.settings.db_url) as session:  # as an order whose opening finished after the cancellation
        session.get(db.PaymentOrder, order.order_id).state = OrderState.OPEN.value
    await paying.pay(order)

    refunded = await paying.order_of(application_id, lambda o: o.state == OrderState.REFUNDED)
    assert refunded.refund_ref and gateway_sim.transaction(order.order_id)["refunds"]
    assert ledger(paying.settings.db_url, application_id) == 0
