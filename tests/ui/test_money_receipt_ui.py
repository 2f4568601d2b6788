"""The money receipt in a real browser: the track page offers it once the fee is paid (not before), and the button
downloads the PDF. Screenshot under artifacts/screenshots/ (portal-track-receipt-*)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sonod.domain import Status
from tests.stack import people
from tests.ui.conftest import wait_for_status
from tests.ui.test_tracked import TRADE, UNION, apply_in_portal, track


async def test_once_the_fee_is_paid_the_track_page_downloads_the_money_receipt(stack, visitors):
    citizen = await visitors()
    page = citizen.page
    application_id = await apply_in_portal(citizen, people(UNION)[21], "trade_licence", TRADE)
    await wait_for_status(stack, application_id, Status.AWAITING_PAYMENT, officer=f"secretary.{UNION}")
    await track(citizen, application_id)
    assert await page.locator("#money-receipt").count() == 0  # nothing paid, no receipt

    await page.get_by_role("button", name="পরীক্ষামূলক গেটওয়েতে ৳ ৬৯০ পরিশোধ").click()
    await page.wait_for_selector("#done")
    button = page.get_by_role("button", name="মানি রিসিট ডাউনলোড করুন (PDF)")
    await citizen.check("portal-track-receipt")
    async with page.expect_download() as downloading:
        await button.click()
    download = await downloading.value
    assert download.suggested_filename.startswith(f"{UNION.upper()}-MR-")
    pdf = Path(await download.path()).read_bytes()
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "মানি রিসিট" in text and application_id in text and "ছয়শত নব্বই টাকা মাত্র" in text
