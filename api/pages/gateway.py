"""A stand-in for the payment gateway, for demos in dev mode only.

It sends what the real gateway sends when a citizen has paid: the JSON body of `POST /api/v1/payments/callback`,
signed with the gateway's secret (`X-Signature`, HMAC-SHA256 of the raw body). It posts it to this very app, in
process, so a simulated payment goes through the same route, signature check, payment record and workflow update as
a real one. Its transaction ID is one per application, so a second click (or a page sent again) repeats the same
callback, which the callback takes as harmless.
"""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from api.errors import ApiError
from sonod.security import hmac_sha256_hex
from sonod.settings import Settings

CALLBACK = "/api/v1/payments/callback"


def transaction_id(application_id: str) -> str:
    return f"SIM-{application_id}"


def signed_callback(settings: Settings, application_id: str, amount: int) -> tuple[bytes, dict[str, str]]:
    """The gateway's raw body and headers for a payment of `amount` taka."""
    body = json.dumps({"application_id": application_id, "amount": amount, "currency": "BDT",
                       "transaction_id": transaction_id(application_id)}).encode()
    return body, {"Content-Type": "application/json", "X-Signature": hmac_sha256_hex(settings.payment_secret, body)}


async def pay(app: FastAPI, settings: Settings, application_id: str, amount: int) -> tuple[int, ApiError | None]:
    """Post the signed callback; its HTTP status, and what it refused with (the field's problem for a 422), with the
    refusal's code for the page to word."""
    body, headers = signed_callback(settings, application_id, amount)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.invalid",
                                 timeout=60) as http:
        answer = await http.post(CALLBACK, content=body, headers=headers)
    if answer.status_code == 200:
        return 200, None
    try:
        said = answer.json()
    except ValueError:
        said = {"detail": answer.text[:300]}
    detail = said.get("detail")
    if isinstance(detail, list) and detail:
        detail = detail[0].get("msg")
    return answer.status_code, ApiError(str(detail), said.get("code"), said.get("params"))
