"""Issue #6: the public verify page scans a certificate's QR with the phone's camera.

Chromium presents a Y4M video as its camera (`--use-fake-device-for-media-stream`): a photo of the QR cut from a
certificate issued through the live stack, or a QR of our own. Debian's Chromium has no native BarcodeDetector,
so these tests exercise the vendored decoder (api/static/vendor/jsQR.min.js). Each video needs a browser of its
own; the shared `browser` fixture is left as it is. Screenshots go to artifacts/screenshots/ as the other UI tests'.
"""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from sonod.domain import Role
from sonod.qr import qr_png
from tests.stack import PORTAL_KEY
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, MAX_PAGE_BYTES, SHOTS, Visitor, playwright_api
from tests.unions_kit import add_union, person

UNION = "ui-scan"  # a union of these tests' own
FRAME = (640, 480)  # what the fake camera sends: VGA, like a cheap phone's preview
DECODER = "/static/vendor/jsQR.min.js"
FAKE_CAMERA = ["--use-fake-device-for-media-stream"]
INSECURE_HOST = "verify.test"  # mapped to 127.0.0.1: plain http on a name that is not loopback, so no secure context


# --- the pictures the camera sees --------------------------------------------------------------------------------


def write_y4m(picture: Image.Image | None, path: Path, frames: int = 5) -> Path:
    """A Y4M video (YUV 4:2:0) of `picture` lying in the middle of a grey desk, for Chromium's fake camera."""
    desk = Image.new("RGB", FRAME, (118, 112, 104))
    if picture is not None:
        scale = 0.85 * min(FRAME[0] / picture.width, FRAME[1] / picture.height)
        picture = picture.convert("RGB").resize((round(picture.width * scale), round(picture.height * scale)),
                                                Image.Resampling.BICUBIC)
        desk.paste(picture, ((FRAME[0] - picture.width) // 2, (FRAME[1] - picture.height) // 2))
    y, cb, cr = desk.convert("YCbCr").split()
    half = (FRAME[0] // 2, FRAME[1] // 2)
    frame = b"".join(plane.tobytes() for plane in (y, cb.resize(half, Image.Resampling.BOX),
                                                   cr.resize(half, Image.Resampling.BOX)))
    header = f"YUV4MPEG2 W{FRAME[0]} H{FRAME[1]} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + (b"FRAME\n" + frame) * frames)
    return path


def qr_picture(text: str) -> Image.Image:
    """A QR of our own making, with the project's own encoder."""
    return Image.open(io.BytesIO(qr_png(text)))


@dataclass
class Issued:
    certificate_no: str
    qr: str  # the text of the printed QR
    photo: Image.Image  # the QR and some of the paper around it, cut from a 200-dpi render of the PDF

    @property
    def payload(self) -> str:
        return self.qr.split("?c=", 1)[1]


@pytest.fixture(scope="module")
async def issued(stack, settings, tmp_path_factory) -> Issued:
    """A citizenship certificate issued through the stack, and a photo of its QR cut from the printed PDF."""
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    body = person(30, union=UNION)
    app = await stack.through_chain(await stack.submitted(body), UNION, [Role.CHAIRMAN], body["applicant"]["ward_no"])
    r = await stack.http.get(f"/api/v1/certificates/{app['certificate_no']}/pdf", headers={"X-API-Key": PORTAL_KEY})
    assert r.status_code == 200, r.text
    tmp = tmp_path_factory.mktemp("scan")
    (tmp / "certificate.pdf").write_bytes(r.content)
    await asyncio.to_thread(subprocess.run, ["pdftoppm", "-png", "-r", "200", "-l", "1", tmp / "certificate.pdf",
                                             tmp / "page"], check=True)
    page = Image.open(next(tmp.glob("page*.png")))
    [symbol] = decode(page, symbols=[ZBarSymbol.QRCODE])
    left, top, width, height = symbol.rect
    margin = width // 3  # a hand-held phone sees the QR with some of the paper around it
    photo = page.crop((left - margin, top - margin, left + width + margin, top + height + margin))
    return Issued(app["certificate_no"], symbol.data.decode(), photo)


# --- a browser whose camera plays a video ------------------------------------------------------------------------


@dataclass
class Phone(Visitor):
    offsite: list[str] = field(default_factory=list)  # requests that tried to leave this machine, refused
    fetched: list = field(default_factory=list)  # every response the page received


@asynccontextmanager
async def phone(video: Path, base_url: str, page_report: dict, camera_allowed: bool = True):
    """A browser of its own whose camera shows `video`, 360 px wide. Requests leaving this machine are refused and
    recorded in `offsite`."""
    args = [*CHROMIUM_ARGS, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}",
            f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1"]
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="bn-BD",
                                                permissions=["camera"] if camera_allowed else [])
            context.set_default_timeout(15_000)
            visitor = Phone(context, await context.new_page(), base_url, page_report)

            async def guard(route):
                if urlsplit(route.request.url).hostname in ("127.0.0.1", INSECURE_HOST):
                    await route.continue_()
                else:
                    visitor.offsite.append(route.request.url)
                    await route.abort("blockedbyclient")

            await context.route("**/*", guard)
            visitor.page.on("response", lambda response: visitor.fetched.append(response))
            yield visitor
        finally:
            await browser.close()


async def scan(visitor: Visitor) -> None:
    await visitor.page.get_by_role("button", name="ক্যামেরায় স্ক্যান করুন · Scan with camera").click()


def verdict(visitor: Visitor):
    return visitor.page.locator(".verdict .word")


def fetched_decoder(visitor: Phone) -> bool:
    return any(urlsplit(r.url).path == DECODER for r in visitor.fetched)


# --- the tests ---------------------------------------------------------------------------------------------------


async def test_the_camera_reads_the_printed_qr_and_the_page_says_valid(issued, base_url, page_report, tmp_path):
    video = write_y4m(issued.photo, tmp_path / "certificate.y4m")
    async with phone(video, base_url, page_report) as citizen:
        await citizen.go("/verify")
        page = citizen.page
        weight = sum([len(await r.body()) for r in citizen.fetched])
        assert weight < MAX_PAGE_BYTES, f"the page and its files weigh {weight} bytes"
        assert not fetched_decoder(citizen)  # loaded only when the user asks for the camera

        await scan(citizen)
        await page.wait_for_url(re.compile(r"/verify\?c="))
        assert await verdict(citizen).inner_text() == "VALID"
        assert issued.certificate_no in await page.inner_text("main")
        assert page.url == f"{base_url}/verify?c={issued.payload}"  # this site, the printed payload
        assert fetched_decoder(citizen)
        assert not citizen.offsite
        await citizen.check("verify-scanned-valid")


@pytest.mark.parametrize("qr, word", [
    ("https://evil.example/verify?c={payload}", "VALID"),  # a genuine payload: checked here, on this site
    ("https://evil.example/verify?c=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "NOT VALID"),  # a clone's forgery
    ("https://evil.example/login", "NOT VALID"),  # not a certificate at all
], ids=["genuine-payload", "forged-payload", "other-url"])
async def test_a_qr_that_points_to_another_site_is_checked_here_and_never_followed(issued, base_url, page_report,
                                                                                      tmp_path, qr, word):
    text = qr.format(payload=issued.payload)
    video = write_y4m(qr_picture(text), tmp_path / "foreign.y4m")
    async with phone(video, base_url, page_report) as citizen:
        await citizen.go("/verify")
        await scan(citizen)
        await citizen.page.wait_for_url(re.compile(r"/verify\?(c|qr)="))
        assert await verdict(citizen).inner_text() == word
        assert urlsplit(citizen.page.url).netloc == urlsplit(base_url).netloc
        assert not citizen.offsite, citizen.offsite
        if word == "VALID":
            assert issued.certificate_no in await citizen.page.inner_text("main")


async def test_the_camera_view_says_what_to_do_and_stops_on_request(base_url, page_report, tmp_path):
    video = write_y4m(None, tmp_path / "desk.y4m")  # no QR in sight: it keeps scanning
    async with phone(video, base_url, page_report) as citizen:
        page = citizen.page
        await citizen.go("/verify")
        await scan(citizen)
        status = page.get_by_role("status")
        await status.filter(has_text="Hold the certificate's QR code inside the frame").wait_for()
        assert "কিউআর কোডটি ফ্রেমের মাঝখানে ধরুন" in await status.inner_text()
        assert await page.evaluate("document.getElementById('scan-video').videoWidth") == FRAME[0]
        assert await page.get_by_role("button", name="ক্যামেরায় স্ক্যান করুন · Scan with camera").is_hidden()
        await citizen.check("verify-camera")

        await page.get_by_role("button", name="ক্যামেরা বন্ধ করুন · Stop").click()
        assert "The camera is off." in await status.inner_text()
        assert await page.evaluate("document.getElementById('scan-video').srcObject") is None
        assert await page.locator("#scan-panel").is_hidden()
        assert await page.evaluate("document.activeElement.id") == "scan-start"
        assert "/verify?" not in page.url


async def test_without_permission_for_the_camera_the_page_says_how_to_allow_it(issued, base_url, page_report,
                                                                               tmp_path):
    video = write_y4m(issued.photo, tmp_path / "certificate.y4m")
    async with phone(video, base_url, page_report, camera_allowed=False) as citizen:
        await citizen.go("/verify")
        await scan(citizen)
        status = citizen.page.get_by_role("status")
        await status.filter(has_text="Permission to use the camera was denied").wait_for()
        assert "ক্যামেরা ব্যবহারের অনুমতি দেওয়া হয়নি" in await status.inner_text()
        assert await citizen.page.locator("#scan-panel").is_hidden()
        await citizen.check("verify-camera-denied")


async def test_over_plain_http_the_page_asks_for_https(issued, base_url, page_report, tmp_path):
    video = write_y4m(issued.photo, tmp_path / "certificate.y4m")
    async with phone(video, base_url, page_report) as citizen:
        await citizen.page.goto(base_url.replace("127.0.0.1", INSECURE_HOST) + "/verify")
        assert not await citizen.page.evaluate("window.isSecureContext")
        await scan(citizen)
        status = citizen.page.get_by_role("status")
        await status.filter(has_text="secure (https://) address").wait_for()
        assert not fetched_decoder(citizen)
        await citizen.check("verify-camera-insecure")


async def test_without_javascript_the_page_offers_only_its_form(stack, browser, base_url):
    context = await browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    try:
        page = await context.new_page()
        await page.goto(f"{base_url}/verify")
        assert await page.get_by_role("button", name="ক্যামেরায় স্ক্যান করুন · Scan with camera").count() == 0
        assert await page.get_by_role("button", name="যাচাই করুন · Verify").is_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "verify-no-js-360.png"), full_page=True)
    finally:
        await context.close()


async def test_the_verify_page_passes_the_accessibility_check(issued, visitors):
    citizen = await visitors()
    await citizen.go("/verify")
    await citizen.check("verify")
    await citizen.go(f"/verify?c={issued.payload}")
    assert await verdict(citizen).inner_text() == "VALID"
    await citizen.check("verify-valid")
