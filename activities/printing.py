"""A print batch (workflows/printing.py): the certificates chosen, one print-ready PDF of them, marked printed.

Each certificate is drawn again from the registry's own record of what it signed, with the QR text it signed: no
new number, no new signature. The record is checked first: the holder, details, date and validity drawn must hash to
the content hash the QR carries; a certificate whose record does not (one the issuer drew from more than the read
model holds, such as a trade licence's number or an attestation's text) is printed from its own signed PDF, as
signed, its pages put in their place (pypdf), and marked on the cover.
All of them go into one document (`PrintRun`): the fonts and the masthead once for the whole file, a few KB and a few
ms a certificate, where joining the stored signed PDFs would copy each one's fonts and signature (~100 KB, ~14 ms a
certificate: docs/PERFORMANCE.md). The paper copy cannot carry the PDF's own digital signature, so the block that
shows it is not drawn; the QR is what verifies a paper certificate.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from reportlab.platypus import PageBreak, Spacer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.issuer import Issuer, memo_number
from activities.render import (
    COVER_FRAME,
    CertificateDocument,
    CertificateRenderer,
    FeeLineView,
    Holder,
    PrintRun,
    UnionView,
    grid_table,
    store_pdf,
)
from activities.templates import Grid
from activities.templates import layout as L
from sonod import db
from sonod.bengali import DHAKA, dhaka_date, to_bn_digits
from sonod.domain import DecisionKind, Role
from sonod.printable import select_chosen, ward_of
from sonod.printed import holder_values, printed
from sonod.printing import (
    AS_SIGNED,
    CHUNK,
    MAX_BATCH,
    PrintedBatch,
    PrintFilters,
    PrintRequest,
    left_out,
    letterhead_of,
)
from sonod.signing import InvalidQr, content_hash, read_claims
from workflows import activities as contract

NO_BATCH = "NoPrintBatch"  # the batch's row is missing: non-retryable


@dataclass(frozen=True)
class Item:
    """A certificate of the batch: drawn again (`doc`), or, when None, printed from its signed PDF (`pdf_ref`)."""

    number: str
    holder_bn: str
    certificate_type: str
    issued_at: datetime
    ward: int | None
    doc: CertificateDocument | None
    pdf_ref: str


def batched(items: Sequence, n: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, n)):
        yield chunk


class Printing(contract.Printing):
    def __init__(self, sessions: sessionmaker, renderer: CertificateRenderer, pdf_dir: Path) -> None:
        self.sessions, self.renderer, self.pdf_dir = sessions, renderer, pdf_dir

    @activity.defn(name="Printing.select")
    def select(self, request: PrintRequest) -> PrintedBatch:
        """Freeze the choice once: a retry, or a certificate issued meanwhile, does not change it."""
        with self.sessions.begin() as session:
            batch = self._batch(session, request.batch_id, lock=True)
            if batch.certificate_nos is None:
                rows = select_chosen(session, request.union, request.filters, MAX_BATCH)
                batch.certificate_nos = [r.certificate_no for r in rows]
                batch.total, batch.state = len(rows), "rendering"
            return PrintedBatch(batch_id=batch.id, total=batch.total)

    @activity.defn(name="Printing.render")
    def render(self, request: PrintRequest) -> PrintedBatch:
        """The batch's PDF, stored whole; its progress on the batch's row after every chunk. A retry renders it again
        unless it is stored."""
        with self.sessions() as session:
            batch = self._batch(session, request.batch_id)
            numbers = list(batch.certificate_nos or [])
            if batch.pdf_path and (self.pdf_dir / batch.pdf_path).exists():
                return PrintedBatch(batch_id=batch.id, total=len(numbers), pdf_ref=batch.pdf_path,
                                    skipped=len(left_out(batch.skipped)))
            union = session.get(db.Union, request.union)
            assert union is not None, "a batch's union is never deleted"
            items, skipped = self._items(session, union, numbers)
            names = _type_names(session)
        margins = letterhead_of(union.letterhead) if request.letterhead else None
        made_at = datetime.now(UTC)
        run = PrintRun(self.renderer, title=f"Print batch {batch.id}", author=f"{union.name_en} Union Parishad",
                       at=made_at, letterhead=margins.box() if margins else None)
        run.cover(self._cover(union, batch, items, skipped, names, made_at))
        done, signed = 0, []
        for chunk in batched(items, CHUNK):
            for item in chunk:
                if item.doc is not None:
                    run.add(item.doc)
                else:  # its own signed PDF's pages go here, once the batch's file is made
                    signed.append((run.pages, (self.pdf_dir / item.pdf_ref).read_bytes()))
            done += len(chunk)
            activity.heartbeat(done)
            with self.sessions.begin() as session:
                session.execute(update(db.PrintBatch).where(db.PrintBatch.id == batch.id).values(done=done))
        ref = f"{union.slug}/print/{batch.id}.pdf"
        store_pdf(self.pdf_dir, ref, spliced(run.finish(), signed) if signed else run.finish())
        with self.sessions.begin() as session:
            session.execute(update(db.PrintBatch).where(db.PrintBatch.id == batch.id).values(
                pdf_path=ref, done=len(items), skipped=skipped, state="marking"))
        return PrintedBatch(batch_id=batch.id, total=len(numbers), pdf_ref=ref, skipped=len(left_out(skipped)))

    @activity.defn(name="Printing.finish")
    def finish(self, batch: PrintedBatch) -> PrintedBatch:
        """Mark the printed certificates printed by this batch, once."""
        with self.sessions.begin() as session:
            row = self._batch(session, batch.batch_id, lock=True)
            if row.state != "done":
                now = datetime.now(UTC)
                out = set(left_out(row.skipped))
                printed_nos = [n for n in row.certificate_nos or [] if n not in out]
                for chunk in batched(printed_nos, 500):
                    session.execute(update(db.Certificate).where(db.Certificate.certificate_no.in_(chunk))
                                    .values(printed_at=now, print_batch=row.id))
                row.state, row.finished_at = "done", now
            return batch

    # --- the certificates drawn again ------------------------------------------------------------------------

    @staticmethod
    def _batch(session: Session, batch_id: str, lock: bool = False) -> db.PrintBatch:
        batch = session.get(db.PrintBatch, batch_id, with_for_update=lock)
        if batch is None:
            raise ApplicationError(f"no print batch {batch_id}", type=NO_BATCH, non_retryable=True)
        return batch

    def _items(self, session: Session, union: db.Union, numbers: list[str]) -> tuple[list[Item], list[dict]]:
        """What the batch prints of `numbers`, in their order, and the numbers not drawn again, each with why: left
        out (revoked, missing), or printed from its own signed PDF (`AS_SIGNED`)."""
        certs: dict[str, db.Certificate] = {}
        apps: dict[str, db.Application] = {}
        for chunk in batched(numbers, 500):
            certs |= {c.certificate_no: c for c in session.scalars(
                select(db.Certificate).where(db.Certificate.certificate_no.in_(chunk)))}
        for chunk in batched([c.application_id for c in certs.values()], 500):
            apps |= {a.id: a for a in session.scalars(select(db.Application).where(db.Application.id.in_(chunk)))}
        deciders = {e["actor"] for a in apps.values() for e in a.events or [] if e.get("kind") == "decided"}
        officers = {u.username: u for u in session.scalars(select(db.User).where(db.User.username.in_(deciders)))}
        view = UnionView(slug=union.slug, name_bn=union.name_bn, name_en=union.name_en, upazila_bn=union.upazila_bn,
                         upazila_en=union.upazila_en, district_bn=union.district_bn, district_en=union.district_en)
        items, skipped = [], []
        for number in numbers:
            cert = certs.get(number)
            app = apps.get(cert.application_id) if cert else None
            if cert is None or app is None or cert.revoked_at is not None or cert.pdf_path is None \
                    or not (self.pdf_dir / cert.pdf_path).is_file():
                skipped.append({"certificate_no": number, "why": "revoked" if cert and cert.revoked_at else "missing"})
                continue
            doc = document_of(cert, app, union, view, officers)
            if doc is None:
                skipped.append({"certificate_no": number, "why": AS_SIGNED})
            items.append(Item(number, cert.holder_name_bn or cert.holder_name_en or "", cert.certificate_type,
                              cert.issued_at, ward_of(app.identity, app.applicant), doc, cert.pdf_path))
        return items, skipped

    def _cover(self, union: db.Union, batch: db.PrintBatch, items: list[Item], skipped: list[dict],
               names: dict[str, str], made_at: datetime) -> list:
        st, fonts = self.renderer.styles, self.renderer.fonts

        def para(text: str, style, base: str = "bn") -> L.TextPara:
            return L.TextPara(text, style, fonts, base)

        filters = PrintFilters.model_validate(batch.filters)
        said = [f"{union.name_bn} ইউনিয়ন পরিষদ, {union.upazila_bn}, {union.district_bn}",
                f"ব্যাচ / Batch: {batch.id} · তৈরি / Made: {to_bn_digits(f'{made_at.astimezone(DHAKA):%d/%m/%Y %H:%M}')}"
                f" · {batch.requested_by}",
                "বাছাই / Chosen: " + (", ".join(_filter_words(filters, names)) or "সব / all"),
                f"কাগজ / Paper: {'ইউনিয়নের প্যাড / letterhead' if batch.letterhead else 'সাধারণ / plain'} · "
                f"সনদ / Certificates: {to_bn_digits(len(items))}"]
        story: list = [para("**মুদ্রণ তালিকা / Print list**", st.title), *(para(s, st.meta) for s in said)]
        rows = [(f"{to_bn_digits(i)}{'' if item.doc else '*'}", item.number, item.holder_bn,
                 names.get(item.certificate_type, item.certificate_type),
                 to_bn_digits(item.ward) if item.ward else "—", to_bn_digits(f"{dhaka_date(item.issued_at):%d/%m/%Y}"))
                for i, item in enumerate(items, 1)]
        room = COVER_FRAME[3] - sum(p.wrap(L.FRAME_W, L.PAGE_H)[1] for p in story) - 12
        story += cover_tables(self.renderer, rows, room)
        if any(item.doc is None for item in items):
            story.append(para("* নিজের স্বাক্ষরিত PDF থেকে, যেমন স্বাক্ষরিত / from its own signed PDF, as signed", st.meta))
        if out := left_out(skipped):
            story.append(para("**এই ব্যাচে নেই / Not in this batch** (বাতিল বা পাওয়া যায়নি / revoked or missing): "
                              + ", ".join(out), st.meta))
        return story


def cover_tables(renderer: CertificateRenderer, rows: Sequence[tuple[str, ...]], room: float) -> list:
    """The cover's list (number, certificate, holder, type, ward, date of issue): a table a page, each with its header
    (`room`: the height left on the first page). One long table would be split page by page, each split measuring
    every row left: n² rows in all."""
    st = renderer.styles
    header = ("ক্রম", "সনদ নং", "নাম", "সনদের ধরন", "ওয়ার্ড", "ইস্যুর তারিখ")
    widths, align = (0.07, 0.30, 0.25, 0.18, 0.08, 0.12), "CLLLCC"
    styles = {"L": st.cell, "C": st.cell_center}
    shaped: dict[tuple[str, str], L.TextPara] = {}

    def cell(text: str, style, base: str) -> L.TextPara:
        """What recurs (the types, wards, dates, the header) is shaped once."""
        if (text, style.name) not in shaped:
            shaped[text, style.name] = L.TextPara(text, style, renderer.fonts, base)
        return shaped[text, style.name]

    def height(row: tuple[str, ...], bold: bool = False) -> float:
        return 5.5 + max(cell(f"**{text}**" if bold else text, st.cell_center if bold else styles[a], "bn")
                         .wrap(w * L.FRAME_W - 12, L.PAGE_H)[1] for text, a, w in zip(row, align, widths, strict=True))

    def number(text: str) -> str:
        """A certificate's number, broken after its union's name when it is wider than its column (a long union's
        English copy: CHANDRADIGHALIA-2026-000001-EN)."""
        if cell(text, st.cell, "bn").minWidth() <= widths[1] * L.FRAME_W - 12:
            return text
        union, _, rest = text.partition("-")
        return f"{union}-\n{rest}"

    rows = [(i, number(no), *rest) for i, no, *rest in rows]
    head, used = height(header, bold=True), 0.0
    pages: list[list[tuple[str, ...]]] = []
    page: list[tuple[str, ...]] = []
    for row in rows:
        h = height(row)
        if page and head + used + h > room * 0.98:
            pages.append(page)
            page, used, room = [], 0.0, COVER_FRAME[3]
        page.append(row)
        used += h
    story: list = []
    for i, part in enumerate([*pages, page] if page else pages):
        story += [PageBreak()] if i else [Spacer(1, 8)]
        story.append(grid_table(Grid(header, part, widths, align), st, cell, "bn"))
    return story


def spliced(pdf: bytes, inserts: list[tuple[int, bytes]]) -> bytes:
    """The batch's PDF with other PDFs' pages inserted, each before the batch's page of its index (pypdf). The
    signed PDFs' signature fields stay behind: the print file is not a signed document."""
    batch, writer = PdfReader(io.BytesIO(pdf)), PdfWriter()
    before: dict[int, list[bytes]] = {}
    for at, other in inserts:
        before.setdefault(at, []).append(other)
    for i in range(len(batch.pages) + 1):
        for other in before.get(i, []):
            for page in PdfReader(io.BytesIO(other)).pages:
                page.pop("/Annots", None)
                writer.add_page(page)
        if i < len(batch.pages):
            writer.add_page(batch.pages[i])
    if batch.metadata:
        writer.add_metadata(dict(batch.metadata))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _type_names(session: Session) -> dict[str, str]:
    rows = session.execute(select(db.CertificateTypeRow.code, db.CertificateTypeRow.name_bn))
    return {row.code: row.name_bn for row in rows}


