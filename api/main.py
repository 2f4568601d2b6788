"""The FastAPI app: API v1 and the pages, one Temporal client and one database engine per process."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.templating import Jinja2Templates
from temporalio.client import Client

from api import errors
from api.routers import applications, auth, catalogue, certificates, health, payments, verify
from sonod.db import make_engine, make_session_factory
from sonod.keys import KeyStore
from sonod.settings import Settings, get_settings
from sonod.temporal import connect

TEMPLATES = Path(__file__).parent / "templates"
UNION_PATH = re.compile(r"^/unions/([a-z0-9-]{1,40})(/.*)?$")


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
        engine = make_engine(settings.db_url)
        app.state.settings = settings
        app.state.sessions = make_session_factory(engine)
        app.state.keys = KeyStore(app.state.sessions, settings.master_key)
        app.state.temporal = TemporalConnection(settings)
        app.state.templates = Jinja2Templates(directory=TEMPLATES)
        yield
        engine.dispose()

    app = FastAPI(title="sonod", version="1", lifespan=lifespan,
                  description="Union Parishad certificates that cannot be forged and never get lost.")
    errors.install(app)

    @app.middleware("http")
    async def tenancy(request: Request, call_next):
        """A union is reached at `<slug>.<base domain>` or under `/unions/<slug>/`."""
        host = request.headers.get("host", "").split(":")[0].lower()
        suffix = "." + settings.base_domain
        if host.endswith(suffix) and host != settings.base_domain:
            request.state.union = host.removesuffix(suffix)
        if m := UNION_PATH.match(request.scope["path"]):
            request.state.union = m.group(1)
            request.scope["path"] = m.group(2) or "/"
            request.scope["root_path"] = request.scope.get("root_path", "") + f"/unions/{m.group(1)}"
        return await call_next(request)

    for module in (health, auth, catalogue, applications, certificates, payments, verify):
        app.include_router(module.router)
    return app
