from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api import services
from api.deps import Caller, DbSession, Officer, SettingsDep, Tenant
from api.schemas import CertificateOut, RevokeIn
from sonod import db
from sonod.bengali import DHAKA
from sonod.signing import CertificateClaims, InvalidQr, read_claims

router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])


def _issued(session, certificate_no: str, caller, tenant: str | None) -> db.Certificate:
    row = services.issued_certificate(session, certificate_no)
    services.require_read(session, caller, row.union_slug, row.submitted_by, tenant)
    return row


def _out(row: db.Certificate) -> CertificateOut:
    signed = _signed(row)
    ends = signed.valid_until if signed else None  # None: no end, or issued before the validity was signed
    status = "revoked" if row.revoked_at else "expired" if signed and signed.expired(db.utcnow()) else "valid"
    return CertificateOut(
        certificate_no=row.certificate_no, application_id=row.application_id, union=row.union_slug,
        certificate_type=row.certificate_type, issued_at=row.issued_at, kid=row.kid, status=status,
        valid_until=ends.astimezone(DHAKA) if ends else None, revoked_at=row.revoked_at,
        revoke_reason=row.revoke_reason,
        holder_name_bn=row.holder_name_bn, holder_name_en=row.holder_name_en,
        pdf_url=f"{router.prefix}/{row.certificate_no}/pdf",
    )


def _signed(row: db.Certificate) -> CertificateClaims | None:
    """The claims the registry signed for this certificate (its own copy of the QR)."""
    try:
        return read_claims(row.qr_text) if row.qr_text else None
    except InvalidQr:
        return None


@router.get("/{certificate_no}")
def metadata(certificate_no: str, caller: Caller, session: DbSession, tenant: Tenant) -> CertificateOut:
    return _out(_issued(session, certificate_no, caller, tenant))


@router.get("/{certificate_no}/pdf", name="certificate_pdf", response_class=FileResponse)
def pdf(certificate_no: str, caller: Caller, session: DbSession, settings: SettingsDep,
        tenant: Tenant) -> FileResponse:
    row = _issued(session, certificate_no, caller, tenant)
    return FileResponse(services.certificate_file(settings, row), media_type="application/pdf",
                        filename=f"{row.certificate_no}.pdf")


@router.post("/{certificate_no}/revoke")
def revoke(certificate_no: str, body: RevokeIn, officer: Officer, session: DbSession,
           tenant: Tenant) -> CertificateOut:
    return _out(services.revoke(session, officer, tenant, certificate_no, body.reason))
