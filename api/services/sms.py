"""SMS: the providers' delivery reports recorded on the outbox, and the unions whose SMS balance is empty."""

from __future__ import annotations

import json
import secrets
import urllib.parse
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from api.errors import Invalid, NotFound, Unauthorized
from sonod import db
from sonod.settings import Settings
from sonod.sms import DLR_FIELDS, dlr_status, dlr_token

OUTBOX = db.OutboxMessage.__table__
MAX_REPORT_BYTES = 4096
REPORTED = ("sent", "delivered", "undelivered")  # a message a provider took: the only ones a report may touch


def check_token(settings: Settings, provider: str, token: str | None) -> None:
    if provider not in DLR_FIELDS:
        raise NotFound(f"no SMS provider {provider}")
    if not token or not secrets.compare_digest(token.encode(), dlr_token(settings.sms_dlr_secret, provider).encode()):
        raise Unauthorized("bad or missing delivery-report token")


def parse_report(provider: str, raw: bytes, content_type: str) -> tuple[str, str]:
    """The report's (reference, delivered | undelivered), from JSON or a form; 422 naming the field otherwise."""
    if len(raw) > MAX_REPORT_BYTES:
        raise Invalid(["body"], f"a delivery report is at most {MAX_REPORT_BYTES} bytes")
    body: Any
    try:
        body = json.loads(raw) if "json" in content_type else dict(urllib.parse.parse_qsl(raw.decode()))
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise Invalid(["body"], "a JSON object or a form")
    ref_field, status_field = DLR_FIELDS[provider]
    ref = body.get(ref_field)
    if not isinstance(ref, str | int) or isinstance(ref, bool) or not 0 < len(str(ref)) <= 100:
        raise Invalid(["body", ref_field], "the message's reference, 1 to 100 characters")
    status = dlr_status(body.get(status_field))
    if status is None:
        raise Invalid(["body", status_field], "a delivered or undelivered status")
    return str(ref), status


def record_report(session: Session, provider: str, ref: str, status: str) -> None:
    done = cast(CursorResult, session.execute(update(OUTBOX).where(
        OUTBOX.c.provider == provider, OUTBOX.c.provider_ref == ref, OUTBOX.c.channel == "sms",
        OUTBOX.c.status.in_(REPORTED)).values(status=status, dlr_status=status, dlr_at=db.utcnow())))
    if not done.rowcount:
        raise NotFound(f"no SMS sent through {provider} with that reference")


def empty_balances(session: Session, unions: Sequence[str]) -> list[str]:
    """Of these unions, those whose balance is spent or holds messages back (the dashboard's notice)."""
    held = select(OUTBOX.c.id).where(OUTBOX.c.union_slug == db.Union.slug, OUTBOX.c.status == "held").exists()
    return list(session.scalars(select(db.Union.slug).where(
        db.Union.slug.in_(unions), or_(db.Union.sms_balance <= 0, held)).order_by(db.Union.slug)))
