"""The gateways simulator as the demo uses it: started by `sonod dev` in dev mode only, its switches checked,
its report, and a payment opened twice at ekPay being one payment."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import httpx
import pytest

from infra.dev import Stack, plan
from sonod.settings import Settings


def names(settings: Settings) -> list[str]:
    return [c.name for c in plan(Stack(settings, forward_logs=False), embed_temporal=False, porichoy=True)]


def test_sonod_dev_starts_the_gateways_simulator_in_dev_mode_only():
    settings = Settings()

    assert "gateways" in names(settings)
    assert "gateways" not in names(settings.model_copy(update={"dev_mode": False}))


@pytest.mark.parametrize("switches", [{"risk_level": 2}, {"wrong_amount": "yes"}, {"refund_everything": True}])
async def test_a_fault_switch_out_of_range_or_unknown_is_refused(world, switches):
    async with httpx.AsyncClient(base_url=world.sim_url) as sim:
        answer = await sim.post("/_sim/faults", json=switches)

        assert answer.status_code == 422
        assert (await sim.get("/_sim/faults")).json()["risk_level"] == 0


async def test_the_report_shows_a_payment_its_refund_and_its_ipns(world):
    gateway = world.gateway("sslcommerz")
    order = world.order("sslcommerz")
    created = await gateway.create(order)
    await world.pay(created)
    status = await gateway.status(order.order_id, created.provider_ref)
    await gateway.refund(status, 100, "part of the fee")

    [row] = [t for t in await world.report("sslcommerz") if t["order_id"] == order.order_id]

    assert (row["state"], row["amount"], row["ipn_deliveries"]) == ("paid", "150.00", [200])
    assert [r["amount"] for r in row["refunds"]] == ["100.00"]


async def test_an_ekpay_order_opened_twice_is_one_payment(world):
    gateway = world.gateway("ekpay")
    order = world.order("ekpay")

    first, again = await gateway.create(order), await gateway.create(order)

    assert first.provider_ref == again.provider_ref
    assert [t["order_id"] for t in await world.report("ekpay")].count(order.order_id) == 1


async def test_pressing_pay_again_changes_nothing(world, provider):
    gateway = world.gateway(provider)
    order = world.order(provider)
    created = await gateway.create(order)
    await world.pay(created)
    first = await gateway.status(order.order_id, created.provider_ref)

    async with httpx.AsyncClient(base_url=world.sim_url) as browser:
        again = await browser.post(f"/{provider}/pay/{created.provider_ref.split('/')[-1]}", data={"choice": "pay"})

    assert again.status_code == 409
    status = await gateway.status(order.order_id, created.provider_ref)
    assert (status.state, status.transaction_id) == ("paid", first.transaction_id) and status.settles(order)
    if provider == "sslcommerz":  # the val_id of the first IPN still validates
        [ipn] = [r for r in world.merchant.of("ipn", provider) if f"tran_id={order.order_id}".encode() in r["body"]]
        val_id = dict(parse_qsl(ipn["body"].decode()))["val_id"]
        assert (await gateway.validated(order.order_id, created.provider_ref, val_id)).state == "paid"


async def test_an_ekpay_order_opened_again_past_midnight_is_still_found(world):
    gateway = world.gateway("ekpay")
    order = world.order("ekpay")
    created = await gateway.create(order)
    await world.pay(created)
    opened, token = created.provider_ref.split("/", 1)
    next_day = dt.date.fromisoformat(opened) + dt.timedelta(days=1)

    status = await gateway.status(order.order_id, f"{next_day}/{token}")

    assert status.settles(order)
