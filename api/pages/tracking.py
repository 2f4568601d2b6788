"""What a citizen does with an application found by its number and the mobile number given with it: see where it
is, cancel it while no officer has decided, correct it when an officer sent it back, pay its fee, and download the
certificate once issued.

Every action posts the application number and the mobile number again and is refused (404) unless they match: the
pair is the citizen's only key. The actions go through the same services as API v1 (`/cancel`, `/amend`,
`/payments/callback`); the workflow has the last word on whether they are still allowed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from api import services
from api.deps import DbSession, SettingsDep, TemporalClient, Tenant, client_ip
from api.errors import ApiError, NotFound
from api.limits import Window, address_key
from api.pages import apply, forms, gateway
from api.pages.common import ERROR_TITLES, Csrf, PageRoute, citizen, render
from api.pages.i18n import N_
from api.schemas import CancelIn
from sonod import db
from sonod.bengali import to_ascii_digits
from sonod.domain import Status
from sonod.settings import Settings

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Text = Annotated[str, Form(max_length=100)]
Reason = Annotated[str, Form(max_length=1000)]


def union_of(session, tenant: str | None) -> db.Union:
    union = session.get(db.Union, tenant) if tenant else None
    if union is None:
        raise NotFound(f"no union {tenant!r} here: open /unions/<slug>/ with one of the unions' slugs")
    return union


class NotTracked(NotFound):
    """No application of this union has this number and this mobile number."""


# The pair is the citizen's only key. From one address: ten wrong mobile numbers for one application number in 15
# minutes, then 429, and thirty wrong tries whatever the numbers. Per address, so that a stranger's wrong guesses
# never lock the owner out of his own application.
WRONG_TRIES = Window(10, 15 * 60.0, "too many wrong tries for this application number; try again in 15 minutes")
ADDRESS_TRIES = Window(30, 15 * 60.0, "too many wrong tries from this address; try again in 15 minutes")


def tracked(request: Request, session, tenant: str | None, application_id: str,
            mobile: str) -> tuple[db.Union, db.Application]:
    union = union_of(session, tenant)
    # the number as the lookup reads it (Bengali digits folded): every spelling of one number is one key
    number, address = to_ascii_digits(application_id.strip().upper()), address_key(client_ip(request))
    ADDRESS_TRIES.check(address)
    WRONG_TRIES.check(f"{number}|{address}")
    row = services.track(session, number, mobile)
    if row is None or row.union_slug != union.slug:
        ADDRESS_TRIES.hit(address)
        WRONG_TRIES.hit(f"{number}|{address}")
        raise NotTracked("not_found_track")
    return union, row


def not_tracked(request: Request, session, tenant: str | None, application_id: str, mobile: str) -> Response:
    return render(request, "portal/track.html", {"union": union_of(session, tenant), "application_id": application_id,
                                                 "mobile": mobile, "not_found": True}, status_code=404)


def track_page(request: Request, session, settings: Settings, union: db.Union, row: db.Application, mobile: str, *,
               done: str | None = None, problem: ApiError | str | None = None, status_code: int = 200) -> Response:
    """The application as the citizen sees it, with what they may do next."""
    session.refresh(row)  # an action has just moved it on
    return render(request, "portal/track.html", {
        "union": union, "application_id": row.id, "mobile": mobile, "app": row,
        "kind": session.get(db.CertificateTypeRow, row.certificate_type),
        "certificate": services.certificate_of(session, row.id),
        "may_cancel": services.cancellable(row), "final": Status(row.status).is_final,
        "returned": services.last_event(row, Status.RETURNED) if row.status == Status.RETURNED else None,
        "turn_ends": services.citizens_turn_ends(settings, row), "dev_mode": settings.dev_mode,
        "done": done, "problem": problem, "problem_title": ERROR_TITLES.get(status_code, "error"),
    }, status_code=status_code)


async def refused(request: Request, session, settings: Settings, union: db.Union, row: db.Application, mobile: str,
                  e: ApiError) -> Response:
    """The track page with the reason an action was refused (the workflow's 409, 403 or 422)."""
    return await run_in_threadpool(track_page, request, session, settings, union, row, mobile, problem=e,
                                   status_code=e.status_code)


# --- finding it --------------------------------------------------------------------------------------------------

@router.get("/track")
def track_form(request: Request, session: DbSession, tenant: Tenant, id: str = "") -> Response:
    return render(request, "portal/track.html", {"union": union_of(session, tenant), "application_id": id[:40]})


@router.post("/track", dependencies=[Csrf])
def track(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant, application_id: Text = "",
          mobile: Text = "") -> Response:
    try:
        union, row = tracked(request, session, tenant, application_id, mobile)
    except NotTracked:
        return not_tracked(request, session, tenant, application_id, mobile)
    return track_page(request, session, settings, union, row, mobile)


@router.post("/track/pdf", dependencies=[Csrf])
def certificate_pdf(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                    application_id: Text = "", mobile: Text = "") -> Response:
    _, row = tracked(request, session, tenant, application_id, mobile)
    certificate = services.certificate_of(session, row.id)
    if certificate is None:
        raise NotFound(N_("no issued certificate matches this application number and mobile number"))
    return FileResponse(services.certificate_file(settings, certificate), media_type="application/pdf",
                        filename=f"{certificate.certificate_no}.pdf")


# --- cancelling: a confirmation with a reason, then the workflow's `cancel` update --------------------------------

@router.post("/track/cancel", dependencies=[Csrf])
def cancel_form(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                application_id: Text = "", mobile: Text = "") -> Response:
    union, row = tracked(request, session, tenant, application_id, mobile)
    if not services.cancellable(row):
        return track_page(request, session, settings, union, row, mobile, problem="cannot_cancel", status_code=409)
    return render(request, "portal/cancel.html", {"union": union, "app": row, "mobile": mobile,
                                                  "kind": session.get(db.CertificateTypeRow, row.certificate_type)})


@router.post("/track/cancel/confirm", dependencies=[Csrf])
async def cancel(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                 temporal: TemporalClient, application_id: Text = "", mobile: Text = "",
                 reason: Reason = "") -> Response:
    union, row = await run_in_threadpool(tracked, request, session, tenant, application_id, mobile)
    try:
        body = CancelIn(reason=reason)
    except ValidationError as e:
        err = e.errors()[0]
        return render(request, "portal/cancel.html", {
            "union": union, "app": row, "mobile": mobile, "reason": reason,
            "error": forms.error_message(err["type"], err["msg"]),
            "kind": await run_in_threadpool(session.get, db.CertificateTypeRow, row.certificate_type)},
            status_code=422)
    try:
        await services.cancel(session, temporal, citizen(request, mobile), row, body.reason)
    except ApiError as e:
        return await refused(request, session, settings, union, row, mobile, e)
    return await run_in_threadpool(track_page, request, session, settings, union, row, mobile, done="cancelled_ok")


# --- correcting what an officer sent back: the apply form, filled in, sent as the workflow's `amend` update ---------

@router.post("/track/amend", dependencies=[Csrf])
def amend_form(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
               application_id: Text = "", mobile: Text = "") -> Response:
    union, row = tracked(request, session, tenant, application_id, mobile)
    if row.status != Status.RETURNED:
        return track_page(request, session, settings, union, row, mobile, problem="not_returned", status_code=409)
    form = apply.prefilled(apply.load(session, union.slug, row.certificate_type, mobile_required=True), row)
    return render(request, "portal/amend.html", _amend_context(union, row, mobile, form))


@router.post("/track/amend/send", dependencies=[Csrf])
async def amend(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                temporal: TemporalClient, application_id: Text = "", mobile: Text = "") -> Response:
    union, row = await run_in_threadpool(tracked, request, session, tenant, application_id, mobile)
    form = await run_in_threadpool(apply.load, session, union.slug, row.certificate_type, True)
    try:
        sent = await apply.amend(request, session, temporal, form, row, citizen(request, mobile))
    except ApiError as e:
        return await refused(request, session, settings, union, row, mobile, e)
    if sent is None:
        return render(request, "portal/amend.html", _amend_context(union, row, mobile, form), status_code=422)
    mobile = sent.contact.mobile or mobile  # a new mobile number is the key from now on
    return await run_in_threadpool(track_page, request, session, settings, union, row, mobile, done="amended_ok")


def _amend_context(union: db.Union, row: db.Application, mobile: str, form: apply.ApplicationForm) -> dict:
    return {"union": union, "app": row, "mobile": mobile, "form": form,
            "returned": services.last_event(row, Status.RETURNED)}


# --- paying: in dev mode, through the simulated gateway -------------------------------------------------------------

@router.post("/track/pay", dependencies=[Csrf])
async def simulated_payment(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                            application_id: Text = "", mobile: Text = "") -> Response:
    if not settings.dev_mode:
        raise NotFound("the simulated payment gateway exists in dev mode only")
    union, row = await run_in_threadpool(tracked, request, session, tenant, application_id, mobile)
    await services.end_transaction(session)  # the callback writes the payment (SQLite: one writer at a time)
    status, problem = await gateway.pay(request.app, settings, row.id, row.fee_amount)
    return await run_in_threadpool(track_page, request, session, settings, union, row, mobile,
                                   done="paid_ok" if status == 200 else None, problem=problem, status_code=status)
