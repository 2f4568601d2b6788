"""Applications: turning a request into the workflow's input, idempotency, who may read one, the workflow's
updates (decide, cancel, amend, escalate), and reading the read model (API v1's list, the citizen's tracking)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import json
import re
import secrets
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session, load_only
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Conflict, Forbidden, Invalid, NotFound, from_update_failure
from api.limits import Window, address_key
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
from api.services import licences, payment_orders
from api.services.editions import checked_correction, defaults_of_extensions, record_attestation, writes_text
from api.services.officers import acting_in, awaiting
from api.services.transaction import end_transaction
from api.services.unions import get_union
from sonod import db
from sonod.bengali import to_ascii_digits
from sonod.catalogue import BY_CODE
from sonod.db import upsert
from sonod.domain import N_, Role, Status, normalise_mobile
from sonod.nid import NumberError, check_identity_number, normalise_number, reads_as_brn
from sonod.settings import Settings
from workflows.application import CANCELLABLE, CertificateApplication
from workflows.messages import (
    LEAN_PROCESS,
    Actor,
    Amendment,
    Applicant,
    Cancellation,
    Decision,
    Escalation,
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
    """The application this key stands for, and whether it is new (else an identical earlier request made it).

    Not committed here: `submit` ends the transaction before it starts the workflow."""
    upsert(session, db.IdempotencyKey, dict(caller=caller, key=key, request_hash=digest, application_id=candidate,
                                            created_at=db.utcnow()), ["caller", "key"])
    row = session.get(db.IdempotencyKey, (caller, key), populate_existing=True)
    assert row is not None, "the upsert above wrote it, in this transaction"
    if row.request_hash != digest:
        raise Conflict("this Idempotency-Key was used for a different request")
    return row.application_id, row.application_id == candidate


def named_union(session: Session, named: str | None, tenant: str | None, loc: list) -> db.Union:
    """The union a request names, or the one its address serves; 422 when the two differ."""
    if named and tenant and named != tenant:
        raise Invalid(loc, f"this address serves the union {tenant}, not {named}")
    return get_union(session, named or tenant, loc)


def submission(session: Session, body: ApplicationIn, actor: Actor, tenant: str | None, application_id: str,
               now: dt.datetime) -> Submission:
    """The workflow's input, or 422 naming the field. The union's rules are not in it: the workflow reads them."""
    union = named_union(session, body.union, tenant, ["body", "union"])
    if actor.role is not Role.PORTAL:
        if not actor.role.applies_for_citizens:
            raise Forbidden(f"a {actor.role.value} does not submit applications")
        if actor.union != union.slug:
            raise Forbidden(f"{actor.username} does not serve the union {union.slug}")
    kind = BY_CODE.get(body.certificate_type)
    rule = session.get(db.UnionRule, (union.slug, body.certificate_type)) if kind else None
    if kind is None or rule is None or not rule.enabled:
        raise Invalid(["body", "certificate_type"], f"{union.slug} does not issue {body.certificate_type!r}")
    applicant = checked_applicant(body.applicant, now)
    details = validate_details(kind.code, body.details)
    licences.check_details(session, union.slug, kind.code, details, now)  # a trade licence's year, its renewal
    return Submission(
        application_id=application_id, union=union.slug, certificate_type=kind.code,
        applicant=applicant, contact=body.contact,
        details=details, submitted_by=actor, submitted_at=now,
        language=body.language,
        corrects=checked_correction(session, body.corrects, union.slug, kind.code, applicant),
        process=LEAN_PROCESS,
    )


def checked_applicant(applicant: Applicant, now: dt.datetime) -> Applicant:
    """The applicant with exactly one normalised number, an NID or a birth registration number (`brn`), that fits
    the date of birth, or 422 naming the field. A minor's 17-digit `nid` is read as the BRN it must be."""
    given = [field for field in ("nid", "brn") if getattr(applicant, field) is not None]
    if len(given) != 1:
        both = N_("give the NID or the birth registration number, not both")
        neither = N_("give the NID or, without one, the birth registration number")
        raise Invalid(["body", "applicant", "brn" if given else "nid"], both if given else neither,
                      code=both if given else neither)
    field = given[0]
    number = normalise_number(getattr(applicant, field))
    brn = field == "brn" or reads_as_brn(number, applicant.date_of_birth, now.date())
    try:
        check_identity_number(number, applicant.date_of_birth, brn=brn, today=now.date())
    except NumberError as e:
        raise Invalid(["body", "applicant", field], str(e), code=e.template, params=e.params) from None
    applicant = applicant.model_copy(update={"nid": None if brn else number, "brn": number if brn else None})
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
    union = session.get(db.Union, union_slug)
    assert union is not None, f"{union_slug} is an application's union (a foreign key) or one just looked up"
    if not may_read(actor, union, submitted_by):
        raise Forbidden(f"{actor.username} may not see this union's applications")


