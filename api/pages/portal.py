"""The citizen portal of each union, at `/unions/<slug>/` or `<slug>.<base domain>`: choose a certificate and apply.
Tracking the application, and what the citizen does with it then, is in api/pages/tracking.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import DbSession, SettingsDep, TemporalClient, Tenant
from api.pages import apply
from api.pages.common import Csrf, PageRoute, base, redirect, render, web_portal
from api.services import unions

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def home(request: Request, session: DbSession, tenant: Tenant) -> Response:
    if tenant is None:
        return render(request, "portal/index.html", {"unions": unions.all_unions(session)})
    union = unions.tenant_union(session, tenant)
    kinds = unions.issued_here(session, union.slug)
    return render(request, "portal/home.html", {"union": union, "kinds": kinds})


@router.get("/apply/{code}")
def apply_form(code: str, request: Request, session: DbSession, tenant: Tenant) -> Response:
    form = apply.load(session, unions.tenant_union(session, tenant).slug, code, mobile_required=True)
    return render(request, "portal/apply.html", {"form": form, "union": form.union})


@router.post("/apply/{code}", dependencies=[Csrf])
async def apply_post(code: str, request: Request, session: DbSession, settings: SettingsDep, tenant: Tenant,
                     temporal: TemporalClient) -> Response:
    union = await run_in_threadpool(unions.tenant_union, session, tenant)
    form = await run_in_threadpool(apply.load, session, union.slug, code, True)
    application_id = await apply.submit(request, session, settings, temporal, form, web_portal(request))
    if application_id is None:
        return render(request, "portal/apply.html", {"form": form, "union": form.union}, status_code=422)
    return redirect(f"{base(request)}/applied/{application_id}")


@router.get("/applied/{application_id}")
def applied(application_id: str, request: Request, session: DbSession, tenant: Tenant) -> Response:
    """The number to keep; nothing personal is shown here, since anyone may open this address."""
    return render(request, "portal/applied.html", {"union": unions.tenant_union(session, tenant),
                                                   "application_id": application_id[:40]})
