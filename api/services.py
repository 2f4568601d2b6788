"""What the handlers share: turning a request into a workflow input, idempotency, and reading the read model."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.schemas import ApplicationIn, ApplicationOut, ApplicationPage, EventOut, FeeOut
from sonod import db
from sonod.catalogue import BY_CODE
from sonod.db import upsert
from sonod.domain import Role
from sonod.nid import check_identity_number, normalise_number
from sonod.settings import Settings
from workflows.messages import Actor, ApplicationInput, Fee, StatusView, Timing, UnionView


def new_application_id(now: dt.datetime) -> str:
    return f"A{now:%y%m%d}-{secrets.token_hex(4).upper()}"


def canonical_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def claim_idempotency_key(session: Session, caller: str, key: str, digest: str, candidate: str) -> str:
    """The application this key stands for: a new one, or the one an identical earlier request made."""
    upsert(session, db.IdempotencyKey, dict(caller=caller, key=key, request_hash=digest, application_id=candidate,
                                            created_at=db.utcnow()), ["caller", "key"])
    session.commit()
    row = session.get(db.IdempotencyKey, (caller, key), populate_existing=True)
    if row.request_hash != digest:
        raise Conflict("this Idempotency-Key was used for a different request")
    return row.application_id


def get_union(session: Session, slug: str | None, loc: list) -> db.Union:
    union = session.get(db.Union, slug) if slug else None
    if union is None:
        raise Invalid(loc, f"unknown union {slug!r}" if slug else "name the union")
    return union


def application_input(session: Session, settings: Settings, body: ApplicationIn, actor: Actor, tenant: str | None,
                      application_id: str, now: dt.datetime) -> ApplicationInput:
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
    details = validate_details(kind.code, body.details)
    applicant = body.applicant.model_copy(update={"nid": normalise_number(body.applicant.nid)})
    try:
        check_identity_number(applicant.nid, applicant.date_of_birth, today=now.date())
    except ValueError as e:
        raise Invalid(["body", "applicant", "nid"], str(e)) from None
    if applicant.date_of_birth > now.date():
        raise Invalid(["body", "applicant", "date_of_birth"], "the date of birth is in the future")
    fee_lines = rule.fee_lines or []
    escalation = union.escalation or {}
    return ApplicationInput(
        application_id=application_id,
        union=UnionView(slug=union.slug, name_bn=union.name_bn, name_en=union.name_en, upazila_bn=union.upazila_bn,
                        upazila_en=union.upazila_en, upazila_slug=union.upazila_slug,
                        district_bn=union.district_bn, district_en=union.district_en),
        certificate_type=kind.code, applicant=applicant, contact=body.contact, details=details,
        chain=[Role(r) for r in rule.chain],
        fee=Fee(amount=sum(line["amount"] for line in fee_lines), lines=fee_lines),
        timing=Timing(
            deadline_days=rule.deadline_days,
            reminder_every=timedelta(hours=settings.reminder_interval_hours),
            escalate_after=timedelta(days=escalation.get("after_days", settings.escalate_after_days)),
            payment_expiry=timedelta(days=settings.payment_expiry_days),
            correction_expiry=timedelta(days=settings.correction_expiry_days),
        ),
        escalation_roles=[Role(r) for r in escalation.get("roles", [Role.ACTING_CHAIRMAN, Role.ADMINISTRATOR])],
        submitted_by=actor, submitted_at=now,
    )


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
    if actor.role is Role.PORTAL:
        return submitted_by == actor.username
    if actor.union is not None:
        return actor.union == union.slug
    return actor.role is Role.OPERATOR or actor.upazila == union.upazila_slug


def require_read(session: Session, actor: Actor, union_slug: str, submitted_by: str | None) -> None:
    if not may_read(actor, session.get(db.Union, union_slug), submitted_by):
        raise Forbidden(f"{actor.username} may not see this union's applications")


def out_from_row(row: db.Application, events: bool = True) -> ApplicationOut:
    return ApplicationOut(
        application_id=row.id, union=row.union_slug, certificate_type=row.certificate_type, status=row.status,
        certificate_no=row.certificate_no, deadline_at=row.deadline_at, overdue=row.overdue, round=row.round,
        fee=FeeOut(amount=row.fee_amount, paid=row.fee_paid),
        events=[EventOut.model_validate(e) for e in row.events] if events else [],
    )


def out_from_view(view: StatusView) -> ApplicationOut:
    return ApplicationOut(
        application_id=view.application_id, union=view.union, certificate_type=view.certificate_type,
        status=view.status, certificate_no=view.certificate_no, deadline_at=view.deadline_at, overdue=view.overdue,
        round=view.round, fee=FeeOut(amount=view.fee.amount, currency=view.fee.currency, paid=view.fee_paid),
        events=[EventOut(**e.model_dump()) for e in view.events],
    )


def encode_cursor(row: db.Application) -> str:
    return base64.urlsafe_b64encode(json.dumps([row.created_at.isoformat(), row.id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        created, app_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return dt.datetime.fromisoformat(created), str(app_id)
    except (ValueError, TypeError):
        raise Invalid(["query", "cursor"], "the cursor is not one this API gave out") from None


def page(session: Session, union: str, status: str | None, limit: int, cursor: str | None) -> ApplicationPage:
    """Newest first, keyset-paginated on (created_at, id)."""
    q = select(db.Application).where(db.Application.union_slug == union)
    if status:
        q = q.where(db.Application.status == status)
    if cursor:
        created, app_id = decode_cursor(cursor)
        q = q.where(or_(db.Application.created_at < created,
                        and_(db.Application.created_at == created, db.Application.id < app_id)))
    rows = session.scalars(q.order_by(db.Application.created_at.desc(), db.Application.id.desc())
                           .limit(limit + 1)).all()
    items = [out_from_row(r, events=False) for r in rows[:limit]]
    return ApplicationPage(items=items, next_cursor=encode_cursor(rows[limit - 1]) if len(rows) > limit else None)
