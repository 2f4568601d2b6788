"""The dashboard's union picker and search (issue 18): an officer picks only a union they serve, and what an officer
types into the search is text, never a pattern."""

from __future__ import annotations

import asyncio

import pytest

from api.pages.common import TOKEN_COOKIE
from sonod.domain import Status
from tests.stack import citizen
from tests.unions_kit import add_union, union_for

PAGES = ("/dashboard/applications", "/dashboard/figures", "/dashboard/overdue")


async def page(stack, username: str, path: str, **params):
    return await stack.http.get(path, params=params, cookies={TOKEN_COOKIE: await stack.login(username)})


@pytest.mark.parametrize("path", PAGES)
async def test_the_upazila_administrator_may_not_pick_a_union_of_another_upazila(stack, settings, path):
    other = f"kotalipara-{path.rsplit('/', 1)[-1]}"
    await asyncio.to_thread(add_union, settings.db_url, other, "kotalipara")
    application_id = await stack.submitted(citizen("paikkandi", 3) | {"union": other})
    await stack.wait_for(application_id, Status.AWAITING_DECISION)

    r = await page(stack, "uno.gopalganj-sadar", path, union=other)

    assert r.status_code == 403, r.text[:300]
    assert application_id not in r.text


@pytest.mark.parametrize("path", PAGES)
async def test_a_union_officer_may_not_pick_another_union(stack, path):
    r = await page(stack, "chairman.paikkandi", path, union="borashi")

    assert r.status_code == 403, r.text[:300]


async def test_the_upazila_administrator_sees_a_union_of_his_upazila(stack):
    r = await page(stack, "uno.gopalganj-sadar", "/dashboard/applications", union="borashi")

    assert r.status_code == 200, r.text[:300]


async def test_a_search_for_a_percent_sign_finds_no_name_without_one(stack, settings, request):
    union = await union_for(request, settings.db_url, "search")
    application_id = await stack.submitted(citizen("paikkandi", 4) | {"union": union})
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    assert application_id in (await page(stack, f"secretary.{union}", "/dashboard/applications")).text

    for pattern in ("%", "_", "%%"):
        r = await page(stack, f"secretary.{union}", "/dashboard/applications", q=pattern)
        assert r.status_code == 200, r.text[:300]
        assert application_id not in r.text, pattern


async def test_a_search_by_mobile_number_stays_in_the_union(stack, settings, request):
    here = await union_for(request, settings.db_url, "mine")
    there = await union_for(request, settings.db_url, "theirs")
    mobile = "01819123456"
    application_id = await stack.submitted(citizen("paikkandi", 5, contact={"mobile": mobile}) | {"union": there})
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    assert application_id in (await page(stack, f"secretary.{there}", "/dashboard/applications", q=mobile)).text

    r = await page(stack, f"secretary.{here}", "/dashboard/applications", q=mobile)

    assert r.status_code == 200 and application_id not in r.text
