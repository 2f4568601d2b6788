from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import services
from api.deps import Caller, DbSession, IdempotencyKey, Officer, SettingsDep, TemporalClient, Tenant
from api.errors import Conflict, Invalid, NotFound, from_update_failure
from api.schemas import (
    Accepted,
    AmendIn,
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    CancelIn,
    DecisionIn,
    DecisionOut,
)
from sonod import audit, db
from sonod.domain import Role, Status
from workflows.application import CertificateApplication
from workflows.messages import Amendment, Cancellation, Decision
from workflows.search_attributes import search_attributes_for

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])


@router.post("", status_code=202)
async def submit(body: ApplicationIn, request: Request, caller: Caller, key: IdempotencyKey, tenant: Tenant,
                 session: DbSession, settings: SettingsDep, temporal: TemporalClient) -> Accepted:
    if caller.role is Role.PORTAL and not key:
        raise Invalid(["header", "Idempotency-Key"], "portals must send an Idempotency-Key header")
    now = db.utcnow()
    application_id = services.new_application_id(now)
    app = await run_in_threadpool(services.application_input, session, settings, body, caller, tenant,
                                  application_id, now)
    if key:
        digest = services.canonical_hash(body.model_dump(mode="json") | {"union": app.union.slug})
        app.application_id = await run_in_threadpool(services.claim_idempotency_key, session, caller.username, key,
                                                     digest, application_id)
    await end_transaction(session)
    try:
        await temporal.start_workflow(
            CertificateApplication.run, app, id=app.application_id, task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=search_attributes_for(app, Status.SUBMITTED, app.submitted_at),
        )
    except WorkflowAlreadyStartedError:
        pass  # a retried request whose application has already finished
    row = await run_in_threadpool(session.get, db.Application, app.application_id)
    return Accepted(application_id=app.application_id, status=row.status if row else Status.SUBMITTED,
                    status_url=str(request.url_for("get_application", application_id=app.application_id)))


@router.get("")
def list_applications(caller: Officer, session: DbSession, tenant: Tenant,
                      union: Annotated[str | None, Query(max_length=40)] = None,
                      status: Status | None = None,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      cursor: Annotated[str | None, Query(max_length=200)] = None) -> ApplicationPage:
    slug = union or tenant or caller.union
    row = services.get_union(session, slug, ["query", "union"])
    services.require_read(session, caller, row.slug, None)
    return services.page(session, row.slug, status.value if status else None, limit, cursor)


@router.get("/{application_id}", name="get_application")
async def get_application(application_id: str, caller: Caller, session: DbSession,
                          temporal: TemporalClient) -> ApplicationOut:
    row = await run_in_threadpool(session.get, db.Application, application_id)
    if row is not None:
        await run_in_threadpool(services.require_read, session, caller, row.union_slug, row.submitted_by)
        return services.out_from_row(row)
    # submitted a moment ago: the read model has not caught up yet, so ask the workflow
    await end_transaction(session)
    try:
        view = await temporal.get_workflow_handle(application_id).query(CertificateApplication.view)
    except RPCError as e:
        if e.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise NotFound(f"no application {application_id}") from None
        raise
    await run_in_threadpool(services.require_read, session, caller, view.union, None if caller.role is not Role.PORTAL
                            else caller.username)
    return services.out_from_view(view)


@router.post("/{application_id}/decision")
async def decide(application_id: str, body: DecisionIn, officer: Officer, session: DbSession,
                 temporal: TemporalClient) -> DecisionOut:
    row = await run_in_threadpool(services.load_application, session, application_id)
    await run_in_threadpool(services.require_read, session, officer, row.union_slug, None)
    decision = Decision(kind=body.decision, reason=body.reason, actor=officer)
    update_id = f"decide:{row.status}:{row.round}:{officer.username}:{services.canonical_hash(body.model_dump())[:12]}"
    view = await _update(session, temporal, application_id, CertificateApplication.decide, decision, update_id)
    await run_in_threadpool(_audit, session, row.union_slug, officer, f"decision.{body.decision.value}",
                            application_id, {"reason": body.reason, "from": row.status})
    return DecisionOut(application_id=application_id, status=view.status)


@router.post("/{application_id}/cancel")
async def cancel(application_id: str, body: CancelIn, caller: Caller, session: DbSession,
                 temporal: TemporalClient) -> DecisionOut:
    row = await run_in_threadpool(services.load_application, session, application_id)
    await run_in_threadpool(services.require_read, session, caller, row.union_slug, row.submitted_by)
    view = await _update(session, temporal, application_id, CertificateApplication.cancel,
                         Cancellation(reason=body.reason, actor=caller), f"cancel:{caller.username}")
    await run_in_threadpool(_audit, session, row.union_slug, caller, "application.cancel", application_id,
                            {"reason": body.reason})
    return DecisionOut(application_id=application_id, status=view.status)


@router.post("/{application_id}/amend")
async def amend(application_id: str, body: AmendIn, caller: Caller, session: DbSession,
                temporal: TemporalClient) -> DecisionOut:
    row = await run_in_threadpool(services.load_application, session, application_id)
    await run_in_threadpool(services.require_read, session, caller, row.union_slug, row.submitted_by)
    details = body.details
    if details is not None:
        details = services.validate_details(row.certificate_type, details)
    amendment = Amendment(applicant=body.applicant, contact=body.contact, details=details, actor=caller)
    view = await _update(session, temporal, application_id, CertificateApplication.amend, amendment,
                         f"amend:{row.round}:{services.canonical_hash(body.model_dump(mode='json'))[:12]}")
    return DecisionOut(application_id=application_id, status=view.status)


async def end_transaction(session) -> None:
    """Close the request's read transaction before waiting on Temporal: the workflow's activities write to the
    same database, and SQLite lets one writer in at a time."""
    await run_in_threadpool(session.commit)


async def _update(session, temporal, application_id: str, update, arg, update_id: str):
    await end_transaction(session)
    try:
        return await temporal.get_workflow_handle(application_id).execute_update(update, arg, id=update_id)
    except WorkflowUpdateFailedError as e:
        raise from_update_failure(e) from None
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("the application has finished and takes no more decisions") from None
        raise


def _audit(session, union: str, actor, action: str, target: str, detail: dict) -> None:
    audit.record(session, union=union, actor=actor.username, role=actor.role.value, action=action, target=target,
                 detail=detail, ip=actor.ip)
