"""What the handlers share: turning a request into a workflow input, idempotency, and reading the read model."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import statistics
from datetime import timedelta
from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, load_only
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import acting_in
from api.errors import Conflict, Forbidden, Invalid, NotFound, from_update_failure
from api.schemas import (
    AmendIn,
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    DecisionIn,
    DecisionOut,
    EventOut,
    FeeOut,
)
from sonod import audit, db
from sonod.bengali import to_ascii_digits
from sonod.catalogue import BY_CODE
from sonod.db import upsert
from sonod.domain import OFFICER_STEPS, STANDS_IN_FOR_CHAIRMAN, STEP_STATUS, Role, Status
from sonod.nid import check_identity_number, normalise_number
from sonod.settings import Settings
from workflows.application import CANCELLABLE, CertificateApplication
from workflows.messages import (
    Actor,
    Amendment,
    Applicant,
    Awaiting,
    Cancellation,
    Decision,
    StatusView,
    Submission,
)
from workflows.search_attributes import submitted_attributes


def new_application_id(now: dt.datetime) -> str:
    """The date and 64 random bits: unique by construction, and never a guessable neighbour of another."""
    return f"A{now:%y%m%d}-{secrets.token_hex(8).upper()}"


def canonical_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def claim_idempotency_key(session: Session, caller: str, key: str, digest: str, candidate: str) -> tuple[str, bool]:
    """The application this key stands for, and whether it is new (else an identical earlier request made it)."""
    upsert(session, db.IdempotencyKey, dict(caller=caller, key=key, request_hash=digest, application_id=candidate,
                                            created_at=db.utcnow()), ["caller", "key"])
    session.commit()
    row = session.get(db.IdempotencyKey, (caller, key), populate_existing=True)
    if row.request_hash != digest:
        raise Conflict("this Idempotency-Key was used for a different request")
    return row.application_id, row.application_id == candidate


def get_union(session: Session, slug: str | None, loc: list) -> db.Union:
    union = session.get(db.Union, slug) if slug else None
    if union is None:
        raise Invalid(loc, f"unknown union {slug!r}" if slug else "name the union")
    return union


def submission(session: Session, body: ApplicationIn, actor: Actor, tenant: str | None, application_id: str,
               now: dt.datetime) -> Submission:
    """The workflow's input, or 422 naming the field. The union's rules are not in it: the workflow reads them."""
    if body.union and tenant and body.union != tenant:
        raise Invalid(["body", "union"], f"this address serves the union {tenant}, not {body.union}")
    union = get_union(session, body.union or tenant, ["body", "union"])
    if actor.role is not Role.PORTAL:
        if not actor.role.applies_for_citizens:
            raise Forbidden(f"a {actor.role.value} does not submit applications")
        if actor.union != union.slug:
            raise Forbidden(f"{actor.username} does not serve the union {union.slug}")
    kind = BY_CODE.get(body.certificate_type)
    rule = session.get(db.UnionRule, (union.slug, body.certificate_type)) if kind else None
    if kind is None or rule is None or not rule.enabled:
        raise Invalid(["body", "certificate_type"], f"{union.slug} does not issue {body.certificate_type!r}")
    return Submission(
        application_id=application_id, union=union.slug, certificate_type=kind.code,
        applicant=checked_applicant(body.applicant, now), contact=body.contact,
        details=validate_details(kind.code, body.details), submitted_by=actor, submitted_at=now,
    )


def checked_applicant(applicant: Applicant, now: dt.datetime) -> Applicant:
    """The applicant with a normalised NID that fits the date of birth, or 422 naming the field."""
    applicant = applicant.model_copy(update={"nid": normalise_number(applicant.nid)})
    try:
        check_identity_number(applicant.nid, applicant.date_of_birth, today=now.date())
    except ValueError as e:
        raise Invalid(["body", "applicant", "nid"], str(e)) from None
    if applicant.date_of_birth > now.date():
        raise Invalid(["body", "applicant", "date_of_birth"], "the date of birth is in the future")
    return applicant


def validate_details(certificate_type: str, details: dict) -> dict:
    try:
        return BY_CODE[certificate_type].details.model_validate(details).model_dump(mode="json")
    except ValidationError as e:
        err = e.errors()[0]
        raise Invalid(["body", "details", *err["loc"]], err["msg"]) from None


def load_application(session: Session, application_id: str) -> db.Application:
    row = session.get(db.Application, application_id)
    if row is None:
        raise NotFound(f"no application {application_id}")
    return row


def may_read(actor: Actor, union: db.Union, submitted_by: str | None) -> bool:
    """A portal and a UDC operator see what they submitted; officers their union's; upazila officers their
    upazila's."""
    if actor.role in (Role.PORTAL, Role.UDC):
        return submitted_by == actor.username
    if actor.union is not None:
        return actor.union == union.slug
    return actor.role is Role.OPERATOR or actor.upazila == union.upazila_slug


