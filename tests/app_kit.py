"""What the citizen's app tests share (tests/test_citizen_app.py over HTTP, tests/ui/test_app.py in Chromium): a union
of their own, and a certificate issued there to a citizen who applied with MOBILE. Session-scoped, so that the union is
added once whichever of the two files runs."""

from __future__ import annotations

import asyncio
import time

import pytest

from sonod.domain import Role
from tests.unions_kit import add_union, person

UNION = "app-test"
BASE = f"/unions/{UNION}"
MOBILE = "01712000417"


@pytest.fixture(scope="session")
async def app_union(stack, settings) -> str:
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    return UNION


@pytest.fixture(scope="session")
async def app_issued(app_union, stack) -> dict:
    """A citizenship certificate (straight to the chairman) issued to a citizen who applied with MOBILE."""
    body = person(34, union=UNION, contact={"mobile": MOBILE, "email": None})
    return await stack.through_chain(await stack.submitted(body), UNION, [Role.CHAIRMAN], body["applicant"]["ward_no"])


async def union_applications(stack, waiting_for: str | None = None) -> set[str]:
    """Every application of the tests' union, as its chairman lists them; with `waiting_for`, once that one is listed
    (the list is the read model, which the workflow writes a moment after the submission)."""
    deadline = time.monotonic() + 30
    while True:
        r = await stack.http.get("/api/v1/applications", params={"union": UNION, "limit": 200},
                                 headers=await stack.as_officer(f"chairman.{UNION}"))
        assert r.status_code == 200, r.text
        listed = {item["application_id"] for item in r.json()["items"]}
        if waiting_for is None or waiting_for in listed or time.monotonic() > deadline:
            return listed
        await asyncio.sleep(0.1)
