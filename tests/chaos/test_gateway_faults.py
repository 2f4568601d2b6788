"""The NID gateway misbehaves: 30% errors with half a second of latency, then down altogether, then back. Most
applications come in while it is flaky, the rest while it is down.

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
from tests.chaos.outcomes import check_issued_once, own_api, told
from tests.unions_kit import add_union, person

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "gwfaults"
APPLICATIONS = 20
FLAKY = 15  # submitted while the gateway is flaky; the other 5 while it is down
DOWN_FOR_S = 4


async def test_a_flaky_then_dead_then_healthy_gateway_loses_no_application(stack, settings, porichoy):
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    await asyncio.to_thread(porichoy.reset)
    async with own_api(stack) as api:
        try:
            await asyncio.to_thread(porichoy.faults, error_rate=0.3, latency_ms=500)
            flaky = [api.submitted(person(i, union=UNION)) for i in range(FLAKY)]
            ids = list(await asyncio.gather(*flaky))
            await until_some(api, ids, Status.AWAITING_DECISION, at_least=3, timeout=30)

            await asyncio.to_thread(porichoy.faults, down=True)
            late = [api.submitted(person(i, union=UNION)) for i in range(FLAKY, APPLICATIONS)]
            ids += await asyncio.gather(*late)
            await asyncio.sleep(DOWN_FOR_S)  # the gateway is down: nothing to poll for, the retries are the point
            for app_id in ids[FLAKY:]:  # waiting for the gateway: neither lost nor failed
                assert (await api.get(app_id))["status"] in (Status.SUBMITTED, Status.VERIFYING_NID)
            calls = (await asyncio.to_thread(httpx.get, f"{porichoy.url}/_sim/calls", timeout=5)).json()
        finally:
            await asyncio.to_thread(porichoy.reset)
        outcomes = calls["by_outcome"]
        assert outcomes.get("server_error", 0) > 0 and outcomes.get("unavailable", 0) > 0, calls  # faults were met

        await asyncio.gather(*(api.wait_for(i, Status.AWAITING_DECISION, timeout=90) for i in ids))
        await api.login(f"chairman.{UNION}")
        answers = await asyncio.gather(*(api.decide(f"chairman.{UNION}", i) for i in ids))
        assert [a.status_code for a in answers] == [200] * APPLICATIONS, [a.text for a in answers]
        apps = await asyncio.gather(*(told(api, i) for i in ids))

    await asyncio.to_thread(check_issued_once, settings.db_url, UNION,
                            {a["application_id"]: a["certificate_no"] for a in apps},
                            settings.sms_sink or settings.var_dir / "sms.jsonl")
    for a in apps:
        nid_checks = [e for e in a["events"] if e["status"] == Status.VERIFYING_NID]
        assert len(nid_checks) == 1, a["events"]  # retried inside one step, not re-entered


async def until_some(api, ids: list[str], status: Status, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        apps = await asyncio.gather(*(api.get(i) for i in ids))
        if sum(a["status"] == status for a in apps) >= at_least:
            return
        assert time.monotonic() < deadline, Counter(a["status"] for a in apps)
        await asyncio.sleep(0.2)
