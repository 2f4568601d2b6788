"""Certificates: an issued one, its PDF, what its signed claims say of it now, and revocation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import Conflict, Forbidden, NotFound
from api.schemas import CertificateOut
from api.services.applications import require_read
from api.services.officers import acting_in
from sonod import audit, db
from sonod.bengali import DHAKA
from sonod.domain import Role
from sonod.settings import Settings
from sonod.signing import CertificateClaims, InvalidQr, read_claims, revocation_list
from workflows.messages import Actor

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
                                                       db.Certificate.pdf_path.is_not(None)))


def certificate_file(settings: Settings, row: db.Certificate) -> Path:
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
        pdf_url=f"{PREFIX}/{row.certificate_no}/pdf",
    )


def _signed(row: db.Certificate) -> CertificateClaims | None:
    """The claims the registry signed for this certificate (its own copy of the QR)."""
    try:
        return read_claims(row.qr_text) if row.qr_text else None
    except InvalidQr:
        return None


def may_revoke(acting: Actor, union: str) -> bool:
    """The union's chairman, or whoever acts for the chairman there by delegation (`acting`: as `acting_in` gives)."""
    return (acting.role is Role.CHAIRMAN and acting.union == union) or Role.CHAIRMAN in acting.acts_for


def revoke(session: Session, officer: Actor, tenant: str | None, certificate_no: str, reason: str) -> db.Certificate:
    """The union's chairman, or whoever acts for the chairman there, revokes an issued certificate."""
    row = readable(session, officer, certificate_no, tenant)
    officer = acting_in(session, officer, row.union_slug)
    if not may_revoke(officer, row.union_slug):
        raise Forbidden("only the union's chairman, or whoever acts for the chairman by delegation, revokes")
    if row.revoked_at is not None:
        raise Conflict(f"{certificate_no} was already revoked")
    row.revoked_at, row.revoked_by, row.revoke_reason = db.utcnow(), officer.username, reason
    audit.record(session, union=row.union_slug, actor=officer.username, role=officer.role.value,
                 action="certificate.revoke", target=certificate_no, detail={"reason": reason}, ip=officer.ip)
    session.flush()
    return row


def revocations(session: Session) -> dict:
    """Hashes of revoked certificate numbers, for offline verifiers to sync."""
    revoked = session.scalars(select(db.Certificate.certificate_no).where(db.Certificate.revoked_at.is_not(None)))
    return revocation_list(revoked, db.utcnow())
