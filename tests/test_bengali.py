import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonod.bengali import (
    BANGLA_MONTHS,
    BanglaDate,
    bangla_date,
    dhaka_date,
    format_bangla_date,
    format_date_bn,
    format_taka_bn,
    month_lengths,
    to_ascii_digits,
    to_bn_digits,
)

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))


@given(st.integers())
def test_an_integer_survives_the_digit_round_trip(n):
    assert to_ascii_digits(to_bn_digits(n)) == str(n)


@given(st.text())
def test_any_text_survives_the_digit_round_trip(s):
    ascii_only = to_ascii_digits(s)
    assert to_ascii_digits(to_bn_digits(ascii_only)) == ascii_only
    assert not any(c in "0123456789" for c in to_bn_digits(s))


def test_digits_are_bengali():
    assert to_bn_digits(2026) == "২০২৬"
    assert to_ascii_digits("০১৭১১-২৩৪৫৬৭") == "01711-234567"


@given(dates)
def test_every_day_maps_to_a_valid_bangla_date(d):
    b = bangla_date(d)
    assert b.month in range(1, 13)
    assert b.day in range(1, month_lengths(b.year)[b.month - 1] + 1)
    assert b.year == d.year - (593 if d >= dt.date(d.year, 4, 14) else 594)


@given(dates)
def test_consecutive_days_are_consecutive_bangla_dates(d):
    today, tomorrow = bangla_date(d), bangla_date(d + dt.timedelta(days=1))
    if tomorrow.day > 1:
        assert tomorrow == BanglaDate(today.day + 1, today.month, today.year)
    elif tomorrow.month > 1:
        assert (tomorrow.month, tomorrow.year) == (today.month + 1, today.year)
        assert today.day == month_lengths(today.year)[today.month - 1]
    else:
        assert (today.day, today.month, tomorrow.year) == (30, 12, today.year + 1)


@given(st.integers(min_value=1800, max_value=2300))
def test_14_april_is_1_boishakh(year):
    assert bangla_date(dt.date(year, 4, 14)) == BanglaDate(1, 1, year - 593)
    assert bangla_date(dt.date(year, 4, 13)) == BanglaDate(30, 12, year - 594)


@given(st.integers(min_value=1200, max_value=1700))
def test_a_bangla_year_has_365_or_366_days(bangla_year):
    leap = dt.date(bangla_year + 594, 12, 31).timetuple().tm_yday == 366
    assert sum(month_lengths(bangla_year)) == (366 if leap else 365)
    days = (dt.date(bangla_year + 594, 4, 14) - dt.date(bangla_year + 593, 4, 14)).days
    assert days == sum(month_lengths(bangla_year))


@pytest.mark.parametrize(
    "day, expected",
    [
        (dt.date(2026, 4, 14), "১ বৈশাখ ১৪৩৩ বঙ্গাব্দ"),
        (dt.date(2026, 4, 27), "১৪ বৈশাখ ১৪৩৩ বঙ্গাব্দ"),
        (dt.date(2026, 5, 8), "২৫ বৈশাখ ১৪৩৩ বঙ্গাব্দ"),  # Rabindra Jayanti
        (dt.date(2026, 12, 16), "১ পৌষ ১৪৩৩ বঙ্গাব্দ"),  # Victory Day
        (dt.date(2027, 2, 21), "৮ ফাল্গুন ১৪৩৩ বঙ্গাব্দ"),  # Language Martyrs' Day
        (dt.date(2028, 2, 21), "৮ ফাল্গুন ১৪৩৪ বঙ্গাব্দ"),
        (dt.date(2027, 3, 26), "১২ চৈত্র ১৪৩৩ বঙ্গাব্দ"),  # Independence Day
        (dt.date(2028, 3, 26), "১২ চৈত্র ১৪৩৪ বঙ্গাব্দ"),  # after a 30-day Falgun
        (dt.date(2019, 10, 17), "১ কার্তিক ১৪২৬ বঙ্গাব্দ"),  # the first day after the revision
    ],
)
def test_national_days_fall_where_the_2019_revision_puts_them(day, expected):
    assert format_bangla_date(day) == expected


def test_falgun_has_30_days_only_in_a_gregorian_leap_year():
    assert bangla_date(dt.date(2028, 3, 14)) == BanglaDate(30, 11, 1434)
    assert bangla_date(dt.date(2027, 3, 14)) == BanglaDate(29, 11, 1433)
    assert bangla_date(dt.date(2027, 3, 15)) == bangla_date(dt.date(2028, 3, 15))._replace(year=1433)


def test_month_names_run_from_boishakh_to_chaitra():
    assert BANGLA_MONTHS[0] == "বৈশাখ" and BANGLA_MONTHS[-1] == "চৈত্র"
    assert bangla_date(dt.date(2026, 11, 28)).month_name == BANGLA_MONTHS[7]


def test_gregorian_date_in_bengali():
    assert format_date_bn(dt.date(2026, 11, 28)) == "২৮ নভেম্বর ২০২৬"
    assert format_date_bn(dt.date(2027, 2, 1)) == "১ ফেব্রুয়ারি ২০২৭"


@pytest.mark.parametrize(
    "amount, expected",
    [(0, "০"), (500, "৫০০"), (1000, "১,০০০"), (100000, "১,০০,০০০"), (1234567, "১২,৩৪,৫৬৭"), (-25000, "-২৫,০০০")],
)
def test_taka_use_south_asian_grouping(amount, expected):
    assert format_taka_bn(amount) == expected


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_grouped_taka_read_back_as_the_same_number(n):
    text = to_ascii_digits(format_taka_bn(n))
    assert int(text.replace(",", "")) == n
    groups = text.lstrip("-").split(",")
    assert len(groups[-1]) <= 3 and all(len(g) == 2 for g in groups[1:-1])


def test_the_certificate_date_is_bangladesh_s_not_utc_s():
    """Issued at 19:34 UTC on 28 November it is 01:34 on the 29th in Gopalganj: the paper and the QR say the 29th."""
    late_evening_utc = dt.datetime(2026, 11, 28, 19, 34, tzinfo=dt.UTC)
    assert dhaka_date(late_evening_utc) == dt.date(2026, 11, 29)
    assert dhaka_date(dt.datetime(2026, 11, 28, 17, 59, tzinfo=dt.UTC)) == dt.date(2026, 11, 28)
