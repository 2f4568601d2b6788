"""The FastAPI app: API v1 and the pages, one Temporal client and one database engine per process."""

from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client

from api import errors, guards, operations, pages
from api.routers import (
    applications,
    audit,
    auth,
    catalogue,
    certificates,
    health,
    licences,
    payments,
    pki,
    print_batches,
    sms,
    status_lists,
    verify,
    verify_app,
)
from api.verification import Verifier, watch
from sonod.db import make_engine, make_session_factory
from sonod.keys import KeyStore
from sonod.settings import Settings, get_settings
from sonod.temporal import connect

TEMPLATES = Path(__file__).parent / "templates"
UNION_PATH = re.compile(r"^/unions/([a-z0-9-]{1,40})(/.*)?$")
MAX_IN_FLIGHT = 32  # below the 40 worker threads of anyio's default limiter, which run the sync handlers


class Tenancy:
    """A union is reached at `<slug>.<base domain>` or under `/unions/<slug>/` (`request.state.union`).

    Plain ASGI: `@app.middleware("http")` (Starlette's BaseHTTPMiddleware) would cost every request a task
    group and memory streams, more than a whole bare FastAPI request (bench/verify.py, docs/PERFORMANCE.md)."""

    def __init__(self, app: ASGIApp, base_domain: str) -> None:
        self.app, self.base_domain, self.suffix = app, base_domain, "." + base_domain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope.setdefault("state", {})
            host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
            host = host.split(":")[0].lower()
            if host.endswith(self.suffix) and host != self.base_domain:
                state["union"] = host.removesuffix(self.suffix)
            if m := UNION_PATH.match(scope["path"]):
                state["union"] = m.group(1)
                scope["path"] = m.group(2) or "/"
                scope["root_path"] = scope.get("root_path", "") + f"/unions/{m.group(1)}"
        await self.app(scope, receive, send)


class Admission:
    """At most `limit` requests in the handlers at once; the others wait their turn here, in the event loop.

    A request keeps its database connection (on SQLite also the write lock: BEGIN IMMEDIATE) from one worker
    thread to the next (auth dependency, handler, commit). With more requests in flight than threads, every
    thread can end up waiting for a connection held by a request that waits for a thread, and everything stalls
    until the pool's 30 s timeout (bench/api.py, 100 concurrent clients; docs/PERFORMANCE.md). With no more
    requests than threads, each request always gets a thread, so whoever holds a connection goes on."""

    EXEMPT = frozenset({"/healthz", "/metrics"})  # never queued behind the load they report on

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.slots = app, asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        async with self.slots:
            await self.app(scope, receive, send)


class TemporalConnection:
    """Connects on first use and reconnects after failures, so the API starts before Temporal does."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: Client | None = None
        self.lock = asyncio.Lock()

    async def get(self) -> Client:
        if self.client is None:
            async with self.lock:
                if self.client is None:
                    try:
                        self.client = await connect(self.settings)
                    except RuntimeError as e:
                        raise errors.Unavailable(f"Temporal is unreachable at {self.settings.temporal_address}") from e
        return self.client

    async def healthy(self) -> bool:
        try:
            client = await self.get()
            return await client.service_client.check_health(timeout=timedelta(seconds=2))
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine, reads = make_engine(settings.db_url), make_engine(settings.db_url, read_only=True)
        app.state.settings = settings
        app.state.sessions = make_session_factory(engine)
        app.state.keys = KeyStore(app.state.sessions, settings.master_key)
        app.state.verifier = Verifier(reads, app.state.keys)
        watch(app.state.sessions, app.state.verifier)  # a revocation committed here shows at once
        app.state.temporal = TemporalConnection(settings)
        app.state.templates = Jinja2Templates(directory=TEMPLATES)
        refresher = asyncio.create_task(app.state.verifier.run(), name="sonod-verify-refresher")
        yield
        refresher.cancel()
        with suppress(asyncio.CancelledError):
            await refresher
        reads.dispose()
        engine.dispose()

    app = FastAPI(title="sonod", version="1", lifespan=lifespan,
                  description="Union Parishad certificates that cannot be forged and never get lost.")
    errors.install(app)

    app.add_middleware(Tenancy, base_domain=settings.base_domain)
    app.add_middleware(Admission, limit=MAX_IN_FLIGHT)

    app.add_middleware(guards.NoNulInUrl)  # added last, so they run first: nothing reaches a handler unguarded
    app.add_middleware(guards.BodyLimit, limit=guards.MAX_BODY_BYTES)

    # verify first: routes are matched in order, and it is the public, busiest route (bench/verify.py)
    for module in (verify, health, auth, catalogue, applications, certificates, payments, sms, audit, status_lists,
                   pki, verify_app, print_batches, licences):
        app.include_router(module.router)
    pages.install(app)
    operations.install(app, settings)  # the codec server for the Temporal Web UI, /metrics
    return app
