from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from temporalio.service import RPCError, RPCStatusCode

from api import services
from api.deps import Caller, DbSession, IdempotencyKey, Officer, SettingsDep, TemporalClient, Tenant
from api.errors import Invalid, NotFound
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
from sonod import db
from sonod.domain import Role, Status
from workflows.application import CertificateApplication
from workflows.messages import Escalation

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])


@router.post("", status_code=202)
async def submit(body: ApplicationIn, request: Request, caller: Caller, tenant: Tenant,
                 session: DbSession, settings: SettingsDep, temporal: TemporalClient,
                 key: IdempotencyKey = None) -> Accepted:
    if caller.role is Role.PORTAL and not key:
        raise Invalid(["header", "Idempotency-Key"], "portals must send an Idempotency-Key header")
    application_id, status = await services.submit(session, settings, temporal, body, caller, tenant, key)
    return Accepted(application_id=application_id, status=status,
                    status_url=str(request.url_for("get_application", application_id=application_id)))


@router.get("")
def list_applications(caller: Officer, session: DbSession, tenant: Tenant,
                      union: Annotated[str | None, Query(max_length=40)] = None,
                      status: Status | None = None,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      cursor: Annotated[str | None, Query(max_length=200)] = None) -> ApplicationPage:
    if union and tenant and union != tenant:
        raise Invalid(["query", "union"], f"this address serves the union {tenant}, not {union}")
    slug = union or tenant or caller.union
    row = services.get_union(session, slug, ["query", "union"])
    services.require_read(session, caller, row.slug, None)
    return services.page(session, row.slug, status.value if status else None, limit, cursor)


@router.get("/{application_id}", name="get_application")
async def get_application(application_id: str, caller: Caller, session: DbSession, tenant: Tenant,
                          temporal: TemporalClient) -> ApplicationOut:
    row = await run_in_threadpool(session.get, db.Application, application_id)
    if row is not None:
        await run_in_threadpool(services.require_read, session, caller, row.union_slug, row.submitted_by, tenant)
        return services.out_from_row(row)
    # submitted a moment ago: the read model has not caught up yet, so ask the workflow
    await services.end_transaction(session)
    try:
        view = await temporal.get_workflow_handle(application_id).query(CertificateApplication.view)
    except RPCError as e:
        if e.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise NotFound(f"no application {application_id}") from None
        raise
    await run_in_threadpool(services.require_read, session, caller, view.union, view.submitted_by, tenant)
    return services.out_from_view(view)


@router.post("/{application_id}/decision")
async def decide(application_id: str, body: DecisionIn, officer: Officer, session: DbSession, tenant: Tenant,
                 temporal: TemporalClient) -> DecisionOut:
    return await services.decide(session, temporal, officer, tenant, application_id, body)


@router.post("/{application_id}/cancel")
async def cancel(application_id: str, body: CancelIn, caller: Caller, session: DbSession, tenant: Tenant,
                 temporal: TemporalClient) -> DecisionOut:
    row = await run_in_threadpool(services.load_application, session, application_id)
    await run_in_threadpool(services.require_read, session, caller, row.union_slug, row.submitted_by, tenant)
    return await services.cancel(session, temporal, caller, row, body.reason)


@router.post("/{application_id}/amend")
async def amend(application_id: str, body: AmendIn, caller: Caller, session: DbSession, tenant: Tenant,
                temporal: TemporalClient) -> DecisionOut:
    row = await run_in_threadpool(services.load_application, session, application_id)
    await run_in_threadpool(services.require_read, session, caller, row.union_slug, row.submitted_by, tenant)
    return await services.amend(session, temporal, caller, row, body)


@router.post("/{application_id}/escalate")
async def escalate(application_id: str, body: EscalateIn, officer: Officer, session: DbSession, tenant: Tenant,
                   temporal: TemporalClient) -> DecisionOut:
    """An operator lets the acting chairman or administrator decide now, before the deadline escalates."""
    row = await run_in_threadpool(services.load_application, session, application_id)
    await run_in_threadpool(services.require_read, session, officer, row.union_slug, None, tenant)
    view = await services.run_update(session, temporal, application_id, CertificateApplication.escalate,
                                     Escalation(reason=body.reason, actor=officer),
                                     f"escalate:{row.round}:{officer.username}")
    return DecisionOut(application_id=application_id, status=view.status)
