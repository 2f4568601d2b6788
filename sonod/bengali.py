"""Bengali digits, numbers and dates, including the revised Bangla calendar (বঙ্গাব্দ).

Stdlib only and pure: workflow code may import it.

The calendar is Bangla Academy's 2019 revision, as the government circular of 16 October 2019
set it: 1 Boishakh is 14 April; Boishakh to Ashwin have 31 days, Kartik to Magh and Chaitra 30,
Falgun 29, or 30 when the Gregorian year it falls in is a leap year. That keeps 16 December on
1 Poush, 21 February on 8 Falgun and 26 March on 12 Chaitra. The rules are applied to every date
(proleptically), also to dates before the revision came into force.
"""

from __future__ import annotations

import calendar
import datetime as dt
import unicodedata
from typing import NamedTuple

# Bangladesh Standard Time, UTC+6 all year (no daylight saving since 2009): the date on a certificate is this date.
DHAKA = dt.timezone(dt.timedelta(hours=6), "Asia/Dhaka")


def dhaka_date(t: dt.datetime) -> dt.date:
    """The calendar date in Bangladesh at instant `t`: what the paper says, so what the signed QR must say."""
    return t.astimezone(DHAKA).date()
BN_DIGITS = "০১২৩৪৫৬৭৮৯"
_TO_BN = str.maketrans("0123456789", BN_DIGITS)
_TO_ASCII = str.maketrans(BN_DIGITS, "0123456789")


def _nfc(*words: str) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", w) for w in words)


BANGLA_MONTHS = _nfc(
    "বৈশাখ", "জ্যৈষ্ঠ", "আষাঢ়", "শ্রাবণ", "ভাদ্র", "আশ্বিন",
    "কার্তিক", "অগ্রহায়ণ", "পৌষ", "মাঘ", "ফাল্গুন", "চৈত্র",
)
BANGLA_MONTHS_EN = (
    "Boishakh", "Joishtho", "Asharh", "Srabon", "Bhadro", "Ashwin",
    "Kartik", "Agrahayan", "Poush", "Magh", "Falgun", "Chaitra",
)
GREGORIAN_MONTHS_BN = _nfc(
    "জানুয়ারি", "ফেব্রুয়ারি", "মার্চ", "এপ্রিল", "মে", "জুন",
    "জুলাই", "আগস্ট", "সেপ্টেম্বর", "অক্টোবর", "নভেম্বর", "ডিসেম্বর",
)
FALGUN = 11


def to_bn_digits(x: object) -> str:
    """`str(x)` with its ASCII digits written as Bengali digits."""
    return str(x).translate(_TO_BN)


def to_ascii_digits(s: str) -> str:
    return s.translate(_TO_ASCII)


class BanglaDate(NamedTuple):
    day: int
    month: int  # 1 = Boishakh … 12 = Chaitra
    year: int  # বঙ্গাব্দ

    @property
    def month_name(self) -> str:
        return BANGLA_MONTHS[self.month - 1]

    @property
    def month_name_en(self) -> str:
        return BANGLA_MONTHS_EN[self.month - 1]


def month_lengths(bangla_year: int) -> tuple[int, ...]:
    """Days in each month of a Bangla year; Falgun falls in February of Gregorian year + 594."""
    falgun = 30 if calendar.isleap(bangla_year + 594) else 29
    return (31, 31, 31, 31, 31, 31, 30, 30, 30, 30, falgun, 30)


def bangla_date(d: dt.date) -> BanglaDate:
    if isinstance(d, dt.datetime):
        d = d.date()
    new_year = dt.date(d.year, 4, 14)
    if d < new_year:
        new_year = dt.date(d.year - 1, 4, 14)
    year = new_year.year - 593
    day = (d - new_year).days
    for month, length in enumerate(month_lengths(year), start=1):
        if day < length:
            return BanglaDate(day + 1, month, year)
        day -= length
    raise AssertionError(f"{d} fell outside Bangla year {year}")  # the months add up to the year


def format_bangla_date(d: dt.date) -> str:
    """E.g. "১৪ বৈশাখ ১৪৩৩ বঙ্গাব্দ"."""
    b = bangla_date(d)
    return f"{to_bn_digits(b.day)} {b.month_name} {to_bn_digits(b.year)} বঙ্গাব্দ"


