from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from api.deps import Caller, DbSession, IdempotencyKey, Officer, SettingsDep, TemporalClient, Tenant
from api.schemas import CertificateOut, CopyOut, RevokeIn
from api.services import certificates, copies

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


@router.post("/{certificate_no}/copies", status_code=202)
async def ask_copy(certificate_no: str, caller: Caller, session: DbSession, settings: SettingsDep,
                   temporal: TemporalClient, tenant: Tenant, idem: IdempotencyKey = None) -> CopyOut:
    """A duplicate copy (অনুলিপি), for the union's fee: the same certificate printed again, marked a copy with its
    date, never signed again. The applicant's side or the union's secretary asks; with an Idempotency-Key, a repeat
    answers the same copy."""
    return await copies.ask(session, settings, temporal, caller, tenant, certificate_no, idem)


@router.get("/{certificate_no}/copies/{copy_id}")
async def copy_status(certificate_no: str, copy_id: str, caller: Caller, session: DbSession,
                      temporal: TemporalClient, tenant: Tenant) -> CopyOut:
    return await copies.status(session, temporal, caller, tenant, certificate_no, copy_id)


@router.get("/{certificate_no}/copies/{copy_id}/pdf", name="copy_pdf", response_class=FileResponse)
def copy_pdf(certificate_no: str, copy_id: str, caller: Caller, session: DbSession, settings: SettingsDep,
             tenant: Tenant) -> FileResponse:
    path = copies.copy_file(session, settings, caller, tenant, certificate_no, copy_id)
    return FileResponse(path, media_type="application/pdf", filename=f"{certificate_no}-{copy_id}.pdf")
