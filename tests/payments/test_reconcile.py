"""`sonod ops payments reconcile` (issue 15) against the gateways' simulator over real HTTP: a union's day of orders
with seeded differences (paid at the gateway but still open in sonod, recorded paid but never paid, an amount the
gateway reports one taka short) is listed difference by difference, exit 1; a day that agrees exits 0. The comparison's
other cases (a gateway that lists an order sonod does not know, one that does not answer) against a test double."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import uuid
from decimal import Decimal

from sqlalchemy import update
from typer.testing import CliRunner

from activities.payments.gateway import GatewayError, GatewayStatus
from infra.reconcile import Difference, Order, reconcile
from sonod import db
from sonod.bengali import DHAKA
from sonod.domain import Status
from tests.stack import PORTAL_KEY
from tests.unions_kit import add_union, database

TODAY = dt.datetime.now(DHAKA).date()


def fresh_union(url: str) -> str:
    slug = f"rec-{uuid.uuid4().hex[:8]}"
    add_union(url, slug)
    return slug


async def opened(world, url: str, union: str, provider: str, *, pay: bool, recorded: str,
                 amount: int = 150) -> str:
    """An order opened at the simulated gateway (and paid there by the payer when `pay`), recorded by sonod in
    the state `recorded` (with the gateway's transaction id when recorded paid): the seed of one case."""
    gateway = world.gateway(provider)
    order = world.order(provider, amount=amount)
    created = await gateway.create(order)
    transaction = None
    if pay:
        await world.pay(created)
        transaction = (await gateway.status(order.order_id, created.provider_ref)).transaction_id

    def record() -> None:
        with database(url) as session:
            session.add(db.PaymentOrder(
                order_id=order.order_id, application_id=order.application_id, union_slug=union, provider=provider,
                provider_ref=created.provider_ref, redirect_url=created.redirect_url, amount=amount, currency="BDT",
                state=recorded, created_at=db.utcnow(), expires_at=order.expires_at,
                paid_at=db.utcnow() if recorded == "paid" else None,
                transaction_id=transaction if recorded == "paid" else None))
    await asyncio.to_thread(record)
    return order.order_id


def reconcile_cli(url: str, sim_url: str, *args: str):
    from infra.cli import app

    return CliRunner().invoke(app, ["ops", "payments", "reconcile", *args],
                              env={"SONOD_DATABASE_URL": url, "SONOD_DEV_MODE": "true", "SONOD_GATEWAYS_URL": sim_url,
                                   "COLUMNS": "160"})


async def test_every_seeded_difference_is_listed_and_the_exit_code_is_1(world, database_url, provider):
    union = await asyncio.to_thread(fresh_union, database_url)
    agrees = await opened(world, database_url, union, provider, pay=True, recorded="paid")
    waiting = await opened(world, database_url, union, provider, pay=False, recorded="open")
    not_recorded = await opened(world, database_url, union, provider, pay=True, recorded="open")
    not_paid = await opened(world, database_url, union, provider, pay=False, recorded="paid")
    await world.faults(wrong_amount=True)  # the gateway takes (and reports) one taka less than the order
    short = await opened(world, database_url, union, provider, pay=True, recorded="paid")
    await world.faults(wrong_amount=False)

    done = await asyncio.to_thread(reconcile_cli, database_url, world.sim_url, "--union", union,
                                   "--date", TODAY.isoformat(), "--json")

    assert done.exit_code == 1, done.output
    report = json.loads(done.stdout)
    assert report["orders"] == 5
    found = {(d["order_id"], d["kind"]) for d in report["differences"]}
    assert found == {(not_recorded, "paid_not_recorded"), (not_paid, "recorded_not_paid"), (short, "amount")}, found
    assert agrees not in str(found) and waiting not in str(found)
    amount = next(d for d in report["differences"] if d["kind"] == "amount")
    assert (Decimal(amount["sonod"]["amount"]), Decimal(amount["gateway"]["amount"])) == (150, 149)

    table = await asyncio.to_thread(reconcile_cli, database_url, world.sim_url, "--union", union,
                                    "--date", TODAY.isoformat())
    assert table.exit_code == 1
    assert "3 differences" in table.stdout and "paid at the gateway, not recorded by sonod" in table.stdout
    assert all(o in table.stdout for o in (not_recorded, not_paid, short)) and agrees not in table.stdout


async def test_a_day_where_sonod_and_the_gateway_agree_exits_0(world, database_url):
    union = await asyncio.to_thread(fresh_union, database_url)
    await opened(world, database_url, union, "sslcommerz", pay=True, recorded="paid")
    await opened(world, database_url, union, "sslcommerz", pay=False, recorded="expired")

    done = await asyncio.to_thread(reconcile_cli, database_url, world.sim_url, "--union", union,
                                   "--date", TODAY.isoformat())

    assert done.exit_code == 0, done.output
    assert "2 payment orders" in done.stdout and "No difference." in done.stdout
    other_day = await asyncio.to_thread(reconcile_cli, database_url, world.sim_url, "--union", union,
                                        "--date", (TODAY - dt.timedelta(days=1)).isoformat(), "--json")
    assert other_day.exit_code == 0 and json.loads(other_day.stdout)["orders"] == 0


async def test_a_paid_order_whose_application_still_waits_for_its_fee_is_listed(world, database_url):
    union = await asyncio.to_thread(fresh_union, database_url)
    order_id = await opened(world, database_url, union, "ekpay", pay=True, recorded="paid")
    application_id = order_id.rsplit("-P", 1)[0]

    def waiting_application() -> None:
        with database(database_url) as session:
            session.add(db.Application(id=application_id, union_slug=union, certificate_type="trade_licence",
                                       status="awaiting_payment", submitted_by="portal:demo-portal", applicant={},
                                       contact={}, details={}, fee_amount=150, fee_paid=False))
    await asyncio.to_thread(waiting_application)

    done = await asyncio.to_thread(reconcile_cli, database_url, world.sim_url, "--union", union, "--json")

    assert done.exit_code == 1, done.output
    assert [(d["order_id"], d["kind"]) for d in json.loads(done.stdout)["differences"]] == \
        [(order_id, "application_unpaid")]

    def paid_application() -> None:
        with database(database_url) as session:
            session.execute(update(db.Application).where(db.Application.id == application_id).values(fee_paid=True))
    await asyncio.to_thread(paid_application)
    assert (await asyncio.to_thread(reconcile_cli, database_url, world.sim_url, "--union", union)).exit_code == 0


async def test_a_gateway_down_leaves_its_orders_unchecked_and_the_exit_code_is_1(world, database_url):
    union = await asyncio.to_thread(fresh_union, database_url)
    order_id = await opened(world, database_url, union, "nagad", pay=True, recorded="paid")
    await world.faults(down=True)
    try:
        done = await asyncio.to_thread(reconcile_cli, database_url, world.sim_url, "--union", union, "--json")
    finally:
        await world.faults(down=False)
    assert done.exit_code == 1, done.output
    assert [(d["order_id"], d["kind"]) for d in json.loads(done.stdout)["differences"]] == [(order_id, "unchecked")]


def test_bad_arguments_exit_2(database_url):
    unknown = reconcile_cli(database_url, "http://127.0.0.1:9", "--union", "no-such-union", "--date", "2026-12-06")
    assert unknown.exit_code == 2 and "no union 'no-such-union'" in unknown.output
    bad_date = reconcile_cli(database_url, "http://127.0.0.1:9", "--union", "paikkandi", "--date", "06/12/2026")
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output


# --- the comparison's cases no simulated gateway offers --------------------------------------------------------------

class Listing:
    """A gateway double that answers from a table and lists its day's transactions."""

    name = "nagad"

    def __init__(self, answers: dict[str, GatewayStatus | Exception], listed: list[GatewayStatus]) -> None:
        self.answers, self.listed = answers, listed

    async def status(self, order_id: str, provider_ref: str) -> GatewayStatus:
        answer = self.answers[order_id]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def transactions(self, day: dt.date) -> list[GatewayStatus]:
        return self.listed


def status(order_id: str, state: str = "paid", amount: int = 690, **kw) -> GatewayStatus:
    return GatewayStatus(**{"provider": "nagad", "order_id": order_id, "provider_ref": "r", "state": state,
                            "amount": Decimal(amount), "currency": "BDT", "merchant_ok": True,
                            "transaction_id": f"T-{order_id}"} | kw)


def order(order_id: str, state: str = "paid", amount: int = 690, provider: str = "nagad") -> Order:
    return Order(order_id, f"A-{order_id}", provider, "r", state, amount, "BDT",
                 f"T-{order_id}" if state == "paid" else None, None)


async def test_each_pair_of_states_is_named_and_an_order_the_gateway_lists_but_sonod_lacks_is_listed():
    orders = [order("ok"), order("refunded", "paid"), order("kept", "refunded"), order("other", "paid"),
              order("silent", "paid"), order("refunding", "refunding")]
    gateway = Listing({"ok": status("ok"), "refunded": status("refunded", "refunded"),
                       "kept": status("kept"), "other": status("other", merchant_ok=False),
                       "silent": GatewayError("bkash: timed out"), "refunding": status("refunding", "refunded")},
                      listed=[status("ok"), status("stranger"), status("abandoned", "failed")])

    result = await reconcile("paikkandi", TODAY, orders, lambda _: gateway, known=lambda ids: {"ok"} & set(ids))

    assert {(f.order_id, f.kind) for f in result.findings} == {
        ("refunded", Difference.REFUNDED_AT_GATEWAY), ("kept", Difference.REFUND_NOT_AT_GATEWAY),
        ("other", Difference.MERCHANT), ("silent", Difference.UNCHECKED), ("stranger", Difference.UNKNOWN_TO_SONOD)}
    assert result.listed_by == ["nagad"] and not result.clean


async def test_a_refund_agrees_with_a_gateway_whose_status_call_does_not_report_refunds():
    """bKash's and SSLCommerz's status calls still say paid after a refund; Nagad's says refunded."""
    gateway = Listing({"o": status("o")}, listed=[])
    for provider, kinds in (("bkash", []), ("sslcommerz", []), ("nagad", [Difference.REFUND_NOT_AT_GATEWAY])):
        result = await reconcile("paikkandi", TODAY, [order("o", "refunded", provider=provider)], lambda _: gateway)
        assert [f.kind for f in result.findings] == kinds, provider


# --- on the stack: a day of real conversations ----------------------------------------------------------------------

async def test_a_day_of_real_payments_reconciles_until_a_payer_never_comes_back_and_the_receipt_names_bkash(
        request, paying, gateway_sim):
    """bKash sends no IPN: a payer who pays and closes the browser before coming back leaves the order open in sonod
    (until the workflow's next poll), paid at the gateway: the difference the reconciliation is for."""
    union = await paying.union(request, "bkash")
    paid_id, paid_order = await paying.awaiting_payment(union, 2)
    returned = await paying.api.http.get(await paying.pay(paid_order))  # the payer comes back: the fee is taken
    assert returned.status_code == 303
    await paying.api.wait_for(paid_id, Status.AWAITING_VERIFICATION)
    gone_id, gone_order = await paying.awaiting_payment(union, 3)
    url, sim = paying.settings.db_url, gateway_sim.url

    agreed = await asyncio.to_thread(reconcile_cli, url, sim, "--union", union, "--json")
    assert agreed.exit_code == 0, agreed.output
    assert json.loads(agreed.stdout)["orders"] == 2

    await paying.pay(gone_order)  # and never comes back
    differs = await asyncio.to_thread(reconcile_cli, url, sim, "--union", union, "--json")
    assert differs.exit_code == 1, differs.output
    assert [(d["order_id"], d["kind"]) for d in json.loads(differs.stdout)["differences"]] == \
        [(gone_order.order_id, "paid_not_recorded")]

    receipt = await paying.api.http.get(f"/api/v1/applications/{paid_id}/money-receipt",
                                        headers={"X-API-Key": PORTAL_KEY})
    assert receipt.status_code == 200, receipt.text
    text = subprocess.run(["pdftotext", "-", "-"], input=receipt.content, capture_output=True,
                          check=True).stdout.decode()
    paid_row = await paying.order_of(paid_id)
    assert "বিকাশ (bKash)" in text and paid_row.transaction_id and paid_row.transaction_id in text
    unpaid = await paying.api.http.get(f"/api/v1/applications/{gone_id}/money-receipt",
                                       headers={"X-API-Key": PORTAL_KEY})
    assert unpaid.status_code == 404
