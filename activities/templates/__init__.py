"""The certificates' templates: what each type says (`certificates`, `wording`) and the page frame (`layout`).

`compose(doc)` gives a `Body`, the texts of one certificate in its language; `activities.render` lays it
out with the flowables of `layout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from activities.templates.certificates import WORDINGS
from activities.templates.wording import (
    DHAKA,
    Block,
    Grid,
    Lang,
    Para,
    Wording,
    keep_together,
    local,
    render_paragraphs,
)
from sonod.bengali import format_bangla_date, to_bn_digits
from sonod.catalogue import BY_CODE
from sonod.printed import CLAIM_NOTE

if TYPE_CHECKING:
    from activities.render import CertificateDocument, Signatory, UnionView

__all__ = ["CAPTION", "DHAKA", "WORDINGS", "Block", "Body", "Grid", "Para", "Wording", "compose", "local", "masthead"]

CAPTION = "যাচাই করতে স্ক্যান করুন / Scan to verify"


@dataclass(frozen=True)
class SignatureText:
    note: str | None  # the digital-signature note above the line, None when not signed yet
    details: str  # name, title and union below the line


@dataclass(frozen=True)
class Body:
    language: str
    title: str
    certificate_no: str
    memo: str
    dates: str
    blocks: list[Block]
    signatures: list[SignatureText]
    continued: str  # footer of a page that is not the last
    page: str  # footer of a later page, with {n} for its number
    caption: str = CAPTION


def masthead(union: UnionView, language: str) -> list[tuple[str, str]]:
    """The header lines of a union's pages, with the style each is set in."""
    if language == "bn":
        return [("গণপ্রজাতন্ত্রী বাংলাদেশ সরকার", "gov"), (f"**{union.name_bn} ইউনিয়ন পরিষদ**", "union"),
                (f"উপজেলা: {union.upazila_bn}, জেলা: {union.district_bn}", "place")]
    return [("Government of the People's Republic of Bangladesh", "gov"),
            (f"**{union.name_en} Union Parishad**", "union"),
            (f"Upazila: {union.upazila_en}, District: {union.district_en}", "place")]


def compose(doc: CertificateDocument) -> Body:
    lang = Lang(doc.language)
    ctype, wording = BY_CODE[doc.certificate_type], WORDINGS[doc.certificate_type]
    issued = local(doc.issued_at).date()
    blocks = render_paragraphs(wording, doc, lang)
    if doc.expires_on and not wording.shows_expiry:
        valid = f"এই সনদ {lang.date(doc.expires_on)} পর্যন্ত বৈধ।" if lang.bn else (
            f"This certificate is valid until {lang.date(doc.expires_on)}.")
        blocks.append(Para(valid))
    if doc.claims:
        blocks.append(Para(CLAIM_NOTE[0] if lang.bn else CLAIM_NOTE[1]))
    bangla = format_bangla_date(issued)
    cert = keep_together(doc.certificate_no)
    if lang.bn:
        return Body(
            "bn", f"**{ctype.name_bn}**", f"সনদ নং: **{cert}**", f"স্মারক নং: {to_bn_digits(doc.memo_no)}",
            f"তারিখ: {lang.date(issued)} খ্রিস্টাব্দ\n{bangla}", blocks,
            [_signature(s, doc.union, lang) for s in doc.signatories],
            "পরবর্তী পৃষ্ঠায় দেখুন", f"সনদ নং {doc.certificate_no} · পৃষ্ঠা {{n}}",
        )
    return Body(
        "en", f"**{ctype.name_en}**", f"Certificate No.: **{cert}**", f"Memo No.: {doc.memo_no}",
        f"Date: {lang.date(issued)}\n{bangla}", blocks,
        [_signature(s, doc.union, lang) for s in doc.signatories],
        "Continued on the next page", f"Certificate No. {doc.certificate_no} · page {{n}}",
    )


def _signature(s: Signatory, union: UnionView, lang: Lang) -> SignatureText:
    note = None
    if s.signed_at:
        t = local(s.signed_at)
        stamp = f"{t:%d/%m/%Y %H:%M}"
        note = (f"**ডিজিটাল স্বাক্ষরিত**\n{to_bn_digits(stamp)}" if lang.bn
                else f"**Digitally signed**\n{stamp} (UTC+6)")
    if lang.bn:
        details = (f"**{s.name_bn}**\n{s.title_bn}\n{union.name_bn} ইউনিয়ন পরিষদ\n"
                   f"{union.upazila_bn}, {union.district_bn}")
    else:
        details = (f"**{s.name_en}**\n{s.title_en}\n{union.name_en} Union Parishad\n"
                   f"{union.upazila_en}, {union.district_en}")
    return SignatureText(note, details)
