"""The trade licences' pages: the union's register on the dashboard (`/dashboard/licences`, its CSV), and the desk's
renewal (`/desk/renew/<licence no>`): the application form filled in from the licence's latest year, sent as any
desk application is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import DbSession
from api.pages import apply
from api.pages.common import PageOfficer, PageRoute, render
from api.pages.dashboard import _picked
from api.pages.desk import DESK, _desk_officer
from api.services import licences
from sonod.licences import TRADE_LICENCE, LicenceState

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/dashboard/licences")
def register(request: Request, officer: PageOfficer, session: DbSession, union: str = "", state: str = "",
             cursor: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    """A union's licences, in number order, with their state; an upazila's administrators pick the union first."""
    choices, picked = _picked(session, officer, union)
    wanted = LicenceState(state) if state in LicenceState.__members__.values() else None
    page = licences.page(session, licences.the_union(session, officer, None, picked.slug).slug, wanted, 50, cursor) \
        if picked is not None else None
    return render(request, "dashboard/licences.html", {
        "officer": officer, "unions": choices, "union": picked, "page": page, "state": wanted.value if wanted else "",
        "may_renew": officer.role in DESK})


@router.get("/dashboard/licences.csv")
def register_csv(officer: PageOfficer, session: DbSession, union: str = "") -> Response:
    row = licences.the_union(session, officer, None, union or None)
    return Response("".join(licences.csv_lines(session, officer, row.slug)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="trade-licences-{row.slug}.csv"'})


@router.get("/desk/renew/{licence_no}")
def renew_form(licence_no: str, request: Request, officer: PageOfficer, session: DbSession) -> Response:
    """The desk's application form for the licence's renewal, filled in; it posts as `/desk/new/trade_licence`."""
    _desk_officer(officer)
    filled = licences.renewal(session, officer, None, officer.union, licence_no[:60])
    form = apply.load(session, officer.union, TRADE_LICENCE, mobile_required=True)
    form.values = {"applicant": filled["applicant"], "contact": filled["contact"], "details": filled["details"]}
    form.kind = form.kind | {"fee": filled["fee"]}  # this renewal's, arrears included
    return render(request, "desk/apply.html", {"officer": officer, "form": form, "union": form.union})
