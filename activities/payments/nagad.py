"""Nagad hosted checkout: initialize and complete with RSA-sealed `sensitiveData`, then verify the payment.

`sensitiveData` is JSON encrypted to the gateway's public key (RSA PKCS#1 v1.5) and `signature` is the merchant
key's SHA256withRSA signature of that JSON, as Nagad's own integration samples do; answers come back the same
way, sealed to us and signed by the gateway, and a bad seal is refused. Our order_id is Nagad's `orderId`;
`provider_ref` is its `paymentReferenceId`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
from activities.payments.transport import brief, call, decimal, notification, taka
from sonod.bengali import DHAKA

if TYPE_CHECKING:
    from sonod.settings import Settings

BDT = "050"  # ISO 4217 numeric
STATES: dict[str, PaymentState] = {"Success": "paid", "Aborted": "cancelled", "Cancelled": "cancelled",
                                   "Failed": "failed", "Refunded": "refunded"}


class Seal:
    """Encrypts to one key and signs with another; opens what the other side sealed the same way."""

    def __init__(self, own: rsa.RSAPrivateKey, peer: rsa.RSAPublicKey) -> None:
        self.own, self.peer = own, peer

    def close(self, data: dict[str, Any]) -> dict[str, str]:
        plain = json.dumps(data, separators=(",", ":")).encode()
        return {"sensitiveData": base64.b64encode(self.peer.encrypt(plain, padding.PKCS1v15())).decode(),
                "signature": base64.b64encode(self.own.sign(plain, padding.PKCS1v15(), hashes.SHA256())).decode()}

    def open(self, sealed: Mapping[str, Any]) -> dict[str, Any]:
        """The plain JSON object; ValueError when it is not sealed to us or not signed by the peer."""
        try:
            plain = self.own.decrypt(base64.b64decode(str(sealed["sensitiveData"])), padding.PKCS1v15())
            self.peer.verify(base64.b64decode(str(sealed["signature"])), plain, padding.PKCS1v15(), hashes.SHA256())
            data = json.loads(plain)
        except (KeyError, ValueError, binascii.Error, InvalidSignature) as e:
            raise ValueError(f"not sealed to us by the peer ({type(e).__name__})") from None
        if not isinstance(data, dict):
            raise ValueError("the sealed data is not a JSON object")
        return data


def private_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} holds no RSA private key")
    return key


def public_key(path: Path) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{path} holds no RSA public key")
    return key


class Nagad:
    name: Provider = "nagad"

    def __init__(self, http: httpx.AsyncClient, base_url: str, merchant_id: str, merchant_number: str,
                 seal: Seal) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self.merchant_id, self.merchant_number, self.seal = merchant_id, merchant_number, seal
        self.headers = {"X-KM-Api-Version": "v-0.2.0", "X-KM-Client-Type": "PC_WEB", "X-KM-IP-V4": "127.0.0.1"}

    async def post(self, path: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
        return await call(self.http, self.name, "POST", f"{self.base_url}/{path}", json=body, headers=self.headers,
                          params=params)

    def opened(self, answer: dict[str, Any], step: str) -> dict[str, Any]:
        if "sensitiveData" not in answer:
            raise GatewayRefused(f"nagad refused the {step}: {brief(answer)}")
        try:
            return self.seal.open(answer)
        except ValueError as e:
            raise GatewayRefused(f"nagad's answer to the {step} is {e}") from None

    async def create(self, order: PaymentOrder) -> CreatedPayment:
        now = dt.datetime.now(DHAKA).strftime("%Y%m%d%H%M%S")
        started = self.opened(await self.post(
            f"check-out/initialize/{self.merchant_id}/{order.order_id}",
            {"accountNumber": self.merchant_number, "dateTime": now,
             **self.seal.close({"merchantId": self.merchant_id, "datetime": now, "orderId": order.order_id,
                                "challenge": secrets.token_hex(20)})}), "initialize")
        reference, challenge = started.get("paymentReferenceId"), started.get("challenge")
        if not isinstance(reference, str) or not reference or not isinstance(challenge, str):
            raise GatewayRefused("nagad's initialize gave no paymentReferenceId and challenge")
        completed = await self.post(f"check-out/complete/{reference}", {
            **self.seal.close({"merchantId": self.merchant_id, "orderId": order.order_id, "currencyCode": BDT,
                               "amount": taka(order.amount), "challenge": challenge}),
            "merchantCallbackURL": order.return_url,
            "additionalMerchantInfo": {"application": order.application_id, "union": order.union},
        })
        url = completed.get("callBackUrl")
        if completed.get("status") != "Success" or not isinstance(url, str):
            raise GatewayRefused(f"nagad did not complete the checkout: {brief(completed)}")
        return CreatedPayment(provider="nagad", order_id=order.order_id, provider_ref=reference, redirect_url=url)

    async def status(self, order_id: str, provider_ref: str) -> GatewayStatus:
        url = f"{self.base_url}/verify/payment/{quote(provider_ref, safe='')}"
        answer = await call(self.http, self.name, "GET", url, headers=self.headers)
        if answer.get("orderId") != order_id:
            raise GatewayRefused(f"nagad's payment {provider_ref} is not for order {order_id}: {brief(answer)}")
        return GatewayStatus(
            provider="nagad", order_id=order_id, provider_ref=provider_ref,
            state=STATES.get(str(answer.get("status")), "pending"),
            amount=decimal(answer.get("amount"), self.name), currency="BDT",
            merchant_ok=answer.get("merchantId") == self.merchant_id,
            transaction_id=answer.get("issuerPaymentRefNo") or None, raw=answer,
        )

    def parse_notification(self, method: str, query: Mapping[str, str], headers: Mapping[str, str],
                           body: bytes) -> Notification:
        """The payer's return: ?merchant=...&order_id=...&payment_ref_id=...&status=..."""
        return notification(self.name, query.get("order_id"), query.get("payment_ref_id"))

    async def refund(self, status: GatewayStatus, amount: int, reason: str) -> Refund:
        """purchase/cancel with a sealed request; referenceNo, one per order, makes a retry the same refund."""
        paid_on = str(status.raw.get("issuerPaymentDateTime") or status.raw.get("orderDateTime") or "")[:8]
        answer = await self.post("purchase/cancel", paymentRefId=status.provider_ref, body=self.seal.close({
            "merchantId": self.merchant_id, "originalRequestDate": paid_on, "originalAmount": taka(status.amount),
            "cancelAmount": taka(amount), "referenceNo": f"{status.order_id}-R", "referenceMessage": reason[:100]}))
        result = self.opened(answer, "refund")
        done = result.get("cancelStatus") == "Success"
        return Refund(provider="nagad", order_id=status.order_id, refunded=done,
                      refund_ref=result.get("cancelTrxId") or None, raw=result)


def adapter(settings: Settings, http: httpx.AsyncClient) -> Nagad:
    from sonod.settings import ROOT

    seal = Seal(private_key(ROOT / settings.nagad_merchant_key_file),
                public_key(ROOT / settings.nagad_gateway_public_key_file))
    return Nagad(http, settings.gateway_url("nagad"), settings.nagad_merchant_id, settings.nagad_merchant_number,
                 seal)
