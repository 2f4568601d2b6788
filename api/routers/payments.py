from __future__ import annotations

import json

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from typing import Annotated

from api import services
from api.deps import DbSession, SettingsDep, TemporalClient
from api.errors import ApiError, Conflict, Invalid, Unauthorized
from api.schemas import DecisionOut, PaymentCallback
from sonod import db
from sonod.db import upsert
from sonod.security import hmac_sha256_hex, same_signature
from workflows.application import CertificateApplication
from workflows.messages import PaymentIn

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])


@router.post("/callback")
async def callback(request: Request, session: DbSession, settings: SettingsDep, temporal: TemporalClient,
                   signature: Annotated[str | None, Header(alias="X-Signature", max_length=200)] = None) -> DecisionOut:
    """The payment gateway confirms a fee; signed with HMAC-SHA256 over the raw body."""
    raw = await request.body()
    if not signature or not same_signature(hmac_sha256_hex(settings.payment_secret, raw), signature):
        raise Unauthorized("bad or missing X-Signature")
    try:
        body = PaymentCallback.model_validate(json.loads(raw))
    except (ValueError, ValidationError, RecursionError) as e:
        problem = "the body is nested too deeply" if isinstance(e, RecursionError) else "the body is not JSON"
        errors = e.errors() if isinstance(e, ValidationError) else [{"loc": [], "msg": problem}]
        raise Invalid(["body", *errors[0]["loc"]], errors[0]["msg"]) from None
    row = await run_in_threadpool(services.load_application, session, body.application_id)
    await run_in_threadpool(_record, session, body)
    try:
        view = await services.run_update(session, temporal, body.application_id, CertificateApplication.pay,
                             PaymentIn(transaction_id=body.transaction_id, amount=body.amount, currency=body.currency),
                             f"pay:{body.transaction_id}")
    except Conflict:
        await run_in_threadpool(session.refresh, row)
        if row.fee_paid:  # a repeated callback, or a second payment of a paid fee: nothing to do
            return DecisionOut(application_id=row.id, status=row.status)
        raise
    return DecisionOut(application_id=body.application_id, status=view.status)


def _record(session, body: PaymentCallback) -> None:
    upsert(session, db.Payment, dict(transaction_id=body.transaction_id, application_id=body.application_id,
                                     amount=body.amount, currency=body.currency, received_at=db.utcnow()),
           ["transaction_id"])
    session.commit()
