"""The /verify page as an installable web app that verifies with no network (issue 17, docs/CERTIFICATES.md).

Its service worker (api/static/verify-sw.js, served as /verify-sw.js) is registered with the scope `/verify`, never
`/` (the union portals have workers of their own under `/unions/<slug>/`). It keeps the page and its code; the page
(api/static/verify-offline.js) keeps the trust list and the status lists, checked against the sonod root that the
page itself carries (api.services.status_lists.offline_data): the root comes with the page's code, not with the
lists it vouches for.
"""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import STATIC
from api.services import status_lists

router = APIRouter(include_in_schema=False)

SCOPE = "/verify"
KEPT = ("/verify", "/static/scan.js", "/static/verify-offline.js", "/static/vendor/jsQR.min.js",
        "/verify/manifest.webmanifest", "/static/favicon.svg")
NO_CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@router.get("/verify/manifest.webmanifest")
def manifest() -> Response:
    body = {"id": SCOPE, "start_url": SCOPE, "scope": SCOPE, "name": "সনদ যাচাই · Certificate verification",
            "short_name": "সনদ যাচাই", "lang": "bn", "display": "standalone", "background_color": "#eef1f4",
            "theme_color": "#0b4f8a",
            "icons": [{"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"}]}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json", headers=NO_CACHE)


def _worker_source() -> str:
    """The worker, with the files it keeps and a version that changes whenever one of them does."""
    digest = hashlib.sha256()
    for path in ("verify-sw.js", "scan.js", "verify-offline.js", "vendor/jsQR.min.js"):
        digest.update((STATIC / path).read_bytes())
    config = {"version": digest.hexdigest()[:12], "kept": list(KEPT), "shell": SCOPE}
    return f"const CONFIG = {json.dumps(config)};\n" + (STATIC / "verify-sw.js").read_text()


@router.get("/verify-sw.js")
def service_worker() -> Response:
    """At the site's top level so that it may take the scope /verify (a worker's scope is below its own path)."""
    return Response(_worker_source(), media_type="text/javascript", headers=NO_CACHE)


@router.get(status_lists.NAMES_URL)
def names(request: Request) -> Response:
    return Response(json.dumps(status_lists.names(request), ensure_ascii=False), media_type="application/json",
                    headers=NO_CACHE)
