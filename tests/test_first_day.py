"""What a union notices on its first printed certificates (issue 18, item 7): the ward member's block in Bengali
digits, three different people signing, and the dari set against its word."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest

from activities.issuer import Issuer
from activities.render import CertificateDocument, CertificateRenderer, sample_document
from sonod.domain import Role
from sonod.seed import demo_accounts, demo_name
from sonod.unions import GOPALGANJ_SADAR

SIGNED = dt.datetime(2026, 11, 28, 4, 30, tzinfo=dt.UTC)
DPI = 300


def run(*cmd) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def warish_pdf(tmp_path_factory):
    """A Bengali warish certificate signed by the chain as the issuer names it, from the seed's officers."""
    doc = sample_document("warish", "bn")
    signatories = [Issuer.signatory(role, username, None, ward, SIGNED) for role, username, ward in [
        (Role.WARD_MEMBER, "ward7.paikkandi", 7), (Role.SECRETARY, "secretary.paikkandi", None),
        (Role.CHAIRMAN, "chairman.paikkandi", None)]]
    for s in signatories:
        s.name_bn, s.name_en = demo_name(f"{s.role.value}.paikkandi")
    doc = CertificateDocument(**{**doc.model_dump(), "signatories": [s.model_dump() for s in signatories]})
    path = tmp_path_factory.mktemp("pdf") / "warish.pdf"
    path.write_bytes(CertificateRenderer().render(doc))
    return path


def test_the_ward_members_block_says_its_ward_in_bengali_digits(warish_pdf):
    text = run("pdftotext", "-layout", warish_pdf, "-")
    assert "ওয়ার্ড নং ৭" in text
    block = [line for line in text.splitlines() if "ওয়ার্ড নং" in line and "সদস্য" in line]
    assert block and not re.search(r"[0-9]", "".join(block)), block


@pytest.mark.parametrize("union", [u.slug for u in GOPALGANJ_SADAR])
def test_each_demo_officer_of_a_union_has_a_name_of_their_own(union):
    upazila = GOPALGANJ_SADAR[0].upazila_slug
    usernames = [username for username, _, _ in demo_accounts(union)] + [f"admin.{upazila}", f"uno.{upazila}"]
    names = [demo_name(u) for u in usernames]
    assert len({bn for bn, _ in names}) == len(usernames), names
    assert len({en for _, en in names}) == len(usernames), names


def _ink_columns(pdf, box: tuple[float, float, float, float]) -> list[bool]:
    """Which pixel columns of a box of the page (in points) have ink, at DPI."""
    x0, y0, x1, y1 = (round(v * DPI / 72) for v in box)
    raw = subprocess.run(["pdftoppm", "-gray", "-r", str(DPI), "-f", "1", "-l", "1", "-x", str(x0), "-y", str(y0),
                          "-W", str(x1 - x0), "-H", str(y1 - y0), "-singlefile", str(pdf)],
                         check=True, capture_output=True).stdout
    header = raw.split(b"\n", 3)
    width, height = map(int, header[1].split())
    pixels = header[3]
    return [any(pixels[y * width + x] < 128 for y in range(height)) for x in range(width)]


def test_the_dari_sits_against_its_word(warish_pdf):
    """The first sentence's end: the blank before the dari's stroke is under a quarter em, as in print, not the font's
    own two fifths of an em that read as a space before the full stop."""
    bbox = run("pdftotext", "-bbox", warish_pdf, "-")
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)</word>', bbox)
    box = next(tuple(map(float, w[:4])) for w in words if w[4].endswith("।"))
    ink = _ink_columns(warish_pdf, box)
    last = max(i for i, dark in enumerate(ink) if dark)
    stroke = last
    while ink[stroke - 1]:
        stroke -= 1
    before = stroke - 1
    while not ink[before]:
        before -= 1
    em = (box[3] - box[1]) * DPI / 72 / 1.6  # the word box is about 1.6 em high
    assert (stroke - before - 1) < 0.25 * em, (stroke - before - 1, em)
