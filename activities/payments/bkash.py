"""bKash tokenized checkout (v1.2.0-beta): grant a token, create, the payer approves, execute, query, refund.

Our order_id is bKash's `merchantInvoiceNumber`; `provider_ref` is its `paymentID`. The payer's return
(`?paymentID=...&status=...`) names no invoice, so return_url carries `?order_id=`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from activities.payments.gateway import (
    ORDER_PARAM,
    CreatedPayment,
    GatewayRefused,
    GatewayStatus,
    Notification,
    PaymentOrder,
    PaymentState,
    Provider,
    Refund,
)
from activities.payments.transport import Unauthorized, brief, call, decimal, notification, taka

if TYPE_CHECKING:
    from sonod.settings import Settings

OK = "0000"
ALREADY_EXECUTED = "2117"
STATES: dict[str, PaymentState] = {"Completed": "paid", "Initiated": "pending", "Inprogress": "pending",
                                   "Cancelled": "cancelled", "Failed": "failed", "Expired": "failed"}


class BKash:
    name: Provider = "bkash"

    def __init__(self, http: httpx.AsyncClient, base_url: str, username: str, password: str, app_key: str,
                 app_secret: str) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self.username, self.password, self.app_key, self.app_secret = username, password, app_key, app_secret
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()

    async def token(self, *, renew: bool = False) -> str:
        """The id_token, granted once and kept until a minute before it expires."""
        async with self._token_lock:
            if self._token and not renew and time.monotonic() < self._token_until:
                return self._token
            answer = await call(self.http, self.name, "POST", f"{self.base_url}/token/grant",
                                headers={"username": self.username, "password": self.password},
                                json={"app_key": self.app_key, "app_secret": self.app_secret})
            token = answer.get("id_token")
            if answer.get("statusCode", OK) != OK or not isinstance(token, str) or not token:
                raise GatewayRefused(f"bkash granted no token: {brief(answer)}")
            self._token = token
            self._token_until = time.monotonic() + max(0, int(answer.get("expires_in") or 3600) - 60)
            return token

    async def api(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for renew in (False, True):
            headers = {"Authorization": await self.token(renew=renew), "X-APP-Key": self.app_key}
            try:
                return await call(self.http, self.name, "POST", f"{self.base_url}/{path}", json=body,
                                  headers=headers)
            except Unauthorized:
                if renew:
                    raise
        raise AssertionError("unreachable")

    async def create(self, order: PaymentOrder) -> CreatedPayment:
        answer = await self.api("create", {
            "mode": "0011", "payerReference": order.customer_mobile or order.application_id,
            "callbackURL": order.return_url, "amount": taka(order.amount), "currency": order.currency,
            "intent": "sale", "merchantInvoiceNumber": order.order_id,
        })
        payment_id, url = answer.get("paymentID"), answer.get("bkashURL")
        if answer.get("statusCode") != OK or not isinstance(payment_id, str) or not isinstance(url, str):
            raise GatewayRefused(f"bkash created no payment: {brief(answer)}")
        return CreatedPayment(provider="bkash", order_id=order.order_id, provider_ref=payment_id, redirect_url=url)

    async def status(self, order_id: str, provider_ref: str) -> GatewayStatus:
        """Queries the payment and, when the payer approved it but it is not executed yet, executes it."""
        answer = await self.query(order_id, provider_ref)
        if answer.get("transactionStatus") == "Initiated":
            executed = await self.api("execute", {"paymentID": provider_ref})
            if executed.get("statusCode") == OK:
                answer = self.checked(executed, order_id)
            elif executed.get("statusCode") == ALREADY_EXECUTED:
                answer = await self.query(order_id, provider_ref)
        state = STATES.get(str(answer.get("transactionStatus")), "pending")
        amount = decimal(answer.get("amount"), self.name)
        if state == "paid" and answer.get("trxID") and await self.refunded(provider_ref, answer["trxID"], amount):
            state = "refunded"
        return GatewayStatus(
            provider="bkash", order_id=order_id, provider_ref=provider_ref, state=state,
            amount=amount, currency=str(answer.get("currency") or ""),
            merchant_ok=True,  # bKash answers about our own payments only, under our app key
            transaction_id=answer.get("trxID") or None, raw=answer,
        )

    async def refunded(self, payment_id: str, trx_id: str, amount: Decimal) -> bool:
        """The refund status call (payment/refund without an amount): refunded in full?"""
        answer = await self.api("payment/refund", {"paymentID": payment_id, "trxID": trx_id})
        return (answer.get("statusCode") == OK and answer.get("transactionStatus") == "Completed"
                and decimal(answer.get("amount"), self.name) >= amount)

    async def query(self, order_id: str, payment_id: str) -> dict[str, Any]:
        return self.checked(await self.api("payment/status", {"paymentID": payment_id}), order_id)

    @staticmethod
    def checked(answer: dict[str, Any], order_id: str) -> dict[str, Any]:
        if answer.get("statusCode") != OK:
            raise GatewayRefused(f"bkash knows no such payment of ours: {brief(answer)}")
        invoice = answer.get("merchantInvoiceNumber") or answer.get("merchantInvoice")
        if invoice != order_id:
            raise GatewayRefused(f"bkash's payment is for another invoice than {order_id}")
        return answer

    def parse_notification(self, method: str, query: Mapping[str, str], headers: Mapping[str, str],
                           body: bytes) -> Notification:
        return notification(self.name, query.get(ORDER_PARAM), query.get("paymentID"))

    async def refund(self, status: GatewayStatus, amount: int, reason: str) -> Refund:
        """Refunds; a retry of a refund already made finds it through the refund status call instead."""
        ids = {"paymentID": status.provider_ref, "trxID": status.transaction_id or ""}
        answer = await self.api("payment/refund", {**ids, "amount": taka(amount), "sku": status.order_id,
                                                   "reason": reason[:255] or "refund"})
        if answer.get("statusCode") != OK:
            earlier = await self.api("payment/refund", ids)
            if earlier.get("statusCode") == OK and decimal(earlier.get("amount"), self.name) == amount:
                answer = earlier
        done = answer.get("statusCode") == OK and answer.get("transactionStatus") == "Completed"
        return Refund(provider="bkash", order_id=status.order_id, refunded=done,
                      refund_ref=answer.get("refundTrxID") if done else None, raw=answer)


def adapter(settings: Settings, http: httpx.AsyncClient) -> BKash:
    return BKash(http, settings.gateway_url("bkash"), settings.bkash_username, settings.bkash_password,
                 settings.bkash_app_key, settings.bkash_app_secret)
