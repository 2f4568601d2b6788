from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api import services
from api.deps import Caller, DbSession, Officer, SettingsDep
from api.errors import Conflict, Forbidden, NotFound
from api.schemas import CertificateOut, RevokeIn
from sonod import audit, db
from sonod.domain import Role

router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])


def _issued(session, certificate_no: str, caller) -> db.Certificate:
    row = session.get(db.Certificate, certificate_no)
    if row is None or row.pdf_path is None:
        raise NotFound(f"no certificate {certificate_no}")
    services.require_read(session, caller, row.union_slug, row.submitted_by)
    return row


def _out(row: db.Certificate) -> CertificateOut:
    return CertificateOut(
        certificate_no=row.certificate_no, application_id=row.application_id, union=row.union_slug,
        certificate_type=row.certificate_type, issued_at=row.issued_at, kid=row.kid,
        status="revoked" if row.revoked_at else "valid", revoked_at=row.revoked_at, revoke_reason=row.revoke_reason,
        holder_name_bn=row.holder_name_bn, holder_name_en=row.holder_name_en,
        pdf_url=f"{router.prefix}/{row.certificate_no}/pdf",
    )


@router.get("/{certificate_no}")
def metadata(certificate_no: str, caller: Caller, session: DbSession) -> CertificateOut:
    return _out(_issued(session, certificate_no, caller))


@router.get("/{certificate_no}/pdf", name="certificate_pdf", response_class=FileResponse)
def pdf(certificate_no: str, caller: Caller, session: DbSession, settings: SettingsDep) -> FileResponse:
    row = _issued(session, certificate_no, caller)
    path = settings.pdf_dir / row.pdf_path
    if not path.exists():
        raise NotFound(f"the PDF of {certificate_no} is missing from storage")
    return FileResponse(path, media_type="application/pdf", filename=f"{row.certificate_no}.pdf")


@router.post("/{certificate_no}/revoke")
def revoke(certificate_no: str, body: RevokeIn, officer: Officer, session: DbSession) -> CertificateOut:
    row = _issued(session, certificate_no, officer)
    if officer.role not in (Role.CHAIRMAN, Role.ADMINISTRATOR) and Role.CHAIRMAN not in officer.acts_for:
        raise Forbidden("only the chairman (or whoever acts for the chairman) revokes certificates")
    if row.revoked_at is not None:
        raise Conflict(f"{certificate_no} was already revoked")
    row.revoked_at, row.revoked_by, row.revoke_reason = db.utcnow(), officer.username, body.reason
    audit.record(session, union=row.union_slug, actor=officer.username, role=officer.role.value,
                 action="certificate.revoke", target=certificate_no, detail={"reason": body.reason}, ip=officer.ip)
    session.flush()
    return _out(row)
