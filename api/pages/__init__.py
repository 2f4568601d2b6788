"""The web UI, server-rendered: the citizen portal of each union, the UDC desk and the officers' dashboard.

Pages call the same services as API v1 (api/services/); they hold no rules of their own.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.pages import app as citizen_app
from api.pages import dashboard, desk, licences, portal, printing, tracking
from api.pages.common import STATIC
from api.pages.compression import PageGzip


def install(app: FastAPI) -> None:
    app.add_middleware(PageGzip)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # the icon that browsers ask for on their own, whatever the page's <link rel="icon"> says (the same SVG)
    app.add_api_route("/favicon.ico", lambda: FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                                                           headers={"Cache-Control": "public, max-age=86400"}),
                      include_in_schema=False)
    for module in (printing, dashboard, desk, portal, tracking, citizen_app, licences):
        app.include_router(module.router)
