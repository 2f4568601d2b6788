"""Pages, styles and scripts gzipped for phones on slow links (the citizen's app's first load is weighed by
tests/ui/test_app.py). Not API v1 nor what a verifier or a monitor fetches, so that their clients and the verify
route's speed are untouched; never a PDF, a key or a signed list."""

from __future__ import annotations

from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

NOT_PAGES = ("/api/", "/.well-known/", "/metrics", "/healthz", "/pki/")
NOT_TEXT = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf", "application/jose",
            "application/octet-stream", "application/pkix-cert", "application/cbor")


class PageGzip:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024, compresslevel=6, exclude_content_types=NOT_TEXT)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(NOT_PAGES):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
