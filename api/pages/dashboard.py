"""The officers' dashboard at `/dashboard/`: log in, the queue of what waits for me, an application beside its NID
record with the decision buttons, revocation, and the union's figures."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from api.deps import DbSession, SettingsDep, TemporalClient, client_ip
from api.errors import ApiError, Invalid, Locked, TooManyRequests
from api.pages import timeline
from api.pages.common import (
    ERROR_TITLES,
    TOKEN_COOKIE,
    Csrf,
    PageOfficer,
    PageRoute,
    local_next,
    redirect,
    render,
    session_id,
    set_session_cookie,
)
from api.schemas import DecisionIn, RevokeIn
from api.services import applications, certificates, editions, officers, receipts, sessions, sms, unions
from sonod import db
from sonod.domain import Role, Status
from sonod.printed import printed
from workflows.messages import Actor
from workflows.refusals import Refusal

router = APIRouter(prefix="/dashboard", route_class=PageRoute, include_in_schema=False)

ATTESTATION_REFUSALS = (Refusal.TEXT_REQUIRED.value, Refusal.TEXT_EN_REQUIRED.value)
APPROVE_LABEL = {Status.AWAITING_RECOMMENDATION: "act_recommend", Status.AWAITING_VERIFICATION: "act_verify",
                 Status.AWAITING_DECISION: "act_approve"}
DESK_ROLES = {Role.UDC}


def landing(role: Role) -> str:
    return "/desk/" if role in DESK_ROLES else "/dashboard/"


# --- logging in and out ---------------------------------------------------------------------------

@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    return render(request, "dashboard/login.html", {"next": local_next(next, "")})


@router.post("/login", dependencies=[Csrf])
def login(request: Request, session: DbSession, settings: SettingsDep,
          username: Annotated[str, Form(max_length=80)] = "", password: Annotated[str, Form(max_length=200)] = "",
          totp: Annotated[str, Form(max_length=200)] = "", next: Annotated[str, Form(max_length=300)] = "") -> Response:
    """The same log-in as `POST /api/v1/auth/token`; its bearer token goes into an HttpOnly cookie. A mistyped code
    is a wrong code there, whatever it holds."""
    try:
        logged_in = sessions.log_in(session, settings, username, password, totp or None, client_ip(request))
    except ApiError as e:
        problem = "locked" if isinstance(e, Locked) else "too_many" if isinstance(e, TooManyRequests) \
            else "totp_needed" if "TOTP code:" in e.detail else "login_failed"
        return render(request, "dashboard/login.html", {"problem": problem, "username": username, "next": next},
                      status_code=e.status_code)
    response = redirect(local_next(next, landing(logged_in.role)))
    set_session_cookie(response, request, logged_in.token.access_token, logged_in.token.expires_in)
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, session: DbSession) -> Response:
    sessions.end_session(session, session_id(request))
    response = redirect("/dashboard/login")
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return response


# --- the queue and the lists ----------------------------------------------------------------------------

@router.get("/")
def my_queue(request: Request, officer: PageOfficer, session: DbSession) -> Response:
    seen = unions.unions_seen(session, officer)
    empty = set(sms.empty_balances(session, [u.slug for u in seen]))
    return render(request, "dashboard/queue.html", {
        "officer": officer, "rows": officers.queue(session, officer), "types": unions.type_names(session),
        "sms_empty": [u for u in seen if u.slug in empty]})


@router.get("/applications")
def all_applications(request: Request, officer: PageOfficer, session: DbSession, union: str = "", status: str = "",
                     q: Annotated[str, Query(max_length=100)] = "", cursor: str | None = None) -> Response:
    """A union's applications, newest first, or those that match a search (`applications.search`); an upazila's
    administrators pick the union first."""
    choices, picked = _picked(session, officer, union)
    wanted = Status(status).value if status in Status.__members__.values() else None
    found, problem = None, None
    if picked is not None:
        try:
            found = applications.search(session, picked.slug, wanted, q, 50, cursor)
        except Invalid as e:
            problem = e
    return render(request, "dashboard/applications.html", {
        "officer": officer, "unions": choices, "union": picked, "page": found, "q": q, "status": wanted or "",
        "statuses": list(Status), "types": unions.type_names(session), "problem": problem,
        "problem_title": ERROR_TITLES[422]}, status_code=422 if problem else 200)


@router.get("/overdue")
def overdue_list(request: Request, officer: PageOfficer, session: DbSession, union: str = "") -> Response:
    """The applications past their deadline in each union the officer sees (an upazila's: all its unions)."""
    choices, picked = _picked(session, officer, union)
    rows = applications.overdue(session, [picked.slug] if picked else [u.slug for u in choices])
    return render(request, "dashboard/overdue.html", {
        "officer": officer, "unions": choices, "union": picked, "rows": rows, "limit": applications.OVERDUE_LIMIT,
        "names": {u.slug: u for u in choices}, "types": unions.type_names(session)})


def _picked(session, officer: Actor, named: str) -> tuple[list[db.Union], db.Union | None]:
    """The unions the officer may pick from, and the one picked (`?union=`, 403 for one they do not serve); an
    officer of one union has it picked for them."""
    choices = unions.unions_seen(session, officer)
    if named or officer.union is not None:
        return choices, unions.served_by(session, officer, named or None)
    return choices, choices[0] if len(choices) == 1 else None


# --- one application ----------------------------------------------------------------------------------

def _detail(request: Request, session, settings, officer: Actor, application_id: str, *,
            problem: ApiError | str | None = None, done: str | None = None, status_code: int = 200,
            confirm_revoke: str | None = None) -> Response:
    row = applications.readable(session, officer, application_id, None)
    certificate = certificates.certificate_of(session, row.id)
    acting = officers.acting_in(session, officer, row.union_slug)
    status = Status(row.status)
    return render(request, "dashboard/detail.html", {
        "officer": officer, "app": row, "status": status, "certificate": certificate,
        "types": unions.type_names(session),
        "timeline_entries": timeline.entries(session, row, certificate, for_officers=True),
        # what the certificate will print, as the issuer prints it: the NID record's, the applicant's claims, details
        "printed": printed(row.certificate_type, row.applicant, editions.printed_details(row), row.identity or {}),
        "photo": _photo((row.identity or {}).get("photo")), "decides": officers.may_decide(row, acting),
        "writes_text": editions.writes_text(session, row),  # a free-text attestation's text, with the approval
        "english_no": certificates.english_of(certificate) if certificate else None,
        "approve_label": APPROVE_LABEL.get(status),
        "may_revoke": certificate is not None and certificate.revoked_at is None
                      and certificates.may_revoke(acting, row.union_slug),
        "workflow_url": f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{quote(settings.temporal_namespace)}"
                        f"/workflows/{quote(row.id)}",
        "problem": problem, "problem_title": ERROR_TITLES.get(status_code, "error"), "done": done,
        "confirm_revoke": confirm_revoke,
    }, status_code=status_code)


@router.get("/applications/{application_id}")
def detail(application_id: str, request: Request, officer: PageOfficer, session: DbSession,
           settings: SettingsDep, done: str = "") -> Response:
    return _detail(request, session, settings, officer, application_id,
                   done=done if done in ("decided", "revoked_ok") else None)


@router.post("/applications/{application_id}/decision", dependencies=[Csrf])
async def decide(application_id: str, request: Request, officer: PageOfficer, session: DbSession,
                 settings: SettingsDep, temporal: TemporalClient,
                 decision: Annotated[str, Form(max_length=20)] = "",
                 reason: Annotated[str, Form(max_length=1000)] = "",
                 text: Annotated[str | None, Form(max_length=3000)] = None,
                 text_en: Annotated[str | None, Form(max_length=3000)] = None) -> Response:
    problem: ApiError | str | None = None
    code = 200
    try:
        body = DecisionIn(decision=decision, reason=reason, text=text or None, text_en=text_en or None)
        await applications.decide(session, temporal, officer, None, application_id, body)
    except ValidationError as e:
        problem, code = e.errors()[0]["msg"], 422
    except Invalid as e:  # the workflow refuses a reject or return without a reason, an attestation without its text
        problem, code = e if e.code in ATTESTATION_REFUSALS else "reason_needed", 422
    except ApiError as e:
        problem, code = e, e.status_code
    if problem is None:
        return redirect(f"/dashboard/applications/{quote(application_id)}?done=decided")
    return await run_in_threadpool(_detail, request, session, settings, officer, application_id,
                                   problem=problem, status_code=code)


@router.post("/certificates/{certificate_no}/revoke", dependencies=[Csrf])
async def revoke(certificate_no: str, request: Request, officer: PageOfficer, session: DbSession,
                 settings: SettingsDep, temporal: TemporalClient,
                 reason: Annotated[str, Form(max_length=1000)] = "",
                 confirmed: Annotated[str, Form(max_length=3)] = "") -> Response:
    """First the reason, then a confirmation that says what follows, then the revocation."""
    row = await run_in_threadpool(certificates.issued_certificate, session, certificate_no)
    try:
        body = RevokeIn(reason=reason)
    except ValidationError as e:  # RevokeIn's rule, as in API v1, in the page's words
        err = e.errors()[0]
        return await run_in_threadpool(
            _detail, request, session, settings, officer, row.application_id, status_code=422,
            problem="revoke_reason_short" if err["type"] == "string_too_short" else err["msg"])
    if confirmed != "yes":
        return await run_in_threadpool(_detail, request, session, settings, officer, row.application_id,
                                       confirm_revoke=body.reason)
    try:
        await certificates.revoke(session, settings, temporal, request.app.state.verifier, officer, None,
                                  certificate_no, body.reason)
    except ApiError as e:
        return await run_in_threadpool(_detail, request, session, settings, officer, row.application_id,
                                       problem=e, status_code=e.status_code)
    return redirect(f"/dashboard/applications/{quote(row.application_id)}?done=revoked_ok")


@router.get("/certificates/{certificate_no}/pdf")
def certificate_pdf(certificate_no: str, officer: PageOfficer, session: DbSession, settings: SettingsDep) -> Response:
    row = certificates.readable(session, officer, certificate_no)
    return FileResponse(certificates.certificate_file(settings, row), media_type="application/pdf",
                        filename=f"{row.certificate_no}.pdf")


@router.get("/applications/{application_id}/money-receipt")
async def money_receipt(application_id: str, officer: PageOfficer, session: DbSession, settings: SettingsDep,
                        temporal: TemporalClient) -> Response:
    """The paid fee's money receipt (PDF), for whoever may see the application: the UDC operator who filed it (the
    desk links here), the union's officers, the upazila's."""
    row = await run_in_threadpool(applications.readable, session, officer, application_id[:40], None)
    path, number = await receipts.receipt_file(session, settings, temporal, officer, row)
    return FileResponse(path, media_type="application/pdf", filename=f"{number}.pdf")


# --- the figures ----------------------------------------------------------------------------------------------

@router.get("/figures")
def figures(request: Request, officer: PageOfficer, session: DbSession, union: str = "") -> Response:
    """One union's figures; for an upazila's administrators, the upazila's union by union, then one union's."""
    choices, picked = _picked(session, officer, union)
    if picked is None:
        each = unions.figures_by_union(session, [u.slug for u in choices])
        return render(request, "dashboard/figures.html", {
            "officer": officer, "unions": choices, "union": None, "each": each, "total": unions.total(session, each)})
    numbers = unions.union_figures(session, picked.slug)
    return render(request, "dashboard/figures.html", {
        "officer": officer, "unions": choices, "union": picked, "figures": numbers,
        "backlog_rows": [(s.value, n) for s, n in numbers["backlog"].items()],
        "overdue_rows": [(s.value, n) for s, n in numbers["overdue"].items()]})


# --- helpers -----------------------------------------------------------------------------------------------

def _photo(value) -> str | None:
    """Only image data URIs are shown: the gateway's answer is data, never markup."""
    if isinstance(value, str) and value.startswith(("data:image/png;base64,", "data:image/jpeg;base64,",
                                                    "data:image/svg+xml;base64,")):
        return value
    return None
