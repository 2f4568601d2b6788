"""The citizen portal of each union, at `/unions/<slug>/` or `<slug>.<base domain>`: choose a certificate, apply,
track the application by its number and mobile number, and download the certificate once issued."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from api import services
from api.deps import DbSession, SettingsDep, TemporalClient, Tenant
from api.errors import NotFound
from api.pages import apply
from api.pages.common import Csrf, PageRoute, base, redirect, render, web_portal
from sonod import db

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Text = Annotated[str, Form(max_length=100)]


def _union(session, tenant: str | None) -> db.Union:
    union = session.get(db.Union, tenant) if tenant else None
    if union is None:
        raise NotFound(f"no union {tenant!r} here: open /unions/<slug>/ with one of the unions' slugs")
    return union


@router.get("/")
def home(request: Request, session: DbSession, tenant: Tenant) -> Response:
    if tenant is None:
        unions = session.scalars(select(db.Union).order_by(db.Union.name_en)).all()
        return render(request, "portal/index.html", {"unions": unions})
    union = _union(session, tenant)
    kinds = [k for k in services.catalogue(session, union.slug) if "union" in k]
    return render(request, "portal/home.html", {"union": union, "kinds": kinds})


@router.get("/apply/{code}")
def apply_form(code: str, request: Request, session: DbSession, tenant: Tenant) -> Response:
    form = apply.load(session, _union(session, tenant).slug, code, mobile_required=True)
    return render(request, "portal/apply.html", {"form": form, "union": form.union})


@router.post("/apply/{code}", dependencies=[Csrf])
async def apply_post(code: str, request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                     temporal: TemporalClient) -> Response:
    union = await run_in_threadpool(_union, session, tenant)
    form = await run_in_threadpool(apply.load, session, union.slug, code, True)
    application_id = await apply.submit(request, session, settings, temporal, form, web_portal(request))
    if application_id is None:
        return render(request, "portal/apply.html", {"form": form, "union": form.union}, status_code=422)
    return redirect(f"{base(request)}/applied/{application_id}")


@router.get("/applied/{application_id}")
def applied(application_id: str, request: Request, session: DbSession, tenant: Tenant) -> Response:
    """The number to keep; nothing personal is shown here, since anyone may open this address."""
    return render(request, "portal/applied.html", {"union": _union(session, tenant),
                                                   "application_id": application_id[:40]})


@router.get("/track")
def track_form(request: Request, session: DbSession, tenant: Tenant, id: str = "") -> Response:
    return render(request, "portal/track.html", {"union": _union(session, tenant), "application_id": id[:40]})


@router.post("/track", dependencies=[Csrf])
def track(request: Request, session: DbSession, tenant: Tenant, application_id: Text = "",
          mobile: Text = "") -> Response:
    union = _union(session, tenant)
    row = services.track(session, application_id, mobile)
    if row is None or row.union_slug != union.slug:
        return render(request, "portal/track.html", {"union": union, "application_id": application_id,
                                                     "mobile": mobile, "not_found": True}, status_code=404)
    return render(request, "portal/track.html", {
        "union": union, "application_id": row.id, "mobile": mobile, "app": row,
        "certificate": services.certificate_of(session, row.id), "kind": _kind_names(session, row.certificate_type),
    })


@router.post("/track/pdf", dependencies=[Csrf])
def certificate_pdf(request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                    application_id: Text = "", mobile: Text = "") -> Response:
    union = _union(session, tenant)
    row = services.track(session, application_id, mobile)
    certificate = row and services.certificate_of(session, row.id)
    if certificate is None or row.union_slug != union.slug:
        raise NotFound("no issued certificate matches this application number and mobile number")
    return FileResponse(services.certificate_file(settings, certificate), media_type="application/pdf",
                        filename=f"{certificate.certificate_no}.pdf")


def _kind_names(session, code: str) -> db.CertificateTypeRow | None:
    return session.get(db.CertificateTypeRow, code)
