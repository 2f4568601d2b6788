from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from api.deps import Caller, DbSession, Officer, SettingsDep, TemporalClient, Tenant
from api.schemas import CertificateOut, RevokeIn
from api.services import certificates

router = APIRouter(prefix=certificates.PREFIX, tags=["certificates"])


@router.get("/{certificate_no}")
def metadata(certificate_no: str, caller: Caller, session: DbSession, tenant: Tenant) -> CertificateOut:
    return certificates.out(certificates.readable(session, caller, certificate_no, tenant))


@router.get("/{certificate_no}/pdf", name="certificate_pdf", response_class=FileResponse)
def pdf(certificate_no: str, caller: Caller, session: DbSession, settings: SettingsDep,
        tenant: Tenant) -> FileResponse:
    row = certificates.readable(session, caller, certificate_no, tenant)
    return FileResponse(certificates.certificate_file(settings, row), media_type="application/pdf",
                        filename=f"{row.certificate_no}.pdf")


@router.post("/{certificate_no}/revoke")
async def revoke(certificate_no: str, body: RevokeIn, request: Request, officer: Officer, session: DbSession,
                 settings: SettingsDep, temporal: TemporalClient, tenant: Tenant) -> CertificateOut:
    row = await certificates.revoke(session, settings, temporal, request.app.state.verifier, officer, tenant,
                                    certificate_no, body.reason)
    return await run_in_threadpool(certificates.out, row)
