"""The payment orders' state machine (activities/payments/orders.py) against a test double of one gateway: the fee
recorded once, never for a closed order or a wrong amount, and a late payment refunded once. The conversation as a
whole runs against the gateways' simulator in test_conversation.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from temporalio.testing import ActivityEnvironment

from activities.payments.gateway import CreatedPayment, GatewayStatus, Notification, PaymentOrder, Refund
from activities.payments.orders import Payments
from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.settings import Settings
from workflows.payment_messages import Closing, NoticeOutcome, NotificationRef, OrderRequest, OrderState


class Double:
    """A gateway that says what the test tells it to, and counts the calls."""

    name = "sslcommerz"

    def __init__(self) -> None:
        self.state, self.amount, self.merchant_ok = "pending", Decimal(690), True
        self.created: list[str] = []
        self.refunds: list[str] = []

    async def create(self, order: PaymentOrder) -> CreatedPayment:
        self.created.append(order.order_id)
        return CreatedPayment(provider="sslcommerz", order_id=order.order_id, provider_ref=f"ref-{order.order_id}",
                              redirect_url=f"https://gateway.example/pay/{order.order_id}")

    async def status(self, order_id: str, provider_ref: str) -> GatewayStatus:
        return GatewayStatus(provider="sslcommerz", order_id=order_id, provider_ref=provider_ref, state=self.state,
                             amount=self.amount, currency="BDT", merchant_ok=self.merchant_ok,
                             transaction_id=f"TX-{order_id}")

    def parse_notification(self, method, query, headers, body) -> Notification:
        return Notification(provider="sslcommerz", order_id=body.decode())

    async def refund(self, status: GatewayStatus, amount: int, reason: str) -> Refund:
        self.refunds.append(status.order_id)
        return Refund(provider="sslcommerz", order_id=status.order_id, refunded=True, refund_ref="RF-1")


@pytest.fixture
def payments(database_url):
    engine = make_engine(database_url)
    double = Double()
    yield Payments(make_session_factory(engine), Settings(database_url=database_url), None, lambda _: double), double
    engine.dispose()


def request() -> OrderRequest:
    return OrderRequest(application_id=f"A261206-{uuid.uuid4().hex[:16].upper()}", union="paikkandi",
                        provider="sslcommerz", amount=690, currency="BDT",
                        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=7))


def run(fn, arg, workflow_id: str = "A-test"):
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id=workflow_id)
    return env.run(fn, arg)


def order_row(payments: Payments, order_id: str) -> db.PaymentOrder:
    with payments.sessions() as session:
        row = session.get(db.PaymentOrder, order_id)
        assert row is not None
        return row


def ledger(payments: Payments, application_id: str) -> int:
    with payments.sessions() as session:
        return session.scalar(select(func.count()).select_from(db.Payment)
                              .where(db.Payment.application_id == application_id))


async def test_an_order_is_opened_once_however_often_the_activity_runs(payments):
    box, double = payments
    req = request()
    first = await run(box.open, req)
    again = await run(box.open, req)
    assert first == again and first.redirect_url == f"https://gateway.example/pay/{req.order_id}"
    assert double.created == [req.order_id]


async def test_a_paid_order_is_recorded_once_with_one_ledger_row(payments):
    box, double = payments
    req = request()
    order = await run(box.open, req)
    assert not (await run(box.confirm, order)).paid
    double.state = "paid"
    assert (await run(box.confirm, order)).paid
    assert (await run(box.confirm, order)).paid
    assert order_row(box, req.order_id).state == OrderState.PAID
    assert ledger(box, req.application_id) == 1


@pytest.mark.parametrize("what, refused", [("amount", "amount"), ("merchant", "merchant")])
async def test_a_payment_of_another_amount_or_to_another_merchant_is_not_recorded(payments, what, refused):
    box, double = payments
    req = request()
    order = await run(box.open, req)
    double.state = "paid"
    if what == "amount":
        double.amount = Decimal(69)
    else:
        double.merchant_ok = False
    confirmation = await run(box.confirm, order)
    assert not confirmation.paid and confirmation.refused == refused
    assert order_row(box, req.order_id).state == OrderState.OPEN
    assert ledger(box, req.application_id) == 0


async def test_a_closed_order_is_never_recorded_paid_and_its_payment_is_refunded_once(payments):
    box, double = payments
    req = request()
    order = await run(box.open, req)
    closed = await run(box.close, Closing(order_id=req.order_id, state=OrderState.EXPIRED))
    assert (closed.state, closed.refunded) == (OrderState.EXPIRED, False)  # nothing paid yet
    double.state = "paid"  # the payer pays after the expiry
    assert not (await run(box.confirm, order)).paid
    refunded = await run(box.close, Closing(order_id=req.order_id, state=OrderState.EXPIRED), "PN-late")
    again = await run(box.close, Closing(order_id=req.order_id, state=OrderState.EXPIRED), "PN-late-again")
    assert refunded.refunded and not again.refunded
    assert double.refunds == [req.order_id]
    row = order_row(box, req.order_id)
    assert (row.state, row.refund_ref) == (OrderState.REFUNDED, "RF-1")
    assert ledger(box, req.application_id) == 0


async def test_a_notification_names_an_order_and_nothing_more(payments):
    box, _ = payments
    req = request()
    await run(box.open, req)
    ids = []
    with box.sessions.begin() as session:
        for body in (req.order_id.encode(), b"A261206-NOSUCHORDER-P1"):
            row = db.PaymentNotification(provider="sslcommerz", kind="ipn", method="POST", query="", headers={},
                                         body=body, outcome="received")
            session.add(row)
            session.flush()
            ids.append(row.id)
    ours, unknown = [await run(box.read_notification, NotificationRef(id=i, provider="sslcommerz")) for i in ids]
    assert (ours.outcome, ours.application_id) == (NoticeOutcome.NUDGED, req.application_id)
    assert unknown.outcome is NoticeOutcome.UNKNOWN_ORDER and unknown.application_id is None
    bkash = await run(box.read_notification, NotificationRef(id=ids[0], provider="bkash"))
    assert bkash.outcome is NoticeOutcome.WRONG_PROVIDER


def test_the_administrator_chooses_a_unions_gateway_among_the_deployments(database_url):
    from tests.unions_kit import add_union, cli, database

    add_union(database_url, "pay-cli")
    assert cli(database_url, "admin", "payment-provider", "pay-cli", "bkash").exit_code == 0
    assert cli(database_url, "admin", "payment-provider", "pay-cli", "paypal").exit_code == 2
    with database(database_url) as session:
        assert session.get(db.Union, "pay-cli").payment_provider == "bkash"
    assert cli(database_url, "admin", "payment-provider", "pay-cli", "default").exit_code == 0
    with database(database_url) as session:
        assert session.get(db.Union, "pay-cli").payment_provider is None
        actions = session.scalars(select(db.AuditEntry.action).where(db.AuditEntry.union_slug == "pay-cli")).all()
        assert actions.count("union.payment_provider") == 2


def test_the_deployments_default_gateway_is_the_callback_or_a_contracted_one():
    from pydantic import ValidationError

    assert Settings().payment_provider == "callback"
    assert Settings(payment_providers="bkash,nagad", payment_provider="nagad").payment_provider == "nagad"
    with pytest.raises(ValidationError, match="SONOD_PAYMENT_PROVIDER"):
        Settings(payment_providers="bkash", payment_provider="nagad")
