"""`sonod ops payments reconcile`: a union's payment orders of one day (Bangladesh date), as sonod recorded them,
against what each one's gateway says of it now through its status call (the only authority), every difference listed.

An order belongs to the day it was opened, paid or refunded on. Sonod's state of an order and the gateway's agree
when they are one of these pairs; every other pair is a difference, named by what it means for the union's money:

    sonod                   gateway
    open, expired, cancelled  pending, failed, cancelled
    paid                    paid (to our merchant account, the same amount, currency and transaction)
    refunding               paid or refunded (the refund is under way)
    refunded                refunded (bKash, SSLCommerz: paid, their status calls do not report refunds)

A paid order whose application still waits for its fee is listed too (the workflow never heard of the payment).
Fees confirmed by the signed callback (`POST /api/v1/payments/callback`) have no status call to ask: they are counted,
not compared. A gateway that lists its merchant's transactions of a day (`TransactionReport`) has each one it knows
and sonod does not listed; none of the four adapters can today (their merchant panels export such a report).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import httpx
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from activities.payments.gateway import Gateway, GatewayError, GatewayRefused, GatewayStatus, gateway_for
from sonod import db
from sonod.bengali import DHAKA
from sonod.settings import Settings

AT_ONCE = 8  # status calls in flight at a time


class Difference(StrEnum):
    PAID_NOT_RECORDED = "paid_not_recorded"
    RECORDED_NOT_PAID = "recorded_not_paid"
    REFUNDED_AT_GATEWAY = "refunded_at_gateway"
    REFUND_NOT_AT_GATEWAY = "refund_not_at_gateway"
    STATE = "state"
    MERCHANT = "merchant"
    AMOUNT = "amount"
    CURRENCY = "currency"
    TRANSACTION = "transaction"
    APPLICATION_UNPAID = "application_unpaid"
    UNKNOWN_TO_SONOD = "unknown_to_sonod"
    UNCHECKED = "unchecked"


MEANING = {
    Difference.PAID_NOT_RECORDED: "paid at the gateway, not recorded by sonod",
    Difference.RECORDED_NOT_PAID: "recorded paid by sonod, not paid at the gateway",
    Difference.REFUNDED_AT_GATEWAY: "recorded paid by sonod, refunded at the gateway",
    Difference.REFUND_NOT_AT_GATEWAY: "refunded by sonod, still paid at the gateway",
    Difference.STATE: "the states differ",
    Difference.MERCHANT: "paid to another merchant account",
    Difference.AMOUNT: "the amounts differ",
    Difference.CURRENCY: "the currencies differ",
    Difference.TRANSACTION: "the transaction ids differ",
    Difference.APPLICATION_UNPAID: "the order is paid, the application still waits for its fee",
    Difference.UNKNOWN_TO_SONOD: "the gateway knows this order, sonod does not",
    Difference.UNCHECKED: "the gateway did not answer: not compared",
}
UNPAID = ("open", "expired", "cancelled")
AGREES: dict[str, frozenset[str]] = {**dict.fromkeys(UNPAID, frozenset({"pending", "failed", "cancelled"})),
                                     "paid": frozenset({"paid"}), "refunding": frozenset({"paid", "refunded"}),
                                     "refunded": frozenset({"refunded"})}
MONEY_MOVED = ("paid", "refunded", "held")  # the gateway's states in which it reports what was paid
# gateways whose status call still says paid after a refund (docs/INTEGRATIONS.md, "Refunds"): there sonod's refunded
# order agrees with the gateway's paid, and the refund's own answer (its reference, on the order) is the record
REFUNDS_UNREPORTED = ("bkash", "sslcommerz")


@runtime_checkable
class TransactionReport(Protocol):
    """An adapter that lists its merchant's transactions of a day (Bangladesh date)."""

    async def transactions(self, day: dt.date) -> list[GatewayStatus]: ...


