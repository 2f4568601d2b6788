"""Payments: the gateway's signed callback, recorded, and the fee passed to the application's workflow."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, TypeGuard
from urllib.parse import urlencode

from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import ApiError, Conflict, Invalid, NotFound, Unauthorized
from api.schemas import DecisionOut, PaymentCallback
from api.services import copies
from api.services.applications import load_application, run_update
from api.services.transaction import commit_early, end_transaction
from sonod import audit, db
from sonod.db import upsert, upsert_statement
from sonod.security import hmac_sha256_hex, same_signature
from sonod.settings import Settings
from workflows.application import CertificateApplication
from workflows.copies import is_copy_id
from workflows.messages import PaymentIn
from workflows.payment import PaymentNotification, notification_id
from workflows.payment_messages import NoticeOutcome, NotificationRead, NotificationRef

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
    if is_copy_id(body.application_id):  # a duplicate copy's fee (api/services/copies.py)
        return await copies.receive(session, temporal, body)
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


# --- the gateways' notifications: stored as they came, read by the worker, never believed ---------------------

KEPT_HEADERS = ("content-type", "user-agent", "x-forwarded-for")  # and any header that carries a signature
NOTICE_WAIT_S = 10.0  # how long the gateway's request waits for the notification to be read
ANSWERS: dict[NoticeOutcome, type[ApiError]] = {NoticeOutcome.UNREADABLE: ApiError,  # 400
                                                NoticeOutcome.UNKNOWN_ORDER: NotFound,
                                                NoticeOutcome.WRONG_PROVIDER: Conflict}


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v[:1000] for k, v in ((k.lower(), v) for k, v in headers.items())
            if k in KEPT_HEADERS or "sign" in k}


async def notified(session: Session, settings: Settings, temporal: Client, provider: str, kind: str,
                   method: str, query: str, headers: Mapping[str, str], raw: bytes) -> NotificationRead:
    """Store the notification, then let the worker read it with the provider's adapter (PaymentNotification),
    once per distinct notification: the order it names is asked about by its application's workflow, never
    believed here. A repeat is stored too, and tells no one."""
    if provider not in settings.enabled_payment_providers:
        raise NotFound(f"no payment gateway {provider!r} here")
    digest = hashlib.sha256(b"\0".join(x.encode() if isinstance(x, str) else x
                                       for x in (provider, kind, method, query, raw))).hexdigest()
    row_id = await run_in_threadpool(_store, session, dict(
        provider=provider, kind=kind, method=method, query=query[:4000], headers=kept_headers(headers), body=raw,
        received_at=db.utcnow(), outcome=NoticeOutcome.RECEIVED.value), digest)
    await end_transaction(session)
    duplicate = NotificationRead(outcome=NoticeOutcome.DUPLICATE)
    if row_id is None:
        return duplicate
    try:
        handle = await temporal.start_workflow(
            PaymentNotification.run, NotificationRef(id=row_id, provider=provider),
            id=notification_id(provider, digest), task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except WorkflowAlreadyStartedError:
        return duplicate
    try:
        read = await asyncio.wait_for(handle.result(), NOTICE_WAIT_S)
    except (TimeoutError, WorkflowFailureError):  # stored: the worker reads it when it can
        return NotificationRead(outcome=NoticeOutcome.RECEIVED)
    if read.outcome in ANSWERS:
        raise ANSWERS[read.outcome](f"notification refused: {read.outcome.value}")
    return read


def _store(session: Session, values: dict, digest: str) -> int | None:
    """The notification's row id; None for a repeat of one already stored (kept too, as `duplicate`). The insert
    says which by what it returns: its rowcount is -1 on PostgreSQL, where the id comes back by RETURNING."""
    notices = db.PaymentNotification
    first_time = upsert_statement(session.get_bind().dialect.name, notices, ("dedupe_key",), ()).returning(notices.id)
    row_id = session.scalar(first_time, values | {"dedupe_key": digest})
    if row_id is None:  # the order it named, once the first was read (PaymentNotification names it on later repeats)
        first = session.scalars(select(notices).where(notices.dedupe_key == digest))
        named = {k: getattr(row, k) for row in first for k in ("order_id", "provider_ref")}
        session.add(notices(**values | named | {"outcome": NoticeOutcome.DUPLICATE.value}))
        commit_early(session)
        return None
    commit_early(session)
    return row_id


def track_url(session: Session, read: NotificationRead) -> str:
    """Where the payer's browser goes back to: the union's track page with the application's number filled in, or
    the portal's front page."""
    row = session.get(db.Application, read.application_id) if read.application_id else None
    return f"/unions/{row.union_slug}/track?{urlencode({'id': row.id})}" if row else "/"

