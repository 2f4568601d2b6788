"""What every payment gateway adapter offers (ekPay, bKash, SSLCommerz, Nagad) and how to pick one.

A notification (IPN, the payer's return) is untrusted: it only says which order to ask about. `status` is the
only authority; a payment counts when `GatewayStatus.settles(order)` is true.
"""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import Field, StringConstraints

from workflows.messages import Model

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from sonod.settings import Settings

Provider = Literal["ekpay", "bkash", "sslcommerz", "nagad"]
PROVIDERS: tuple[Provider, ...] = ("ekpay", "bkash", "sslcommerz", "nagad")
PaymentState = Literal["paid", "pending", "failed", "cancelled", "refunded", "held"]
# bKash's return does not name our order: return_url carries it as ?order_id=<order_id> (the others' may too)
ORDER_PARAM = "order_id"
# Ours, unique per attempt ("<application_no>-P<attempt>"): the gateway's merchant invoice / tran_id / ord_id.
# Letters, digits and '-' only, at most 30 characters: the narrowest of the four gateways' fields.
OrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,29}$")]


class PaymentOrder(Model):
    order_id: OrderId
    application_id: str
    union: str
    amount: int = Field(gt=0, description="whole taka, as workflows.messages.Fee.amount")
    currency: Literal["BDT"] = "BDT"
    customer_mobile: str | None = None
    return_url: str
    ipn_url: str
    expires_at: dt.datetime


class CreatedPayment(Model):
    provider: Provider
    order_id: OrderId
    provider_ref: str = Field(description="opaque: keep it and pass it back to status()")
    redirect_url: str = Field(description="where to send the payer's browser")


class Notification(Model):
    """Parsed from an untrusted IPN or return: it only names the order to ask the gateway about."""

    provider: Provider
    order_id: OrderId
    provider_ref: str | None = None


class GatewayStatus(Model):
    provider: Provider
    order_id: OrderId
    provider_ref: str
    state: PaymentState
    amount: Decimal = Field(description="as the gateway reports it; compares equal to an int amount")
    currency: str
    merchant_ok: bool = Field(description="the gateway says the payment is to our merchant account")
    transaction_id: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    def settles(self, order: PaymentOrder) -> bool:
        """Paid, to us, for this order, in full: the one test before an application leaves awaiting_payment."""
        return (self.state == "paid" and self.merchant_ok and self.order_id == order.order_id
                and self.amount == order.amount and self.currency == order.currency)


class Refund(Model):
    provider: Provider
    order_id: OrderId
    refunded: bool
    refund_ref: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class GatewayError(RuntimeError):
    """The gateway did not answer usefully (timeout, 5xx, garbage): transient, retry later."""


class GatewayRefused(RuntimeError):
    """The gateway answered and said no (bad credentials, bad request, unknown order): retrying will not help."""


class BadNotification(ValueError):
    """A notification that names no order of ours in the provider's shape: answer 400, ask nothing."""


@runtime_checkable
class Gateway(Protocol):
    name: Provider

    async def create(self, order: PaymentOrder) -> CreatedPayment:
        """Open a payment session for the order. A retry may open a second session for the same order_id (ekPay
        answers the same token); only the session returned is shown to the payer, and status() checks the order."""
        ...

    async def status(self, order_id: str, provider_ref: str) -> GatewayStatus:
        """Ask the gateway (the only authority); for bKash and Nagad this also completes a payment the payer
        approved (execute / verify), which the gateway makes idempotent."""
        ...

    def parse_notification(self, method: str, query: Mapping[str, str], headers: Mapping[str, str],
                           body: bytes) -> Notification:
        """Raises BadNotification; never calls the gateway."""
        ...

    async def refund(self, status: GatewayStatus, amount: int, reason: str) -> Refund: ...


def gateway_for(provider: str, settings: Settings, http: httpx.AsyncClient) -> Gateway:
    """The adapter for `provider` with its credentials from settings; `http` carries the timeouts.

    Each provider's module, activities/payments/<provider>.py, has `adapter(settings, http) -> Gateway`.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown payment provider {provider!r}; one of {', '.join(PROVIDERS)}")
    module = importlib.import_module(f"activities.payments.{provider}")
    gateway: Gateway = module.adapter(settings, http)
    return gateway
