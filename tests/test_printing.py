"""Bulk printing at the union office (issue 16): the secretary or the UDC operator chooses issued certificates, sonod
makes one print-ready PDF of them (a cover that lists them, then each in the register's order, on plain paper or the
union's letterhead) and marks them printed."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from pathlib import Path

import pytest
from reportlab.platypus import Table
from sqlalchemy import select, update

from activities.printing import cover_tables
from activities.render import CertificateRenderer
from api.pages.common import TOKEN_COOKIE
from sonod import db
from sonod.bengali import DHAKA
from sonod.printing import LETTERHEAD, MM, Margins, letterhead_of
from tests.certificates_kit import QR_DPI, issue, own_union, render_pages, run, verify
from tests.stack import ZBARIMG
from tests.unions_kit import audit_rows, database

UNION = "printkit"
MASTHEAD = "গণপ্রজাতন্ত্রী বাংলাদেশ সরকার"


@pytest.fixture(scope="module")
async def issued(stack, settings, tmp_path_factory):
    """Three citizenship certificates and a character certificate (ward member, then chairman) of one union."""
    await own_union(settings, UNION)
    tmp = tmp_path_factory.mktemp("printing")
    out = [await issue(stack, settings, tmp, UNION, i) for i in range(3)]
    out.append(await issue(stack, settings, tmp, UNION, 3, "character"))
    return out


async def start(stack, officer: str = f"secretary.{UNION}", **body):
    return await stack.http.post("/api/v1/print-batches", json={"union": UNION, **body},
                                 headers=await stack.as_officer(officer))


async def finished(stack, batch_id: str, officer: str = f"secretary.{UNION}", timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = await stack.http.get(f"/api/v1/print-batches/{batch_id}", headers=await stack.as_officer(officer))
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("done", "failed"):
            return r.json()
        assert time.monotonic() < deadline, r.json()
        await asyncio.sleep(0.2)


async def printed_batch(stack, tmp: Path, **body) -> tuple[dict, Path, list[str]]:
    """A batch started, finished and downloaded: its answer, its PDF and the text of each page."""
    r = await start(stack, **body)
    assert r.status_code == 202, r.text
    batch = await finished(stack, r.json()["batch_id"])
    assert batch["status"] == "done", batch
    pdf = await stack.http.get(batch["pdf_url"], headers=await stack.as_officer(f"secretary.{UNION}"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp / f"{batch['batch_id']}.pdf"
    path.write_bytes(pdf.content)
    _, text = await run("pdftotext", "-layout", path, "-")
    return batch, path, text.split("\f")[:-1]


def numbers_in(text: str) -> list[str]:
    return re.findall(r"[A-Z0-9]+-\d{4}-\d{6}", text)


async def test_a_batch_lists_its_certificates_on_a_cover_then_prints_each_in_the_registers_order(stack, issued,
                                                                                                tmp_path):
    batch, _, pages = await printed_batch(stack, tmp_path)

    wanted = [c.certificate_no for c in issued]
    assert batch["total"] == len(wanted) and batch["skipped"] == [] and batch["batch_id"].startswith(f"P-{UNION}-")
    assert len(pages) == 1 + len(wanted)  # the cover, then one page a certificate
    assert numbers_in(pages[0]) == wanted
    assert "মুদ্রণ তালিকা" in pages[0] and issued[0].person["name_bn"].split()[-1] in pages[0]
    assert [numbers_in(page)[0] for page in pages[1:]] == wanted
    assert all(MASTHEAD in page for page in pages[1:])  # plain paper: the union's masthead is printed


async def test_printed_certificates_are_marked_and_not_printed_yet_then_leaves_them_out(stack, settings, issued,
                                                                                          tmp_path):
    batch, _, _ = await printed_batch(stack, tmp_path, certificate_type="citizenship", not_printed=False)

    with database(settings.db_url) as session:
        marks = {c.certificate_no: c.print_batch for c in session.scalars(
            select(db.Certificate).where(db.Certificate.union_slug == UNION))}
        session.execute(update(db.Certificate).where(db.Certificate.certificate_no == issued[1].certificate_no)
                        .values(printed_at=None, print_batch=None))
    assert {n for n, b in marks.items() if b == batch["batch_id"]} == {c.certificate_no for c in issued[:3]}

    again, _, pages = await printed_batch(stack, tmp_path, not_printed=True, certificate_type="citizenship")
    assert again["total"] == 1 and numbers_in(pages[0]) == [issued[1].certificate_no]

    nothing = await start(stack, not_printed=True, certificate_type="citizenship")
    assert nothing.status_code == 422 and nothing.json()["detail"][0]["loc"] == ["body", "filters"]


async def test_a_batch_chooses_by_type_by_ward_and_by_day(stack, issued, tmp_path):
    _, _, by_type = await printed_batch(stack, tmp_path, certificate_type="character")
    assert numbers_in(by_type[0]) == [issued[3].certificate_no]

    ward = issued[0].person["ward_no"]
    _, _, by_ward = await printed_batch(stack, tmp_path, ward_no=ward)
    assert numbers_in(by_ward[0]) == [c.certificate_no for c in issued if c.person["ward_no"] == ward]

    today = dt.datetime.now(DHAKA).date()
    _, _, by_day = await printed_batch(stack, tmp_path, issued_on=today.isoformat())
    assert numbers_in(by_day[0]) == [c.certificate_no for c in issued]
    yesterday = await start(stack, issued_on=(today - dt.timedelta(days=1)).isoformat())
    assert yesterday.status_code == 422

    unknown = await start(stack, certificate_type="no-such-type")
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "certificate_type"]


async def test_on_the_letterhead_the_masthead_is_left_out_the_margins_kept_and_the_qr_still_verifies(
        stack, settings, issued, tmp_path):
    with database(settings.db_url) as session:
        session.get(db.Union, UNION).letterhead = {"top": 70, "bottom": 15, "left": 20, "right": 15}
    try:
        batch, pdf, pages = await printed_batch(stack, tmp_path, certificate_type="character", letterhead=True)
    finally:
        with database(settings.db_url) as session:
            session.get(db.Union, UNION).letterhead = None
    _, plain_pdf, plain = await printed_batch(stack, tmp_path, certificate_type="character")

    assert batch["letterhead"] and MASTHEAD not in pages[1] and MASTHEAD in plain[1]
    assert numbers_in(pages[1]) == [issued[3].certificate_no]
    # the page's first line (the memo number) sits under the letterhead's 70 mm, not under sonod's masthead
    (left, top), (_, plain_top) = await first_word(pdf, 2), await first_word(plain_pdf, 2)
    assert 67 * MM < top < 80 * MM and plain_top < 55 * MM  # glyphs rise a little above their line's box
    assert left >= 20 * MM
    qr = await qr_on_page(pdf, 2)
    assert qr == issued[3].qr and (await verify(stack, qr))["status"] == "valid"


async def first_word(pdf: Path, page: int) -> tuple[float, float]:
    """How far from the sheet's left and top edges (points) the page's first line (the memo number) begins."""
    _, html = await run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), pdf, "-")
    boxes = [(float(x), float(y)) for x, y in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"', html)]
    top = min(y for _, y in boxes)
    return min(x for x, y in boxes if y < top + 5), top


async def qr_on_page(pdf: Path, page: int) -> str:
    pngs = await render_pages(pdf, QR_DPI)
    code, out = await run(*ZBARIMG, "-q", "--raw", "-Sdisable", "-Sqrcode.enable", pngs[page - 1], check=False)
    assert code == 0, "no QR read at 150 dpi"
    return out.strip()


async def test_a_certificate_whose_record_no_longer_draws_what_it_signed_is_printed_from_its_signed_pdf(
        stack, settings, issued, tmp_path):
    altered = issued[2].certificate_no
    with database(settings.db_url) as session:
        app = session.scalar(select(db.Application).join(
            db.Certificate, db.Certificate.application_id == db.Application.id)
            .where(db.Certificate.certificate_no == altered))
        original = dict(app.details)
        app.details = {**original, "purpose": "altered after issue"}
    try:
        batch, pdf, pages = await printed_batch(stack, tmp_path, certificate_type="citizenship", letterhead=True)
    finally:
        with database(settings.db_url) as session:
            session.scalar(select(db.Application).join(
                db.Certificate, db.Certificate.application_id == db.Application.id)
                .where(db.Certificate.certificate_no == altered)).details = original

    assert batch["as_signed"] == [altered] and batch["skipped"] == []
    wanted = [c.certificate_no for c in issued[:3]]
    assert len(pages) == 1 + 3 and [numbers_in(page)[0] for page in pages[1:]] == wanted  # in its place
    assert [line.split()[0].endswith("*") for line in pages[0].splitlines() if numbers_in(line)] == [False, False, True]
    # drawn again on the letterhead: no masthead; from its signed PDF: as signed, masthead and QR included
    assert MASTHEAD not in pages[1] and MASTHEAD not in pages[2] and MASTHEAD in pages[3]
    assert "altered after issue" not in pages[3]
    assert await qr_on_page(pdf, 4) == issued[2].qr
    with database(settings.db_url) as session:
        assert session.get(db.Certificate, altered).print_batch == batch["batch_id"]


async def test_a_revoked_certificate_is_never_printed(stack, settings, issued, tmp_path):
    revoked = issued[1].certificate_no
    with database(settings.db_url) as session:
        session.get(db.Certificate, revoked).revoked_at = db.utcnow()
    try:
        batch, _, pages = await printed_batch(stack, tmp_path, certificate_type="citizenship")
    finally:
        with database(settings.db_url) as session:
            session.get(db.Certificate, revoked).revoked_at = None
    assert batch["total"] == 2 and revoked not in " ".join(pages)


async def test_a_certificate_whose_signed_pdf_is_no_longer_stored_is_left_out_and_named_on_the_batchs_page(
        stack, settings, issued, tmp_path):
    gone = issued[0].certificate_no
    with database(settings.db_url) as session:
        stored = settings.pdf_dir / session.get(db.Certificate, gone).pdf_path
    away = stored.rename(stored.with_suffix(".away"))
    try:
        batch, _, pages = await printed_batch(stack, tmp_path, certificate_type="citizenship")
    finally:
        away.rename(stored)
    assert batch["skipped"] == [{"certificate_no": gone, "why": "missing"}] and batch["as_signed"] == []
    assert gone not in " ".join(pages[1:])
    page = await stack.http.get(f"/dashboard/print/{batch['batch_id']}",
                                cookies={TOKEN_COOKIE: await stack.login(f"secretary.{UNION}")})
    assert page.status_code == 200 and re.search(rf'class="mono">\s*{gone}\s*</p>', page.text), page.text


async def test_only_the_unions_own_printing_officers_may_start_read_or_download_a_batch(stack, settings, issued):
    other = await own_union(settings, "printkit-other")
    refused = await start(stack, officer=f"secretary.{other}")
    assert refused.status_code == 403
    assert (await start(stack, officer=f"ward1.{UNION}")).status_code == 403

    r = await start(stack, officer=f"udc.{UNION}", certificate_type="character")
    assert r.status_code == 202, r.text
    batch = await finished(stack, r.json()["batch_id"], officer=f"udc.{UNION}")
    for url in (f"/api/v1/print-batches/{batch['batch_id']}", batch["pdf_url"]):
        answer = await stack.http.get(url, headers=await stack.as_officer(f"secretary.{other}"))
        assert answer.status_code == 403, url
    audited = [(e.action, e.actor) for e in audit_rows(settings.db_url, UNION) if e.target == batch["batch_id"]]
    assert audited == [("print.batch", f"udc.{UNION}")]


def test_the_default_letterhead_prints_where_the_masthead_ends_and_cramped_margins_are_refused():
    assert letterhead_of(None) == LETTERHEAD
    x1, y1, x2, y2 = LETTERHEAD.box()
    assert (x1, y1) == (LETTERHEAD.left * MM, LETTERHEAD.bottom * MM)
    assert abs((210 - LETTERHEAD.right) * MM - x2) < 0.01 and abs((297 - LETTERHEAD.top) * MM - y2) < 0.01
    assert Margins(top=150, bottom=100).cramped() == "top"
    assert Margins(left=40, right=40).cramped() == "left"
    assert Margins(top=70, bottom=15, left=25, right=25).cramped() is None


def test_the_covers_list_keeps_each_certificate_number_inside_its_column():
    """A long union's English copy is wider than the number's column: it breaks after the union's name."""
    renderer = CertificateRenderer()
    numbers = ["PAIKKANDI-2026-000001", "PAIKKANDI-2026-000001-EN", "CHANDRADIGHALIA-2026-000001-EN",
               "CHANDRADIGHALIA-TL-00012-EN"]
    rows = [(str(i), no, "মোঃ আব্দুর রহিম", "নাগরিকত্ব সনদ", "৯", "০৬/১২/২০২৬") for i, no in enumerate(numbers, 1)]
    (table,) = [f for f in cover_tables(renderer, rows, 600) if isinstance(f, Table)]
    cells = [row[1] for row in table._cellvalues[1:]]
    assert ["".join(c.plain.split("\n")) for c in cells] == numbers  # the whole number, its own line breaks aside
    column = table._colWidths[1] - 12
    assert all(c.minWidth() <= column for c in cells), [(c.plain, c.minWidth(), column) for c in cells]
    assert cells[0].plain == numbers[0] and "\n" in cells[2].plain  # only what does not fit is broken
