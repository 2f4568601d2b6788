"""Each gateway adapter against the simulator over real HTTP: a payment, a refusal, a timeout, a duplicate
notification, a wrong amount, a notification about another merchant's order, and a refund."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client import REGISTRY

from activities.payments.gateway import (
    BadNotification,
    Gateway,
    GatewayError,
    GatewayRefused,
    GatewayStatus,
    Notification,
    PaymentOrder,
    gateway_for,
)

WITH_IPN = ("ekpay", "sslcommerz")  # bKash and Nagad tell the merchant through the payer's return only


def parse(gateway: Gateway, received: dict) -> Notification:
    return gateway.parse_notification(received["method"], received["query"], received["headers"], received["body"])


async def settles(gateway: Gateway, order: PaymentOrder, provider_ref: str) -> bool:
    """Whether the gateway's own answer makes this order paid; a refusal to answer is a no."""
    try:
        return (await gateway.status(order.order_id, provider_ref)).settles(order)
    except GatewayRefused:
        return False


async def paid(world, provider: str, **order) -> tuple[Gateway, PaymentOrder, GatewayStatus, dict]:
    gateway = world.gateway(provider)
    order = world.order(provider, **order)
    created = await gateway.create(order)
    returned = await world.pay(created)
    status = await gateway.status(order.order_id, created.provider_ref)
    return gateway, order, status, returned


async def test_a_paid_order_settles_on_the_gateways_word(world, provider):
    gateway = world.gateway(provider)
    order = world.order(provider)
    created = await gateway.create(order)
    assert (await gateway.status(order.order_id, created.provider_ref)).state == "pending"

    returned = await world.pay(created)

    told = [parse(gateway, r) for r in [returned, *world.merchant.of("ipn", provider)]
            if parse(gateway, r).order_id == order.order_id]
    assert len(told) == (2 if provider in WITH_IPN else 1)
    status = await gateway.status(told[0].order_id, created.provider_ref)
    assert (status.state, status.amount, status.merchant_ok) == ("paid", order.amount, True)
    assert status.transaction_id and status.settles(order)


async def test_the_payer_cancelling_is_a_refusal_that_never_settles(world, provider):
    gateway = world.gateway(provider)
    order = world.order(provider)
    created = await gateway.create(order)

    await world.pay(created, "cancel")

    status = await gateway.status(order.order_id, created.provider_ref)
    assert status.state == "cancelled" and not status.settles(order)


async def test_a_declined_payment_is_failed_and_never_settles(world, provider):
    gateway = world.gateway(provider)
    order = world.order(provider)
    created = await gateway.create(order)
    await world.faults(decline=True)

    returned = await world.pay(created)

    assert parse(gateway, returned).order_id == order.order_id
    status = await gateway.status(order.order_id, created.provider_ref)
    assert status.state == "failed" and not status.settles(order)


async def test_wrong_credentials_are_refused_not_retried(world, provider):
    settings = world.settings.model_copy(update={
        "ekpay_password": "wrong", "bkash_app_secret": "wrong", "sslcommerz_store_password": "wrong",
        "nagad_merchant_id": "689900000000099"})
    gateway = type(world)(settings, world.sim_url, world.merchant, world.http).gateway(provider)

    with pytest.raises(GatewayRefused):
        await gateway.create(world.order(provider))


async def test_a_gateway_slower_than_our_timeout_is_a_transient_error(world, provider):
    await world.faults(latency_ms=1500)

    async with httpx.AsyncClient(timeout=0.5) as impatient:
        with pytest.raises(GatewayError):
            await gateway_for(provider, world.settings, impatient).create(world.order(provider))


def errors_counted(provider: str) -> float:
    return REGISTRY.get_sample_value("sonod_payment_gateway_request_duration_seconds_count",
                                     {"provider": provider, "outcome": "error"}) or 0.0


async def test_a_gateway_that_is_down_is_a_transient_error_and_counted(world, provider):
    gateway = world.gateway(provider)
    order = world.order(provider)
    created = await gateway.create(order)
    await world.faults(down=True)
    before = errors_counted(provider)

    with pytest.raises(GatewayError):
        await gateway.status(order.order_id, created.provider_ref)
    assert errors_counted(provider) == before + 1