def require_read(session: Session, actor: Actor, union_slug: str, submitted_by: str | None,
                 tenant: str | None = None) -> None:
    """403 unless the caller may see this union's record; 404 when the address names another union."""
    if tenant is not None and tenant != union_slug:
        raise NotFound(f"this address serves the union {tenant}, which has no such record")
    if not may_read(actor, session.get(db.Union, union_slug), submitted_by):
        raise Forbidden(f"{actor.username} may not see this union's applications")


def out_from_row(row: db.Application, events: bool = True) -> ApplicationOut:
    return ApplicationOut(
        application_id=row.id, union=row.union_slug, certificate_type=row.certificate_type, status=row.status,
        certificate_no=row.certificate_no, deadline_at=row.deadline_at, overdue=row.overdue, round=row.round,
        fee=FeeOut(amount=row.fee_amount, paid=row.fee_paid), awaiting=awaiting(row),
        events=[EventOut.model_validate(e) for e in row.events] if events else [],
    )


def out_from_view(view: StatusView) -> ApplicationOut:
    return ApplicationOut(
        application_id=view.application_id, union=view.union, certificate_type=view.certificate_type,
        status=view.status, certificate_no=view.certificate_no, deadline_at=view.deadline_at, overdue=view.overdue,
        round=view.round, fee=FeeOut(amount=view.fee.amount, currency=view.fee.currency, paid=view.fee_paid),
        awaiting=view.awaiting, events=[EventOut(**e.model_dump()) for e in view.events],
    )


