from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from api.deps import Caller, DbSession, Officer, Tenant
from api.schemas import LicencePage, RenewalOut
from api.services import licences
from api.services.unions import get_union
from sonod.licences import LicenceState

router = APIRouter(prefix="/api/v1", tags=["licences"])

UnionQuery = Annotated[str | None, Query(max_length=40)]


@router.get("/licences")
def register(officer: Officer, session: DbSession, tenant: Tenant, union: UnionQuery = None,
             state: LicenceState | None = None, limit: Annotated[int, Query(ge=1, le=200)] = 50,
             cursor: Annotated[str | None, Query(max_length=200)] = None) -> LicencePage:
    """A union's trade licences in number order, each with its state (current, due in June, expired, revoked)."""
    row = licences.the_union(session, officer, tenant, union)
    return licences.page(session, row.slug, state, limit, cursor)


@router.get("/licences.csv", response_class=StreamingResponse)
def register_csv(officer: Officer, session: DbSession, tenant: Tenant, union: UnionQuery = None) -> StreamingResponse:
    """The whole register as CSV (`text/csv`, UTF-8); audited."""
    row = licences.the_union(session, officer, tenant, union)
    lines = list(licences.csv_lines(session, officer, row.slug))  # read (and audited) in the request's transaction
    return StreamingResponse(iter(lines), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="trade-licences-{row.slug}.csv"'})


@router.get("/licences/fees")
def fees(session: DbSession, tenant: Tenant, union: UnionQuery = None) -> list[dict]:
    """Public: the union's yearly trade licence fee of each business category (the Model Tax Schedule, 2013's
    defaults where the union set none); the signboard tax and VAT come on top (`GET /api/v1/certificate-types`)."""
    row = get_union(session, union or tenant, ["query", "union"])
    return licences.fees(session, row.slug)


@router.get("/licences/{licence_no}/renewal")
def renewal(licence_no: Annotated[str, Path(max_length=60)], caller: Caller, session: DbSession, tenant: Tenant,
            union: UnionQuery = None) -> RenewalOut:
    """What `POST /api/v1/applications` takes to renew this licence, filled in from its latest application."""
    return RenewalOut.model_validate(licences.renewal(session, caller, tenant, union, licence_no))
