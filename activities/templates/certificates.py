"""The wording of the twelve catalogue types, as unions write them, and their tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from activities.templates.wording import Grid, Lang, Wording, held, local
from sonod.catalogue import Family, TradeLicence, Warish

if TYPE_CHECKING:
    from activities.render import CertificateDocument, FeeLineView

INTRO_BN = "এই মর্মে প্রত্যয়ন করা যাচ্ছে যে, **{name}**, {lineage}, {address}।"
INTRO_EN = "This is to certify that **{name}**, {lineage}, {address},"
RESIDENT_BN = " তিনি অত্র ইউনিয়নের একজন স্থায়ী বাসিন্দা।"
PURPOSE = ("সনদের উদ্দেশ্য: {purpose}।", "Purpose of this certificate: {purpose}.")
BLESS_BN = "আমি তার সর্বাঙ্গীণ উন্নতি ও মঙ্গল কামনা করি।"
BLESS_EN = "I wish {him} every success and well-being in life."
KNOWN_BN = "আমার জানামতে তিনি রাষ্ট্র ও সমাজবিরোধী কোনো কাজে জড়িত নন।"
KNOWN_EN = "To the best of my knowledge, {he} is not involved in any activity against the state or society."
DECEASED_AT_BN = ("এই মর্মে প্রত্যয়ন করা যাচ্ছে যে, মৃত **{deceased}**{deceased_id}, {address}, "
                  "অত্র ইউনিয়নের একজন স্থায়ী বাসিন্দা ছিলেন। তিনি {date_of_death} তারিখে মৃত্যুবরণ করেন "
                  "(মৃত্যু নিবন্ধন নং: {death_registration_no})।")
DECEASED_AT_EN = ("This is to certify that the late **{deceased}**{deceased_id}, {address}, was a permanent "
                  "resident of this Union. The deceased died on {date_of_death} "
                  "(death registration no. {death_registration_no}).")


def _heirs(doc: CertificateDocument, lang: Lang) -> Grid:
    issued = local(doc.issued_at).date()
    rows = []
    for i, heir in enumerate(doc.details_as(Warish).heirs, start=1):
        minor = heir.date_of_birth and _age(heir.date_of_birth, issued) < 18
        remark = ("নাবালক" if lang.bn else "Minor") if minor else ""
        name = heir.name_bn if lang.bn or not heir.name_en else f"{heir.name_en}\n{heir.name_bn}"
        rows.append((lang.num(i), name, lang.relation(heir.relation).capitalize(), lang.num(heir.nid or "—"), remark))
    header = (("ক্রমিক নং", "ওয়ারিশের নাম", "সম্পর্ক", "জাতীয় পরিচয়পত্র / জন্ম নিবন্ধন নং", "মন্তব্য") if lang.bn
              else ("No.", "Name of heir", "Relation", "NID / birth registration no.", "Remarks"))
    return Grid(header, rows, (0.09, 0.35, 0.14, 0.29, 0.13), "CLCCC")


def _members(doc: CertificateDocument, lang: Lang) -> Grid:
    rows = [
        (lang.num(i), m.name_bn, lang.relation(m.relation).capitalize(),
         lang.date(m.date_of_birth) if m.date_of_birth else "—", lang.num(m.nid or "—"))
        for i, m in enumerate(doc.details_as(Family).members, start=1)
    ]
    header = (("ক্রমিক নং", "নাম", "সম্পর্ক", "জন্ম তারিখ", "জাতীয় পরিচয়পত্র / জন্ম নিবন্ধন নং") if lang.bn
              else ("No.", "Name", "Relation", "Date of birth", "NID / birth registration no."))
    return Grid(header, rows, (0.09, 0.33, 0.14, 0.18, 0.26), "CLCCC")


def _licence(doc: CertificateDocument, lang: Lang) -> Grid:
    d, h = doc.details_as(TradeLicence), doc.holder
    if lang.bn:
        rows = [
            ("লাইসেন্সধারীর নাম", held(doc, "name_bn", h.name_bn)),
            ("পিতার নাম", held(doc, "father_name_bn", h.father_name_bn or "—")),
            ("প্রতিষ্ঠানের নাম", d.business_name_bn), ("ব্যবসার ধরন", d.business_type_bn),
            ("ব্যবসার ঠিকানা", d.business_address_bn),
            ("মূলধন", f"{lang.taka(d.capital_taka)} টাকা" if d.capital_taka is not None else "—"),
            ("হোল্ডিং কর রশিদ নং", lang.num(d.holding_tax_receipt_no)), ("অর্থবছর", lang.num(d.fiscal_year)),
            ("মেয়াদ", f"{lang.date(doc.expires_on)} পর্যন্ত" if doc.expires_on else "—"),
        ]
    else:
        rows = [
            ("Licensee", f"{held(doc, 'name_en', h.name_en)}\n{held(doc, 'name_bn', h.name_bn)}"),
            ("Father's name", held(doc, "father_name_en", h.father_name_en) if h.father_name_en
             else held(doc, "father_name_bn", h.father_name_bn or "—")),
            ("Business name", d.business_name_en or d.business_name_bn), ("Type of business", d.business_type_bn),
            ("Business address", d.business_address_bn),
            ("Capital", f"Tk {lang.taka(d.capital_taka)}" if d.capital_taka is not None else "—"),
            ("Holding tax receipt no.", d.holding_tax_receipt_no), ("Fiscal year", d.fiscal_year),
            ("Valid until", lang.date(doc.expires_on) if doc.expires_on else "—"),
        ]
    return Grid((), rows, (0.34, 0.66), "LL")


def _fees(doc: CertificateDocument, lang: Lang) -> Grid:
    return fee_grid(doc.fee_lines, lang)


def fee_grid(lines: Sequence[FeeLineView], lang: Lang) -> Grid:
    """The fee's lines, numbered, and their total: on a trade licence and on the money receipt."""
    rows = [(lang.num(i), f.name_bn if lang.bn else f.name_en, lang.taka(f.amount))
            for i, f in enumerate(lines, start=1)]
    total = sum(f.amount for f in lines)
    rows.append(("", "**সর্বমোট**" if lang.bn else "**Total**", f"**{lang.taka(total)}**"))
    header = ("ক্রমিক নং", "ফি ও করের বিবরণ", "টাকা") if lang.bn else ("No.", "Fee or tax", "Amount (Tk)")
    return Grid(header, rows, (0.14, 0.58, 0.28), "CLR", total=1)


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


