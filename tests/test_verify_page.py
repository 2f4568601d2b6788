"""The public /verify page a phone opens from the QR, and the printed QR itself (issue #4)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from sonod.qr import make_qr
from sonod.signing import C_NAME_BN
from tests.certificates_kit import (
    QR_DPI,
    Issued,
    claims_with,
    cose_of,
    issue,
    own_union,
    payload_of,
    render_pages,
    revoke,
    run,
    with_payload,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CM_PER_INCH = 2.54


# --- the public /verify page --------------------------------------------------------------------------------------

WORDS = {
    "valid": ("সনদটি বৈধ", "VALID"),
    "revoked": ("বাতিল", "REVOKED"),
    "invalid": ("বৈধ নয়", "NOT VALID"),
}


@pytest.fixture(scope="module")
async def page_cases(stack, settings, tmp_path_factory) -> dict[str, Issued | str]:
    """A valid, a revoked and an invalid QR."""
    tmp = tmp_path_factory.mktemp("page")
    union = await own_union(settings, "crt-page")
    valid, revoked = await asyncio.gather(issue(stack, settings, tmp, union, 19),
                                          issue(stack, settings, tmp, union, 20))
    assert (await revoke(stack, f"chairman.{union}", revoked.certificate_no,
                         "ভুল তথ্যের ভিত্তিতে ইস্যু করা হয়েছিল")).status_code == 200
    invalid = with_payload(valid, payload_of(claims_with(cose_of(valid.payload), C_NAME_BN, "মোঃ জাল ব্যক্তি")))
    return {"valid": valid, "revoked": revoked, "invalid": invalid}


def page_query(case: Issued | str) -> str:
    return (case.qr if isinstance(case, Issued) else case).split("?", 1)[1]


@pytest.mark.parametrize("status", list(WORDS))
async def test_the_verify_page_says_the_verdict_in_bengali_and_english(stack, page_cases, status):
    r = await stack.http.get(f"/verify?{page_query(page_cases[status])}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    bengali, english = WORDS[status]
    assert bengali in r.text and english in r.text, r.text
    for other in set(WORDS) - {status}:
        assert f'class="verdict {other}"' not in r.text
    assert f'class="verdict {status}"' in r.text
    assert len(r.content) < 100_000
    assert r.text.count("<script") == 3 and '<script src="/static/scan.js" defer></script>' in r.text  # no inline JS
    assert r.text.count('<script type="application/json"') == 1  # data for the offline check, not code
    assert '<script src="/static/verify-offline.js" defer></script>' in r.text  # the app's offline check (issue 17)


@pytest.mark.parametrize("status", ["valid", "revoked"])
async def test_the_verify_page_shows_only_what_the_qr_carries(stack, page_cases, status):
    case = page_cases[status]
    r = await stack.http.get(f"/verify?{page_query(case)}")
    person = case.person
    assert person["name_bn"] in r.text and case.certificate_no in r.text
    for private in ("nid", "father_name_bn", "mother_name_bn", "spouse_name_bn", "date_of_birth", "village_bn",
                    "present_address_bn"):
        if person.get(private):
            assert person[private] not in r.text, private


async def test_the_bare_verify_page_offers_a_form_to_paste_a_qr(stack):
    r = await stack.http.get("/verify")
    assert r.status_code == 200 and '<form method="get" action="verify">' in r.text
    page = r.text.split("<template", 1)[0]  # the offline verdicts wait in <template>s (issue 17)
    assert 'class="verdict' not in page and "<script>" not in page and 'type="application/json"' in page


async def test_the_verify_page_does_not_grow_with_the_unions_it_can_name(stack):
    """Every page carries the pinned root; the names of every union (4,550 in the country) are one document the
    phone keeps with the lists, not a weight on each page."""
    page = (await stack.http.get("/verify")).text
    data = json.loads(re.search(r'<script type="application/json" id="verify-data">(.*?)</script>', page, re.S)[1])
    assert set(data) == {"root", "months_bn", "names_url"} and data["root"]["crv"] == "P-256"
    names = (await stack.http.get(data["names_url"])).json()
    assert names["unions"]["paikkandi"][0] == "পাইককান্দি" and names["types"]["warish"][1]


async def test_the_verify_page_says_revoked_with_the_reason(stack, page_cases):
    r = await stack.http.get(f"/verify?{page_query(page_cases['revoked'])}")
    assert "ভুল তথ্যের ভিত্তিতে ইস্যু করা হয়েছিল" in r.text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
async def test_the_verify_page_renders_in_chromium_at_phone_and_desktop_widths(stack, page_cases, tmp_path):
    """Screenshots for a person to look at: SONOD_SCREENSHOTS=<folder> keeps them."""
    folder = Path(os.environ.get("SONOD_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    for status, case in page_cases.items():
        for width, height in ((360, 900), (1280, 800)):
            png = folder / f"verify-{status}-{width}.png"
            shots.append((png, chromium(f"{stack.http.base_url}/verify?{page_query(case)}", png, width, height,
                                        tmp_path / f"profile-{status}-{width}")))
    bare = folder / "verify-form-360.png"
    shots.append((bare, chromium(f"{stack.http.base_url}/verify", bare, 360, 900, tmp_path / "profile-form")))
    await asyncio.gather(*(job for _, job in shots))
    for png, _ in shots:
        with Image.open(png) as image:
            assert image.width in (360, 1280)
            assert len(image.convert("RGB").getcolors(1 << 20) or ()) > 10, png  # not a blank page


async def chromium(url: str, png: Path, width: int, height: int, profile: Path) -> None:
    await run(CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
              f"--screenshot={png}", f"--window-size={width},{height}", url)


# --- the printed QR -----------------------------------------------------------------------------------------------


async def test_the_printed_qr_is_about_3_cm_and_reads_from_a_150_dpi_render(stack, settings, tmp_path):
    union = await own_union(settings, "crt-qr-size")
    c = await issue(stack, settings, tmp_path, union, 21)  # a real holder, a real union URL and payload
    page = (await render_pages(c.pdf, QR_DPI))[-1]
    with Image.open(page) as image:
        symbols = decode(image.convert("L"), symbols=[ZBarSymbol.QRCODE])
    assert [s.data.decode() for s in symbols] == [c.qr]
    side_cm = max(symbols[0].rect.width, symbols[0].rect.height) / QR_DPI * CM_PER_INCH
    qr = make_qr(c.qr)
    modules = 17 + 4 * qr.version
    print(f"QR version {qr.version} ({modules} modules, {len(c.qr)} characters), {side_cm:.2f} cm printed, "
          f"module {10 * side_cm / modules:.2f} mm, {symbols[0].rect.width / modules:.2f} px at {QR_DPI} dpi")
    assert 2.7 <= side_cm <= 3.3
    assert 10 * side_cm / modules >= 0.4  # mm a module: phones read it from paper
