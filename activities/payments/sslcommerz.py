"""SSLCommerz v4: a session per tran_id; an IPN is never believed: the transaction query by tran_id finds the
payment, and the order validation API (val_id) confirms it. A risky payment (risk_level 1) is held.

Our order_id is SSLCommerz's `tran_id`; `provider_ref` is its `sessionkey`; the bank's `bank_tran_id` is the
transaction_id that refunds name.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from activities.payments.gateway import (
    CreatedPayment,
    GatewayRefused,
    GatewayStatus,
    Notification,
    PaymentOrder,
    PaymentState,
    Provider,
    Refund,
)
from activities.payments.transport import brief, call, decimal, form_or_json, notification, taka

if TYPE_CHECKING:
    from sonod.settings import Settings

VALID = ("VALID", "VALIDATED")
STATES: dict[str, PaymentState] = {"FAILED": "failed", "CANCELLED": "cancelled", "EXPIRED": "failed",
                                   "UNATTEMPTED": "pending", "PENDING": "pending"}


class SslCommerz:
    name: Provider = "sslcommerz"

    def __init__(self, http: httpx.AsyncClient, base_url: str, store_id: str, store_password: str) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self.store_id, self.store_password = store_id, store_password

    @property
    def credentials(self) -> dict[str, str]:
        return {"store_id": self.store_id, "store_passwd": self.store_password}

    async def create(self, order: PaymentOrder) -> CreatedPayment:
        form = {
            **self.credentials, "total_amount": taka(order.amount), "currency": order.currency,
            "tran_id": order.order_id, "success_url": order.return_url, "fail_url": order.return_url,
            "cancel_url": order.return_url, "ipn_url": order.ipn_url,
            "cus_name": f"Applicant {order.application_id}", "cus_email": "noreply@sonod.invalid",
            "cus_add1": order.union, "cus_city": order.union, "cus_country": "Bangladesh",
            "cus_phone": order.customer_mobile or "01000000000", "shipping_method": "NO", "num_of_item": "1",
            "product_name": "Union Parishad certificate fee", "product_category": "Government fee",
            "product_profile": "non-physical-goods", "value_a": order.application_id, "value_b": order.union,
        }
        answer = await call(self.http, self.name, "POST", f"{self.base_url}/gwprocess/v4/api.php", data=form)
        session, url = answer.get("sessionkey"), answer.get("GatewayPageURL")
        if answer.get("status") != "SUCCESS" or not isinstance(session, str) or not isinstance(url, str):
            raise GatewayRefused(f"sslcommerz opened no session: {brief(answer)}")
        return CreatedPayment(provider="sslcommerz", order_id=order.order_id, provider_ref=session, redirect_url=url)

    async def status(self, order_id: str, provider_ref: str) -> GatewayStatus:
        found = await self.validator("merchantTransIDvalidationAPI.php", tran_id=order_id)
        if found.get("APIConnect") != "DONE":
            raise GatewayRefused(f"sslcommerz refused the transaction query: {brief(found)}")
        elements = [e for e in found.get("element") or [] if isinstance(e, dict) and e.get("tran_id") == order_id]
        paid = next((e for e in elements if e.get("status") in VALID and e.get("val_id")), None)
        if paid is not None:
            return await self.validated(order_id, provider_ref, str(paid["val_id"]))
        latest = elements[0] if elements else {}
        return GatewayStatus(
            provider="sslcommerz", order_id=order_id, provider_ref=provider_ref,
            state=STATES.get(str(latest.get("status")), "pending"),
            amount=decimal(latest.get("amount", 0), self.name), currency=str(latest.get("currency") or "BDT"),
            merchant_ok=True, transaction_id=latest.get("bank_tran_id") or None, raw=found,
        )

    async def validated(self, order_id: str, provider_ref: str, val_id: str) -> GatewayStatus:
        """The order validation API's word on one payment: paid, held when risky, else still pending."""
        answer = await self.validator("validationserverAPI.php", val_id=val_id, v="1")
        valid = answer.get("status") in VALID and answer.get("tran_id") == order_id
        state: PaymentState = ("held" if str(answer.get("risk_level")) != "0" else "paid") if valid else "pending"
        return GatewayStatus(
            provider="sslcommerz", order_id=order_id, provider_ref=provider_ref, state=state,
            amount=decimal(answer.get("amount"), self.name) if valid else Decimal(0),
            currency=str(answer.get("currency") or "BDT"),
            merchant_ok=valid and answer.get("store_id", self.store_id) == self.store_id,
            transaction_id=answer.get("bank_tran_id") or None, raw=answer,
        )

    async def validator(self, api: str, **params: str) -> dict[str, Any]:
        return await call(self.http, self.name, "GET", f"{self.base_url}/validator/api/{api}",
                          params={**params, **self.credentials, "format": "json"})

    def parse_notification(self, method: str, query: Mapping[str, str], headers: Mapping[str, str],
                           body: bytes) -> Notification:
        """The IPN or the payer's return: a form with tran_id (val_id is not believed, nor needed)."""
        fields: Mapping[str, Any] = form_or_json(headers, body) if method.upper() == "POST" and body else query
        return notification(self.name, fields.get("tran_id"))

    async def refund(self, status: GatewayStatus, amount: int, reason: str) -> Refund:
        """refund_trans_id, one per order, lets SSLCommerz answer a retried refund with the same refund."""
        answer = await self.validator(
            "merchantTransIDvalidationAPI.php", bank_tran_id=status.transaction_id or "",
            refund_trans_id=f"{status.order_id}-R", refund_amount=taka(amount), refund_remarks=reason[:255],
            refe_id=status.order_id, v="1")
        done = answer.get("APIConnect") == "DONE" and answer.get("status") == "success"
        return Refund(provider="sslcommerz", order_id=status.order_id, refunded=done,
                      refund_ref=answer.get("refund_ref_id") or None, raw=answer)


def adapter(settings: Settings, http: httpx.AsyncClient) -> SslCommerz:
    return SslCommerz(http, settings.gateway_url("sslcommerz"), settings.sslcommerz_store_id,
                      settings.sslcommerz_store_password)
