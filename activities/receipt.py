"""The money receipt (মানি রিসিট): what an application paid, line by line, on the union's letterhead, in Bengali.

`Receipts.issue` numbers the receipt once (a union's receipts count from 1 each year), renders it with the
certificates' fonts, masthead and tables (`activities.render`), and stores the PDF beside the certificates; the API
serves the stored file. What it prints of the payer: the application number, the name, the NID's last 3 digits.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from pydantic import BaseModel
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Spacer, Table, TableStyle
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.render import (
    FeeLineView,
    UnionView,
    describe_pdf,
    fill_page,
    font_set,
    grid_table,
    reportlab_turn,
    store_pdf,
)
from activities.templates import Grid, local, masthead
from activities.templates import layout as L
from activities.templates.certificates import fee_grid
from activities.templates.wording import Lang
from sonod import db
from sonod.bengali import format_bangla_date, format_date_bn, taka_in_words_bn, to_bn_digits
from sonod.db import upsert
from sonod.nid import mask
from sonod.receipts import CALLBACK, PaidFee, fee_lines, paid_fee, receipt_number, receipt_of
from workflows import activities as contract
from workflows.messages import IssuedReceipt, ReceiptRequest

NOT_PAID = "NotPaid"  # no paid fee to give a receipt for: non-retryable
METHODS_BN = {"ekpay": "একপে (ekPay)", "bkash": "বিকাশ (bKash)", "nagad": "নগদ (Nagad)",
              "sslcommerz": "এসএসএলকমার্জ (SSLCommerz)", CALLBACK: "অনলাইন পেমেন্ট গেটওয়ে"}
BN = Lang("bn")


class ReceiptDocument(BaseModel):
    receipt_no: str
    union: UnionView
    application_id: str
    service_bn: str  # the certificate type the fee was for
    payer_bn: str
    nid_masked: str | None = None  # never the whole number
    lines: list[FeeLineView]
    currency: str = "BDT"
    paid_at: dt.datetime
    method: str
    transaction_id: str
    issued_at: dt.datetime

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


# --- the page ------------------------------------------------------------------------------------------------------

class PaidStamp(Flowable):
    """A green "পরিশোধিত" stamp, tilted, drawn at the right of the line it follows without taking room of its own."""

    def __init__(self, text: L.TextPara) -> None:
        super().__init__()
        self.text = text

    def wrap(self, aw, ah):
        self.width, self.height = aw, 0
        return aw, 0

    def draw(self) -> None:
        c = self.canv
        w, h = self.text.wrap(120, 60)
        c.saveState()
        c.translate(self.width - 105, -6)
        c.rotate(8)
        c.setStrokeColor(L.GREEN)
        c.setLineWidth(1.6)
        c.roundRect(-w / 2 - 10, -8, w + 20, h + 12, 6, stroke=1, fill=0)
        self.text.drawOn(c, -w / 2, -2)
        c.restoreState()


class ReceiptRenderer:
    """A receipt on one A4 page: the union's masthead, number and date, the payer, the fee's lines with their total in
    figures and in words, the payment, and the lines on which the collector and the secretary sign."""

    def __init__(self, fonts: L.FontSet | None = None) -> None:
        self.fonts = fonts or font_set()
        self.styles = st = L.Styles(self.fonts)
        self.words = ParagraphStyle("words", parent=st.body, firstLineIndent=0, alignment=TA_LEFT, spaceAfter=0)
        self.stamp = ParagraphStyle("stamp", parent=st.title, fontSize=15, leading=18, alignment=TA_CENTER)
        self.sign = ParagraphStyle("sign", parent=st.signature, fontSize=10, leading=14)

    def render(self, doc: ReceiptDocument) -> bytes:
        with reportlab_turn():
            buf = io.BytesIO()
            canv = Canvas(buf, pagesize=(L.PAGE_W, L.PAGE_H), invariant=1, pageCompression=1,
                          initialFontName=self.fonts.bn)
            union = doc.union
            describe_pdf(canv, title=f"মানি রিসিট {doc.receipt_no}", author=f"{union.name_bn} ইউনিয়ন পরিষদ",
                         subject=f"Money receipt {doc.receipt_no} of application {doc.application_id}, "
                                 f"{union.name_en} Union Parishad, {union.upazila_en}, {union.district_en}",
                         keywords=[doc.receipt_no, doc.application_id, union.slug, "money receipt", "sonod"],
                         at=doc.issued_at)
            lines = [(text, getattr(self.styles, style)) for text, style in masthead(union, "bn")]
            L.Masthead.build(lines, self.fonts, "bn").draw(canv)
            story = self._story(doc)
            if not fill_page(canv, story) or story:
                raise RuntimeError(f"receipt {doc.receipt_no} does not fit on one page")
            canv.showPage()
            canv.save()
            return buf.getvalue()

    def _para(self, text: str, style: ParagraphStyle, base: str = "bn") -> L.TextPara:
        return L.TextPara(text, style, self.fonts, base)

    def _story(self, doc: ReceiptDocument) -> list[Flowable]:
        st, paid = self.styles, local(doc.paid_at)
        payer = Grid((), [
            ("আবেদন নং", doc.application_id),
            ("প্রদানকারী", f"**{doc.payer_bn}**"),
            ("জাতীয় পরিচয়পত্র নং", doc.nid_masked.replace("*", "X") if doc.nid_masked else "—"),
            ("সেবার বিবরণ", f"{doc.service_bn} বাবদ ফি"),
        ], (0.3, 0.7), "LL")
        payment = Grid((), [
            ("পরিশোধের মাধ্যম", METHODS_BN.get(doc.method, doc.method)),
            ("লেনদেন নং", doc.transaction_id),
            ("পরিশোধের সময়", f"{format_date_bn(paid.date())}, {to_bn_digits(f'{paid:%H:%M}')} (বাংলাদেশ সময়)"),
        ], (0.3, 0.7), "LL")
        return [
            L.MetaRow(self._para(f"রশিদ নং: **{doc.receipt_no}**", st.meta),
                      self._para(f"তারিখ: {format_date_bn(paid.date())} খ্রিস্টাব্দ\n"
                                 f"{format_bangla_date(paid.date())}", st.meta_right)),
            Spacer(1, 4),
            L.TitleBox(self._para("**মানি রিসিট**", st.title)),
            self._para("ফি, কর ও ভ্যাট আদায়ের রশিদ", st.cert_no),
            Spacer(1, 10),
            grid_table(payer, st, self._para, "bn"),
            Spacer(1, 12),
            grid_table(fee_grid(doc.lines, BN), st, self._para, "bn"),
            Spacer(1, 8),
            self._para(f"টাকা কথায়: **{taka_in_words_bn(doc.total)}**", self.words),
            PaidStamp(self._para("**পরিশোধিত**", self.stamp)),
            Spacer(1, 12),
            grid_table(payment, st, self._para, "bn"),
            Spacer(1, 10),
            self._para(f"উপরোক্ত বিবরণ অনুযায়ী মোট {BN.taka(doc.total)} টাকা বুঝিয়া পাইলাম।", self.words),
            Spacer(1, 64),
            self._signatures(doc),
            Spacer(1, 28),
            self._para(f"কম্পিউটারে প্রস্তুতকৃত রশিদ · {union_line(doc.union)} · প্রস্তুতের সময় "
                       f"{to_bn_digits(f'{local(doc.issued_at):%d/%m/%Y %H:%M}')}", st.caption),
        ]

    def _signatures(self, doc: ReceiptDocument) -> Table:
        """Two signature lines, at the two ends of the page: the collector's (the UDC or the union's cashier) and the
        secretary's, with the seal."""
        dotted = (0.6, L.GREY, None, (1.5, 1.5))
        table = Table([[self._para("আদায়কারীর স্বাক্ষর", self.sign), "",
                        self._para(f"**সচিব (প্রশাসনিক কর্মকর্তা)**\n{doc.union.name_bn} ইউনিয়ন পরিষদ\n(সিল ও স্বাক্ষর)",
                                   self.sign)]], colWidths=[L.FRAME_W * w for w in (0.36, 0.28, 0.36)])
        table.setStyle(TableStyle([("LINEABOVE", (0, 0), (0, 0), *dotted), ("LINEABOVE", (2, 0), (2, 0), *dotted),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return table


def union_line(union: UnionView) -> str:
    return f"{union.name_bn} ইউনিয়ন পরিষদ, {union.upazila_bn}, {union.district_bn}"


# --- the activity ----------------------------------------------------------------------------------------------------

class Receipts(contract.Receipts):
    def __init__(self, sessions: sessionmaker, renderer: ReceiptRenderer, pdf_dir: Path) -> None:
        self.sessions, self.renderer, self.pdf_dir = sessions, renderer, pdf_dir

    @activity.defn(name="Receipts.issue")
    def issue(self, req: ReceiptRequest) -> IssuedReceipt:
        """The application's receipt, numbered the first time and stored once: a repeat answers the stored one."""
        with self.sessions.begin() as session:
            receipt = receipt_of(session, req.application_id)
            if receipt is None:
                receipt = self._number(session, req.application_id)
            if receipt.pdf_path and (self.pdf_dir / receipt.pdf_path).exists():
                return IssuedReceipt(receipt_no=receipt.receipt_no, pdf_ref=receipt.pdf_path)
            doc = self._document(session, receipt)
        pdf = self.renderer.render(doc)
        ref = f"{receipt.union_slug}/{receipt.year}/receipts/{receipt.receipt_no}.pdf"
        store_pdf(self.pdf_dir, ref, pdf)
        with self.sessions.begin() as session:
            session.execute(update(db.Receipt).where(db.Receipt.receipt_no == receipt.receipt_no)
                            .values(pdf_path=ref))
        return IssuedReceipt(receipt_no=receipt.receipt_no, pdf_ref=ref)

    @staticmethod
    def _number(session: Session, application_id: str) -> db.Receipt:
        """The next number of the union's year (of the payment's date in Bangladesh), with the payment and the lines
        it paid; in its own savepoint, so that a second run at the same moment finds the first one's."""
        application = session.get(db.Application, application_id)
        paid = paid_fee(session, application) if application is not None else None
        if application is None or paid is None:
            raise ApplicationError(f"{application_id} has no paid fee", type=NOT_PAID, non_retryable=True)
        year = local(paid.paid_at).year
        try:
            with session.begin_nested():
                upsert(session, db.ReceiptCounter, dict(union_slug=application.union_slug, year=year, last_no=0),
                       ["union_slug", "year"])
                seq = session.execute(update(db.ReceiptCounter)
                                      .where(db.ReceiptCounter.union_slug == application.union_slug,
                                             db.ReceiptCounter.year == year)
                                      .values(last_no=db.ReceiptCounter.last_no + 1)
                                      .returning(db.ReceiptCounter.last_no)).scalar_one()
                session.execute(insert(db.Receipt).values(
                    receipt_no=receipt_number(application.union_slug, year, seq), application_id=application.id,
                    union_slug=application.union_slug, year=year, seq=seq, **_payment(paid),
                    lines=fee_lines(session, application, paid), issued_at=db.utcnow()))
        except IntegrityError:
            pass  # numbered by another run meanwhile
        receipt = session.scalar(select(db.Receipt).where(db.Receipt.application_id == application_id))
        assert receipt is not None, "inserted above, or by the run that raced this one"
        return receipt

    @staticmethod
    def _document(session: Session, receipt: db.Receipt) -> ReceiptDocument:
        application = session.get(db.Application, receipt.application_id)
        union = session.get(db.Union, receipt.union_slug)
        kind = session.get(db.CertificateTypeRow, application.certificate_type) if application else None
        assert application is not None and union is not None, "a receipt's application and union are never deleted"
        applicant, identity = application.applicant or {}, application.identity or {}
        return ReceiptDocument(
            receipt_no=receipt.receipt_no,
            union=UnionView(slug=union.slug, name_bn=union.name_bn, name_en=union.name_en, upazila_bn=union.upazila_bn,
                            upazila_en=union.upazila_en, district_bn=union.district_bn, district_en=union.district_en),
            application_id=application.id, service_bn=kind.name_bn if kind else application.certificate_type,
            payer_bn=identity.get("name_bn") or applicant.get("name_bn") or applicant.get("name_en") or "—",
            nid_masked=mask(applicant["nid"]) if applicant.get("nid") else None,
            lines=[FeeLineView.model_validate(line) for line in receipt.lines], currency=receipt.currency,
            paid_at=receipt.paid_at, method=receipt.method, transaction_id=receipt.transaction_id,
            issued_at=receipt.issued_at,
        )


def _payment(paid: PaidFee) -> dict:
    return dict(transaction_id=paid.transaction_id, method=paid.method, amount=paid.amount, currency=paid.currency,
                paid_at=paid.paid_at)
