"""Payments: the gateway's signed callback, recorded, and the fee passed to the application's workflow."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.errors import Conflict, Invalid, Unauthorized
from api.schemas import DecisionOut, PaymentCallback
from api.services.applications import load_application, run_update
from api.services.transaction import commit_early
from sonod import audit, db
from sonod.db import upsert
from sonod.security import hmac_sha256_hex, same_signature
from sonod.settings import Settings
from workflows.application import CertificateApplication
from workflows.messages import PaymentIn

HEX_DIGEST = re.compile(r"\s*[0-9A-Fa-f]{64}\s*")
GATEWAY = dict(actor="payment-gateway", role="gateway")


def _hex_digest(signature: str | None) -> TypeGuard[str]:
    """A signature that can be compared at all: 64 hex digits (any other header, of any length or script, is a bad
    signature, 401)."""
    return signature is not None and HEX_DIGEST.fullmatch(signature) is not None


def verified_callback(settings: Settings, raw: bytes, signature: str | None) -> PaymentCallback:
    """The callback's body, once its X-Signature (HMAC-SHA256 of the raw body) is the gateway's; else 401, and 422
    for a signed body that is not a callback."""
    if not _hex_digest(signature) or not same_signature(hmac_sha256_hex(settings.payment_secret, raw), signature):
        raise Unauthorized("bad or missing X-Signature")
    try:
        return PaymentCallback.model_validate(json.loads(raw))
    except (ValueError, ValidationError, RecursionError) as e:
        problem = "the body is nested too deeply" if isinstance(e, RecursionError) else "the body is not JSON"
        first: Mapping[str, Any] = e.errors()[0] if isinstance(e, ValidationError) else {"loc": [], "msg": problem}
        raise Invalid(["body", *first["loc"]], first["msg"]) from None


async def receive(session: Session, settings: Settings, temporal: Client, raw: bytes,
                  signature: str | None) -> DecisionOut:
    """The gateway confirms a fee: the payment is recorded, then passed to the workflow, which checks the amount and
    the status. A repeated callback, or a second payment of a paid fee, changes nothing."""
    body = verified_callback(settings, raw, signature)
    row = await run_in_threadpool(load_application, session, body.application_id)
    await run_in_threadpool(_record, session, body, row.union_slug)
    try:
        view = await run_update(session, temporal, body.application_id, CertificateApplication.pay,
                                PaymentIn(transaction_id=body.transaction_id, amount=body.amount,
                                          currency=body.currency),
                                f"pay:{body.transaction_id}")
    except Conflict as e:
        await run_in_threadpool(session.refresh, row)
        if row.fee_paid:  # a repeated callback, or a second payment of a paid fee: nothing to do
            return DecisionOut(application_id=row.id, status=row.status)
        await run_in_threadpool(_refused, session, body, row.union_slug, e.detail)
        raise
    except Invalid as e:
        await run_in_threadpool(_refused, session, body, row.union_slug, e.detail)
        raise
    return DecisionOut(application_id=body.application_id, status=view.status)


def _record(session: Session, body: PaymentCallback, union: str) -> None:
    """The payment, and its audit entry the first time this transaction is seen, in one transaction (which
    `run_update` commits before it waits on the workflow)."""
    added = upsert(session, db.Payment, dict(transaction_id=body.transaction_id, application_id=body.application_id,
                                             amount=body.amount, currency=body.currency, received_at=db.utcnow()),
                   ["transaction_id"]).rowcount
    if added:
        audit.record(session, union=union, **GATEWAY, action="payment.received", target=body.application_id,
                     detail={"transaction_id": body.transaction_id, "amount": body.amount, "currency": body.currency})


def _refused(session: Session, body: PaymentCallback, union: str, reason: str) -> None:
    """A signed callback that the application refused (a wrong amount, not awaiting payment): on record, though the
    refusal is raised."""
    audit.record(session, union=union, **GATEWAY, action="payment.refused", target=body.application_id,
                 detail={"transaction_id": body.transaction_id, "amount": body.amount, "currency": body.currency,
                         "reason": reason[:200]})
    commit_early(session)
