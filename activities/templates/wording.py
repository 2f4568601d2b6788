"""What each certificate type says, in Bengali and English: one `Wording` per catalogue type.

A wording is a list of paragraphs written as `str.format` templates over the document's context
(`context()`), with `**` around bold text. A paragraph whose fields are all empty is left out, and a
paragraph that is exactly a table's name (e.g. "[heirs]") is replaced by that table.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sonod.bengali import DHAKA, format_date_bn, format_taka_bn, group_south_asian, to_ascii_digits, to_bn_digits
from sonod.catalogue import RELATION_BN, Landless, SamePerson
from sonod.printed import CLAIM_MARK

if TYPE_CHECKING:
    from activities.render import CertificateDocument

EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")
NBSP = "\xa0"


def local(t: dt.datetime) -> dt.datetime:
    """Bangladesh time; a naive datetime is taken to be in it already."""
    return t.astimezone(DHAKA) if t.tzinfo else t.replace(tzinfo=DHAKA)


@dataclass(frozen=True)
class Para:
    text: str
    style: str = "body"


@dataclass(frozen=True)
class Grid:
    header: tuple[str, ...]  # empty for a table of particulars, which has none
    rows: Sequence[tuple[str, ...]]
    widths: tuple[float, ...]  # fractions of the frame's width
    align: str  # one of L, C, R per column
    total: int = 0  # rows at the end that total the others, in bold


Block = Para | Grid


@dataclass(frozen=True)
class Wording:
    bn: tuple[str, ...]
    en: tuple[str, ...]
    tables: dict[str, Callable[[CertificateDocument, Lang], Grid]] = field(default_factory=dict)
    shows_expiry: bool = False  # the wording prints the expiry date itself


# --- languages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lang:
    code: str

    @property
    def bn(self) -> bool:
        return self.code == "bn"

    def num(self, x: object) -> str:
        """Digits in the language's script; identifiers with Latin letters (e.g. "HT-2026/457") stay as they are."""
        s = str(x)
        if any("a" <= c.lower() <= "z" for c in s):
            return s
        return to_bn_digits(s) if self.bn else to_ascii_digits(s)

    def date(self, d: dt.date) -> str:
        return format_date_bn(d) if self.bn else f"{d.day} {EN_MONTHS[d.month - 1]} {d.year}"

    def taka(self, n: int) -> str:
        return format_taka_bn(n) if self.bn else group_south_asian(n)

    def decimal(self, x: float) -> str:
        return self.num(f"{x:.2f}".rstrip("0").rstrip("."))

    def relation(self, code: str) -> str:
        return RELATION_BN[code] if self.bn else code


def held(doc: CertificateDocument, field: str, text: str) -> str:
    """A holder's value as printed: marked when it is the applicant's claim alone (see `sonod.printed`)."""
    return f"{text}{CLAIM_MARK}" if field in doc.claims else text


def keep_together(name: str | None) -> str:
    """A name with no-break spaces, so that it never breaks across lines."""
    return (name or "").strip().replace(" ", NBSP)


def _pronouns(gender: str | None) -> dict[str, str]:
    g = (gender or "").strip().lower()
    if g in {"male", "m", "পুরুষ"}:
        return {"he": "he", "him": "him", "his": "his", "He": "He", "His": "His"}
    if g in {"female", "f", "মহিলা", "নারী"}:
        return {"he": "she", "him": "her", "his": "her", "He": "She", "His": "Her"}
    return {"he": "he/she", "him": "him/her", "his": "his/her", "He": "He/She", "His": "His/Her"}


def _spouse_word(gender: str | None, lang: Lang) -> str:
    g = _pronouns(gender)["he"]
    if lang.bn:
        return {"he": "স্ত্রী", "she": "স্বামী"}.get(g, "স্বামী/স্ত্রী")
    return {"he": "wife", "she": "husband"}.get(g, "spouse")


