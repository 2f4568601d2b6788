"""PostgreSQL goes away for a few seconds (every connection of the test database terminated, new ones refused) while
applications are being numbered, rendered and told: the activities' retries carry every one of them through, and the
API answers 503, not 500, until the database is back.

PostgreSQL only: SQLite is a file in the process, it has no server to lose.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sonod.domain import Status
from tests.chaos.outcomes import check_issued_once, own_api, told
from tests.unions_kit import add_union, person

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(not os.environ.get("SONOD_DATABASE_URL", "").startswith("postgresql"),
                       reason="needs PostgreSQL (SONOD_DATABASE_URL=postgresql://...)"),
]

UNION = "dbblip"
APPLICATIONS = 12
DOWN_FOR_S = 4


class Blip:
    """Takes the test database away and gives it back, through the server's maintenance database."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.name = url.database
        self.admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def down(self) -> int:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            return len(conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                         "WHERE datname = :name AND pid <> pg_backend_pid()"),
                                    {"name": self.name}).all())

    def up(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))

    def close(self) -> None:
        self.admin.dispose()


async def test_a_database_outage_mid_issue_loses_no_application(stack, settings):
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    retried = f"blip-{uuid.uuid4().hex}"  # the portal's key for the submission it repeats after the blip
    async with own_api(stack) as api:
        ids = list(await asyncio.gather(*(api.submitted(person(i, union=UNION)) for i in range(APPLICATIONS))))
        await asyncio.gather(*(api.wait_for(i, Status.AWAITING_DECISION, timeout=60) for i in ids))
        half = APPLICATIONS // 2
        await api.login(f"chairman.{UNION}")
        first = await asyncio.gather(*(api.decide(f"chairman.{UNION}", i) for i in ids[:half]))
        assert [r.status_code for r in first] == [200] * half, [r.text for r in first]

        blip = Blip(settings.db_url)
        try:
            terminated = await asyncio.to_thread(blip.down)  # numbers, PDFs and SMS of the first half are in flight
            assert terminated > 0
            health = await api.http.get("/healthz")
            assert health.status_code == 503 and health.json()["database"] is False, health.text
            during = await api.submit(person(APPLICATIONS, union=UNION), key=retried)
            assert during.status_code == 503, during.text  # the portal is told to try again, not that we broke
            assert during.json()["detail"]
            await asyncio.sleep(DOWN_FOR_S)
        finally:
            await asyncio.to_thread(blip.up)
            blip.close()

        again = await api.submit(person(APPLICATIONS, union=UNION), key=retried)
        assert again.status_code == 202, again.text
        ids.append(again.json()["application_id"])
        await api.wait_for(ids[-1], Status.AWAITING_DECISION, timeout=60)
        rest = await asyncio.gather(*(api.decide(f"chairman.{UNION}", i) for i in ids[half:]))
        assert [r.status_code for r in rest] == [200] * len(rest), [r.text for r in rest]
        apps = await asyncio.gather(*(told(api, i, timeout=90) for i in ids))

    await asyncio.to_thread(check_issued_once, settings.db_url, UNION,
                            {a["application_id"]: a["certificate_no"] for a in apps},
                            settings.sms_sink or settings.var_dir / "sms.jsonl")
