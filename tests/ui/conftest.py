"""A headless Chromium (Debian's, driven by Playwright's bundled driver) against the live `stack`, and small helpers
that speak as citizens and officers do in a browser."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest

from sonod.domain import Status
from tests.stack import PASSWORD, ROOT, TOTP_SECRET, needs_totp

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SHOTS = ROOT / "artifacts" / "screenshots"
WIDTHS = (412, 1280)
MAX_PAGE_BYTES = 100_000


@pytest.fixture(scope="session")
async def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("no chromium at /usr/bin/chromium: run `make system-deps` (Debian package chromium)")
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
def base_url(stack) -> str:
    return str(stack.http.base_url).rstrip("/")


@pytest.fixture(scope="session")
def page_report() -> dict:
    """Every checked page's size, written next to the screenshots at the end."""
    sizes: dict[str, int] = {}
    yield sizes
    if sizes:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "page-sizes.json").write_text(json.dumps(sizes, indent=2, sort_keys=True))


@dataclass
class Visitor:
    """One browser context: a citizen, or one logged-in officer."""

    context: object
    page: object
    base_url: str
    report: dict
    checked: set = field(default_factory=set)

    async def go(self, path: str):
        response = await self.page.goto(self.base_url + path)
        assert response is not None
        return response

    async def login(self, username: str) -> None:
        await self.go("/dashboard/login")
        await self.page.get_by_label("ব্যবহারকারীর নাম").fill(username)
        await self.page.get_by_label("পাসওয়ার্ড").fill(PASSWORD)
        if needs_totp(username):
            await self.page.get_by_label("যাচাই কোড (TOTP)").fill(pyotp.TOTP(TOTP_SECRET).now())
        await self.page.get_by_role("button", name="লগ ইন").click()
        await self.page.wait_for_load_state()
        assert "/login" not in self.page.url, await self.page.inner_text("main")

    async def check(self, name: str) -> None:
        """Screenshots at 412 and 1280 px, axe-core (no serious or critical violations) and the page's size."""
        html = await self.page.content()
        size = len(html.encode())
        self.report[name] = size
        assert size < MAX_PAGE_BYTES, f"{name} is {size} bytes"
        await self.page.evaluate(AXE.read_text(encoding="utf-8"))  # not a <script> tag, which a CSP refuses
        result = await self.page.evaluate(
            "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
            "v => ({id: v.id, impact: v.impact, help: v.help, "
            "nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))")
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name}: {json.dumps(bad, ensure_ascii=False, indent=1)}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            await self.page.set_viewport_size({"width": width, "height": 800})
            await self.page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        await self.page.set_viewport_size({"width": 1280, "height": 800})


@pytest.fixture
async def visitors(browser, base_url, page_report):
    """`await visitors()` opens a fresh browser context (its own cookies)."""
    contexts = []

    async def open_one() -> Visitor:
        context = await browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True,
                                            locale="bn-BD")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Visitor(context, await context.new_page(), base_url, page_report)

    yield open_one
    for context in contexts:
        await context.close()


async def wait_for_status(stack, application_id: str, *statuses: Status, officer: str, timeout: float = 30) -> dict:
    """Poll the JSON API as an officer of the union until the application reaches one of the statuses."""
    wanted = {s.value for s in statuses}
    headers = await stack.as_officer(officer)
    deadline = time.monotonic() + timeout
    while True:
        r = await stack.http.get(f"/api/v1/applications/{application_id}", headers=headers)
        if r.status_code == 200 and r.json()["status"] in wanted:
            return r.json()
        if time.monotonic() > deadline:
            raise AssertionError(f"{application_id}: {r.status_code} {r.text[:500]}, not {wanted}")
        await asyncio.sleep(0.1)
