"""The payment conversation's side effects: an order opened at the union's gateway, the status call that alone
records a fee as paid (once), the order closed at expiry or cancellation with a payment found there refunded, and
the untrusted notifications read.

Every state change of an order is one conditional UPDATE (`open` → `paid`, `open` → `expired`/`cancelled`, closed →
`refunding` → `refunded`), so that retries, duplicate notifications and a late payment racing the expiry each
change it once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payments.gateway import (
    ORDER_PARAM,
    BadNotification,
    Gateway,
    GatewayRefused,
    GatewayStatus,
    PaymentOrder,
    gateway_for,
)
from sonod import audit, db
from sonod.db import upsert
from sonod.settings import Settings
from workflows import activities as contract
from workflows.messages import PaymentOrderRef
from workflows.payment_messages import (
    Closed,
    Closing,
    Confirmation,
    NoticeOutcome,
    NotificationRead,
    NotificationRef,
    OrderRequest,
    OrderState,
)

log = logging.getLogger(__name__)
ORDERS = db.PaymentOrder.__table__
GATEWAY = dict(actor="payment-gateway", role="gateway")


def payment_urls(settings: Settings, provider: str, order_id: str) -> tuple[str, str]:
    """Where the gateway sends the payer back (naming the order, which bKash's return does not), and its IPN: the
    routes of api/routers/payments.py."""
    base = f"{settings.public_url.rstrip('/')}/api/v1/payments/{provider}"
    return f"{base}/return?{urlencode({ORDER_PARAM: order_id})}", f"{base}/ipn"


def refusal(status: GatewayStatus, row: db.PaymentOrder) -> str | None:
    """Why a status is not this order's fee paid to us; None when it is."""
    if status.order_id != row.order_id or status.provider != row.provider:
        return "order"
    if not status.merchant_ok:
        return "merchant"
    if status.currency != row.currency:
        return "currency"
    if status.amount != row.amount:
        return "amount"
    return None if status.state == "paid" else f"state:{status.state}"


class Payments(contract.Payments):
    def __init__(self, sessions: sessionmaker, settings: Settings, http: httpx.AsyncClient,
                 gateways: Callable[[str], Gateway] | None = None) -> None:
        self.sessions, self.settings = sessions, settings
        self.gateways = gateways or (lambda provider: gateway_for(provider, settings, http))
        self.adapters: dict[str, Gateway] = {}

    def gateway(self, provider: str) -> Gateway:
        """One adapter a provider, kept (bKash's token lives in it)."""
        if provider not in self.adapters:
            self.adapters[provider] = self.gateways(provider)
        return self.adapters[provider]

    def activities(self) -> list:
        return [self.open, self.confirm, self.close, self.read_notification]

    def in_db(self, work: Callable[[Session], Any]):
        """Run `work` in a transaction of its own, in a thread (the gateways' calls stay on the event loop)."""
        def run():
            with self.sessions.begin() as session:
                return work(session)
        return asyncio.to_thread(run)

    @activity.defn(name="Payments.open")
    async def open(self, request: OrderRequest) -> PaymentOrderRef:
        """The order at the gateway, once: a retry finds it opened (the gateway is idempotent by order id too)."""
        order_id = request.order_id
        row = await self.in_db(lambda s: self._insert(s, request))
        if row.redirect_url:
            return ref(row)
        return_url, ipn_url = payment_urls(self.settings, request.provider, order_id)
        created = await self.gateway(request.provider).create(PaymentOrder(
            order_id=order_id, application_id=request.application_id, union=request.union, amount=request.amount,
            currency=request.currency, customer_mobile=request.mobile, return_url=return_url, ipn_url=ipn_url,
            expires_at=request.expires_at))

        def opened(session: Session) -> db.PaymentOrder:
            row = session.get(db.PaymentOrder, order_id)
            assert row is not None
            row.provider_ref, row.redirect_url = created.provider_ref, created.redirect_url
            return row
        return ref(await self.in_db(opened))

    @staticmethod
    def _insert(session: Session, request: OrderRequest) -> db.PaymentOrder:
        upsert(session, db.PaymentOrder, dict(
            order_id=request.order_id, application_id=request.application_id, union_slug=request.union,
            provider=request.provider, amount=request.amount, currency=request.currency, state=OrderState.OPEN.value,
            created_at=db.utcnow(), expires_at=request.expires_at), ["order_id"])
        row = session.get(db.PaymentOrder, request.order_id)
        assert row is not None
        return row

    @activity.defn(name="Payments.confirm")
    async def confirm(self, order: PaymentOrderRef) -> Confirmation:
        """Ask the gateway; record the fee paid once when it is this order's, to us, in full. A closed order is never
        recorded paid (its payment is refunded by `close`)."""
        row = await self.in_db(lambda s: s.get(db.PaymentOrder, order.order_id))
        if row is None or row.provider_ref is None:
            raise ApplicationError(f"no opened order {order.order_id}", type="NoOrder", non_retryable=True)
        status = await self.gateway(row.provider).status(row.order_id, row.provider_ref)
        refused = refusal(status, row)
        if refused is None:
            refused = await self.in_db(lambda s: self._paid(s, row, status))
        elif status.state == "paid":
            await self.in_db(lambda s: self._refused(s, row, status, refused))
        return Confirmation(order_id=row.order_id, state=status.state, paid=refused is None,
                            transaction_id=status.transaction_id, refused=refused)

    @staticmethod
    def _paid(session: Session, row: db.PaymentOrder, status: GatewayStatus) -> str | None:
        """The fee recorded, its ledger row and audit entry written, the first time; None when it is (now) paid."""
        now = db.utcnow()
        won = rowcount(session, update(db.PaymentOrder).where(
            db.PaymentOrder.order_id == row.order_id, db.PaymentOrder.state == OrderState.OPEN.value,
        ).values(state=OrderState.PAID.value, paid_at=now, transaction_id=status.transaction_id))
        if not won:
            state = session.scalar(select(db.PaymentOrder.state).where(db.PaymentOrder.order_id == row.order_id))
            return None if state == OrderState.PAID.value else f"closed:{state}"
        transaction = f"{row.provider}:{status.transaction_id or row.order_id}"
        upsert(session, db.Payment, dict(transaction_id=transaction, application_id=row.application_id,
                                         amount=row.amount, currency=row.currency, received_at=now),
               ["transaction_id"])
        audit.record(session, union=row.union_slug, **GATEWAY, action="payment.received", target=row.application_id,
                     detail={"order_id": row.order_id, "provider": row.provider, "transaction_id": transaction,
                             "amount": row.amount, "currency": row.currency})
        return None

    @staticmethod
    def _refused(session: Session, row: db.PaymentOrder, status: GatewayStatus, reason: str) -> None:
        """A payment the gateway calls paid but that is not this fee: on record once per reason."""
        detail = {"order_id": row.order_id, "provider": row.provider, "reason": reason,
                  "amount": str(status.amount), "currency": status.currency[:3]}
        seen = session.scalar(select(db.AuditEntry.id).where(
            db.AuditEntry.union_slug == row.union_slug, db.AuditEntry.target == row.application_id,
            db.AuditEntry.action == "payment.refused",
            db.AuditEntry.detail["order_id"].as_string() == row.order_id,
            db.AuditEntry.detail["reason"].as_string() == reason))
        if seen is None:
            audit.record(session, union=row.union_slug, **GATEWAY, action="payment.refused",
                         target=row.application_id, detail=detail)

    @activity.defn(name="Payments.close")
    async def close(self, closing: Closing) -> Closed:
        """Close an open order unpaid; then, if the gateway says it was paid all the same, refund it, once."""
        me = activity.info().workflow_id or "?"
        claimed = await self.in_db(lambda s: self._claim(s, closing, me))
        if claimed is None:
            row = await self.in_db(lambda s: s.get(db.PaymentOrder, closing.order_id))
            state = OrderState(row.state) if row else closing.state
            return Closed(order_id=closing.order_id, state=state, refunded=False)
        row, was = claimed
        if row.provider_ref is None:  # never opened at the gateway: nothing can have been paid
            await self.in_db(lambda s: self._release(s, row, was))
            return Closed(order_id=row.order_id, state=was, refunded=False)
        gateway = self.gateway(row.provider)
        status = await gateway.status(row.order_id, row.provider_ref)
        if status.state != "paid" or status.order_id != row.order_id or not status.merchant_ok:
            await self.in_db(lambda s: self._release(s, row, was))
            return Closed(order_id=row.order_id, state=was, refunded=False)
        reason = f"the application's order was {was.value} before the payment came"
        try:
            refund = await gateway.refund(status, row.amount, reason)
        except GatewayRefused as e:
            log.warning("refund refused", extra={"order_id": row.order_id, "provider": row.provider})
            why = str(e)
            await self.in_db(lambda s: self._unrefunded(s, row, was, why))
            return Closed(order_id=row.order_id, state=was, refunded=False)
        if not refund.refunded:
            await self.in_db(lambda s: self._unrefunded(s, row, was, "the gateway did not refund"))
            return Closed(order_id=row.order_id, state=was, refunded=False)
        await self.in_db(lambda s: self._refunded(s, row, status, refund.refund_ref))
        return Closed(order_id=row.order_id, state=OrderState.REFUNDED, refunded=True)

    @staticmethod
    def _claim(session: Session, closing: Closing, me: str) -> tuple[db.PaymentOrder, OrderState] | None:
        """Close the order if open, then claim its refund: (the row, its closed state), or None when it is paid,
        refunded, or another workflow's refund is under way."""
        now = db.utcnow()
        session.execute(update(db.PaymentOrder).where(
            db.PaymentOrder.order_id == closing.order_id, db.PaymentOrder.state == OrderState.OPEN.value,
        ).values(state=closing.state.value, closed_at=now))
        row = session.get(db.PaymentOrder, closing.order_id)
        if row is None:
            return None
        was = OrderState(row.state)
        if was is OrderState.REFUNDING and row.refund_claim == me:  # this workflow's retry
            expired = row.closed_at is None or row.closed_at >= row.expires_at
            return row, OrderState.EXPIRED if expired else OrderState.CANCELLED
        if was not in (OrderState.EXPIRED, OrderState.CANCELLED):
            return None
        won = rowcount(session, update(db.PaymentOrder).where(
            db.PaymentOrder.order_id == row.order_id, db.PaymentOrder.state == was.value,
        ).values(state=OrderState.REFUNDING.value, refund_claim=me))
        return (row, was) if won else None

    @staticmethod
    def _release(session: Session, row: db.PaymentOrder, was: OrderState) -> None:
        session.execute(update(db.PaymentOrder).where(db.PaymentOrder.order_id == row.order_id)
                        .values(state=was.value, refund_claim=None))

    @staticmethod
    def _unrefunded(session: Session, row: db.PaymentOrder, was: OrderState, why: str) -> None:
        """A late payment the gateway would not refund: on record for the union to refund by hand."""
        Payments._release(session, row, was)
        audit.record(session, union=row.union_slug, **GATEWAY, action="payment.refund_needed",
                     target=row.application_id, detail={"order_id": row.order_id, "provider": row.provider,
                                                        "why": why[:200]})

    @staticmethod
    def _refunded(session: Session, row: db.PaymentOrder, status: GatewayStatus, refund_ref: str | None) -> None:
        session.execute(update(db.PaymentOrder).where(db.PaymentOrder.order_id == row.order_id).values(
            state=OrderState.REFUNDED.value, refund_ref=refund_ref, refunded_at=db.utcnow(),
            transaction_id=status.transaction_id))
        audit.record(session, union=row.union_slug, **GATEWAY, action="payment.refunded", target=row.application_id,
                     detail={"order_id": row.order_id, "provider": row.provider, "refund_ref": refund_ref,
                             "amount": str(status.amount), "transaction_id": status.transaction_id})

    @activity.defn(name="Payments.read_notification")
    async def read_notification(self, ref: NotificationRef) -> NotificationRead:
        """Which order a stored notification names, read with its provider's adapter, and what follows from the
        order's state; the outcome is written on the notification's row."""
        row = await self.in_db(lambda s: s.get(db.PaymentNotification, ref.id))
        if row is None:
            raise ApplicationError(f"no notification {ref.id}", type="NoNotification", non_retryable=True)
        try:
            headers = {k.lower(): str(v) for k, v in row.headers.items()}
            notification = self.gateway(ref.provider).parse_notification(
                row.method, dict(parse_qsl(row.query)), headers, row.body)
        except (ValueError, LookupError, TypeError, AttributeError, RecursionError) as e:  # BadNotification, or an
            if not isinstance(e, BadNotification):  # adapter tripping on a hostile body: unreadable either way
                log.warning("notification unreadable", extra={"provider": ref.provider, "error": type(e).__name__})
            unreadable = NotificationRead(outcome=NoticeOutcome.UNREADABLE)
            return await self.in_db(lambda s: self._outcome(s, ref.id, unreadable))
        return await self.in_db(lambda s: self._classify(s, ref, notification.order_id, notification.provider_ref))

    @staticmethod
    def _classify(session: Session, ref: NotificationRef, order_id: str, provider_ref: str | None) -> NotificationRead:
        order = session.get(db.PaymentOrder, order_id)
        if order is None:
            outcome = NoticeOutcome.UNKNOWN_ORDER
        elif order.provider != ref.provider:
            outcome = NoticeOutcome.WRONG_PROVIDER
        elif order.state == OrderState.OPEN.value:
            outcome = NoticeOutcome.NUDGED
        elif order.state == OrderState.PAID.value:
            outcome = NoticeOutcome.SETTLED
        else:
            outcome = NoticeOutcome.LATE
        known = order is not None and outcome is not NoticeOutcome.WRONG_PROVIDER
        read = NotificationRead(outcome=outcome, order_id=order_id if known else None,
                                application_id=order.application_id if known and order else None)
        named = dict(order_id=order_id[:60], provider_ref=(provider_ref or "")[:200] or None)
        session.execute(update(db.PaymentNotification).where(db.PaymentNotification.id == ref.id).values(**named))
        first = session.get(db.PaymentNotification, ref.id)
        assert first is not None
        notices = db.PaymentNotification
        session.execute(update(notices).where(  # its repeats stored meanwhile (the API names those that come later)
            notices.order_id.is_(None), notices.outcome == NoticeOutcome.DUPLICATE.value,
            notices.provider == first.provider, notices.kind == first.kind, notices.method == first.method,
            notices.query == first.query, notices.body == first.body).values(**named))
        return Payments._outcome(session, ref.id, read)

    @staticmethod
    def _outcome(session: Session, notification_id: int, read: NotificationRead) -> NotificationRead:
        session.execute(update(db.PaymentNotification).where(db.PaymentNotification.id == notification_id)
                        .values(outcome=read.outcome.value))
        return read


def ref(row: db.PaymentOrder) -> PaymentOrderRef:
    return PaymentOrderRef(order_id=row.order_id, provider=row.provider, provider_ref=row.provider_ref,
                           redirect_url=row.redirect_url, expires_at=row.expires_at)


def rowcount(session: Session, statement: Update) -> int:
    """The rows an UPDATE changed: 1 when this caller won the state change."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount
