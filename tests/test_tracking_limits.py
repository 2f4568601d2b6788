"""Guessing the mobile number of someone else's application: ten wrong tries in 15 minutes, then 429."""

from __future__ import annotations

import re

import httpx
import pytest

from sonod.domain import Status
from tests.stack import citizen

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "paikkandi"
WAITING = [s for s in Status if s.value.startswith("awaiting_")]


async def track(http: httpx.AsyncClient, application_id: str, mobile: str) -> httpx.Response:
    page = await http.get(f"/unions/{UNION}/track")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return await http.post(f"/unions/{UNION}/track", data={"csrf": token, "application_id": application_id,
                                                          "mobile": mobile})


async def test_after_ten_wrong_mobile_numbers_even_the_right_one_waits(stack):
    body = citizen(UNION, 3)
    application_id = await stack.submitted(body)
    right = body["contact"]["mobile"]
    await stack.wait_for(application_id, *WAITING)  # in the register, where tracking looks
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=10) as browser:
        assert (await track(browser, application_id, right)).status_code == 200
        for n in range(10):
            wrong = await track(browser, application_id, f"0171{n:07d}")
            assert wrong.status_code == 404, (n, wrong.status_code)
        refused = await track(browser, application_id, right)
        assert refused.status_code == 429 and "too many" in refused.text.lower()
        other = await stack.submitted(citizen(UNION, 4))  # another application is not held up
        await stack.wait_for(other, *WAITING)
        assert (await track(browser, other, citizen(UNION, 4)["contact"]["mobile"])).status_code == 200