async def test_duplicate_notifications_change_nothing(world, provider):
    gateway = world.gateway(provider)
    order = world.order(provider)
    created = await gateway.create(order)
    await world.faults(duplicate_ipn=True)
    returned = await world.pay(created)

    ipns = [r for r in world.merchant.of("ipn", provider) if parse(gateway, r).order_id == order.order_id]
    assert len(ipns) == (2 if provider in WITH_IPN else 0)
    notices = [parse(gateway, r) for r in [returned, returned, *ipns]]
    # each notification leads to a status call; they may race (bKash executes once, the other finds it done)
    answers = await asyncio.gather(*(gateway.status(n.order_id, created.provider_ref) for n in notices))
    assert {(a.state, a.transaction_id) for a in answers} == {("paid", answers[0].transaction_id)}
    report = await world.report(provider)
    assert [t["state"] for t in report if t["order_id"] == order.order_id] == ["paid"]


async def test_a_wrong_amount_never_settles(world, provider):
    await world.faults(wrong_amount=True)

    _, order, status, _ = await paid(world, provider)

    assert status.state == "paid" and status.amount == order.amount - 1
    assert not status.settles(order)


async def test_a_notification_about_another_merchants_order_settles_nothing(world, provider):
    ours, other = world.gateway(provider), world.other(provider)
    order = world.order(provider)
    created = await ours.create(order)
    theirs = await other.create(order)  # the same order id, at the same gateway, for another merchant
    returned = await world.pay(theirs)

    forged = parse(ours, returned)  # their gateway's return, delivered to us
    assert forged.order_id == order.order_id
    assert not await settles(ours, order, forged.provider_ref or created.provider_ref)
    assert not await settles(ours, order, created.provider_ref)
    assert await settles(other, order, theirs.provider_ref)


async def test_a_refund_is_made_once_however_often_it_is_asked(world, provider):
    gateway, order, status, _ = await paid(world, provider)

    first = await gateway.refund(status, order.amount, "application rejected")
    again = await gateway.refund(status, order.amount, "application rejected")

    if provider == "ekpay":  # no refund API: said so, nothing claimed
        assert not first.refunded and "portal" in first.raw["reason"]
        return
    assert first.refunded and first.refund_ref and (again.refunded, again.refund_ref) == (True, first.refund_ref)
    report = await world.report(provider)
    assert [len(t["refunds"]) for t in report if t["order_id"] == order.order_id] == [1]
    after = await gateway.status(order.order_id, status.provider_ref)
    # SSLCommerz's status calls do not report refunds: the refund's own answer is the record
    assert after.state == ("paid" if provider == "sslcommerz" else "refunded")


async def test_sslcommerz_holds_a_risky_payment(world):
    await world.faults(risk_level=1)

    _, order, status, _ = await paid(world, "sslcommerz")

    assert status.state == "held" and not status.settles(order)


@pytest.mark.parametrize("query, body", [({}, b""), ({"order_id": "x" * 40, "tran_id": "../../etc"}, b""),
                                         ({"order_id": "A1-P1", "paymentID": "../x?y", "payment_ref_id": "../x?y",
                                           "transId": "../x", "tran_id": "a/b"}, b""),
                                         ({}, b"\xff\xfe not a form"), ({}, b"[1, 2]")])
async def test_a_notification_that_names_no_order_of_ours_is_bad(world, provider, query, body):
    gateway = world.gateway(provider)

    with pytest.raises(BadNotification):
        gateway.parse_notification("POST" if body else "GET", query, {"content-type": "application/json"}, body)


async def test_a_gateway_failing_now_and_then_is_a_transient_error(world, provider):
    gateway = world.gateway(provider)
    await world.faults(error_rate=1.0)

    with pytest.raises(GatewayError):
        await gateway.create(world.order(provider))


async def test_bkash_grants_a_new_token_when_the_old_one_is_refused(world):
    gateway = world.gateway("bkash")
    order = world.order("bkash")
    created = await gateway.create(order)
    async with httpx.AsyncClient(base_url=world.sim_url) as sim:
        assert (await sim.post("/_sim/tokens/expire")).json()["expired"] >= 1

    assert (await gateway.status(order.order_id, created.provider_ref)).state == "pending"