WORDINGS: dict[str, Wording] = {
    "citizenship": Wording(
        bn=(INTRO_BN + " তিনি অত্র ইউনিয়নের একজন স্থায়ী বাসিন্দা এবং জন্মসূত্রে বাংলাদেশের নাগরিক। " + KNOWN_BN,
            PURPOSE[0], BLESS_BN),
        en=(INTRO_EN + " is a permanent resident of this Union and a citizen of Bangladesh by birth. " + KNOWN_EN,
            PURPOSE[1], BLESS_EN),
    ),
    "character": Wording(
        bn=(INTRO_BN + RESIDENT_BN + " আমি তাকে ব্যক্তিগতভাবে চিনি। আমার জানামতে তার স্বভাব-চরিত্র ভালো এবং "
            "তিনি রাষ্ট্র ও সমাজবিরোধী কোনো কাজে জড়িত নন।", PURPOSE[0], BLESS_BN),
        en=(INTRO_EN + " is a permanent resident of this Union. I know {him} personally. To the best of my knowledge, "
            "{he} bears a good moral character and is not involved in any activity against the state or society.",
            PURPOSE[1], BLESS_EN),
    ),
    "permanent_resident": Wording(
        bn=(INTRO_BN + " তিনি অত্র ইউনিয়নের একজন স্থায়ী বাসিন্দা এবং দীর্ঘ {years_resident} বছর যাবৎ অত্র ইউনিয়নে "
            "বসবাস করে আসছেন।", PURPOSE[0], BLESS_BN),
        en=(INTRO_EN + " is a permanent resident of this Union and has been living here for {years_resident} years.",
            PURPOSE[1], BLESS_EN),
    ),
    "same_person": Wording(
        bn=(INTRO_BN + RESIDENT_BN + " তার জাতীয় পরিচয়পত্রে তার নাম **{name}** লেখা আছে, কিন্তু "
            "{other_document_bn}-তে তার নাম **{other_name}** লেখা হয়েছে। আমার জানামতে **{name}** ও **{other_name}** "
            "একই ও অভিন্ন ব্যক্তি।", BLESS_BN),
        en=(INTRO_EN + " is a permanent resident of this Union. {His} name is written as **{name_bn}** in {his} "
            "National ID card, but as **{other_name}** in {other_document_bn}. To the best of my knowledge, "
            "**{name_bn}** and **{other_name}** are one and the same person.", BLESS_EN),
    ),
    "warish": Wording(
        bn=(DECEASED_AT_BN + " মৃত্যুকালে তিনি নিম্নলিখিত ওয়ারিশগণ রেখে যান:", "[heirs]",
            "আমার জানামতে উপরে উল্লিখিত ব্যক্তিগণ ছাড়া মৃত ব্যক্তির আর কোনো ওয়ারিশ নেই। এই সনদ আবেদনকারী "
            "**{name}**-এর আবেদনের প্রেক্ষিতে ওয়ার্ড সদস্যের সুপারিশ ও যাচাই সাপেক্ষে প্রদান করা হলো।"),
        en=(DECEASED_AT_EN + " The deceased left behind the following heirs:", "[heirs]",
            "To the best of my knowledge, the deceased has no heirs other than those listed above. This certificate "
            "is issued on the application of **{name}**, on the recommendation of the ward member and after "
            "verification."),
        tables={"[heirs]": _heirs},
    ),
    "family": Wording(
        bn=(INTRO_BN + RESIDENT_BN + " তার পরিবারের সদস্যদের বিবরণ নিম্নরূপ:", "[members]",
            "আমার জানামতে উপরের তথ্য সঠিক।", BLESS_BN),
        en=(INTRO_EN + " is a permanent resident of this Union. The members of {his} family are as follows:",
            "[members]", "To the best of my knowledge, the above information is correct.", BLESS_EN),
        tables={"[members]": _members},
    ),
    "unmarried": Wording(
        bn=(INTRO_BN + RESIDENT_BN + " আমার জানামতে তিনি অবিবাহিত এবং অদ্যাবধি কোনো বিবাহ বন্ধনে আবদ্ধ হননি।",
            PURPOSE[0], BLESS_BN),
        en=(INTRO_EN + " is a permanent resident of this Union. To the best of my knowledge, {he} is unmarried and "
            "has not entered into any marriage to date.", PURPOSE[1], BLESS_EN),
    ),
    "not_remarried": Wording(
        bn=(INTRO_BN + RESIDENT_BN + " তার {spouse_word} **{late_spouse_name_bn}** {spouse_date_of_death} তারিখে "
            "মৃত্যুবরণ করেন। আমার জানামতে তিনি অদ্যাবধি পুনরায় কোনো বিবাহ বন্ধনে আবদ্ধ হননি।", BLESS_BN),
        en=(INTRO_EN + " is a permanent resident of this Union. {His} {spouse_word} **{late_spouse_name_bn}** died on "
            "{spouse_date_of_death}. To the best of my knowledge, {he} has not remarried to date.", BLESS_EN),
    ),
    "income": Wording(
        bn=(INTRO_BN + RESIDENT_BN + " আমার জানামতে {fiscal_year} অর্থবছরে {source_bn} থেকে তার বার্ষিক আয় "
            "**{annual_income} টাকা**।", BLESS_BN),
        en=(INTRO_EN + " is a permanent resident of this Union. To the best of my knowledge, {his} annual income from "
            "{source_bn} in the fiscal year {fiscal_year} is **Tk {annual_income}**.", BLESS_EN),
    ),
    "landless": Wording(
        bn=(INTRO_BN + RESIDENT_BN + " আমার জানামতে তিনি একজন ভূমিহীন ব্যক্তি; {land}।", BLESS_BN),
        en=(INTRO_EN + " is a permanent resident of this Union. To the best of my knowledge, {he} is landless: "
            "{land}.", BLESS_EN),
    ),
    "death": Wording(
        bn=(DECEASED_AT_BN + " মৃত্যুর স্থান: {place_of_death_bn}।",
            "আবেদনকারী **{name}** মৃত ব্যক্তির {relation}।", "আমি মৃত ব্যক্তির বিদেহী আত্মার শান্তি কামনা করি।"),
        en=(DECEASED_AT_EN + " Place of death: {place_of_death_bn}.",
            "The applicant, **{name}**, is the {relation} of the deceased.", "May the departed soul rest in peace."),
    ),
    "trade_licence": Wording(
        bn=("স্থানীয় সরকার (ইউনিয়ন পরিষদ) আইন, ২০০৯ এবং ইউনিয়ন পরিষদ আদর্শ কর তফসিল, ২০১৩ অনুযায়ী নিম্নবর্ণিত "
            "ব্যক্তি/প্রতিষ্ঠানকে {fiscal_year} অর্থবছরের জন্য এই ট্রেড লাইসেন্স প্রদান করা হলো।", "[licence]", "[fees]",
            "লাইসেন্সধারীকে প্রচলিত আইন ও বিধি মেনে ব্যবসা পরিচালনা করতে হবে এবং মেয়াদ শেষে লাইসেন্স নবায়ন করতে হবে।"),
        en=("Under the Local Government (Union Parishad) Act, 2009 and the Union Parishad Model Tax Schedule, 2013, "
            "this trade licence is granted to the following person or business for the fiscal year {fiscal_year}.",
            "[licence]", "[fees]", "The licensee shall run the business in accordance with the laws and rules in force "
            "and shall renew this licence when it expires."),
        tables={"[licence]": _licence, "[fees]": _fees},
        shows_expiry=True,
    ),
}
