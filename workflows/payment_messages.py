"""The messages of a fee paid through a provider's gateway: `workflows/payment.py`'s orders and the gateways'
notifications (`activities/payments/orders.py`). The order as the status shows it, `PaymentOrderRef`, is in
workflows/messages.py."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from workflows.messages import Model


class OrderState(StrEnum):
    """A payment order's state in sonod (payment_orders.state): only the workflow's status query makes it paid."""

    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"  # closed unpaid at the fee's expiry
    CANCELLED = "cancelled"  # closed unpaid when the application was cancelled
    REFUNDING = "refunding"  # a late payment's refund call is under way
    REFUNDED = "refunded"

    @property
    def is_closed(self) -> bool:
        return self in (OrderState.EXPIRED, OrderState.CANCELLED, OrderState.REFUNDING, OrderState.REFUNDED)


class OrderRequest(Model):
    """The fee asked of the union's gateway: order `<application id>-P<attempt>`."""

    application_id: str
    union: str
    provider: str
    attempt: int = 1
    amount: int
    currency: str
    mobile: str | None = None
    expires_at: dt.datetime

    @property
    def order_id(self) -> str:
        return f"{self.application_id}-P{self.attempt}"


class Confirmation(Model):
    """What the gateway's status call said of an order, and whether it was recorded as this application's fee."""

    order_id: str
    state: str  # the gateway's: paid, pending, failed, cancelled, refunded, held
    paid: bool  # recorded as the fee: paid to our merchant, for this order, the fee's amount and currency
    transaction_id: str | None = None
    refused: str | None = None  # why a payment the gateway calls paid was not taken


class Closing(Model):
    order_id: str
    state: OrderState  # expired or cancelled; a late notification passes the order's own


class Closed(Model):
    order_id: str
    state: OrderState
    refunded: bool  # by this call


class PaymentNotice(Model):
    """The API's nudge: a notification named this order; the workflow asks the gateway."""

    order_id: str


class NoticeOutcome(StrEnum):
    RECEIVED = "received"  # stored, not yet read
    DUPLICATE = "duplicate"  # the same notification again: stored, and nobody told
    UNREADABLE = "unreadable"
    UNKNOWN_ORDER = "unknown_order"
    WRONG_PROVIDER = "wrong_provider"
    NUDGED = "nudged"  # the order is open: its application's workflow was told
    SETTLED = "settled"  # the order is already paid
    LATE = "late"  # the order was closed: a payment found is refunded


class NotificationRef(Model):
    id: int  # its payment_notifications row
    provider: str


class NotificationRead(Model):
    outcome: NoticeOutcome
    order_id: str | None = None
    application_id: str | None = None
    refunded: bool = False
