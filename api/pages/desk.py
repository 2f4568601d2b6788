"""The UDC desk at `/desk/`: apply on a citizen's behalf with the portal's form, find my own submissions, print a
receipt whose QR code opens the citizen's track page.

The desk needs the mobile number (the citizen's, or a relative's): the track page asks for it beside the
application number, and the SMS messages go to it, so an application without one could be followed by nobody.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import DbSession, SettingsDep, TemporalClient
from api.pages import apply
from api.pages.common import Csrf, PageOfficer, PageRoute, redirect, render, require_role
from api.services import applications, certificates, officers, unions
from sonod import db
from sonod.domain import Role
from sonod.qr import qr_matrix
from sonod.settings import Settings
from workflows.messages import Actor

router = APIRouter(prefix="/desk", route_class=PageRoute, include_in_schema=False)

DESK: set[Role] = {role for role in Role if role.applies_for_citizens and role is not Role.PORTAL}


def _desk_officer(officer: Actor) -> Actor:
    require_role(officer, DESK)
    return officer


@router.get("/")
def my_submissions(request: Request, officer: PageOfficer, session: DbSession, q: str = "") -> Response:
    """My submissions, newest first; `q` finds them by application number, applicant's name or mobile number."""
    _desk_officer(officer)
    return render(request, "desk/home.html", {
        "officer": officer, "rows": officers.submitted_by(session, officer.username, q=q[:100]), "q": q[:100],
        "types": unions.type_names(session)})


@router.get("/new")
def choose_type(request: Request, officer: PageOfficer, session: DbSession) -> Response:
    _desk_officer(officer)
    union = unions.get_union(session, officer.union, ["query", "union"])
    kinds = unions.issued_here(session, union.slug)
    return render(request, "desk/new.html", {"officer": officer, "union": union, "kinds": kinds})


@router.get("/new/{code}")
def apply_form(code: str, request: Request, officer: PageOfficer, session: DbSession) -> Response:
    _desk_officer(officer)
    form = apply.load(session, officer.union, code, mobile_required=True)
    return render(request, "desk/apply.html", {"officer": officer, "form": form, "union": form.union})


@router.post("/new/{code}", dependencies=[Csrf])
async def apply_post(code: str, request: Request, officer: PageOfficer, session: DbSession, settings: SettingsDep,
                     temporal: TemporalClient) -> Response:
    _desk_officer(officer)
    form = await run_in_threadpool(apply.load, session, officer.union, code, True)
    application_id = await apply.submit(request, session, settings, temporal, form, officer)
    if application_id is None:
        return render(request, "desk/apply.html", {"officer": officer, "form": form, "union": form.union},
                      status_code=422)
    return redirect(f"/desk/receipt/{application_id}")


@router.get("/receipt/{application_id}")
async def receipt(application_id: str, request: Request, officer: PageOfficer, session: DbSession,
                  settings: SettingsDep) -> Response:
    """A printable receipt for the citizen: the application number, the fee, the promised date, and the address of
    the track page (written out and as a QR code) with the mobile number it asks for."""
    _desk_officer(officer)
    row = await applications.recorded(session, application_id[:40])
    if row is None:  # the workflow has not recorded it yet: the number alone, and a hint to reload
        return render(request, "desk/receipt.html", {"officer": officer, "application_id": application_id[:40]})
    return render(request, "desk/receipt.html", await run_in_threadpool(_receipt, session, settings, officer, row))


def _receipt(session, settings: Settings, officer: Actor, row: db.Application) -> dict:
    applications.require_read(session, officer, row.union_slug, row.submitted_by)
    address = track_address(settings, row.union_slug, row.id)
    mobile = str((row.contact or {}).get("mobile") or "")
    return {"officer": officer, "app": row, "application_id": row.id, "types": unions.type_names(session),
            "union": unions.get_union(session, row.union_slug, ["path", "union"]),
            "certificate": certificates.certificate_of(session, row.id),
            "track_address": address, "track_qr": qr_svg(address), "mobile_end": mobile[-3:]}


def track_address(settings: Settings, union: str, application_id: str) -> str:
    """The citizen's track page for this application, absolute (the deployment's public address): the number is
    filled in, the mobile number is not (the page asks for it, and the address may be seen by others)."""
    return f"{settings.public_url.rstrip('/')}/unions/{quote(union)}/track?id={quote(application_id)}"


def qr_svg(text: str) -> str:
    """A QR code as inline SVG markup (no image request, so no Content-Security-Policy rule needed), one unit per
    module, its quiet zone included; it scales to its box and prints sharp."""
    matrix = qr_matrix(text)
    size = len(matrix)
    dark = "".join(f"M{x},{y}h1v1h-1z" for y, line in enumerate(matrix) for x, on in enumerate(line) if on)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{dark}" fill="#000"/></svg>')

