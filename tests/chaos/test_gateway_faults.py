"""The NID gateway misbehaves: 30% errors with half a second of latency, then down altogether, then back.

Every application still reaches the chairman, who approves it; each is issued once, numbered once and told once.
The applications are of a union of this test's own, so that its certificate numbers are ours alone.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest

from sonod.domain import Status
from tests.chaos.outcomes import check_issued_once, told
from tests.unions_kit import add_union, person

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "gwfaults"
APPLICATIONS = 20
DOWN_FOR_S = 4


async def test_a_flaky_then_dead_then_healthy_gateway_loses_no_application(stack, settings, porichoy):
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    await asyncio.to_thread(porichoy.reset)
    try:
        await asyncio.to_thread(porichoy.faults, error_rate=0.3, latency_ms=500)
        ids = list(await asyncio.gather(*(stack.submitted(person(i, union=UNION)) for i in range(APPLICATIONS))))
        await until_some(stack, ids, Status.AWAITING_DECISION, at_least=3, timeout=30)

        await asyncio.to_thread(porichoy.faults, down=True)
        await asyncio.sleep(DOWN_FOR_S)  # the gateway is down: nothing to poll for, the retries are the point
        calls = (await asyncio.to_thread(httpx.get, f"{porichoy.url}/_sim/calls", timeout=5)).json()["by_outcome"]
    finally:
        await asyncio.to_thread(porichoy.reset)
    assert calls.get("server_error", 0) > 0 and calls.get("unavailable", 0) > 0, calls  # the faults were met

    await asyncio.gather(*(stack.wait_for(i, Status.AWAITING_DECISION, timeout=90) for i in ids))
    answers = await asyncio.gather(*(stack.decide(f"chairman.{UNION}", i) for i in ids))
    assert [a.status_code for a in answers] == [200] * APPLICATIONS, [a.text for a in answers if a.status_code != 200]
    apps = await asyncio.gather(*(told(stack, i) for i in ids))

    await asyncio.to_thread(check_issued_once, settings.db_url, UNION,
                            {a["application_id"]: a["certificate_no"] for a in apps},
                            settings.sms_sink or settings.var_dir / "sms.jsonl")
    for a in apps:
        nid_checks = [e for e in a["events"] if e["status"] == Status.VERIFYING_NID]
        assert len(nid_checks) == 1, a["events"]  # retried inside one step, not re-entered


async def until_some(stack, ids: list[str], status: Status, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        apps = await asyncio.gather(*(stack.get(i) for i in ids))
        if sum(a["status"] == status for a in apps) >= at_least:
            return
        assert time.monotonic() < deadline, Counter(a["status"] for a in apps)
        await asyncio.sleep(0.2)
