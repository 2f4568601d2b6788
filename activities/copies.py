"""Duplicate copies (অনুলিপি) of issued certificates.

`Copies.admit` records the copy asked for with its union's fee (`unions.copy_fee`, else `DEFAULT_FEE`); once the
fee is paid, `Copies.make` prints the certificate again: every page of its stored PDF, as issued (the same number,
the same QR text, the same words), under a mark "অনুলিপি / COPY" and a line with the copy's date. Nothing is signed or
numbered again, and the PDF's own signature is not carried over (the copy is a new file); the QR verifies the copy
as it verifies the certificate. The copy is made once: a retry finds it stored.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.render import describe_pdf, reportlab_turn, store_pdf
from activities.templates import layout as L
from activities.templates.wording import EN_MONTHS, local
from sonod import audit, db
from sonod.bengali import format_date_bn
from workflows import activities as contract
from workflows.messages import CopyMade, CopyOrder, CopyPayment, CopyRequest

DEFAULT_FEE = 50  # taka, as unions publish for a duplicate (অনুলিপি) of a certificate
NO_CERTIFICATE = "NoCertificate"  # no such issued certificate in force: non-retryable
RED = Color(0.78, 0.1, 0.12)
WATERMARK = Color(0.78, 0.1, 0.12, alpha=0.14)


class Copies(contract.Copies):
    def __init__(self, sessions: sessionmaker, fonts: L.FontSet, pdf_dir: Path, payment_expiry: dt.timedelta) -> None:
        self.sessions, self.fonts, self.pdf_dir, self.payment_expiry = sessions, fonts, pdf_dir, payment_expiry
        style = dict(fontName=fonts.bn, alignment=TA_CENTER, shaping=1, splitLongWords=0)
        self.mark_style = ParagraphStyle("copy_mark", fontSize=64, leading=76, textColor=WATERMARK, **style)
        self.line_style = ParagraphStyle("copy_line", fontSize=7.5, leading=9.5, textColor=RED, **style)

    @activity.defn(name="Copies.admit")
    def admit(self, request: CopyRequest) -> CopyOrder:
        """The copy on record with its union's fee for one, once (a retry finds it recorded)."""
        with self.sessions.begin() as session:
            row = session.get(db.CertificateCopy, request.copy_id)
            if row is None:
                certificate = in_force(session, request.certificate_no)
                union = session.get(db.Union, certificate.union_slug)
                fee = union.copy_fee if union is not None and union.copy_fee is not None else DEFAULT_FEE
                row = db.CertificateCopy(copy_id=request.copy_id, certificate_no=certificate.certificate_no,
                                         union_slug=certificate.union_slug, requested_by=request.actor.username,
                                         fee=fee, currency="BDT")
                session.add(row)
                audit.record(session, union=certificate.union_slug, actor=request.actor.username,
                             role=request.actor.role.value, action="certificate.copy_asked",
                             target=certificate.certificate_no, detail={"copy_id": request.copy_id, "fee": fee},
                             ip=request.actor.ip)
            return CopyOrder(copy_id=row.copy_id, certificate_no=row.certificate_no, union=row.union_slug,
                             fee=row.fee, currency=row.currency, payment_expiry=self.payment_expiry)

    @activity.defn(name="Copies.make")
    def make(self, payment: CopyPayment) -> CopyMade:
        with self.sessions() as session:
            row = session.get(db.CertificateCopy, payment.copy_id)
            assert row is not None, "admitted before it is made"
            if row.pdf_path and (self.pdf_dir / row.pdf_path).exists():
                return CopyMade(copy_id=row.copy_id, certificate_no=row.certificate_no, pdf_ref=row.pdf_path)
            certificate = in_force(session, row.certificate_no)
            assert certificate.pdf_path is not None, "in_force answers issued certificates"
            original = (self.pdf_dir / certificate.pdf_path).read_bytes()
            ref = f"{certificate.union_slug}/{certificate.year}/copies/{row.copy_id}.pdf"
        made_at = db.utcnow()
        store_pdf(self.pdf_dir, ref, self.copy_of(original, certificate.certificate_no, made_at))
        with self.sessions.begin() as session:
            row = session.get(db.CertificateCopy, payment.copy_id)
            assert row is not None
            row.made_at, row.pdf_path = made_at, ref
            if payment.transaction_id:
                row.transaction_id, row.paid_at = payment.transaction_id, made_at
            audit.record(session, union=row.union_slug, actor="sonod", role="operator", action="certificate.copy",
                         target=row.certificate_no, detail={"copy_id": row.copy_id,
                                                            "transaction_id": payment.transaction_id})
        return CopyMade(copy_id=payment.copy_id, certificate_no=certificate.certificate_no, pdf_ref=ref)

    def copy_of(self, original: bytes, certificate_no: str, made_at: dt.datetime) -> bytes:
        """Every page of the original as it was drawn, under the copy's mark: a new file, with no signature."""
        reader = PdfFileReader(io.BytesIO(original))
        pages = int(reader.root["/Pages"]["/Count"])
        stamp = PdfFileReader(io.BytesIO(self.stamp(certificate_no, made_at)))
        writer = PdfFileWriter()
        box = generic.ArrayObject([generic.FloatObject(x) for x in (0, 0, L.PAGE_W, L.PAGE_H)])  # A4, as rendered
        for i in range(pages):
            resources = generic.DictionaryObject({generic.NameObject("/XObject"): generic.DictionaryObject({
                generic.NameObject("/Certificate"): writer.import_page_as_xobject(reader, i),
                generic.NameObject("/Copy"): writer.import_page_as_xobject(stamp, 0),
            })})
            contents = writer.add_object(generic.StreamObject(stream_data=b"q /Certificate Do Q q /Copy Do Q"))
            writer.insert_page(PageObject(contents=contents, media_box=box, resources=resources))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    def stamp(self, certificate_no: str, made_at: dt.datetime) -> bytes:
        """The copy's mark, one A4 page drawn over each of the certificate's."""
        day = local(made_at).date()
        lines = (f"**অনুলিপি** · প্রদানের তারিখ: {format_date_bn(day)} · সনদ নং {certificate_no} · "
                 f"মূল সনদের অনুলিপি, নতুন করে স্বাক্ষরিত নয়; QR কোড স্ক্যান করে যাচাই করুন",
                 f"**COPY** · issued on {day.day} {EN_MONTHS[day.month - 1]} {day.year} · certificate no. "
                 f"{certificate_no} · a copy of the certificate, not signed again; scan its QR code to verify it")
        buf = io.BytesIO()
        with reportlab_turn():
            canv = Canvas(buf, pagesize=(L.PAGE_W, L.PAGE_H), invariant=1, pageCompression=1,
                          initialFontName=self.fonts.bn)
            describe_pdf(canv, title=f"অনুলিপি / Copy {certificate_no}", author="sonod",
                         subject=f"Copy of {certificate_no}", keywords=[certificate_no, "copy", "sonod"], at=made_at)
            mark = L.TextPara("অনুলিপি / COPY", self.mark_style, self.fonts)
            width, height = mark.wrap(L.PAGE_W, L.PAGE_H)
            canv.saveState()
            canv.translate(L.PAGE_W / 2, L.PAGE_H / 2)
            canv.rotate(35)
            mark.drawOn(canv, -width / 2, -height / 2)
            canv.restoreState()
            for text, base, top in ((lines[0], "bn", L.PAGE_H - 4), (lines[1], "en", 16)):  # above and below the border
                note = L.TextPara(text, self.line_style, self.fonts, base)
                _, height = note.wrap(L.PAGE_W - 40, 40)
                note.drawOn(canv, 20, top - height)
            canv.showPage()
            canv.save()
        return buf.getvalue()


def in_force(session, certificate_no: str) -> db.Certificate:
    """The issued, unrevoked certificate; a non-retryable error for any other."""
    row = session.get(db.Certificate, certificate_no)
    if row is None or row.pdf_path is None or row.revoked_at is not None:
        raise ApplicationError(f"no certificate {certificate_no} in force", type=NO_CERTIFICATE, non_retryable=True)
    return row
