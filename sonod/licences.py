"""The trade licence's year: Bangladesh's fiscal year (1 July to 30 June), the licence fee by business category under
the Union Parishad Model Tax Schedule, 2013 (ইউনিয়ন পরিষদ আদর্শ কর তফসিল, ২০১৩), and a licence's state in the union's
register.

A union levies the tax on trades and callings by its own resolution, within the schedule; the amounts below are the
defaults a new union starts from (union parishads' resolutions that apply the schedule: general shops ৳200-500, mills,
farms, banks and industry ৳1,000-5,000). `union_rules.tax_table` holds a union's own amounts, by category.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sonod.bengali import DHAKA, to_bn_digits

TRADE_LICENCE = "trade_licence"
VAT_PERCENT = 15
TAXED = ("licence_fee", "signboard_tax", "arrears")  # the lines VAT is charged on
RENEWAL_MONTH = 6  # June, the fiscal year's last month: a licence is due for renewal, and its holder is told


@dataclass(frozen=True)
class Category:
    """A business category (খাত) of the schedule's tax on trades and callings, with its default yearly fee."""

    code: str
    name_bn: str
    name_en: str
    fee: int  # taka a year


CATEGORIES: tuple[Category, ...] = (
    Category("kacha_shop", "কাঁচা ঘরে ক্ষুদ্র দোকান, চা-স্টল, হকার", "Small shop in a kacha house, tea stall, hawker",
             200),
    Category("retail", "মুদি, স্টেশনারি, ভ্যারাইটিজ স্টোর, দর্জি, সেলুন", "Grocery, stationery, variety store, tailor, "
             "salon", 300),
    Category("trader", "ট্রেডার্স/এন্টারপ্রাইজ, ফার্নিচার, ফার্মেসি, হোটেল-রেস্তোরাঁ", "Traders/enterprise, furniture, "
             "pharmacy, hotel and restaurant", 500),
    Category("professional", "পেশাজীবী: চিকিৎসক, আইনজীবী, প্রকৌশলী, পরামর্শক", "Profession: doctor, lawyer, engineer, "
             "consultant", 500),
    Category("workshop", "ওয়ার্কশপ, মেরামত, ধান ভাঙানো কল, ক্ষুদ্র কারখানা", "Workshop, repairs, husking mill, small "
             "factory", 1000),
    Category("wholesale", "পাইকারি ব্যবসা, ডিলার, পরিবেশক", "Wholesale, dealer, distributor", 1000),
    Category("contractor", "ঠিকাদার, সরবরাহকারী", "Contractor, supplier", 1000),
    Category("farm", "পোল্ট্রি, মৎস্য, দুগ্ধ খামার, নার্সারি", "Poultry, fish or dairy farm, nursery", 1000),
    Category("mill", "চাতাল ও চালকল, করাতকল, বরফকল", "Rice mill, saw mill, ice factory", 2000),
    Category("clinic", "ক্লিনিক, ডায়াগনস্টিক সেন্টার", "Clinic, diagnostic centre", 2000),
    Category("bank", "ব্যাংক, বীমা, এনজিও ও ক্ষুদ্রঋণ প্রতিষ্ঠান, মোবাইল টাওয়ার", "Bank, insurance, NGO and microcredit, "
             "mobile tower", 3000),
    Category("industry", "শিল্প প্রতিষ্ঠান, লিমিটেড কোম্পানি, কোল্ড স্টোরেজ, ইটভাটা", "Industry, limited company, cold "
             "storage, brick kiln", 5000),
)
BY_CATEGORY = {c.code: c for c in CATEGORIES}


# --- the fiscal year ----------------------------------------------------------------------------------------------

def fiscal_year_of(day: dt.date) -> str:
    """"2026-2027" for any day from 1 July 2026 to 30 June 2027."""
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start}-{start + 1}"


def first_year(fiscal_year: str) -> int:
    return int(fiscal_year[:4])


def shifted(fiscal_year: str, years: int) -> str:
    start = first_year(fiscal_year) + years
    return f"{start}-{start + 1}"


