"""The upazila administrator's dashboard (issue 18): he picks one of his unions, reads the upazila's figures union by
union, finds the overdue applications of all his unions, and searches a union's applications by name and mobile."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import timedelta

from sonod.domain import Status
from tests.stack import citizen
from tests.ui.conftest import wait_for_status
from tests.unions_kit import set_timing, union_for

MOBILE = "01912345678"


async def overdue_and_issued(stack, settings, request) -> tuple[str, str, str]:
    """A fresh union of Gopalganj Sadar whose deadlines pass at once: one application left overdue at the chairman,
    one issued."""
    union = await union_for(request, settings.db_url, "ui-uno")
    await asyncio.to_thread(set_timing, settings.db_url, union, deadline_days=0, escalate_after=timedelta(days=30),
                            reminder_every=timedelta(days=1))
    late = await stack.submitted(citizen("paikkandi", 6, contact={"mobile": MOBILE}) | {"union": union})
    done = await stack.submitted(citizen("paikkandi", 7) | {"union": union})
    for application_id in (late, done):
        await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{union}")
    r = await stack.decide(f"chairman.{union}", done)
    assert r.status_code == 200, r.text
    await wait_for_status(stack, done, Status.ISSUED, officer=f"chairman.{union}")
    deadline = time.monotonic() + 30
    while not (await stack.get(late))["overdue"]:  # the deadline is the submission itself: marked at once
        assert time.monotonic() < deadline, await stack.get(late)
        await asyncio.sleep(0.1)
    return union, late, done


async def test_the_upazila_administrator_picks_a_union_reads_the_figures_and_the_overdue_list_and_searches(
        stack, settings, visitors, request):
    union, late, done = await overdue_and_issued(stack, settings, request)
    uno = await visitors()
    await uno.login("uno.gopalganj-sadar")
    page = uno.page
    main = page.locator("main")

    # the list: first the union
    await page.get_by_role("link", name="সব আবেদন").click()
    await page.wait_for_url(re.compile(r"/dashboard/applications"))
    assert "আবেদন দেখতে একটি ইউনিয়ন বাছাই করুন" in await main.inner_text()
    await uno.check("upazila-applications-pick")
    await page.get_by_label("ইউনিয়ন").select_option(union)
    await page.get_by_role("button", name="দেখুন").click()
    await page.wait_for_url(re.compile(f"union={union}"))
    listed = await main.inner_text()
    assert late in listed and done in listed
    assert "মোছাঃ শাহিদা খাতুন" in listed and "রাকিব হোসেন" in listed  # the applicant-name column
    await uno.check("upazila-applications")

    # search by a part of the name, in Bengali, then in English (any case)
    for part in ("শাহিদা", "shahida"):
        await page.get_by_label("খুঁজুন").fill(part)
        await page.get_by_role("button", name="খুঁজুন").click()
        await page.wait_for_url(re.compile(r"q="))
        found = await main.inner_text()
        assert late in found and done not in found, part
        assert "নাম দিয়ে খোঁজা হয়েছে" in found
    await uno.check("upazila-search-name")

    # search by mobile number, typed in Bengali digits with the country code
    await page.get_by_label("খুঁজুন").fill("+৮৮০১৯১২৩৪৫৬৭৮")
    await page.get_by_role("button", name="খুঁজুন").click()
    await page.wait_for_load_state()
    found = await main.inner_text()
    assert late in found and done not in found
    assert "মোবাইল নম্বর দিয়ে খোঁজা হয়েছে" in found
    await uno.check("upazila-search-mobile")

    # the upazila's figures, union by union
    await page.get_by_role("link", name="পরিসংখ্যান").click()
    await page.wait_for_url(re.compile(r"/dashboard/figures$"))
    row = page.locator(f"#by-union tr[data-union='{union}']")
    cells = await row.locator("td").all_inner_texts()
    assert cells[:2] == ["১", "১"], cells  # backlog, overdue
    assert re.fullmatch(r"[০-৯]+ সেকেন্ড", cells[2]), cells  # issued within seconds: not "০ মিনিট"
    assert cells[3:5] == ["১", "০"], cells  # issued, revoked
    assert await page.locator("#by-union tbody tr").count() >= 21  # every union of Gopalganj Sadar
    await uno.check("upazila-figures")

    # the overdue list of all his unions, from the figures
    await page.get_by_role("link", name="সব ইউনিয়নের সময় পার হওয়া আবেদন").click()
    await page.wait_for_url(re.compile(r"/dashboard/overdue"))
    overdue = await page.locator("#overdue").inner_text()
    assert late in overdue and done not in overdue
    await uno.check("upazila-overdue")

    # one union's own figures, from its row
    await page.go_back()
    await page.locator(f"#by-union tr[data-union='{union}'] th a").click()
    await page.wait_for_url(re.compile(f"union={union}"))
    assert "বাতিলকৃত" in await main.inner_text()
    await uno.check("upazila-union-figures")


async def test_the_administrator_has_the_same_pages(stack, visitors):
    admin = await visitors()
    await admin.login("admin.gopalganj-sadar")
    for path in ("/dashboard/figures", "/dashboard/overdue", "/dashboard/applications?union=paikkandi&q=রহিম"):
        r = await admin.go(path)
        assert r.status == 200, (path, await admin.page.inner_text("main"))
    assert await admin.page.locator("#searched[data-kind='name']").count() == 1
