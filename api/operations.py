"""What operators need from the API process: the codec server for the Temporal Web UI, and `/metrics`.

`install(app, settings)` mounts both (api/main.py calls it once):
- `POST /api/v1/codec/{decode,encode}` (api/routers/codec.py), with CORS for the Web UI's origin only
  (`SONOD_TEMPORAL_UI_URL`); no other route answers cross-origin requests;
- `GET /metrics`: requests and latency by route template, applications by status from the read model, and
  whatever else this process counts (sonod/metrics.py). Put it behind the ingress's internal-only rule.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.routers import codec
from sonod.metrics import HTTP_LATENCY, HTTP_REQUESTS, ApplicationsCollector
from sonod.settings import Settings


def ui_origins(url: str) -> list[str]:
    """The Web UI's origin; on loopback also its other spelling (localhost / 127.0.0.1), whichever was typed."""
    parts = urlsplit(url)
    origins = [f"{parts.scheme}://{parts.netloc}"]
    port = f":{parts.port}" if parts.port else ""
    for a, b in (("127.0.0.1", "localhost"), ("localhost", "127.0.0.1")):
        if parts.hostname == a:
            origins.append(f"{parts.scheme}://{b}{port}")
    return origins


class CodecCors:
    """CORS for the codec endpoints only, and only for the Temporal Web UI's origin."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_methods=["POST"], allow_credentials=True,
                                   allow_headers=["authorization", "content-type", "x-namespace"], max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(codec.PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class RequestMetrics:
    """Counts and times every HTTP request by its route template (`/api/v1/applications/{application_id}`),
    so that IDs never become label values. The labelled series are looked up once and kept: `labels()` validates
    and locks on every call, a measurable share of a cheap request (bench/verify.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.series: dict[tuple[str, str, int], tuple] = {}  # (method, route, status) -> (counter, histogram)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            key = (scope["method"], getattr(scope.get("route"), "path", None) or "unmatched", status)
            if (series := self.series.get(key)) is None:
                series = self.series[key] = (HTTP_REQUESTS.labels(key[0], key[1], str(status)),
                                             HTTP_LATENCY.labels(key[0], key[1]))
            series[0].inc()
            series[1].observe(time.perf_counter() - started)


def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(codec.router)
    app.add_middleware(CodecCors, origins=ui_origins(settings.temporal_ui_url))
    app.add_middleware(RequestMetrics)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        state = request.app.state
        if getattr(state, "metrics_registry", None) is None:
            state.metrics_registry = CollectorRegistry(auto_describe=False)
            state.metrics_registry.register(ApplicationsCollector(state.sessions))
        body = generate_latest(REGISTRY) + await run_in_threadpool(generate_latest, state.metrics_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)
