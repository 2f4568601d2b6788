"""Printing at the union office, `/dashboard/print`: the secretary, the UDC operator (and the chairman) choose issued
certificates, see which match, make one print-ready PDF of them (on plain paper or the union's letterhead), follow its
progress and download it; the secretary or chairman sets the letterhead's margins. The same services as API v1
(api/services/print_batches.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import ValidationError

from api.deps import DbSession, SettingsDep, TemporalClient
from api.errors import ApiError, Invalid
from api.pages.common import ERROR_TITLES, Csrf, PageOfficer, PageRoute, redirect, render
from api.services import print_batches, unions
from sonod import db
from sonod.domain import Role
from sonod.printing import MAX_BATCH, Margins, PrintFilters, left_out, letterhead_of
from workflows.messages import Actor

router = APIRouter(prefix="/dashboard/print", route_class=PageRoute, include_in_schema=False)
PREVIEW = 50  # the matching certificates listed on the page before a batch is made


def _filters(issued_on: str, certificate_type: str, ward_no: str, not_printed: str) -> PrintFilters:
    return PrintFilters(issued_on=issued_on or None, certificate_type=certificate_type or None,
                        ward_no=ward_no or None, not_printed=not_printed == "1")


def _page(request: Request, session, officer: Actor, filters: PrintFilters | None, *, problem=None,
          problem_field: str | None = None, status_code: int = 200, done: str | None = None,
          margins: Margins | None = None) -> Response:
    union = print_batches.printing_union(session, officer, None, ["query", "union"])
    found = None
    if filters is not None and problem is None:
        print_batches.check_filters(session, filters, ["query"])
        found = print_batches.matching(session, union.slug, filters)
    return render(request, "dashboard/print.html", {
        "officer": officer, "area": "desk" if officer.role is Role.UDC else "dashboard", "union": union,
        "filters": filters or PrintFilters(), "chosen": filters is not None, "found": found,
        "preview": PREVIEW, "limit": MAX_BATCH, "types": unions.type_names(session),
        "batches": print_batches.recent(session, union.slug), "margins": margins or letterhead_of(union.letterhead),
        "sets_margins": officer.role in print_batches.MARGIN_SETTERS, "problem": problem,
        "problem_field": problem_field, "problem_title": ERROR_TITLES.get(status_code, "error"), "done": done,
        "today": dt.datetime.now(dt.UTC).date().isoformat(),
    }, status_code=status_code)


@router.get("")
def print_page(request: Request, officer: PageOfficer, session: DbSession, issued_on: str = "",
               certificate_type: str = "", ward_no: str = "", not_printed: str = "", show: str = "",
               done: str = "") -> Response:
    """The filters; with `show`, the certificates they choose and the button that prints them."""
    filters, problem, field = None, None, None
    if show:
        try:
            filters = _filters(issued_on, certificate_type, ward_no, not_printed)
        except ValidationError as e:
            err = e.errors()[0]
            problem, field = err["msg"], str(err["loc"][0])
    try:
        return _page(request, session, officer, filters, problem=problem, problem_field=field,
                     status_code=422 if problem else 200, done=done if done == "margins" else None)
    except Invalid as e:
        return _page(request, session, officer, None, problem=e, problem_field=str(e.errors[0]["loc"][-1]),
                     status_code=422)


@router.post("", dependencies=[Csrf])
async def make_batch(request: Request, officer: PageOfficer, session: DbSession, settings: SettingsDep,
                     temporal: TemporalClient, issued_on: Annotated[str, Form(max_length=10)] = "",
                     certificate_type: Annotated[str, Form(max_length=40)] = "",
                     ward_no: Annotated[str, Form(max_length=2)] = "",
                     not_printed: Annotated[str, Form(max_length=1)] = "",
                     letterhead: Annotated[str, Form(max_length=1)] = "") -> Response:
    try:
        filters = _filters(issued_on, certificate_type, ward_no, not_printed)
        batch = await print_batches.start(session, settings, temporal, officer, None, filters, letterhead == "1",
                                          ["form"])
    except ValidationError as e:
        err = e.errors()[0]
        return await run_in_threadpool(_page, request, session, officer, None, problem=err["msg"],
                                       problem_field=str(err["loc"][0]), status_code=422)
    except Invalid as e:
        return await run_in_threadpool(_page, request, session, officer, filters, problem=e,
                                       problem_field=str(e.errors[0]["loc"][-1]), status_code=422)
    return redirect(f"/dashboard/print/{batch.id}")


@router.get("/{batch_id}")
async def batch_page(batch_id: str, request: Request, officer: PageOfficer, session: DbSession,
                     temporal: TemporalClient) -> Response:
    batch = await run_in_threadpool(print_batches.readable, session, officer, batch_id)
    batch = await print_batches.current(session, temporal, batch)
    return await run_in_threadpool(render, request, "dashboard/print_batch.html", {
        "officer": officer, "area": "desk" if officer.role is Role.UDC else "dashboard", "batch": batch,
        "left_out": left_out(batch.skipped), "filters": PrintFilters.model_validate(batch.filters),
        "types": unions.type_names(session)})


@router.get("/{batch_id}/progress")
async def progress(batch_id: str, officer: PageOfficer, session: DbSession, temporal: TemporalClient) -> Response:
    """What the batch's page polls."""
    batch = await run_in_threadpool(print_batches.readable, session, officer, batch_id)
    batch = await print_batches.current(session, temporal, batch)
    return JSONResponse(_progress(batch), headers={"Cache-Control": "no-store"})


def _progress(batch: db.PrintBatch) -> dict:
    return {"status": batch.state, "done": batch.done, "total": batch.total, "skipped": len(batch.skipped),
            "pdf_url": f"/dashboard/print/{batch.id}/pdf" if batch.state == "done" and batch.pdf_path else None}


@router.get("/{batch_id}/pdf")
def batch_pdf(batch_id: str, officer: PageOfficer, session: DbSession, settings: SettingsDep) -> Response:
    batch = print_batches.readable(session, officer, batch_id)
    return FileResponse(print_batches.pdf_file(session, settings, officer, batch), media_type="application/pdf",
                        filename=f"{batch.id}.pdf")


@router.post("/letterhead", dependencies=[Csrf])
def set_letterhead(request: Request, officer: PageOfficer, session: DbSession,
                   top: Annotated[str, Form(max_length=4)] = "", bottom: Annotated[str, Form(max_length=4)] = "",
                   left: Annotated[str, Form(max_length=4)] = "",
                   right: Annotated[str, Form(max_length=4)] = "") -> Response:
    union = print_batches.printing_union(session, officer, None, ["query", "union"])
    given = {"top": top, "bottom": bottom, "left": left, "right": right}
    try:
        margins = Margins.model_validate({k: v for k, v in given.items() if v.strip()})
        print_batches.set_margins(session, officer, union, margins, ["form"])
    except ValidationError as e:
        err = e.errors()[0]
        return _page(request, session, officer, None, problem=err["msg"], problem_field=f"margin-{err['loc'][0]}",
                     status_code=422)
    except Invalid as e:
        return _page(request, session, officer, None, problem=e, margins=margins,
                     problem_field=f"margin-{e.errors[0]['loc'][-1]}", status_code=422)
    except ApiError:
        raise
    return redirect("/dashboard/print?done=margins")
