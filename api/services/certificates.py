"""Certificates: an issued one, its PDF, what its signed claims say of it now, and revocation."""

from __future__ import annotations

from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from api.errors import Conflict, Forbidden, Gone, NotFound
from api.schemas import CertificateOut
from api.services.applications import require_read
from api.services.officers import acting_in
from api.services.transaction import end_transaction
from api.verification import Revocation as VerifiedRevocation
from api.verification import Verifier
from sonod import db
from sonod.bengali import DHAKA
from sonod.editions import english_no
from sonod.settings import Settings
from sonod.signing import CertificateClaims, InvalidQr, read_claims, revocation_list
from workflows.messages import Actor, Revocation, Revoked
from workflows.refusals import WRONG_OFFICER
from workflows.revocation import CertificateRevocation, revocation_id
from workflows.search_attributes import revoked_attributes

PREFIX = "/api/v1/certificates"


def issued_certificate(session: Session, certificate_no: str) -> db.Certificate:
    row = session.get(db.Certificate, certificate_no)
    if row is None or row.pdf_path is None:
        raise NotFound(f"no certificate {certificate_no}")
    return row


def readable(session: Session, caller: Actor, certificate_no: str, tenant: str | None = None) -> db.Certificate:
    """The issued certificate, if this caller may see its application."""
    row = issued_certificate(session, certificate_no)
    require_read(session, caller, row.union_slug, row.submitted_by, tenant)
    return row


def certificate_of(session: Session, application_id: str) -> db.Certificate | None:
    return session.scalar(select(db.Certificate).where(db.Certificate.application_id == application_id,
                                                       db.Certificate.language == "bn",
                                                       db.Certificate.pdf_path.is_not(None)))


def certificate_file(settings: Settings, row: db.Certificate) -> Path:
    """The PDF of a certificate in force: a revoked certificate's is withdrawn (410), so that no one prints it again."""
    if row.revoked_at is not None:
        raise Gone(f"{row.certificate_no} was revoked on {row.revoked_at:%Y-%m-%d}: {row.revoke_reason or ''}".strip())
    assert row.pdf_path is not None, "rows come from issued_certificate or certificate_of: issued ones"
    path = settings.pdf_dir / row.pdf_path
    if not path.exists():
        raise NotFound(f"the PDF of {row.certificate_no} is missing from storage")
    return path


def out(row: db.Certificate) -> CertificateOut:
    signed = _signed(row)
    ends = signed.valid_until if signed else None  # None: no end, or issued before the validity was signed
    status = "revoked" if row.revoked_at else "expired" if signed and signed.expired(db.utcnow()) else "valid"
    return CertificateOut(
        certificate_no=row.certificate_no, application_id=row.application_id, union=row.union_slug,
        certificate_type=row.certificate_type, issued_at=row.issued_at, kid=row.kid, status=status,
        valid_until=ends.astimezone(DHAKA) if ends else None, revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
        holder_name_bn=row.holder_name_bn, holder_name_en=row.holder_name_en,
        pdf_url=f"{PREFIX}/{row.certificate_no}/pdf", language=row.language, english_no=english_of(row),
        superseded_by=row.superseded_by,
    )


def english_of(row: db.Certificate) -> str | None:
    """The number of a Bengali certificate's English one, once issued."""
    session = object_session(row)
    if row.language != "bn" or session is None:
        return None
    english = session.get(db.Certificate, english_no(row.certificate_no))
    return english.certificate_no if english is not None and english.pdf_path else None


def _signed(row: db.Certificate) -> CertificateClaims | None:
    """The claims the registry signed for this certificate (its own copy of the QR)."""
    try:
        return read_claims(row.qr_text) if row.qr_text else None
    except InvalidQr:
        return None


def may_revoke(acting: Actor, union: str) -> bool:
    """The union's chairman, or whoever acts for the chairman there by delegation (`acting`: as `acting_in` gives)."""
    return acting.revokes_in(union)


async def revoke(session: Session, settings: Settings, temporal: Client, verifier: Verifier, officer: Actor,
                 tenant: str | None, certificate_no: str, reason: str) -> db.Certificate:
    """Start the certificate's revocation (`CertificateRevocation`, which checks who revokes again, records it once
    and tells the holder by SMS), wait for it, and tell this process's verifier, so that the next verification
    says revoked."""
    row = await run_in_threadpool(readable, session, officer, certificate_no, tenant)
    officer = await run_in_threadpool(acting_in, session, officer, row.union_slug)
    if not may_revoke(officer, row.union_slug):
        raise Forbidden("only the union's chairman, or whoever acts for the chairman by delegation, revokes")
    if row.revoked_at is not None:
        raise Conflict(f"{certificate_no} was already revoked")
    await end_transaction(session)
    revocation = Revocation(certificate_no=certificate_no, union=row.union_slug, reason=reason, actor=officer)

    async def run(reuse: WorkflowIDReusePolicy, conflict: WorkflowIDConflictPolicy) -> Revoked:
        return await temporal.execute_workflow(
            CertificateRevocation.run, revocation, id=revocation_id(certificate_no), task_queue=settings.task_queue,
            id_reuse_policy=reuse, id_conflict_policy=conflict,
            search_attributes=revoked_attributes(row.union_slug, row.certificate_type))

    try:
        try:
            revoked = await run(WorkflowIDReusePolicy.REJECT_DUPLICATE, WorkflowIDConflictPolicy.FAIL)
        except WorkflowAlreadyStartedError:
            # The registry, not the workflow id, says whether it was revoked: a run under this id that recorded
            # nothing was started by someone else (say, in clear through Temporal) and is replaced. The registry's
            # record and the SMS's key make a repeat harmless.
            await run_in_threadpool(session.refresh, row)
            if row.revoked_at is not None:
                raise Conflict(f"{certificate_no} was already revoked") from None
            await end_transaction(session)
            revoked = await run(WorkflowIDReusePolicy.ALLOW_DUPLICATE, WorkflowIDConflictPolicy.TERMINATE_EXISTING)
    except WorkflowFailureError as e:
        cause = e.cause
        if isinstance(cause, ApplicationError) and cause.type == WRONG_OFFICER:
            raise Forbidden(cause.message) from None
        raise
    for number in await run_in_threadpool(both_languages, session, row):  # the other language's is revoked with it
        verifier.revoked_here(number, VerifiedRevocation(revoked.revoked_at, revoked.reason))
    await run_in_threadpool(session.refresh, row)
    return row


def both_languages(session: Session, row: db.Certificate) -> list[str]:
    """The numbers of a certificate in its languages: itself and its Bengali or English one."""
    return list(session.scalars(select(db.Certificate.certificate_no)
                                .where(db.Certificate.application_id == row.application_id)))


def revocations(session: Session) -> dict:
    """Hashes of revoked certificate numbers, for offline verifiers to sync."""
    revoked = session.scalars(select(db.Certificate.certificate_no).where(db.Certificate.revoked_at.is_not(None)))
    return revocation_list(revoked, db.utcnow())
