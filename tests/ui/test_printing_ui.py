"""Printing at the union office in a real browser: the secretary chooses the certificates not printed yet, sees them
listed, makes the PDF, watches its progress and downloads it. Screenshots under artifacts/screenshots/
(dashboard-print-*)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from sonod import db
from tests.certificates_kit import issue, own_union
from tests.unions_kit import database

UNION = "printui"


async def test_the_secretary_prints_the_certificates_not_printed_yet_and_downloads_the_pdf(stack, settings, visitors,
                                                                                            tmp_path):
    await own_union(settings, UNION)
    issued = [await issue(stack, settings, tmp_path, UNION, i) for i in (5, 6)]
    secretary = await visitors()
    page = secretary.page
    await secretary.login(f"secretary.{UNION}")

    await page.get_by_role("link", name="সনদ ছাপা", exact=True).click()
    await page.locator("#print-filters button[type=submit]").click()
    rows = page.locator("#print-preview tbody tr")
    assert [await rows.nth(i).locator("th").inner_text() for i in range(await rows.count())] == \
        [c.certificate_no for c in issued]
    await secretary.check("dashboard-print")

    await page.get_by_role("button", name="২টি সনদের PDF তৈরি করুন").click()
    await page.wait_for_url(re.compile(r"/dashboard/print/P-printui-[0-9a-f]+$"))
    download_link = page.get_by_role("link", name="PDF ডাউনলোড করুন")
    await download_link.wait_for(state="visible")  # the page polled the batch's progress until it was done
    assert await page.locator("#print-state").inner_text() == "তৈরি হয়েছে।"
    assert await page.locator("#print-bar").get_attribute("value") == "2"
    await secretary.check("dashboard-print-batch")
    async with page.expect_download() as downloading:
        await download_link.click()
    pdf = Path(await (await downloading.value).path()).read_bytes()
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    pages = text.decode().split("\f")
    assert all(c.certificate_no in pages[0] for c in issued) and len(pages[:-1]) == 3

    await page.goto(f"{secretary.base_url}/dashboard/print?show=1&not_printed=1")
    assert "কোনো ইস্যু করা সনদ মেলেনি" in await page.inner_text("main")


async def test_the_secretary_sets_the_letterheads_margins_and_cramped_ones_are_refused(stack, settings, visitors):
    await own_union(settings, UNION)
    secretary = await visitors()
    page = secretary.page
    await secretary.login(f"secretary.{UNION}")
    await secretary.go("/dashboard/print")
    await page.locator("#margin-top").fill("65")
    await page.get_by_role("button", name="মার্জিন সংরক্ষণ করুন").click()
    assert "প্যাডের মার্জিন সংরক্ষিত হয়েছে।" in await page.inner_text("main")
    assert await page.locator("#margin-top").input_value() == "65"

    await page.locator("#margin-top").fill("140")
    await page.locator("#margin-bottom").fill("100")
    await page.get_by_role("button", name="মার্জিন সংরক্ষণ করুন").click()
    assert "এই মার্জিনে সনদের জন্য যথেষ্ট জায়গা থাকে না" in await page.inner_text("main")
    with database(settings.db_url) as session:
        assert session.get(db.Union, UNION).letterhead == {"top": 65, "bottom": 10, "left": 17, "right": 17}
        session.get(db.Union, UNION).letterhead = None

    udc = await visitors()
    await udc.login(f"udc.{UNION}")
    await udc.go("/dashboard/print")
    assert await udc.page.locator("#margin-top").is_disabled()
