"""Duplicate copies of issued certificates: asked for by the applicant's side (the portal or UDC operator that
submitted the application) or the union's secretary, paid through the payment callback (which names the copy's id),
made by the `CertificateCopy` workflow (workflows/copies.py)."""

from __future__ import annotations

import hashlib
import secrets

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Conflict, Forbidden, Gone, NotFound, from_update_failure
from api.schemas import CopyOut, DecisionOut, FeeOut, PaymentCallback
from api.services.applications import run_update
from api.services.certificates import PREFIX, readable
from api.services.transaction import end_transaction
from sonod import audit, db
from sonod.domain import Role, Status
from sonod.settings import Settings
from workflows.copies import COPY_PREFIX, CertificateCopy, is_copy_id
from workflows.messages import Actor, CopyRequest, CopyStatus, CopyView, PaymentIn
from workflows.search_attributes import CERTIFICATE_TYPE, UNION_SLUG

ASKERS = (Role.PORTAL, Role.UDC, Role.SECRETARY)  # `readable` leaves a portal or UDC operator only what it submitted
# a copy's progress in the words of an application's, for the payment callback's answer
AS_APPLICATION = {CopyStatus.AWAITING_PAYMENT: Status.AWAITING_PAYMENT, CopyStatus.MAKING: Status.ISSUING,
                  CopyStatus.MADE: Status.ISSUED, CopyStatus.EXPIRED: Status.CANCELLED}


def copy_id_for(caller: Actor, certificate_no: str, key: str | None, now) -> str:
    """A new copy's id; with an Idempotency-Key, the same id for the same caller, certificate and key, so that a
    repeat asks once."""
    tail = hashlib.sha256(f"{caller.username}\0{certificate_no}\0{key}".encode()).hexdigest()[:16] if key \
        else secrets.token_hex(8)
    return f"{COPY_PREFIX}{now:%y%m%d}-{tail.upper()}"


async def ask(session: Session, settings: Settings, temporal: Client, caller: Actor, tenant: str | None,
              certificate_no: str, key: str | None) -> CopyOut:
    row = await run_in_threadpool(readable, session, caller, certificate_no, tenant)
    if caller.role not in ASKERS:
        raise Forbidden(f"a {caller.role.value} does not ask for copies: the applicant's side or the secretary does")
    if row.revoked_at is not None:
        raise Gone(f"{certificate_no} was revoked: {row.revoke_reason or ''}".strip())
    copy_id = copy_id_for(caller, row.certificate_no, key, db.utcnow())
    await end_transaction(session)
    handle = await temporal.start_workflow(
        CertificateCopy.run, CopyRequest(copy_id=copy_id, certificate_no=row.certificate_no, actor=caller),
        id=copy_id, task_queue=settings.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes([SearchAttributePair(UNION_SLUG, row.union_slug),
                                                 SearchAttributePair(CERTIFICATE_TYPE, row.certificate_type)]))
    try:  # its fee is the union's, read by the workflow as it admits the copy
        return out(await handle.execute_update(CertificateCopy.admitted, id="admitted"))
    except WorkflowUpdateFailedError as e:
        raise from_update_failure(e) from None


async def status(session: Session, temporal: Client, caller: Actor, tenant: str | None, certificate_no: str,
                 copy_id: str) -> CopyOut:
    await run_in_threadpool(readable, session, caller, certificate_no, tenant)
    if not is_copy_id(copy_id):  # another workflow's id (an application's answers the same query)
        raise NotFound(f"no copy {copy_id} of {certificate_no}")
    await end_transaction(session)
    try:
        view = await temporal.get_workflow_handle(copy_id).query(CertificateCopy.view)
    except RPCError as e:
        if e.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise NotFound(f"no copy {copy_id} of {certificate_no}") from None
        raise
    if view.certificate_no != certificate_no:
        raise NotFound(f"no copy {copy_id} of {certificate_no}")
    return out(view)


def copy_file(session: Session, settings: Settings, caller: Actor, tenant: str | None, certificate_no: str,
              copy_id: str):
    readable(session, caller, certificate_no, tenant)
    row = session.get(db.CertificateCopy, copy_id)
    if row is None or row.certificate_no != certificate_no or row.pdf_path is None:
        raise NotFound(f"no copy {copy_id} of {certificate_no} has been made")
    return settings.pdf_dir / row.pdf_path


def out(view: CopyView) -> CopyOut:
    url = f"{PREFIX}/{view.certificate_no}/copies/{view.copy_id}"
    paid = view.fee == 0 or view.status in (CopyStatus.MAKING, CopyStatus.MADE)
    return CopyOut(copy_id=view.copy_id, certificate_no=view.certificate_no, status=view.status.value,
                   fee=FeeOut(amount=view.fee or 0, currency=view.currency, paid=paid), status_url=url,
                   pdf_url=f"{url}/pdf" if view.status is CopyStatus.MADE else None)


# --- the fee, through the signed payment callback (api/services/payments.py passes a copy's here) ----------------


async def receive(session: Session, temporal: Client, body: PaymentCallback) -> DecisionOut:
    """The callback's payment of a copy's fee: recorded, then passed to the copy's workflow, which checks the amount;
    a repeated callback changes nothing."""
    row = await run_in_threadpool(session.get, db.CertificateCopy, body.application_id)
    if row is None:
        raise NotFound(f"no application or copy {body.application_id}")
    await run_in_threadpool(_record, session, body, row.union_slug)
    try:
        paid = PaymentIn(transaction_id=body.transaction_id, amount=body.amount, currency=body.currency)
        view = await run_update(session, temporal, row.copy_id, CertificateCopy.pay, paid, f"pay:{body.transaction_id}")
    except Conflict:
        view = await temporal.get_workflow_handle(row.copy_id).query(CertificateCopy.view)
        if view.status in (CopyStatus.MAKING, CopyStatus.MADE):  # paid already: a repeat, or a second payment
            return DecisionOut(application_id=row.copy_id, status=AS_APPLICATION[view.status])
        raise
    return DecisionOut(application_id=row.copy_id, status=AS_APPLICATION[view.status])


def _record(session: Session, body: PaymentCallback, union: str) -> None:
    if session.get(db.Payment, body.transaction_id) is None:
        session.add(db.Payment(transaction_id=body.transaction_id, application_id=body.application_id,
                               amount=body.amount, currency=body.currency, received_at=db.utcnow()))
        audit.record(session, union=union, actor="payment-gateway", role="gateway", action="payment.received",
                     target=body.application_id, detail={"transaction_id": body.transaction_id,
                                                         "amount": body.amount, "currency": body.currency})
