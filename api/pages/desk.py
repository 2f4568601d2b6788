"""The UDC desk at `/desk/`: apply on a citizen's behalf with the portal's form, see my own submissions, print."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import DbSession, SettingsDep, TemporalClient
from api.pages import apply
from api.pages.common import Csrf, PageOfficer, PageRoute, redirect, render, require_role
from api.services import applications, certificates, officers, unions
from sonod import db
from sonod.domain import Role
from workflows.messages import Actor

router = APIRouter(prefix="/desk", route_class=PageRoute, include_in_schema=False)

DESK = {role for role in Role if role.applies_for_citizens and role is not Role.PORTAL}


def _desk_officer(officer: Actor) -> Actor:
    require_role(officer, DESK)
    return officer


@router.get("/")
def my_submissions(request: Request, officer: PageOfficer, session: DbSession) -> Response:
    _desk_officer(officer)
    return render(request, "desk/home.html", {
        "officer": officer, "rows": officers.submitted_by(session, officer.username),
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
    form = apply.load(session, officer.union, code, mobile_required=False)
    return render(request, "desk/apply.html", {"officer": officer, "form": form, "union": form.union})


@router.post("/new/{code}", dependencies=[Csrf])
async def apply_post(code: str, request: Request, officer: PageOfficer, session: DbSession, settings: SettingsDep,
                     temporal: TemporalClient) -> Response:
    _desk_officer(officer)
    form = await run_in_threadpool(apply.load, session, officer.union, code, False)
    application_id = await apply.submit(request, session, settings, temporal, form, officer)
    if application_id is None:
        return render(request, "desk/apply.html", {"officer": officer, "form": form, "union": form.union},
                      status_code=422)
    return redirect(f"/desk/receipt/{application_id}")


@router.get("/receipt/{application_id}")
async def receipt(application_id: str, request: Request, officer: PageOfficer, session: DbSession) -> Response:
    """A printable receipt for the citizen: the application number, the fee and the promised date."""
    _desk_officer(officer)
    row = await applications.recorded(session, application_id[:40])
    if row is None:  # the workflow has not recorded it yet: the number alone, and a hint to reload
        return render(request, "desk/receipt.html", {"officer": officer, "application_id": application_id[:40]})
    return render(request, "desk/receipt.html", await run_in_threadpool(_receipt, session, officer, row))


def _receipt(session, officer: Actor, row: db.Application) -> dict:
    applications.require_read(session, officer, row.union_slug, row.submitted_by)
    return {"officer": officer, "app": row, "application_id": row.id, "types": unions.type_names(session),
            "union": unions.get_union(session, row.union_slug, ["path", "union"]),
            "certificate": certificates.certificate_of(session, row.id)}