def _filter_words(filters: PrintFilters, names: dict[str, str]) -> Iterable[str]:
    if filters.issued_on:
        yield f"ইস্যু {to_bn_digits(f'{filters.issued_on:%d/%m/%Y}')}"
    if filters.certificate_type:
        yield names.get(filters.certificate_type, filters.certificate_type)
    if filters.ward_no:
        yield f"ওয়ার্ড {to_bn_digits(filters.ward_no)}"
    if filters.not_printed:
        yield "আগে ছাপা হয়নি / not printed yet"


def signatories_of(app: db.Application, officers: dict[str, db.User], at: datetime) -> list:
    """Whoever approved the application's last round, in order: the blocks the issuer drew."""
    approvals: list[tuple[str, Role]] = []
    for event in app.events or []:
        if event.get("kind") == "amended":
            approvals = []
        elif event.get("kind") == "decided" and (event.get("params") or {}).get("decision") == DecisionKind.APPROVE \
                and event.get("office"):
            approvals.append((event["actor"], Role(event["office"])))
    return [Issuer.signatory(role, username, officers.get(username),
                             officers[username].ward_no if username in officers else None, at)
            for username, role in approvals]


def document_of(cert: db.Certificate, app: db.Application, union: db.Union, view: UnionView,
                officers: dict[str, db.User]) -> CertificateDocument | None:
    """The certificate as its issuer drew it, from the registry's record, with the QR text it signed; None when
    the record no longer hashes to what the QR signed."""
    assert cert.qr_text is not None and cert.content_hash is not None, "chosen only once signed"
    try:
        claims = read_claims(cert.qr_text)
    except InvalidQr:
        return None
    values, claimed = holder_values(printed(app.certificate_type, app.applicant, app.details, app.identity or {}))
    holder = Holder(**values)
    valid_until = claims.valid_until.astimezone(DHAKA) if claims.valid_until else None
    content = {
        "certificate_no": cert.certificate_no, "certificate_type": cert.certificate_type, "union": union.slug,
        "holder": holder.model_dump(mode="json"), "details": app.details, "issued_at": cert.issued_at.isoformat(),
        "claims": sorted(claimed), "valid_until": valid_until,
    }
    if content_hash(content).hex() != cert.content_hash:
        return None
    return CertificateDocument(
        certificate_no=cert.certificate_no, memo_no=memo_number(union.code, cert.certificate_type, cert.year, cert.seq),
        certificate_type=cert.certificate_type, union=view, holder=holder, claims=sorted(claimed), details=app.details,
        fee_lines=[FeeLineView.model_validate(line) for line in app.fee_lines or []], issued_at=cert.issued_at,
        expires_on=(valid_until - timedelta(days=1)).date() if valid_until else None,
        signatories=signatories_of(app, officers, cert.issued_at), qr_text=cert.qr_text,
    )