@dataclass(frozen=True)
class Side:
    state: str
    amount: str
    currency: str
    transaction_id: str | None


@dataclass(frozen=True)
class Order:
    """What sonod recorded of one order (read once, then compared away from the database)."""

    order_id: str
    application_id: str
    provider: str
    provider_ref: str | None
    state: str
    amount: int
    currency: str
    transaction_id: str | None
    fee_paid: bool | None  # the application's read model; None when it has no row

    def side(self) -> Side:
        return Side(self.state, str(self.amount), self.currency, self.transaction_id)


@dataclass(frozen=True)
class Finding:
    order_id: str
    application_id: str | None
    provider: str
    kind: Difference
    sonod: Side | None
    gateway: Side | None
    note: str = ""

    @property
    def meaning(self) -> str:
        return MEANING[self.kind] + (f" ({self.note})" if self.note else "")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value, "meaning": self.meaning}


@dataclass
class Reconciliation:
    union: str
    day: dt.date
    orders: int = 0
    callback_payments: int = 0
    listed_by: list[str] = field(default_factory=list)  # the providers whose transactions of the day were listed
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"union": self.union, "date": self.day.isoformat(), "orders": self.orders,
                "callback_payments": self.callback_payments, "listed_by": self.listed_by,
                "differences": [f.to_json() for f in self.findings]}


# --- what sonod recorded ----------------------------------------------------------------------------------------------

def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), DHAKA)
    return start, start + dt.timedelta(days=1)


def recorded(session: Session, union: str, day: dt.date) -> tuple[list[Order], int]:
    """The union's orders opened, paid or refunded on `day`, and the count of its fees confirmed by the signed callback
    that day (ledger rows of no order: an order's are named `<provider>:<transaction>`)."""
    start, end = day_bounds(day)
    orders, apps = db.PaymentOrder, db.Application

    def within(column) -> Any:
        return and_(column >= start, column < end)

    rows = session.execute(
        select(orders, apps.fee_paid).outerjoin(apps, apps.id == orders.application_id)
        .where(orders.union_slug == union,
               or_(within(orders.created_at), within(orders.paid_at), within(orders.refunded_at)))
        .order_by(orders.created_at, orders.order_id)).all()
    found = [Order(o.order_id, o.application_id, o.provider, o.provider_ref, o.state, o.amount, o.currency,
                   o.transaction_id, fee_paid) for o, fee_paid in rows]
    providers = [f"{p}:%" for p in ("ekpay", "bkash", "sslcommerz", "nagad")]
    callbacks = session.scalar(
        select(func.count()).select_from(db.Payment).join(apps, apps.id == db.Payment.application_id)
        .where(apps.union_slug == union, within(db.Payment.received_at),
               *[db.Payment.transaction_id.not_like(p) for p in providers]))
    return found, int(callbacks or 0)


# --- the comparison ---------------------------------------------------------------------------------------------------

def gateway_side(status: GatewayStatus) -> Side:
    return Side(status.state, str(status.amount), status.currency, status.transaction_id)


def compare(order: Order, status: GatewayStatus) -> list[Finding]:
    """Every difference between sonod's record of an order and its gateway's answer; none when they agree."""
    ours, theirs = order.state, status.state
    if ours == "refunded" and theirs == "paid" and order.provider in REFUNDS_UNREPORTED:
        theirs = "refunded"
    kinds: list[Difference] = []
    if theirs == "paid" and not status.merchant_ok:
        kinds.append(Difference.MERCHANT)
    elif theirs not in AGREES.get(ours, frozenset()):
        if theirs == "paid" and ours in UNPAID:
            kinds.append(Difference.PAID_NOT_RECORDED)
        elif ours == "paid":
            kinds.append(Difference.REFUNDED_AT_GATEWAY if theirs == "refunded" else Difference.RECORDED_NOT_PAID)
        else:
            kinds.append(Difference.REFUND_NOT_AT_GATEWAY if (ours, theirs) == ("refunded", "paid")
                         else Difference.STATE)
    if theirs in MONEY_MOVED:
        if status.currency != order.currency:
            kinds.append(Difference.CURRENCY)
        if Decimal(status.amount) != order.amount:
            kinds.append(Difference.AMOUNT)
        if order.transaction_id and status.transaction_id and order.transaction_id != status.transaction_id:
            kinds.append(Difference.TRANSACTION)
    if ours == "paid" and order.fee_paid is False:
        kinds.append(Difference.APPLICATION_UNPAID)
    return [Finding(order.order_id, order.application_id, order.provider, kind, order.side(), gateway_side(status))
            for kind in kinds]


