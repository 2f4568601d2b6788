"""Shared fixtures: a fresh database per test session, on PostgreSQL when SONOD_DATABASE_URL names one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _fresh_database_url(tmp_dir) -> tuple[str, callable]:
    base = os.environ.get("SONOD_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        return f"sqlite:///{tmp_dir}/sonod-test.db", lambda: None
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"sonod_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A migrated and seeded database of its own, dropped at the end."""
    from sonod.db import make_engine, make_session_factory
    from sonod.migrate import upgrade
    from sonod.seed import seed
    from sonod.settings import Settings

    url, drop = _fresh_database_url(tmp_path_factory.mktemp("db"))
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        seed(session, Settings(database_url=url))
    engine.dispose()
    yield url
    drop()


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:
    """A database with nothing in it, not even the schema."""
    url, drop = _fresh_database_url(tmp_path)
    yield url
    drop()


# --- a running stack --------------------------------------------------------------------------------

SQLITE_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]


@pytest.fixture(scope="session")
def porichoy():
    from tests.stack import Porichoy, free_port

    sim = Porichoy(free_port())
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def settings(database_url, porichoy, tmp_path_factory):
    from sonod.settings import Settings

    var = tmp_path_factory.mktemp("var")
    return Settings(database_url=database_url, var_dir=var, porichoy_url=porichoy.url,
                    task_queue=f"sonod-test-{uuid.uuid4().hex[:8]}", public_url="http://127.0.0.1:8000")


@pytest.fixture(scope="session")
async def temporal_env(settings):
    from temporalio.testing import WorkflowEnvironment

    from sonod.codec import data_converter
    from tests.stack import TEMPORAL_BIN
    from workflows.search_attributes import ALL_KEYS

    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(settings), search_attributes=ALL_KEYS,
        dev_server_existing_path=str(TEMPORAL_BIN), dev_server_extra_args=SQLITE_PRAGMAS,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def stack(settings, temporal_env):
    """Worker and API on the session's Temporal server; yields the API helper."""
    settings.temporal_address = temporal_env.client.service_client.config.target_host
    async with running(settings, temporal_env.client) as api:
        yield api


@contextlib.asynccontextmanager
async def running(settings, client, port: int | None = None):
    """A worker (on the settings' task queue) and the API (on `port`, else a free one) until the block ends."""
    import httpx
    import uvicorn

    from api.guards import server_options
    from api.main import create_app
    from sonod.db import make_engine, make_session_factory
    from tests.stack import Api, free_port
    from workers.main import build_worker

    engine = make_engine(settings.db_url)
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=3, **server_options(settings)))
    async with httpx.AsyncClient(timeout=10) as gateway_http:
        worker = build_worker(client, settings, make_session_factory(engine), gateway_http)
        working = asyncio.create_task(worker.run())
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        # keep-alive shorter than uvicorn's 5 s, so that no request goes out on a connection the server is closing
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                     limits=httpx.Limits(keepalive_expiry=2)) as http:
            yield Api(http)
        # bounded teardown: a browser's keep-alive connection or a stuck activity must not hold the session open
        server.should_exit = True
        for stopping in (serving, worker.shutdown(), working):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping, 15)
    engine.dispose()
