"""What the worker, the API and the SMS simulator agree on: who may post delivery reports, and what they say."""

from __future__ import annotations

import base64
import hashlib
import hmac

# provider -> the report's fields holding the message's reference (what the adapter recorded) and its status
DLR_FIELDS = {"sslwireless": ("csms_id", "status"), "bulksmsbd": ("message_id", "status"), "http": ("ref", "status")}
DELIVERED = frozenset({"delivered", "delivrd", "success"})
UNDELIVERED = frozenset({"undelivered", "undeliv", "failed", "rejected", "rejectd", "expired"})


def dlr_token(secret: str, provider: str) -> str:
    """The `token` of the delivery-report URL registered with `provider`: one per provider, from one secret."""
    digest = hmac.new(secret.encode(), f"sonod-sms-dlr:{provider}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def dlr_url(public_url: str, secret: str, provider: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/sms/{provider}/dlr?token={dlr_token(secret, provider)}"


def dlr_status(raw: object) -> str | None:
    """delivered, undelivered, or None for a status that is neither."""
    word = str(raw).strip().casefold()
    return "delivered" if word in DELIVERED else "undelivered" if word in UNDELIVERED else None