def context(doc: CertificateDocument, lang: Lang) -> dict[str, str]:
    """Every value a wording may name, formatted for the language; absent ones are ""."""
    h, u, d = doc.holder, doc.union, doc.parsed_details
    bn = lang.bn
    name_bn = held(doc, "name_bn", keep_together(h.name_bn))
    name = name_bn if bn else f"{held(doc, 'name_en', h.name_en)} ({name_bn})"
    labels = ("পিতা: ", "মাতা: ", "জন্ম তারিখ: ", "জাতীয় পরিচয়পত্র নং: ") if bn else (
        "Father: ", "Mother: ", "Date of birth: ", "NID No.: ")
    lineage = [label + _parent(doc, parent, lang) for label, parent in ((labels[0], "father"), (labels[1], "mother"))
               if getattr(h, f"{parent}_name_bn")]
    if h.spouse_name_bn:
        lineage.append(f"{_spouse_word(h.gender, lang).capitalize()}: "
                       f"{held(doc, 'spouse_name_bn', keep_together(h.spouse_name_bn))}")
    if h.date_of_birth:
        lineage.append(labels[2] + held(doc, "date_of_birth", lang.date(h.date_of_birth)))
    if h.nid:
        lineage.append(labels[3] + held(doc, "nid", lang.num(h.nid)))
    elif h.brn:
        lineage.append(("জন্ম নিবন্ধন নং: " if bn else "Birth registration No.: ") + held(doc, "brn", lang.num(h.brn)))
    ctx = {
        "name": name,
        "name_bn": name_bn,
        "lineage": ", ".join(lineage),
        "address": _address(doc, lang),
        "union": u.name_bn if bn else u.name_en,
        "spouse_word": _spouse_word(h.gender, lang),
        **_pronouns(h.gender),
    }
    for key, value in vars(d).items():
        ctx[key] = _value(value, lang)
    for key in ("purpose",):
        ctx.setdefault(key, "")
    for key in [k for k in ctx if k.endswith("_en") and not ctx[k]]:  # an English text not given: its Bengali
        ctx[key] = ctx.get(key.removesuffix("_en") + "_bn", "")
    ctx["divorced_bn"] = {"he": "তালাকপ্রাপ্ত", "she": "তালাকপ্রাপ্তা"}.get(ctx["he"], "তালাকপ্রাপ্ত/তালাকপ্রাপ্তা")
    if hasattr(d, "deceased"):
        dec = d.deceased
        ctx["deceased"] = keep_together(dec.name_bn) if bn or not dec.name_en else (
            f"{dec.name_en} ({keep_together(dec.name_bn)})")
        ctx["deceased_id"] = f", {labels[3]}{lang.num(dec.nid)}" if dec.nid else ""
        ctx["date_of_death"] = lang.date(dec.date_of_death)
        ctx["death_registration_no"] = lang.num(dec.death_registration_no)
    if isinstance(d, SamePerson):
        ctx["other_name"] = keep_together(d.other_name_bn if bn else (d.other_name_en or d.other_name_bn))
    if hasattr(d, "relation"):
        ctx["relation"] = lang.relation(d.relation)
    if isinstance(d, Landless):
        ctx["land"] = _land(d.homestead_land_decimal, d.cultivable_land_decimal, lang, ctx["his"])
    ctx["expires"] = lang.date(doc.expires_on) if doc.expires_on else ""
    return ctx


def _parent(doc: CertificateDocument, parent: str, lang: Lang) -> str:
    """The father's or mother's name as printed: in English, the English one when the holder's record has it."""
    field = f"{parent}_name_en" if not lang.bn and getattr(doc.holder, f"{parent}_name_en") else f"{parent}_name_bn"
    return held(doc, field, keep_together(getattr(doc.holder, field)))


def _value(value: object, lang: Lang) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return lang.date(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return lang.taka(value)
    if isinstance(value, float):
        return lang.decimal(value)
    if isinstance(value, str):
        return value if any(c.isalpha() for c in value) else lang.num(value)
    return ""


def _address(doc: CertificateDocument, lang: Lang) -> str:
    h, u = doc.holder, doc.union
    village, address, ward, post_office = ("গ্রাম: ", "ঠিকানা: ", "ওয়ার্ড নং ", "ডাকঘর: ") if lang.bn else (
        "Village: ", "Address: ", "Ward No. ", "Post Office: ")
    parts = []
    if h.village_bn:
        parts.append(village + held(doc, "village_bn", h.village_bn))
    elif h.permanent_address_bn or h.present_address_bn:
        field = "permanent_address_bn" if h.permanent_address_bn else "present_address_bn"
        parts.append(address + held(doc, field, getattr(h, field)))
    if h.ward_no:
        parts.append(ward + held(doc, "ward_no", lang.num(h.ward_no)))
    if h.post_office_bn:
        parts.append(post_office + held(doc, "post_office_bn", h.post_office_bn))
    if lang.bn:
        parts += [f"উপজেলা: {u.upazila_bn}", f"জেলা: {u.district_bn}"]
    else:
        parts += [f"Upazila: {u.upazila_en}", f"District: {u.district_en}"]
    return ", ".join(parts)


def _land(homestead: float, cultivable: float, lang: Lang, his: str) -> str:
    if lang.bn:
        if not homestead and not cultivable:
            return "তার নিজস্ব কোনো বসতভিটা বা আবাদি জমি নেই"
        return f"তার বসতভিটা {lang.decimal(homestead)} শতাংশ এবং আবাদি জমি {lang.decimal(cultivable)} শতাংশ"
    if not homestead and not cultivable:
        return f"{his} family owns no homestead or cultivable land"
    return (f"{his} family owns {lang.decimal(homestead)} decimals of homestead land and "
            f"{lang.decimal(cultivable)} decimals of cultivable land")


def render_paragraphs(wording: Wording, doc: CertificateDocument, lang: Lang) -> list[Block]:
    ctx = context(doc, lang)
    blocks: list[Block] = []
    for template in wording.bn if lang.bn else wording.en:
        if template in wording.tables:
            blocks.append(wording.tables[template](doc, lang))
            continue
        optional = {f for _, f, _, _ in string.Formatter().parse(template) if f} - _ALWAYS
        if optional and not any(ctx.get(f) for f in optional):
            continue
        blocks.append(Para(template.format_map(ctx)))
    return blocks


_ALWAYS = {"he", "him", "his", "He", "His", "name", "name_bn", "union", "lineage", "address", "spouse_word",
           "deceased_id"}