def encode_cursor(row: db.Application) -> str:
    return base64.urlsafe_b64encode(json.dumps([row.created_at.isoformat(), row.id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        created, app_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return dt.datetime.fromisoformat(created), str(app_id)
    except (ValueError, TypeError):
        raise Invalid(["query", "cursor"], "the cursor is not one this API gave out") from None


# what a page of the list shows: not the applicant, identity and events (JSON of kilobytes a row)
LISTED_COLUMNS = (db.Application.id, db.Application.union_slug, db.Application.certificate_type,
                  db.Application.status, db.Application.certificate_no, db.Application.deadline_at,
                  db.Application.overdue, db.Application.round, db.Application.fee_amount, db.Application.fee_paid,
                  db.Application.awaiting, db.Application.created_at)


def page(session: Session, union: str, status: str | None, limit: int, cursor: str | None) -> ApplicationPage:
    """Newest first, keyset-paginated on (created_at, id)."""
    q = select(db.Application).options(load_only(*LISTED_COLUMNS)).where(db.Application.union_slug == union)
    if status:
        q = q.where(db.Application.status == status)
    if cursor:
        created, app_id = decode_cursor(cursor)
        # a row-value comparison, which the (union_slug, status, created_at, id) index can seek to; the
        # equivalent OR of two comparisons is only a filter, scanning every row of the earlier pages again
        q = q.where(tuple_(db.Application.created_at, db.Application.id) < tuple_(created, app_id))
    rows = session.scalars(q.order_by(db.Application.created_at.desc(), db.Application.id.desc())
                           .limit(limit + 1)).all()
    items = [out_from_row(r, events=False) for r in rows[:limit]]
    return ApplicationPage(items=items, next_cursor=encode_cursor(rows[limit - 1]) if len(rows) > limit else None)


# --- what the JSON API and the pages both do: submit, decide, revoke -------------------------------

async def end_transaction(session: Session) -> None:
    """Close the request's read transaction before waiting on Temporal: the workflow's activities write to the
    same database, and SQLite lets one writer in at a time."""
    await run_in_threadpool(session.commit)


async def run_update(session: Session, temporal: Client, application_id: str, update, arg, update_id: str):
    """Send a workflow update; the workflow's refusals become 403/409."""
    await end_transaction(session)
    try:
        return await temporal.get_workflow_handle(application_id).execute_update(update, arg, id=update_id)
    except WorkflowUpdateFailedError as e:
        raise from_update_failure(e) from None
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("the application has finished and takes no more decisions") from None
        raise


def audit_action(session: Session, union: str, actor: Actor, action: str, target: str, detail: dict) -> None:
    audit.record(session, union=union, actor=actor.username, role=actor.role.value, action=action, target=target,
                 detail=detail, ip=actor.ip)


async def submit(session: Session, settings: Settings, temporal: Client, body: ApplicationIn, caller: Actor,
                 tenant: str | None, key: str | None) -> tuple[str, Status]:
    """Start the application's workflow. The same key with the same body gives the same application, open or ended,
    for ever: a repeat never starts it again, and no workflow id is ever used twice."""
    now = db.utcnow()
    app = await run_in_threadpool(submission, session, body, caller, tenant, new_application_id(now), now)
    if key:
        digest = canonical_hash(body.model_dump(mode="json") | {"union": app.union})
        app.application_id, new = await run_in_threadpool(claim_idempotency_key, session, caller.username, key,
                                                          digest, app.application_id)
        if not new and (row := await run_in_threadpool(session.get, db.Application, app.application_id)):
            return row.id, Status(row.status)  # the workflow has recorded it: it started, whatever it is now
    await end_transaction(session)
    try:
        await temporal.start_workflow(
            CertificateApplication.run, app, id=app.application_id, task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=submitted_attributes(app),
        )
    except WorkflowAlreadyStartedError:
        pass  # a retried request whose application has already finished
    row = await run_in_threadpool(session.get, db.Application, app.application_id)
    return app.application_id, Status(row.status) if row else Status.SUBMITTED


async def decide(session: Session, temporal: Client, officer: Actor, tenant: str | None, application_id: str,
                 body: DecisionIn) -> DecisionOut:
    """The officer's decision on the step the application waits on (the workflow checks who and when)."""
    row = await run_in_threadpool(load_application, session, application_id)
    await run_in_threadpool(require_read, session, officer, row.union_slug, None, tenant)
    officer = await run_in_threadpool(acting_in, session, officer, row.union_slug)
    decision = Decision(kind=body.decision, reason=body.reason, actor=officer)
    update_id = f"decide:{row.status}:{row.round}:{officer.username}:{canonical_hash(body.model_dump())[:12]}"
    view = await run_update(session, temporal, application_id, CertificateApplication.decide, decision, update_id)
    return DecisionOut(application_id=application_id, status=view.status)


# The caller has been checked already: by `require_read` in the API, by the tracking check (application number and
# mobile number) in the citizen's portal.

async def cancel(session: Session, temporal: Client, caller: Actor, row: db.Application, reason: str) -> DecisionOut:
    """The applicant's side withdraws an application that no officer has decided yet (the workflow says when)."""
    view = await run_update(session, temporal, row.id, CertificateApplication.cancel,
                            Cancellation(reason=reason, actor=caller), f"cancel:{caller.username}")
    return DecisionOut(application_id=row.id, status=view.status)


async def amend(session: Session, temporal: Client, caller: Actor, row: db.Application, body: AmendIn) -> DecisionOut:
    """The applicant's side corrects an application an officer returned; the workflow checks it all again."""
    details = body.details
    if details is not None:
        details = validate_details(row.certificate_type, details)
    applicant = body.applicant and checked_applicant(body.applicant, db.utcnow())
    amendment = Amendment(applicant=applicant, contact=body.contact, details=details, actor=caller)
    view = await run_update(session, temporal, row.id, CertificateApplication.amend, amendment,
                            f"amend:{row.round}:{canonical_hash(body.model_dump(mode='json'))[:12]}")
    return DecisionOut(application_id=row.id, status=view.status)


def cancellable(row: db.Application) -> bool:
    """Whether the workflow would still take a cancellation (it has the last word: a decision may come first)."""
    return Status(row.status) in CANCELLABLE


def last_event(row: db.Application, status: Status) -> dict | None:
    """The latest event that entered this status (an officer's return carries the reason as its note)."""
    return next((e for e in reversed(row.events or []) if e["status"] == status.value and e["actor"] != "outbox"),
                None)


def citizens_turn_ends(settings: Settings, row: db.Application) -> dt.datetime | None:
    """When an application that waits on the citizen (the fee, the corrections) is cancelled if nothing comes, by
    today's settings (the workflow keeps those it started with)."""
    waits = {Status.AWAITING_PAYMENT: settings.payment_expiry_days,
             Status.RETURNED: settings.correction_expiry_days}.get(Status(row.status))
    since = last_event(row, Status(row.status)) if waits else None
    return dt.datetime.fromisoformat(since["at"]) + timedelta(days=waits) if since else None


def issued_certificate(session: Session, certificate_no: str) -> db.Certificate:
    row = session.get(db.Certificate, certificate_no)
    if row is None or row.pdf_path is None:
        raise NotFound(f"no certificate {certificate_no}")
    return row


def certificate_file(settings: Settings, row: db.Certificate) -> Path:
    path = settings.pdf_dir / row.pdf_path
    if not path.exists():
        raise NotFound(f"the PDF of {row.certificate_no} is missing from storage")
    return path


def revoke(session: Session, officer: Actor, tenant: str | None, certificate_no: str, reason: str) -> db.Certificate:
    """The union's chairman, or whoever acts for the chairman there, revokes an issued certificate."""
    row = issued_certificate(session, certificate_no)
    require_read(session, officer, row.union_slug, row.submitted_by, tenant)
    officer = acting_in(session, officer, row.union_slug)
    chairman = officer.role is Role.CHAIRMAN and officer.union == row.union_slug
    if not chairman and Role.CHAIRMAN not in officer.acts_for:
        raise Forbidden("only the union's chairman, or whoever acts for the chairman by delegation, revokes")
    if row.revoked_at is not None:
        raise Conflict(f"{certificate_no} was already revoked")
    row.revoked_at, row.revoked_by, row.revoke_reason = db.utcnow(), officer.username, reason
    audit_action(session, row.union_slug, officer, "certificate.revoke", certificate_no, {"reason": reason})
    session.flush()
    return row


def catalogue(session: Session, slug: str | None) -> list[dict]:
    """Every certificate type with the JSON Schema of its `details`; with a union, its fee, deadline and chain."""
    rules = {}
    if slug:
        get_union(session, slug, ["query", "union"])
        rules = {r.certificate_type: r
                 for r in session.scalars(select(db.UnionRule).where(db.UnionRule.union_slug == slug))}
    out = []
    for t in session.scalars(select(db.CertificateTypeRow).order_by(db.CertificateTypeRow.code)):
        item = {"code": t.code, "name_bn": t.name_bn, "name_en": t.name_en, "fields": t.fields_schema,
                "valid_days": t.valid_days}
        if rule := rules.get(t.code):
            if not rule.enabled:
                continue
            item |= {"union": slug, "deadline_days": rule.deadline_days, "chain": rule.chain,
                     "fee": {"amount": sum(line["amount"] for line in rule.fee_lines), "currency": "BDT",
                             "lines": rule.fee_lines}}
        out.append(item)
    return out


# --- reading the read model for people: the citizen's tracking, the officer's queue, the union's figures -----

def _mobile(number: str | None) -> str:
    digits = to_ascii_digits(number or "").strip().replace(" ", "").replace("-", "")
    return digits.removeprefix("+").removeprefix("88") if len(digits) > 11 else digits


def track(session: Session, application_id: str, mobile: str) -> db.Application | None:
    """The application, only when the mobile number given at submission matches too."""
    row = session.get(db.Application, to_ascii_digits(application_id.strip().upper()))
    given = _mobile(mobile)
    if row is None or not given or not secrets.compare_digest(_mobile(row.contact.get("mobile")), given):
        return None
    return row


def certificate_of(session: Session, application_id: str) -> db.Certificate | None:
    return session.scalar(select(db.Certificate).where(db.Certificate.application_id == application_id,
                                                       db.Certificate.pdf_path.is_not(None)))


def awaiting(row: db.Application) -> Awaiting | None:
    """Who may decide the application now, as its workflow published it."""
    return Awaiting.model_validate(row.awaiting) if row.awaiting and Status(row.status).awaits_officer else None


def may_decide(row: db.Application, actor: Actor) -> bool:
    return (waits := awaiting(row)) is not None and waits.admits(actor)


def queue(session: Session, actor: Actor, limit: int = 200) -> list[db.Application]:
    """What this officer may decide now, by the workflow's word, overdue first, then by deadline: in their union, or
    in their upazila's unions for those who stand in for a chairman."""
    if actor.union is not None:
        unions = [actor.union]
    elif actor.role in STANDS_IN_FOR_CHAIRMAN and actor.upazila:
        unions = list(session.scalars(select(db.Union.slug).where(db.Union.upazila_slug == actor.upazila)))
    else:
        return []
    rows = session.scalars(select(db.Application).where(
        db.Application.union_slug.in_(unions), db.Application.status.in_([s.value for s in OFFICER_STEPS]))).all()
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted((r for r in rows if may_decide(r, actor)),
                  key=lambda r: (not r.overdue, r.deadline_at or far, r.id))[:limit]


def submitted_by(session: Session, username: str, limit: int = 100) -> list[db.Application]:
    return list(session.scalars(select(db.Application).where(db.Application.submitted_by == username)
                                .order_by(db.Application.created_at.desc()).limit(limit)))


FINAL_VALUES = [s.value for s in Status if s.is_final]
OFFICER_STEPS_IN_ORDER = [STEP_STATUS[r] for r in (Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN)]


def union_figures(session: Session, union: str) -> dict:
    """The union's backlog by status, overdue applications by step, and the median time to issue."""
    backlog = dict(session.execute(
        select(db.Application.status, func.count()).where(db.Application.union_slug == union,
                                                           db.Application.status.not_in(FINAL_VALUES))
        .group_by(db.Application.status)).all())
    overdue = dict(session.execute(
        select(db.Application.status, func.count()).where(db.Application.union_slug == union,
                                                           db.Application.overdue,
                                                           db.Application.status.not_in(FINAL_VALUES))
        .group_by(db.Application.status)).all())
    issued = session.execute(
        select(db.Application.created_at, db.Certificate.issued_at)
        .join(db.Certificate, db.Certificate.application_id == db.Application.id)
        .where(db.Application.union_slug == union, db.Certificate.pdf_path.is_not(None))).all()
    durations = [issued_at - created for created, issued_at in issued]
    return {
        "backlog": {s: backlog.get(s.value, 0) for s in Status if not s.is_final},
        "overdue": {s: overdue.get(s.value, 0) for s in OFFICER_STEPS_IN_ORDER},
        "issued": len(durations),
        "median_to_issue": statistics.median(durations) if durations else None,
    }
