"""What the fault tests of tests/chaos/test_gateway_faults.py, test_temporal_restart.py and test_database_blip.py
check once the faults are over: each application issued, numbered once and told once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy import select

from activities.delivery import SmsSink
from activities.outbox import UNSENT_AFTER_S
from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import Status
from tests.stack import Api


@asynccontextmanager
async def own_api(stack) -> AsyncIterator[Api]:
    """An `Api` on a client of its own that drops idle connections after 2 s, before uvicorn does (5 s): a burst of
    requests after a quiet spell (the gateway or the database down) must not meet a connection the server is closing.
    """
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30,
                                 limits=httpx.Limits(keepalive_expiry=2)) as http:
        yield Api(http)


async def told(stack, application_id: str, timeout: float = 60) -> dict:
    """The application once issued and its applicant told (the workflow projects the outbox's event last)."""
    deadline = time.monotonic() + timeout
    while True:
        app = await stack.wait_for(application_id, Status.ISSUED, timeout=timeout)
        if any(e["kind"] == "notified" and e["note"].startswith("issued:") for e in app["events"]):
            return app
        assert time.monotonic() < deadline, app["events"]
        await asyncio.sleep(0.2)


def check_issued_once(url: str, union: str, numbers: dict[str, str], sms_sink: Path) -> None:
    """`numbers` (application ID: certificate number) are all of `union`'s certificates, numbered 1..N without
    a gap or a repeat, with one 'issued' SMS each in the outbox, sent, and at the SMS gateway. The SMS are sent after
    the workflow queued them (its timeline says "notified" at the queueing): one a fault cut short is the retry loop's
    once `UNSENT_AFTER_S` has passed, so they are waited for that long and a little more."""
    assert None not in numbers.values() and len(set(numbers.values())) == len(numbers), numbers
    engine = make_engine(url)
    deadline = time.monotonic() + UNSENT_AFTER_S + 30
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(select(db.Certificate.application_id, db.Certificate.certificate_no,
                                          db.Certificate.seq).where(db.Certificate.union_slug == union)).all()
            while True:
                sms = session.execute(select(db.OutboxMessage.application_id, db.OutboxMessage.status).where(
                    db.OutboxMessage.application_id.in_(list(numbers)), db.OutboxMessage.channel == "sms",
                    db.OutboxMessage.idempotency_key.like("%:issued:sms:%"))).all()
                session.rollback()
                settled = len(sms) >= len(numbers) and all(m.status != "pending" for m in sms)
                if settled or time.monotonic() > deadline:
                    break
                time.sleep(1)
    finally:
        engine.dispose()
    assert {r.application_id: r.certificate_no for r in rows} == numbers, "not one certificate row each"
    assert sorted(r.seq for r in rows) == list(range(1, len(numbers) + 1)), "numbers skipped or taken twice"
    assert Counter(m.application_id for m in sms) == Counter(list(numbers)), f"not one 'issued' SMS each: {sms}"
    assert {m.status for m in sms} == {"sent"}, sms
    sent = Counter(m["key"].split(":")[0] for m in SmsSink(sms_sink).messages() if ":issued:sms:" in m["key"])
    assert {i: sent[i] for i in numbers} == dict.fromkeys(numbers, 1), "the SMS gateway got an 'issued' twice or never"
