"""What a citizen does with an application found by its number and the mobile number given with it: see where it
is, cancel it while no officer has decided, correct it when an officer sent it back, pay its fee, and download the
certificate once issued.

Every action posts the application number and the mobile number again and is refused (404) unless they match: the
pair is the citizen's only key. The actions go through the same services as API v1 (`/cancel`, `/amend`,
`/payments/callback`); the workflow has the last word on whether they are still allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from api.deps import DbSession, SettingsDep, TemporalClient, Tenant, client_ip
from api.errors import ApiError, NotFound
from api.pages import apply, forms, gateway, timeline
from api.pages.common import ERROR_TITLES, Csrf, PageRoute, citizen, render
from api.pages.desk import qr_svg
from api.pages.i18n import N_
from api.schemas import CancelIn
from api.services import applications, certificates, payment_orders, receipts, unions
from api.services.applications import NotTracked
from api.services.transaction import end_transaction
from sonod import audit, db
from sonod.domain import Role, Status
from sonod.settings import Settings

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Text = Annotated[str, Form(max_length=100)]
Reason = Annotated[str, Form(max_length=1000)]


def tracked(request: Request, session, tenant: str | None, application_id: str,
            mobile: str) -> tuple[db.Union, db.Application]:
    union = unions.tenant_union(session, tenant)
    return union, applications.track(session, union.slug, application_id, mobile, client_ip(request))


def not_tracked(request: Request, session, tenant: str | None, application_id: str, mobile: str) -> Response:
    return render(request, "portal/track.html", {"union": unions.tenant_union(session, tenant),
                                                 "application_id": application_id,
                                                 "mobile": mobile, "not_found": True}, status_code=404)


def track_page(request: Request, session, settings: Settings, union: db.Union, row: db.Application, mobile: str, *,
               done: str | None = None, problem: ApiError | str | None = None, status_code: int = 200) -> Response:
    """The application as the citizen sees it, with what they may do next."""
    session.refresh(row)  # an action has just moved it on
    certificate = certificates.certificate_of(session, row.id)
    return render(request, "portal/track.html", {
        "union": union, "application_id": row.id, "mobile": mobile, "app": row,
        "kind": session.get(db.CertificateTypeRow, row.certificate_type), "certificate": certificate,
        "english_no": certificates.english_of(certificate) if certificate else None,
        "timeline_entries": timeline.entries(session, row, certificate, for_officers=False),
        "may_cancel": applications.cancellable(settings, row), "final": Status(row.status).is_final,
        "money_receipt": receipts.offered(row),
        "returned": applications.correctable(settings, row),
        "turn_ends": applications.citizens_turn_ends(settings, row), "dev_mode": settings.dev_mode,
        "payment_order": payment_orders.open_order(session, row.id),
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
    return render(request, "portal/track.html", {"union": unions.tenant_union(session, tenant),
                                                 "application_id": id[:40]})


@router.post("/track", dependencies=[Csrf])
def track(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant, application_id: Text = "",
          mobile: Text = "") -> Response:
    try:
        union, row = tracked(request, session, tenant, application_id, mobile)
    except NotTracked:
        return not_tracked(request, session, tenant, application_id, mobile)
    return track_page(request, session, settings, union, row, mobile)


def handed_out(request: Request, session, settings: Settings, tenant: str | None, application_id: str, mobile: str,
               what: str, language: str = "bn") -> tuple[db.Certificate, Path]:
    """The tracked application's certificate in force (its English one for `language` "en") and its PDF; each
    handing out to the citizen is audited."""
    _, row = tracked(request, session, tenant, application_id, mobile)
    certificate = certificates.certificate_of(session, row.id)
    if certificate is not None and language == "en":
        english = certificates.english_of(certificate)
        certificate = session.get(db.Certificate, english) if english else None
    if certificate is None:
        raise NotFound(N_("no issued certificate matches this application number and mobile number"))
    path = certificates.certificate_file(settings, certificate)  # 410 once revoked
    audit.record(session, union=row.union_slug, actor="citizen", role=Role.CITIZEN.value, action=what,
                 target=certificate.certificate_no, ip=client_ip(request))
    return certificate, path


@router.post("/track/pdf", dependencies=[Csrf])
def certificate_pdf(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                    application_id: Text = "", mobile: Text = "", language: Text = "bn") -> Response:
    certificate, path = handed_out(request, session, settings, tenant, application_id, mobile,
                                   "certificate.pdf_to_citizen", language)
    return FileResponse(path, media_type="application/pdf", filename=f"{certificate.certificate_no}.pdf")


@router.post("/track/qr", dependencies=[Csrf])
def certificate_qr(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                   application_id: Text = "", mobile: Text = "") -> Response:
    """The certificate's QR as an SVG, for the phone to show full-screen to an officer who scans it."""
    certificate, _ = handed_out(request, session, settings, tenant, application_id, mobile,
                                "certificate.qr_to_citizen")
    assert certificate.qr_text is not None, "an issued certificate has its QR"
    return Response(qr_svg(certificate.qr_text), media_type="image/svg+xml",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


@router.post("/track/money-receipt", dependencies=[Csrf])
async def money_receipt(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                        temporal: TemporalClient, application_id: Text = "", mobile: Text = "") -> Response:
    """The paid fee's money receipt (PDF), for the citizen who proves the application with its mobile number."""
    _, row = await run_in_threadpool(tracked, request, session, tenant, application_id, mobile)
    path, number = await receipts.receipt_file(session, settings, temporal, citizen(request, mobile), row)
    return FileResponse(path, media_type="application/pdf", filename=f"{number}.pdf")


# --- cancelling: a confirmation with a reason, then the workflow's `cancel` update --------------------------------

@router.post("/track/cancel", dependencies=[Csrf])
def cancel_form(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                application_id: Text = "", mobile: Text = "") -> Response:
    union, row = tracked(request, session, tenant, application_id, mobile)
    if not applications.cancellable(settings, row):
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
        await applications.cancel(session, temporal, citizen(request, mobile), row, body.reason)
    except ApiError as e:
        return await refused(request, session, settings, union, row, mobile, e)
    return await run_in_threadpool(track_page, request, session, settings, union, row, mobile, done="cancelled_ok")


# --- correcting what an officer sent back: the apply form, filled in, sent as the workflow's `amend` update ---------

@router.post("/track/amend", dependencies=[Csrf])
def amend_form(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
               application_id: Text = "", mobile: Text = "") -> Response:
    union, row = tracked(request, session, tenant, application_id, mobile)
    if applications.correctable(settings, row) is None:
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
    if sent.contact is not None and sent.contact.mobile:  # a new mobile number is the key from now on
        mobile = sent.contact.mobile
    return await run_in_threadpool(track_page, request, session, settings, union, row, mobile, done="amended_ok")


def _amend_context(union: db.Union, row: db.Application, mobile: str, form: apply.ApplicationForm) -> dict:
    return {"union": union, "app": row, "mobile": mobile, "form": form,
            "returned": applications.last_event(row, Status(row.status))}


# --- paying: in dev mode, through the simulated gateway -------------------------------------------------------------

@router.post("/track/pay", dependencies=[Csrf])
async def simulated_payment(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                            application_id: Text = "", mobile: Text = "") -> Response:
    if not settings.dev_mode:
        raise NotFound("the simulated payment gateway exists in dev mode only")
    union, row = await run_in_threadpool(tracked, request, session, tenant, application_id, mobile)
    await end_transaction(session)  # the callback writes the payment (SQLite: one writer at a time)
    status, problem = await gateway.pay(request.app, settings, row.id, row.fee_amount)
    return await run_in_threadpool(track_page, request, session, settings, union, row, mobile,
                                   done="paid_ok" if status == 200 else None, problem=problem, status_code=status)
