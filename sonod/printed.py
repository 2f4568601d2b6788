"""What a certificate prints about its holder, and on whose word: the one answer that the issuer prints and that the
deciding officer sees before approving (issue 12, item 4).

`printed(...)` lists the certificate's lines about the holder and its details, each with its source:

- "nid": the NID gateway's record holds it. The record wins over the applicant's claim; a claim that differs from it
  is kept beside it (`claimed`), for the officer to see, and is not printed;
- "claim": the applicant's word alone (the record lacks it). It is printed marked as a claim (`CLAIM_MARK`);
- "details": the certificate type's own fields (`details`), which the officers check on their own.

Applicant fields that no certificate prints (a portal may send any) are in no line, so they never reach the paper.
The applicant's gender only chooses words (his/her, wife/husband); it is taken from the record alone.

Also the certificate's validity: a type with `valid_days` is valid to the end of its last day in Bangladesh time,
the date the paper prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sonod.bengali import DHAKA, dhaka_date, to_ascii_digits
from sonod.catalogue_data import DECLARED, PLOT_COLUMNS, VOCABULARY

Source = Literal["nid", "claim", "details"]
CLAIM_MARK = "*"
CLAIM_NOTE = ("* আবেদনকারীর দাবি, জাতীয় পরিচয়পত্রের তথ্যে নেই।",
              "* As stated by the applicant; not in the NID record.")

# The holder's lines, in the order a certificate prints them: (field, Bengali label, English label).
HOLDER = (
    ("name_bn", "নাম", "Name (Bengali)"),
    ("name_en", "নাম (ইংরেজিতে)", "Name (English)"),
    ("father_name_bn", "পিতার নাম", "Father's name"),
    ("mother_name_bn", "মাতার নাম", "Mother's name"),
    ("father_name_en", "পিতার নাম (ইংরেজিতে)", "Father's name (English)"),
    ("mother_name_en", "মাতার নাম (ইংরেজিতে)", "Mother's name (English)"),
    ("spouse_name_bn", "স্বামী/স্ত্রীর নাম", "Spouse's name"),
    ("date_of_birth", "জন্ম তারিখ", "Date of birth"),
    ("nid", "জাতীয় পরিচয়পত্র নং", "NID No."),
    ("brn", "জন্ম নিবন্ধন নং", "Birth registration No."),
    ("gender", "লিঙ্গ", "Gender"),
    ("village_bn", "গ্রাম", "Village"),
    ("permanent_address_bn", "ঠিকানা", "Address"),
    ("present_address_bn", "ঠিকানা", "Address"),
    ("ward_no", "ওয়ার্ড নং", "Ward No."),
    ("post_office_bn", "ডাকঘর", "Post office"),
)
ENGLISH_ONLY = {"father_name_en", "mother_name_en"}  # printed by an English certificate only
ADDRESS = ("village_bn", "permanent_address_bn", "present_address_bn")  # one of them: the first the record holds
RECORD_ONLY = {"gender"}
# The types whose wording names only some of the holder's fields (the others print them all: name, lineage, address).
NAMES = {"name_bn", "name_en"}  # the English name is in the signed QR even when the paper is in Bengali
WHERE = {*ADDRESS, "ward_no", "post_office_bn"}
BY_TYPE = {
    "trade_licence": {*NAMES, "father_name_bn", "father_name_en"},
    "warish": NAMES | WHERE,  # the applicant's name, and the address the deceased shared
    "death": NAMES | WHERE,
} | {spec.code: NAMES | WHERE for spec in DECLARED if spec.holder == "names_and_address"}

DETAILS = {  # the catalogue's fields, as a certificate names them
    "purpose": ("উদ্দেশ্য", "Purpose"), "years_resident": ("বসবাসের বছর", "Years resident"),
    "other_name_bn": ("অন্য নাম", "Other name"), "other_name_en": ("অন্য নাম (ইংরেজিতে)", "Other name (English)"),
    "other_document_bn": ("অন্য নামের কাগজ", "Document with the other name"),
    "deceased": ("মৃত ব্যক্তি", "The deceased"), "heirs": ("ওয়ারিশগণ", "Heirs"),
    "members": ("পরিবারের সদস্যগণ", "Family members"), "relation": ("সম্পর্ক", "Relation"),
    "late_spouse_name_bn": ("প্রয়াত স্বামী/স্ত্রী", "Late spouse"),
    "spouse_date_of_death": ("স্বামী/স্ত্রীর মৃত্যুর তারিখ", "Spouse's date of death"),
    "annual_income": ("বার্ষিক আয় (টাকা)", "Annual income (Tk)"), "source_bn": ("আয়ের উৎস", "Source of income"),
    "fiscal_year": ("অর্থবছর", "Fiscal year"),
    "homestead_land_decimal": ("বসতভিটা (শতাংশ)", "Homestead land (decimals)"),
    "cultivable_land_decimal": ("আবাদি জমি (শতাংশ)", "Cultivable land (decimals)"),
    "place_of_death_bn": ("মৃত্যুর স্থান", "Place of death"),
    "business_name_bn": ("প্রতিষ্ঠানের নাম", "Business name"),
    "business_name_en": ("প্রতিষ্ঠানের নাম (ইংরেজিতে)", "Business name (English)"),
    "business_type_bn": ("ব্যবসার ধরন", "Type of business"),
    "business_address_bn": ("ব্যবসার ঠিকানা", "Business address"),
    "holding_tax_receipt_no": ("হোল্ডিং কর রশিদ নং", "Holding tax receipt no."), "capital_taka": ("মূলধন", "Capital"),
    "business_category": ("ব্যবসার খাত", "Business category"), "renews": ("নবায়নের লাইসেন্স নং", "Licence no. renewed"),
    "licence_no": ("লাইসেন্স নং", "Licence no."),
}
DETAILS = {key: (f.label_bn, f.label_en) for key, f in (VOCABULARY | PLOT_COLUMNS).items()} | DETAILS  # declared


class Line(BaseModel):
    """One thing the certificate prints."""

    model_config = ConfigDict(frozen=True)

    field: str
    label_bn: str
    label_en: str
    value: Any
    source: Source
    claimed: Any = None  # the applicant's own, different, word for a line the record decides

    @property
    def differs(self) -> bool:
        return self.claimed is not None


class Validity(BaseModel):
    model_config = ConfigDict(frozen=True)

    last_day: dt.date  # what the paper prints: "valid until"
    ends_at: dt.datetime  # the first instant it is no longer valid: midnight after last_day, Bangladesh time


def validity(issued_at: dt.datetime, valid_days: int | None) -> Validity | None:
    """A certificate issued at `issued_at` is valid `valid_days` days, to the end of that day in Bangladesh."""
    if not valid_days:
        return None
    last_day = dhaka_date(issued_at + dt.timedelta(days=valid_days))
    ends_at = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), DHAKA)
    return Validity(last_day=last_day, ends_at=ends_at)


def printed(certificate_type: str, applicant: Mapping[str, Any], details: Mapping[str, Any],
            identity: Mapping[str, Any], language: str = "bn") -> list[Line]:
    """The certificate's lines: the holder's (from the NID record, else the applicant's claim), then the details."""
    lines = []
    for field, label_bn, label_en in _holder_fields(certificate_type, applicant, identity, language):
        claim, record = _given(applicant.get(field)), _given(identity.get(field))
        if field in ("nid", "brn") and claim is not None and identity:  # the registry matched on this very number
            record = claim
        if record is not None:
            differs = claim is not None and not same(claim, record)
            lines.append(Line(field=field, label_bn=label_bn, label_en=label_en, value=record, source="nid",
                              claimed=claim if differs else None))
        elif claim is not None and field not in RECORD_ONLY:
            lines.append(Line(field=field, label_bn=label_bn, label_en=label_en, value=claim, source="claim"))
    for field, value in details.items():
        if _given(value) is not None:
            label_bn, label_en = DETAILS.get(field, (field, field))
            lines.append(Line(field=field, label_bn=label_bn, label_en=label_en, value=value, source="details"))
    return lines


def holder_values(lines: list[Line]) -> tuple[dict[str, Any], set[str]]:
    """The holder's printed fields, and those of them that are the applicant's claims."""
    holder = {line.field: line.value for line in lines if line.source != "details"}
    return holder, {line.field for line in lines if line.source == "claim"}


def same(a: object, b: object) -> bool:
    """The same value, whatever the digits' script, the case, the dots and the spacing."""
    def norm(v: object) -> str:
        return " ".join(to_ascii_digits(str(v)).casefold().replace(".", " ").split())
    return norm(a) == norm(b)


def _holder_fields(certificate_type: str, applicant: Mapping[str, Any], identity: Mapping[str, Any], language: str):
    """HOLDER, less what the type does not print, the English-only fields of a Bengali certificate, and all but one
    of the address fields."""
    wanted = BY_TYPE.get(certificate_type)
    address = next((f for f in ADDRESS if _given(identity.get(f)) is not None), None) or next(
        (f for f in ADDRESS if _given(applicant.get(f)) is not None), None)
    for field, label_bn, label_en in HOLDER:
        if (field in ENGLISH_ONLY and language != "en") or (field in ADDRESS and field != address) or (
                wanted is not None and field not in wanted):
            continue
        yield field, label_bn, label_en


def _given(value: object) -> object:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value