def format_date_bn(d: dt.date) -> str:
    """The Gregorian date with Bengali digits and month names, e.g. "২৮ নভেম্বর ২০২৬"."""
    return f"{to_bn_digits(d.day)} {GREGORIAN_MONTHS_BN[d.month - 1]} {to_bn_digits(d.year)}"


def group_south_asian(n: int) -> str:
    """12,34,567: the last three digits, then groups of two."""
    sign, digits = ("-", str(-n)) if n < 0 else ("", str(n))
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while head:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return sign + ",".join([*groups, tail])


def format_taka_bn(n: int) -> str:
    """An amount of taka in Bengali digits with South Asian grouping, e.g. "১২,৩৪,৫৬৭"."""
    return to_bn_digits(group_south_asian(int(n)))


# 0 to 99, each a word of its own (Bangla Academy's spellings)
NUMBER_WORDS_BN = _nfc(
    "শূন্য", "এক", "দুই", "তিন", "চার", "পাঁচ", "ছয়", "সাত", "আট", "নয়", "দশ", "এগারো", "বারো", "তেরো", "চৌদ্দ",
    "পনেরো", "ষোলো", "সতেরো", "আঠারো", "উনিশ", "বিশ", "একুশ", "বাইশ", "তেইশ", "চব্বিশ", "পঁচিশ", "ছাব্বিশ", "সাতাশ",
    "আটাশ", "উনত্রিশ", "ত্রিশ", "একত্রিশ", "বত্রিশ", "তেত্রিশ", "চৌত্রিশ", "পঁয়ত্রিশ", "ছত্রিশ", "সাঁইত্রিশ",
    "আটত্রিশ", "উনচল্লিশ", "চল্লিশ", "একচল্লিশ", "বিয়াল্লিশ", "তেতাল্লিশ", "চুয়াল্লিশ", "পঁয়তাল্লিশ", "ছেচল্লিশ",
    "সাতচল্লিশ", "আটচল্লিশ", "উনপঞ্চাশ", "পঞ্চাশ", "একান্ন", "বাহান্ন", "তিপ্পান্ন", "চুয়ান্ন", "পঞ্চান্ন",
    "ছাপ্পান্ন", "সাতান্ন", "আটান্ন", "উনষাট", "ষাট", "একষট্টি", "বাষট্টি", "তেষট্টি", "চৌষট্টি", "পঁয়ষট্টি",
    "ছেষট্টি", "সাতষট্টি", "আটষট্টি", "উনসত্তর", "সত্তর", "একাত্তর", "বাহাত্তর", "তিয়াত্তর", "চুয়াত্তর",
    "পঁচাত্তর", "ছিয়াত্তর", "সাতাত্তর", "আটাত্তর", "উনআশি", "আশি", "একাশি", "বিরাশি", "তিরাশি", "চুরাশি", "পঁচাশি",
    "ছিয়াশি", "সাতাশি", "আটাশি", "উননব্বই", "নব্বই", "একানব্বই", "বিরানব্বই", "তিরানব্বই", "চুরানব্বই",
    "পঁচানব্বই", "ছিয়ানব্বই", "সাতানব্বই", "আটানব্বই", "নিরানব্বই",
)
assert len(NUMBER_WORDS_BN) == 100


def number_in_words_bn(n: int) -> str:
    """A whole number in Bengali words, counted in কোটি, লক্ষ, হাজার and শত: 690 is "ছয়শত নব্বই"."""
    if n < 0:
        raise ValueError(f"{n} is negative")
    if n < 100:
        return NUMBER_WORDS_BN[n]
    crore, rest = divmod(n, 10**7)
    lakh, rest = divmod(rest, 10**5)
    thousand, rest = divmod(rest, 1000)
    hundred, rest = divmod(rest, 100)
    words = [f"{number_in_words_bn(crore)} কোটি" if crore else "", f"{NUMBER_WORDS_BN[lakh]} লক্ষ" if lakh else "",
             f"{NUMBER_WORDS_BN[thousand]} হাজার" if thousand else "", f"{NUMBER_WORDS_BN[hundred]}শত" if hundred else "",
             NUMBER_WORDS_BN[rest] if rest else ""]
    return " ".join(w for w in words if w)


def taka_in_words_bn(n: int) -> str:
    """What a receipt writes after টাকা কথায়: "ছয়শত নব্বই টাকা মাত্র"."""
    return f"{number_in_words_bn(n)} টাকা মাত্র"
