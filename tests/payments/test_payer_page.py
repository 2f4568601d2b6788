"""The simulator's payer page in a real browser (Debian's Chromium): Pay sends the browser back to sonod's
return address, by a redirect or, for SSLCommerz, by a form the page posts by itself."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.stack import ROOT

playwright_api = pytest.importorskip("playwright.async_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
async def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail("no chromium at /usr/bin/chromium: run `make system-deps` (Debian package chromium)")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        await browser.close()


async def test_the_payer_pays_in_a_browser_and_is_sent_back_to_sonod(world, provider, chromium):
    gateway = world.gateway(provider)
    order = world.order(provider)
    created = await gateway.create(order)
    page = await chromium.new_page(viewport={"width": 412, "height": 600})
    try:
        await page.goto(created.redirect_url)
        assert order.order_id in await page.inner_text("body")
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"gateway-payer-{provider}.png"))
        await page.click("#pay")
        for _ in range(100):
            returns = [r for r in world.merchant.of("return", provider)
                       if order.order_id in str(r["query"]) or order.order_id.encode() in r["body"]]
            if returns:
                break
            await asyncio.sleep(0.05)
    finally:
        await page.close()

    assert len(returns) == 1
    notice = gateway.parse_notification(returns[0]["method"], returns[0]["query"], returns[0]["headers"],
                                        returns[0]["body"])
    status = await gateway.status(notice.order_id, created.provider_ref)
    assert status.settles(order)
