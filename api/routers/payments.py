from __future__ import annotations

import json
import re

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from typing import Annotated

from api import services
from api.deps import DbSession, SettingsDep, TemporalClient
from api.errors import ApiError, Conflict, Invalid, Unauthorized
from api.schemas import DecisionOut, PaymentCallback
from sonod import audit, db
from sonod.db import upsert
from sonod.security import hmac_sha256_hex, same_signature
from workflows.application import CertificateApplication
from workflows.messages import PaymentIn

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])

HEX_DIGEST = re.compile(r"\s*[0-9A-Fa-f]{64}\s*")


def _hex_digest(signature: str | None) -> bool:
    """A signature that can be compared at all: 64 hex digits (any other header, of any length or script, is a bad
    signature, 401)."""
    return signature is not None and HEX_DIGEST.fullmatch(signature) is not None


@router.post("/callback")
async def callback(request: Request, session: DbSession, settings: SettingsDep, temporal: TemporalClient,
                   signature: Annotated[str | None, Header(alias="X-Signature")] = None) -> DecisionOut:
    """The payment gateway confirms a fee; signed with HMAC-SHA256 over the raw body."""
    raw = await request.body()
    if not _hex_digest(signature) or not same_signature(hmac_sha256_hex(settings.payment_secret, raw), signature):
        raise Unauthorized("bad or missing X-Signature")
    try:
        body = PaymentCallback.model_validate(json.loads(raw))
    except (ValueError, ValidationError, RecursionError) as e:
        problem = "the body is nested too deeply" if isinstance(e, RecursionError) else "the body is not JSON"
        errors = e.errors() if isinstance(e, ValidationError) else [{"loc": [], "msg": problem}]
        raise Invalid(["body", *errors[0]["loc"]], errors[0]["msg"]) from None
    row = await run_in_threadpool(services.load_application, session, body.application_id)
    await run_in_threadpool(_record, session, body, row.union_slug)
    try:
        view = await services.run_update(session, temporal, body.application_id, CertificateApplication.pay,
                             PaymentIn(transaction_id=body.transaction_id, amount=body.amount, currency=body.currency),
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


GATEWAY = dict(actor="payment-gateway", role="gateway")


def _record(session, body: PaymentCallback, union: str) -> None:
    """The payment, and its audit entry the first time this transaction is seen, in one transaction."""
    added = upsert(session, db.Payment, dict(transaction_id=body.transaction_id, application_id=body.application_id,
                                             amount=body.amount, currency=body.currency, received_at=db.utcnow()),
                   ["transaction_id"]).rowcount
    if added:
        audit.record(session, union=union, **GATEWAY, action="payment.received", target=body.application_id,
                     detail={"transaction_id": body.transaction_id, "amount": body.amount, "currency": body.currency})
    session.commit()


def _refused(session, body: PaymentCallback, union: str, reason: str) -> None:
    """A signed callback that the application refused (a wrong amount, not awaiting payment): on record."""
    audit.record(session, union=union, **GATEWAY, action="payment.refused", target=body.application_id,
                 detail={"transaction_id": body.transaction_id, "amount": body.amount, "currency": body.currency,
                         "reason": reason[:200]})
    session.commit()