def readable(session: Session, actor: Actor, application_id: str, tenant: str | None) -> db.Application:
    """The application, if this caller may see it (the applicant's side: only what it submitted)."""
    row = load_application(session, application_id)
    require_read(session, actor, row.union_slug, row.submitted_by, tenant)
    return row


def out_from_row(row: db.Application, events: bool = True) -> ApplicationOut:
    return ApplicationOut(
        application_id=row.id, union=row.union_slug, certificate_type=row.certificate_type, status=row.status,
        certificate_no=row.certificate_no, deadline_at=row.deadline_at, overdue=row.overdue, round=row.round,
        fee=FeeOut(amount=row.fee_amount, paid=row.fee_paid), awaiting=awaiting(row),
        revoked=row.revoked_at is not None, language=row.language, corrects=row.corrects,
        events=[EventOut.of(e) for e in row.events] if events else [],
    )


def out_from_view(view: StatusView) -> ApplicationOut:
    return ApplicationOut(
        application_id=view.application_id, union=view.union, certificate_type=view.certificate_type,
        status=view.status, certificate_no=view.certificate_no, deadline_at=view.deadline_at, overdue=view.overdue,
        round=view.round, fee=FeeOut(amount=view.fee.amount, currency=view.fee.currency, paid=view.fee_paid),
        awaiting=view.awaiting, events=[EventOut.of(e.model_dump(mode="json")) for e in view.events],
    )


def encode_cursor(row) -> str:
    """The place after `row` (anything with `created_at` and `id`) in a newest-first list."""
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
                  db.Application.awaiting, db.Application.revoked_at, db.Application.created_at,
                  db.Application.language, db.Application.corrects)
NEWEST_FIRST = (db.Application.created_at.desc(), db.Application.id.desc())


def _key():
    return tuple_(db.Application.created_at, db.Application.id)


def _listed(columns, union: str, status: str | None, cursor: str | None):
    """A union's applications (of one status), after the cursor: the (union_slug, [status,] created_at, id) index
    walked newest first."""
    q = select(*columns).where(db.Application.union_slug == union)
    if status:
        q = q.where(db.Application.status == status)
    if cursor:
        # a row-value comparison, which the (union_slug, status, created_at, id) index can seek to; the
        # equivalent OR of two comparisons is only a filter, scanning every row of the earlier pages again
        q = q.where(_key() < tuple_(*decode_cursor(cursor)))
    return q


def _keyset(session: Session, q, limit: int) -> tuple[Sequence, str | None]:
    rows = session.scalars(q.order_by(*NEWEST_FIRST).limit(limit + 1)).all()
    return rows[:limit], encode_cursor(rows[limit - 1]) if len(rows) > limit else None


def page(session: Session, union: str, status: str | None, limit: int, cursor: str | None) -> ApplicationPage:
    """Newest first, keyset-paginated on (created_at, id)."""
    q = _listed([db.Application], union, status, cursor).options(load_only(*LISTED_COLUMNS))
    rows, next_cursor = _keyset(session, q, limit)
    return ApplicationPage(items=[out_from_row(r, events=False) for r in rows], next_cursor=next_cursor)


# --- the officers' list and search ----------------------------------------------------------------------

class Listed(NamedTuple):
    """A row of the officers' list: the application as API v1 lists it, and the applicant's names."""

    app: ApplicationOut
    name_bn: str
    name_en: str

    @classmethod
    def of(cls, row: db.Application) -> Listed:
        names = row.applicant or {}
        return cls(out_from_row(row, events=False), names.get("name_bn") or "", names.get("name_en") or "")