def last_day(fiscal_year: str) -> dt.date:
    """30 June that ends the fiscal year: the last day a licence of that year is valid."""
    return dt.date(first_year(fiscal_year) + 1, 6, 30)


def ends_at(fiscal_year: str) -> dt.datetime:
    """The first instant the year's licence is no longer valid: midnight after 30 June, Bangladesh time."""
    return dt.datetime.combine(last_day(fiscal_year) + dt.timedelta(days=1), dt.time(), DHAKA)


def between(after: str, before: str) -> list[str]:
    """The fiscal years strictly between two: those a licence went unrenewed."""
    return [shifted(after, n) for n in range(1, first_year(before) - first_year(after))]


def renewal_year(current: str, today: dt.date) -> str:
    """The year a licence of `current` renews for: the next one, or this one when it lapsed before."""
    return max(shifted(current, 1), fiscal_year_of(today))


# --- the fee ---------------------------------------------------------------------------------------------------------

def vat(taxable: int) -> int:
    """15 % in whole taka, half a taka up."""
    return (taxable * VAT_PERCENT + 50) // 100


def fee_lines(rule_lines: Sequence[Mapping[str, Any]], category: str | None, table: Mapping[str, int] | None,
              arrears_years: Sequence[str]) -> list[dict]:
    """A trade licence's fee: the licence fee of its business category (the union's table over the schedule's
    defaults; without a category, the union's licence fee line), the union's signboard tax, the fees of the years it
    went unrenewed (arrears), and VAT on those; any other line of the union's is kept as it is."""
    lines = {line["code"]: dict(line) for line in rule_lines}
    amounts = {c.code: c.fee for c in CATEGORIES} | {k: int(v) for k, v in (table or {}).items()}
    licence = lines.get("licence_fee", {"code": "licence_fee", "name_bn": "লাইসেন্স ফি", "name_en": "Licence fee",
                                        "amount": 0})
    if category in amounts:
        kind = BY_CATEGORY.get(category)
        licence = licence | {"amount": amounts[category]}
        if kind is not None:
            licence |= {"name_bn": f"লাইসেন্স ফি ({kind.name_bn})", "name_en": f"Licence fee ({kind.name_en})"}
    signboard = lines.get("signboard_tax")
    yearly = licence["amount"] + (signboard["amount"] if signboard else 0)
    out = [licence] + ([signboard] if signboard else [])
    if arrears_years:
        years_bn = ", ".join(to_bn_digits(y) for y in arrears_years)
        out.append({"code": "arrears", "name_bn": f"বকেয়া ({years_bn})",
                    "name_en": f"Arrears ({', '.join(arrears_years)})", "amount": yearly * len(arrears_years)})
    taxable = sum(line["amount"] for line in out if line["code"] in TAXED)
    tax = lines.get("vat", {"code": "vat", "name_bn": "ভ্যাট (১৫%)", "name_en": "VAT (15%)"})
    out.append(tax | {"amount": vat(taxable)})
    out += [line for code, line in lines.items() if code not in (*TAXED, "vat")]
    return out


# --- the register ----------------------------------------------------------------------------------------------------

class LicenceState(StrEnum):
    CURRENT = "current"  # valid, and not yet in its renewal month
    DUE = "due"  # valid, in June: its year ends on 30 June
    EXPIRED = "expired"  # its year ended, unrenewed
    REVOKED = "revoked"  # the union revoked its current certificate


def state_of(fiscal_year: str, today: dt.date, revoked: bool = False) -> LicenceState:
    if revoked:
        return LicenceState.REVOKED
    if today > last_day(fiscal_year):
        return LicenceState.EXPIRED
    if fiscal_year == fiscal_year_of(today) and today.month == RENEWAL_MONTH:
        return LicenceState.DUE
    return LicenceState.CURRENT


def licence_number(union: str, seq: int) -> str:
    """A union's licence number, kept from year to year: PAIKKANDI-TL-00012 (not any certificate's number)."""
    return f"{union.upper()}-TL-{seq:05d}"
