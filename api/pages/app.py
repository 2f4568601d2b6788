"""The union portal as an installable app: its manifest, its service worker and the page of what is kept on the phone.

The worker (api/templates/portal/sw.js) is served from the union's own path, so that its scope is `/unions/<slug>/`
and never `/` (the verification page has a worker of its own). It keeps the portal's pages (the home page, tracking,
every application form of the union) and /static/ for use without a network; it keeps a form sent without a network
as a draft on the phone, which api/static/app.js sends when the network returns; and it answers `<base>/kept/...`
(the citizen's certificates, stored by app.js after the tracking check) and `<base>/drafts/...` from the phone only.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import DbSession, Tenant
from api.errors import NotFound
from api.pages import portal, tracking
from api.pages.common import (
    STATIC,
    TEMPLATES,
    PageRoute,
    base,
    csrf_token,
    give_csrf_cookie,
    language,
    render,
    templates,
)
from api.pages.i18n import LOCALE, N_, Words
from api.services import unions
from sonod import db

router = APIRouter(route_class=PageRoute, include_in_schema=False)

THEME = "#0a5c36"
SHELL_STATIC = ("/static/sonod.css", "/static/sonod.js", "/static/app.js", "/static/app/icon.svg")
ICONS = [{"src": "/static/app/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
         {"src": "/static/app/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any maskable"},
         {"src": "/static/app/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable"}]


def _path_tenancy(request: Request) -> str:
    """The union's path prefix; the app exists only under `/unions/<slug>/`, never at a host's root."""
    prefix = base(request)
    if not prefix:
        raise NotFound("the app is installed from /unions/<slug>/")
    return prefix


@router.get("/manifest.webmanifest")
def manifest(request: Request, session: DbSession, tenant: Tenant) -> Response:
    """In Bengali, the citizens' language, whatever the page's."""
    union, prefix, bn = unions.tenant_union(session, tenant), _path_tenancy(request), Words("bn")
    body = {
        "id": f"{prefix}/", "start_url": f"{prefix}/", "scope": f"{prefix}/",
        "name": f"{union.name_bn} {bn.gettext('Union Parishad')}", "short_name": union.name_bn,
        "description": bn.gettext(N_("Apply for a certificate, track it, keep the certificate on the phone")),
        "lang": "bn", "dir": "ltr", "display": "standalone", "orientation": "portrait",
        "background_color": "#f4f5f7", "theme_color": THEME, "icons": ICONS,
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


def _version(kinds: list[dict]) -> str:
    """Changes whenever what the worker keeps may change (a static file, a page's template or words, the union's
    forms) or its own source does: the browser then installs the new worker, which fetches everything again and
    drops the old copies."""
    digest = hashlib.sha256(json.dumps(kinds, sort_keys=True, default=str).encode())
    files = [STATIC / path.removeprefix("/static/") for path in SHELL_STATIC] + sorted(
        [TEMPLATES / "base.html", *TEMPLATES.glob("portal/*"), *TEMPLATES.glob("partials/*"),
         *LOCALE.glob("*/LC_MESSAGES/*.mo")])
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _kept_pages(prefix: str, kinds: list[dict]) -> dict[str, Callable[..., Response]]:
    """The pages the worker keeps, by address, each with the handler that answers it."""
    pages: dict[str, Callable[..., Response]] = {
        f"{prefix}/": portal.home, f"{prefix}/track": tracking.track_form, f"{prefix}/kept": kept}
    for kind in kinds:
        pages[f"{prefix}/apply/{kind['code']}"] = functools.partial(portal.apply_form, kind["code"])
    return pages


@router.get("/sw.js")
def service_worker(request: Request, session: DbSession, tenant: Tenant) -> Response:
    union, prefix = unions.tenant_union(session, tenant), _path_tenancy(request)
    kinds = unions.issued_here(session, union.slug)
    config = {"base": prefix, "cache": f"sonod-app:{union.slug}:", "version": _version(kinds),
              "pages": list(_kept_pages(prefix, kinds)), "static": list(SHELL_STATIC)}
    source = templates.get_template("portal/sw.js").render(config=config)
    return Response(source, media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


# Rendered once a day for each union, language and version, with a mark where each browser's CSRF token goes: the
# answer costs a copy, not the rendering of every page (a request here must not cost forty pages' work).
_BUNDLES: dict[tuple, str] = {}
CSRF_MARK = "\x00csrf\x00"


@router.get("/offline-pages")
def offline_pages(request: Request, session: DbSession, tenant: Tenant) -> Response:
    """Every page the worker keeps, as its handler answers it, in one JSON object: one round trip instead of one a
    page (each costs seconds of latency on a slow link), and one gzip stream in which what the pages share (the
    header, the applicant's fields) costs its bytes once."""
    union, prefix = unions.tenant_union(session, tenant), _path_tenancy(request)
    kinds, token = unions.issued_here(session, union.slug), csrf_token(request)
    key = (prefix, language(request), _version(kinds), db.utcnow().date())  # the forms print today's promised date
    if key not in _BUNDLES:
        answers = {path: handler(request=request, session=session, tenant=tenant)
                   for path, handler in _kept_pages(prefix, kinds).items()}
        if len(_BUNDLES) >= 256:
            _BUNDLES.clear()
        _BUNDLES[key] = json.dumps({path: bytes(a.body).decode() for path, a in answers.items()},
                                   ensure_ascii=False).replace(token, CSRF_MARK)
    response = Response(_BUNDLES[key].replace(CSRF_MARK, token), media_type="application/json",
                        headers={"Cache-Control": "no-store"})
    give_csrf_cookie(request, response)
    return response


@router.get("/kept")
def kept(request: Request, session: DbSession, tenant: Tenant) -> Response:
    """What this phone keeps: the page holds nothing personal (app.js reads the phone's copies into it)."""
    union = unions.tenant_union(session, tenant)
    words = Words(language(request))
    kinds = {k["code"]: words.pick(k["name_bn"], k["name_en"]) for k in unions.issued_here(session, union.slug)}
    return render(request, "portal/kept.html", {"union": union, "kinds": kinds, "english": Words("en").gettext})