@dataclass
class Found:
    """A page of the officers' list. A name search reads at most NAME_SCAN applications a page: `searched_to` is
    then the oldest one it read, and `next_cursor` goes on from there even when the page found nothing."""

    items: list[Listed]
    next_cursor: str | None
    kind: str | None = None  # what the search text was taken for (SEARCH_KINDS), None when nothing is searched
    searched_to: dt.datetime | None = None


SEARCH_KINDS = ("application", "certificate", "mobile", "name")
APPLICATION_NO = re.compile(r"A\d{6}-[0-9A-F]{16}")
CERTIFICATE_NO = re.compile(r"[A-Z0-9-]+-\d{4}-\d{6}")
MOBILE = re.compile(r"01[3-9]\d{8}")
NUMBER_LIKE = re.compile(r"[0-9+\- ]+")
NAME_SCAN = 5000
SEARCH_DIGITS = N_("Type a whole mobile number (11 digits), an application number or a certificate number, or a "
                   "part of a name.")


def search_terms(text: str) -> tuple[str, str] | None:
    """What an officer typed, as (kind, value): an application or certificate number (Bengali digits and lower
    case folded), a mobile number (as its 11 digits), else a part of a name; None for nothing. Digits that are
    none of the numbers are a 422 on `q`."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if not text:
        return None
    folded = to_ascii_digits(text).upper()
    if APPLICATION_NO.fullmatch(folded):
        return "application", folded
    if CERTIFICATE_NO.fullmatch(folded):
        return "certificate", folded
    mobile = normalise_mobile(text)
    if MOBILE.fullmatch(mobile):
        return "mobile", mobile
    if NUMBER_LIKE.fullmatch(to_ascii_digits(text)):
        raise Invalid(["query", "q"], SEARCH_DIGITS)
    return "name", text


def search(session: Session, union: str, status: str | None, text: str, limit: int, cursor: str | None) -> Found:
    """The union's applications, newest first, that match what the officer typed (`search_terms`). The numbers and
    the mobile number are index lookups; a part of a name is looked for in the next NAME_SCAN applications after
    the cursor (the union's list index walked, the names read from those rows only), so that a page costs the
    same at a million rows."""
    terms = search_terms(text)
    q = _listed([db.Application], union, status, cursor).options(load_only(*LISTED_COLUMNS, db.Application.applicant))
    if terms is None:
        rows, next_cursor = _keyset(session, q, limit)
        return Found([Listed.of(r) for r in rows], next_cursor)
    kind, value = terms
    boundary = None
    if kind == "application":
        q = q.where(db.Application.id == value)
    elif kind == "certificate":
        q = q.where(db.Application.id == select(db.Certificate.application_id)
                    .where(db.Certificate.certificate_no == value).scalar_subquery())
    elif kind == "mobile":  # as given: 01XXXXXXXXX, 8801XXXXXXXXX or +8801XXXXXXXXX (workflows.messages.Mobile)
        q = q.where(db.contact_mobile().in_([value, f"88{value}", f"+88{value}"]))
    else:
        # the window's oldest row, when older rows remain beyond it
        edge = session.execute(_listed(_key().clauses, union, status, cursor).order_by(*NEWEST_FIRST)
                               .offset(NAME_SCAN - 1).limit(2)).all()
        boundary = edge[0] if len(edge) == 2 else None
        if boundary is not None:
            q = q.where(_key() >= tuple_(*boundary))
        q = q.where(_name_contains(value))
    rows, next_cursor = _keyset(session, q, limit)
    found = Found([Listed.of(r) for r in rows], next_cursor, kind)
    if next_cursor is None and boundary is not None:
        found.next_cursor, found.searched_to = encode_cursor(boundary), boundary.created_at
    return found


def _name_contains(text: str):
    """The applicant's Bengali or English name holds the text (English in any case; `%` and `_` are letters)."""
    name_bn = db.Application.applicant["name_bn"].as_string()
    name_en = func.lower(db.Application.applicant["name_en"].as_string())
    return or_(name_bn.contains(text, autoescape=True), name_en.contains(text.lower(), autoescape=True))


OVERDUE_LIMIT = 200


def overdue(session: Session, unions: list[str], limit: int = OVERDUE_LIMIT) -> list[Listed]:
    """The open applications of these unions that have passed their deadline, the longest overdue first."""
    rows = session.scalars(
        select(db.Application).options(load_only(*LISTED_COLUMNS, db.Application.applicant))
        .where(db.Application.union_slug.in_(unions), db.Application.overdue,
               db.Application.status.in_([s.value for s in Status if not s.is_final]))
        .order_by(db.Application.deadline_at, db.Application.id).limit(limit)).all()
    return [Listed.of(r) for r in rows]


def listing(session: Session, caller: Actor, tenant: str | None, union: str | None, status: Status | None,
            limit: int, cursor: str | None) -> ApplicationPage:
    """A page of a union's applications (the one named, else the address's, else the officer's), for its officers."""
    row = named_union(session, union, tenant, ["query", "union"]) if union or tenant else \
        get_union(session, caller.union, ["query", "union"])
    require_read(session, caller, row.slug, None)
    return page(session, row.slug, status.value if status else None, limit, cursor)


async def read(session: Session, temporal: Client, caller: Actor, tenant: str | None,
               application_id: str) -> ApplicationOut:
    """The application as the read model has it, or, submitted a moment ago, as its workflow says."""
    row = await run_in_threadpool(session.get, db.Application, application_id)
    if row is not None:
        await run_in_threadpool(require_read, session, caller, row.union_slug, row.submitted_by, tenant)
        out = out_from_row(row)
        if row.status == Status.AWAITING_PAYMENT.value:
            order = await run_in_threadpool(payment_orders.open_order, session, row.id)
            out.pay_url = order.redirect_url if order else None
        return out
    # the read model has not caught up yet, so ask the workflow
    await end_transaction(session)
    try:
        view = await temporal.get_workflow_handle(application_id).query(CertificateApplication.view)
    except RPCError as e:
        if e.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise NotFound(f"no application {application_id}") from None
        raise
    await run_in_threadpool(require_read, session, caller, view.union, view.submitted_by, tenant)
    return out_from_view(view)


async def recorded(session: Session, application_id: str, wait_s: float = 3.0) -> db.Application | None:
    """The read model's row, waiting a moment for a workflow that has just started to record it."""
    deadline = time.monotonic() + wait_s
    while True:
        row = await run_in_threadpool(session.get, db.Application, application_id)
        if row is not None or time.monotonic() > deadline:
            return row
        await end_transaction(session)  # no transaction held open (SQLite: one writer) while waiting
        await asyncio.sleep(0.1)


# --- what the JSON API and the pages both do: submit, decide, cancel, amend, escalate -------------

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


async def submit(session: Session, settings: Settings, temporal: Client, body: ApplicationIn, caller: Actor,
                 tenant: str | None, key: str | None) -> tuple[str, Status]:
    """Start the application's workflow. The same key with the same body gives the same application, open or ended,
    for ever: a repeat never starts it again, and no workflow id is ever used twice."""
    now = db.utcnow()
    app = await run_in_threadpool(submission, session, body, caller, tenant, new_application_id(now), now)
    if key:
        asked = body.model_dump(mode="json", exclude=defaults_of_extensions(body))
        digest = canonical_hash(asked | {"union": app.union})
        app.application_id, new = await run_in_threadpool(claim_idempotency_key, session, caller.username, key,
                                                          digest, app.application_id)
        if not new and (row := await run_in_threadpool(session.get, db.Application, app.application_id)):
            return row.id, Status(row.status)  # the workflow has recorded it: it started, whatever it is now
    await end_transaction(session)
    with contextlib.suppress(WorkflowAlreadyStartedError):  # a retried request whose application has already finished
        await temporal.start_workflow(
            CertificateApplication.run, app, id=app.application_id, task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=submitted_attributes(app),
        )
    row = await run_in_threadpool(session.get, db.Application, app.application_id)
    return app.application_id, Status(row.status) if row else Status.SUBMITTED


async def decide(session: Session, temporal: Client, officer: Actor, tenant: str | None, application_id: str,
                 body: DecisionIn) -> DecisionOut:
    """The officer's decision on the step the application waits on (the workflow checks who and when)."""
    row = await run_in_threadpool(load_application, session, application_id)
    await run_in_threadpool(require_read, session, officer, row.union_slug, None, tenant)
    officer = await run_in_threadpool(acting_in, session, officer, row.union_slug)
    decision = Decision(kind=body.decision, reason=body.reason, actor=officer, text=body.text, text_en=body.text_en)
    update_id = f"decide:{row.status}:{row.round}:{officer.username}:{canonical_hash(body.model_dump())[:12]}"
    writes = body.text is not None and await run_in_threadpool(writes_text, session, row)
    view = await run_update(session, temporal, application_id, CertificateApplication.decide, decision, update_id)
    if writes:  # the approval of the step that writes a free-text attestation: its text, for the chairman to read
        await run_in_threadpool(record_attestation, session, application_id, decision)
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


async def escalate(session: Session, temporal: Client, officer: Actor, tenant: str | None, application_id: str,
                   reason: str) -> DecisionOut:
    """An operator lets the acting chairman or administrator decide now, before the deadline escalates (the workflow
    checks who)."""
    row = await run_in_threadpool(load_application, session, application_id)
    await run_in_threadpool(require_read, session, officer, row.union_slug, None, tenant)
    view = await run_update(session, temporal, application_id, CertificateApplication.escalate,
                            Escalation(reason=reason, actor=officer), f"escalate:{row.round}:{officer.username}")
    return DecisionOut(application_id=application_id, status=view.status)


def cancellable(settings: Settings, row: db.Application) -> bool:
    """Whether the workflow would still take a cancellation (it has the last word: a decision may come first); after an
    NID mismatch, only while the applicant may still correct it."""
    if row.status == Status.NID_FAILED:
        return correctable(settings, row) is not None
    return Status(row.status) in CANCELLABLE


def last_event(row: db.Application, status: Status) -> dict | None:
    """The latest event that entered this status (an officer's return carries the reason as its note)."""
    return next((e for e in reversed(row.events or []) if e["status"] == status.value and e["actor"] != "outbox"),
                None)


def citizens_turn_ends(settings: Settings, row: db.Application) -> dt.datetime | None:
    """When an application that waits on the citizen (the fee, the corrections) is cancelled if nothing comes, by
    today's settings (the workflow keeps those it started with)."""
    waits = {Status.AWAITING_PAYMENT: settings.payment_expiry_days,
             Status.RETURNED: settings.correction_expiry_days,
             Status.NID_FAILED: settings.correction_expiry_days}.get(Status(row.status))
    if not waits:
        return None
    since = last_event(row, Status(row.status))
    return dt.datetime.fromisoformat(since["at"]) + timedelta(days=waits) if since else None


def correctable(settings: Settings, row: db.Application) -> dict | None:
    """The event that made the application the applicant's to correct (an officer's return, or an NID record that
    did not match), while the correction is still open; else None (the workflow has the last word)."""
    if row.status not in (Status.RETURNED, Status.NID_FAILED):
        return None
    ends = citizens_turn_ends(settings, row)
    return last_event(row, Status(row.status)) if ends is None or ends > db.utcnow() else None


# --- the citizen's tracking: the application number and the mobile number given with it ---------------

# The pair is the citizen's only key. From one address: ten wrong mobile numbers for one application number in 15
# minutes, then 429, and thirty wrong tries whatever the numbers. Per address, so that a stranger's wrong guesses
# never lock the owner out of his own application.
WRONG_TRIES = Window(10, 15 * 60.0, "too many wrong tries for this application number; try again in 15 minutes")
ADDRESS_TRIES = Window(30, 15 * 60.0, "too many wrong tries from this address; try again in 15 minutes")


class NotTracked(NotFound):
    """No application of this union has this number and this mobile number."""


def track(session: Session, union: str, application_id: str, mobile: str, ip: str | None) -> db.Application:
    """The union's application with this number, only when the mobile number given at submission matches too: else
    404 (NotTracked), and 429 after too many wrong tries from one address."""
    # the number as the lookup reads it (Bengali digits folded): every spelling of one number is one key
    number, address = to_ascii_digits(application_id.strip().upper()), address_key(ip)
    ADDRESS_TRIES.check(address)
    WRONG_TRIES.check(f"{number}|{address}")
    row = session.get(db.Application, number)
    given = normalise_mobile(mobile)
    if row is None or not given or not secrets.compare_digest(normalise_mobile(row.contact.get("mobile")), given) \
            or row.union_slug != union:
        ADDRESS_TRIES.hit(address)
        WRONG_TRIES.hit(f"{number}|{address}")
        raise NotTracked("not_found_track")
    return row
