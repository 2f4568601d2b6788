from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from api.deps import Caller, DbSession, IdempotencyKey, Officer, SettingsDep, TemporalClient, Tenant
from api.errors import Invalid
from api.schemas import (
    Accepted,
    AmendIn,
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    CancelIn,
    DecisionIn,
    DecisionOut,
    EscalateIn,
)
from api.services import applications, receipts
from sonod.domain import Role, Status

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])


@router.post("", status_code=202)
async def submit(body: ApplicationIn, request: Request, caller: Caller, tenant: Tenant,
                 session: DbSession, settings: SettingsDep, temporal: TemporalClient,
                 key: IdempotencyKey = None) -> Accepted:
    if caller.role is Role.PORTAL and not key:
        raise Invalid(["header", "Idempotency-Key"], "portals must send an Idempotency-Key header")
    application_id, status = await applications.submit(session, settings, temporal, body, caller, tenant, key)
    return Accepted(application_id=application_id, status=status,
                    status_url=str(request.url_for("get_application", application_id=application_id)))


@router.get("")
def list_applications(caller: Officer, session: DbSession, tenant: Tenant,
                      union: Annotated[str | None, Query(max_length=40)] = None,
                      status: Status | None = None,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      cursor: Annotated[str | None, Query(max_length=200)] = None) -> ApplicationPage:
    return applications.listing(session, caller, tenant, union, status, limit, cursor)


@router.get("/{application_id}", name="get_application")
async def get_application(application_id: str, caller: Caller, session: DbSession, tenant: Tenant,
                          temporal: TemporalClient) -> ApplicationOut:
    return await applications.read(session, temporal, caller, tenant, application_id)


@router.get("/{application_id}/money-receipt", name="money_receipt", response_class=FileResponse)
async def money_receipt(application_id: str, caller: Caller, session: DbSession, settings: SettingsDep,
                        tenant: Tenant, temporal: TemporalClient) -> FileResponse:
    """The paid fee's money receipt (`application/pdf`), for whoever may read the application; 404 while unpaid."""
    row = await run_in_threadpool(applications.readable, session, caller, application_id, tenant)
    path, number = await receipts.receipt_file(session, settings, temporal, caller, row)
    return FileResponse(path, media_type="application/pdf", filename=f"{number}.pdf")


@router.post("/{application_id}/decision")
async def decide(application_id: str, body: DecisionIn, officer: Officer, session: DbSession, tenant: Tenant,
                 temporal: TemporalClient) -> DecisionOut:
    return await applications.decide(session, temporal, officer, tenant, application_id, body)


@router.post("/{application_id}/cancel")
async def cancel(application_id: str, body: CancelIn, caller: Caller, session: DbSession, tenant: Tenant,
                 temporal: TemporalClient) -> DecisionOut:
    row = await run_in_threadpool(applications.readable, session, caller, application_id, tenant)
    return await applications.cancel(session, temporal, caller, row, body.reason)


@router.post("/{application_id}/amend")
async def amend(application_id: str, body: AmendIn, caller: Caller, session: DbSession, tenant: Tenant,
                temporal: TemporalClient) -> DecisionOut:
    row = await run_in_threadpool(applications.readable, session, caller, application_id, tenant)
    return await applications.amend(session, temporal, caller, row, body)


@router.post("/{application_id}/escalate")
async def escalate(application_id: str, body: EscalateIn, officer: Officer, session: DbSession, tenant: Tenant,
                   temporal: TemporalClient) -> DecisionOut:
    """An operator lets the acting chairman or administrator decide now, before the deadline escalates."""
    return await applications.escalate(session, temporal, officer, tenant, application_id, body.reason)