async def ask(gateway: Gateway, order: Order, gate: asyncio.Semaphore) -> list[Finding]:
    async with gate:
        try:
            assert order.provider_ref is not None, "orders never opened at the gateway are not asked"
            status = await gateway.status(order.order_id, order.provider_ref)
        except (GatewayError, GatewayRefused, httpx.HTTPError) as e:
            return [Finding(order.order_id, order.application_id, order.provider, Difference.UNCHECKED, order.side(),
                            None, str(e)[:200] or type(e).__name__)]
    return compare(order, status)


def unknown(known: Iterable[str], provider: str, listed: list[GatewayStatus]) -> list[Finding]:
    """The listed transactions whose order sonod has no record of."""
    ours = set(known)
    return [Finding(s.order_id, None, provider, Difference.UNKNOWN_TO_SONOD, None, gateway_side(s))
            for s in listed if s.order_id not in ours]


async def reconcile(union: str, day: dt.date, orders: list[Order], gateways: Callable[[str], Gateway],
                    known: Callable[[list[str]], set[str]] = set) -> Reconciliation:
    """Ask each opened order's gateway (AT_ONCE at a time) and compare; then, from each gateway that lists a day's
    transactions, those whose order is not in `known(order ids)` (sonod's orders of any day)."""
    result = Reconciliation(union, day, orders=len(orders))
    gate = asyncio.Semaphore(AT_ONCE)
    asked = [o for o in orders if o.provider_ref is not None]
    for findings in await asyncio.gather(*(ask(gateways(o.provider), o, gate) for o in asked)):
        result.findings += findings
    for provider in sorted({o.provider for o in orders}):
        gateway = gateways(provider)
        if isinstance(gateway, TransactionReport):
            listed = [s for s in await gateway.transactions(day) if s.state in MONEY_MOVED]
            result.listed_by.append(provider)
            result.findings += unknown(known([s.order_id for s in listed]), provider, listed)
    return result


def reconcile_day(settings: Settings, union: str, day: dt.date,
                  gateways: Callable[[httpx.AsyncClient], Callable[[str], Gateway]] | None = None) -> Reconciliation:
    """The union's day reconciled against the gateways at their configured addresses; ValueError for an unknown
    union (the CLI's bad argument)."""
    from infra.cli_common import sessions  # lazy: SQLAlchemy

    with sessions(settings) as factory, factory() as session:
        if session.get(db.Union, union) is None:
            raise ValueError(f"no union {union!r}")
        orders, callbacks = recorded(session, union, day)

        def known(order_ids: list[str]) -> set[str]:
            return set(session.scalars(select(db.PaymentOrder.order_id)
                                       .where(db.PaymentOrder.order_id.in_(order_ids))))

        async def run() -> Reconciliation:
            async with httpx.AsyncClient(timeout=settings.payment_timeout_s) as http:
                adapters: dict[str, Gateway] = {}
                pick = gateways(http) if gateways else (lambda p: gateway_for(p, settings, http))

                def adapter(provider: str) -> Gateway:
                    if provider not in adapters:
                        adapters[provider] = pick(provider)
                    return adapters[provider]
                return await reconcile(union, day, orders, adapter, known)

        result = asyncio.run(run())
    result.callback_payments = callbacks
    return result
