"""The fee through the union's payment gateway, as a conversation.

The application's workflow opens an order at the gateway and publishes where the payer pays. Then it waits: for a
notification (the gateway's IPN, or the payer's return, which the API only passes on), or for its poll interval to
pass; either way it asks the gateway for the order's status, which alone can confirm a payment. At the fee's
expiry it asks one last time, closes the order and ends; a payment that the gateway confirms for a closed order
(after the expiry, after a cancellation) is refunded through the gateway's refund call.

Notifications reach the workflow through `PaymentNotification`, one workflow per distinct notification (its id is
the notification's digest, so that a repeated notification tells no one twice), which reads the untrusted
notification with the provider's adapter, then nudges the application or, for a closed order, refunds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from workflows.activities import Payments
    from workflows.messages import ApplicationInput, PaymentOrderRef
    from workflows.payment_messages import (
        Closing,
        Confirmation,
        NoticeOutcome,
        NotificationRead,
        NotificationRef,
        OrderRequest,
        OrderState,
        PaymentNotice,
    )
    from workflows.policies import PAYMENT_POLICY, STATUS_POLICY

PAYMENT_CONVERSATION = "payment-gateway-conversation"  # workflow.patched: histories before it took no gateway
NOTIFIED = "payment_notified"  # CertificateApplication's signal
ENDED_UNPAID = ("failed", "cancelled")  # the gateway's states of an order that can no longer be paid
MAX_ATTEMPTS = 10  # orders an application may open, one after another's failure
Wait = Callable[[Callable[[], bool], timedelta], Awaitable[bool]]  # the workflow's `wait`: True when it held


class Conversation:
    """One application's conversation with its union's payment gateway (state kept in the workflow)."""

    def __init__(self) -> None:
        self.order: PaymentOrderRef | None = None  # the open order, once the gateway has it
        self.order_id: str | None = None  # the last order asked for
        self.heard = 0  # notifications of the open order not yet followed by a status query

    def notified(self, notice: PaymentNotice) -> None:
        if self.order is not None and notice.order_id == self.order.order_id:
            self.heard += 1

    async def take(self, app: ApplicationInput, cancelled: Callable[[], bool], wait: Wait) -> Confirmation | None:
        """The fee, paid and recorded once; None when it expired or the application was cancelled first (the order
        is then closed, and a payment that came all the same refunded)."""
        expires_at, attempt = workflow.now() + app.timing.payment_expiry, 1
        opened = await self.open(app, attempt, expires_at, cancelled, wait)
        while True:
            if opened:
                left = expires_at - workflow.now()
                await wait(lambda: self.heard > 0 or cancelled(), min(app.timing.payment_poll, left))
            if cancelled():
                await self.close(OrderState.CANCELLED)
                return None
            expired = workflow.now() >= expires_at
            self.heard = 0
            confirmation = await self.confirm() if opened else None  # on a word, every poll, once at expiry
            if confirmation is not None and confirmation.paid:
                self.order = None
                return confirmation
            if expired:
                await self.close(OrderState.EXPIRED)
                return None
            if confirmation is not None and confirmation.state in ENDED_UNPAID and attempt < MAX_ATTEMPTS:
                await self.close(OrderState.CANCELLED)  # the payer cancelled, or the payment failed: pay anew
                attempt += 1
                opened = await self.open(app, attempt, expires_at, cancelled, wait)

    async def open(self, app: ApplicationInput, attempt: int, expires_at: datetime, cancelled: Callable[[], bool],
                   wait: Wait) -> bool:
        """Order `<application id>-P<attempt>` at the gateway, whose address the view then shows; False when the
        application was cancelled, or the fee expired, before the gateway answered (say, while it was down)."""
        request = OrderRequest(
            application_id=app.application_id, union=app.union.slug, provider=app.fee.provider, attempt=attempt,
            amount=app.fee.amount, currency=app.fee.currency, mobile=app.contact.mobile, expires_at=expires_at)
        self.order_id = request.order_id
        opening = asyncio.ensure_future(
            workflow.execute_activity_method(Payments.open, request, **PAYMENT_POLICY))
        await wait(lambda: opening.done() or cancelled(), expires_at - workflow.now())
        if not opening.done():
            opening.cancel()
            return False
        self.order = await opening
        return True

    async def confirm(self) -> Confirmation | None:
        """The gateway's word on the open order; None when it did not answer (asked again at the next turn)."""
        assert self.order is not None
        try:
            return await workflow.execute_activity_method(Payments.confirm, self.order, **STATUS_POLICY)
        except ActivityError:
            return None

    async def close(self, state: OrderState) -> None:
        """Close the last order (opened or not), refunding a payment the gateway took for it all the same."""
        assert self.order_id is not None
        self.order = None
        await workflow.execute_activity_method(Payments.close, Closing(order_id=self.order_id, state=state),
                                               **PAYMENT_POLICY)


def notification_id(provider: str, digest: str) -> str:
    """The workflow id of one distinct notification: the same notification again starts nothing."""
    return f"PN-{provider}-{digest[:40]}"


@workflow.defn
class PaymentNotification:
    """Read one stored notification; nudge its order's application, or refund a payment to a closed order."""

    @workflow.run
    async def run(self, ref: NotificationRef) -> NotificationRead:
        read = await workflow.execute_activity_method(Payments.read_notification, ref, **PAYMENT_POLICY)
        if read.outcome is NoticeOutcome.NUDGED:
            assert read.application_id is not None and read.order_id is not None
            try:
                await workflow.get_external_workflow_handle(read.application_id).signal(
                    NOTIFIED, PaymentNotice(order_id=read.order_id))
            except FailureError:  # the application ended as this order opened: closed now, a payment refunded
                closed = await workflow.execute_activity_method(
                    Payments.close, Closing(order_id=read.order_id, state=OrderState.CANCELLED), **PAYMENT_POLICY)
                read.refunded = closed.refunded
        elif read.outcome is NoticeOutcome.LATE:
            assert read.order_id is not None
            closed = await workflow.execute_activity_method(
                Payments.close, Closing(order_id=read.order_id, state=OrderState.EXPIRED), **PAYMENT_POLICY)
            read.refunded = closed.refunded
        return read
