"""One call to a gateway, its failures sorted into transient (GatewayError) and final (GatewayRefused)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from pydantic import ValidationError

from activities.payments.gateway import BadNotification, GatewayError, GatewayRefused, Notification, Provider
from sonod.metrics import PAYMENT_GATEWAY_LATENCY

log = logging.getLogger(__name__)
REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,120}")  # bKash's paymentID, Nagad's payment_ref_id: no path, no query


class Unauthorized(GatewayRefused):
    """HTTP 401: a token to renew, or credentials to fix."""


async def call(http: httpx.AsyncClient, provider: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """The gateway's JSON object; timeouts, 5xx, 429 and garbage raise GatewayError, other 4xx GatewayRefused."""
    started, outcome = time.perf_counter(), "error"
    try:
        body = await answer(http, provider, method, url, **kwargs)
        outcome = "ok"
        return body
    except GatewayRefused:
        outcome = "refused"
        raise
    finally:
        PAYMENT_GATEWAY_LATENCY.labels(provider, outcome).observe(time.perf_counter() - started)


async def answer(http: httpx.AsyncClient, provider: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as e:
        log.warning("payment gateway unreachable", extra={"provider": provider, "error": type(e).__name__})
        raise GatewayError(f"{provider}: {type(e).__name__} calling {url}") from e
    if response.status_code >= 500 or response.status_code == 429:
        raise GatewayError(f"{provider} answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise GatewayError(f"{provider} answered HTTP {response.status_code} without JSON") from None
    if not isinstance(body, dict):
        raise GatewayError(f"{provider} answered a JSON {type(body).__name__}, not an object")
    if response.status_code == 401:
        raise Unauthorized(f"{provider} refused our credentials: {brief(body)}")
    if response.is_error:
        raise GatewayRefused(f"{provider} refused (HTTP {response.status_code}): {brief(body)}")
    return body


def brief(body: dict[str, Any]) -> str:
    """The gateway's own words about a refusal, without echoing the whole answer into a log."""
    keys = ("statusCode", "statusMessage", "errorCode", "errorMessage", "msg_code", "msg_det", "status",
            "failedreason", "errorReason", "reason", "message", "detail")
    return json.dumps({k: body[k] for k in keys if k in body}, ensure_ascii=False)[:300]


def taka(amount: int | Decimal) -> str:
    """An amount as the gateways write it: "100.00"."""
    return f"{Decimal(amount):.2f}"


def decimal(value: object, provider: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise GatewayError(f"{provider} answered an amount that is not a number: {str(value)[:20]!r}") from None


def form_or_json(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """An IPN body: a JSON object or a form; anything else is a BadNotification."""
    from urllib.parse import parse_qsl

    if len(body) > 64_000:
        raise BadNotification("the notification is too large")
    kind = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    try:
        if "json" in kind or body.lstrip()[:1] == b"{":
            value = json.loads(body)
            if not isinstance(value, dict):
                raise BadNotification("the notification is not a JSON object")
            return value
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError):
        raise BadNotification("the notification is neither JSON nor a form") from None


def notification(provider: Provider, order_id: object, provider_ref: object = None) -> Notification:
    """A Notification, or BadNotification when the order id is missing or not one of ours in shape."""
    if not isinstance(order_id, str) or not order_id:
        raise BadNotification(f"the {provider} notification names no order")
    provider_ref = provider_ref or None
    if provider_ref is not None and not (isinstance(provider_ref, str) and REFERENCE.fullmatch(provider_ref)):
        raise BadNotification(f"the {provider} notification's payment reference is not one in the gateway's shape")
    try:
        return Notification(provider=provider, order_id=order_id,
                            provider_ref=provider_ref)
    except ValidationError:
        raise BadNotification(f"the {provider} notification names no order of ours") from None
