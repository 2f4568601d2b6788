from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sonod.nid import (
    BENGALI_DIGITS,
    IdKind,
    age_on,
    check_death_registration_no,
    check_identity_number,
    is_minor,
    mask,
    normalise_digits,
    normalise_number,
)

TODAY = date(2026, 6, 1)
digits = st.text(alphabet="0123456789", min_size=1, max_size=25)
birthdays = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


def to_bengali(s: str) -> str:
    return s.translate(str.maketrans("0123456789", BENGALI_DIGITS))


@given(st.text(alphabet="0123456789", min_size=10, max_size=10), birthdays)
def test_any_10_digit_nid_is_accepted(number, born):
    assert check_identity_number(number, born) is IdKind.NID_10


@given(st.text(alphabet="0123456789", min_size=13, max_size=13), birthdays)
def test_any_13_digit_nid_is_accepted(number, born):
    assert check_identity_number(number, born) is IdKind.NID_13


@given(birthdays, st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_17_digit_nid_starting_with_the_birth_year_is_accepted(born, rest):
    number = f"{born.year}{rest}"
    assert check_identity_number(number, born) is IdKind.NID_17
    assert check_identity_number(number, today=TODAY) is IdKind.NID_17
    assert check_identity_number(number, born, brn=True) is IdKind.BRN


@given(digits.filter(lambda d: len(d) not in (10, 13, 17)))
def test_nid_of_another_length_is_rejected(number):
    with pytest.raises(ValueError, match=f"NID must be 10, 13 or 17 digits, not {len(number)}"):
        check_identity_number(number)


@given(digits.filter(lambda d: len(d) != 17))
def test_birth_registration_number_of_another_length_is_rejected(number):
    with pytest.raises(ValueError, match="birth registration number must be 17 digits"):
        check_identity_number(number, brn=True)


@given(birthdays, st.integers(1900, 2026), st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_17_digit_number_with_another_birth_year_is_rejected(born, year, rest):
    assume(year != born.year)
    for brn in (False, True):
        with pytest.raises(ValueError, match=f"starts with the birth year {born.year}, not {year}"):
            check_identity_number(f"{year}{rest}", born, brn=brn)


@pytest.mark.parametrize("year", ["0000", "1899", "2027", "9999"])
def test_17_digit_number_with_an_implausible_year_is_rejected(year):
    with pytest.raises(ValueError, match="not a plausible one"):
        check_identity_number(year + "3593211000001", today=TODAY)


@pytest.mark.parametrize("number", ["", "   ", "12345abcde", "১২৩৪৫৬৭৮৯x", "12345.67890"])
def test_non_digits_are_rejected(number):
    with pytest.raises(ValueError, match=r"NID (is empty|must contain only digits)"):
        check_identity_number(number)


def test_message_names_the_birth_year_and_the_number_prefix():
    with pytest.raises(ValueError) as caught:
        check_identity_number("19853593211000001", date(1990, 5, 1))
    assert str(caught.value) == "a 17-digit NID starts with the birth year 1990, not 1985"


@given(digits)
def test_bengali_digits_normalise_to_ascii(number):
    assert normalise_digits(to_bengali(number)) == number


@given(birthdays, st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_bengali_numbers_are_checked_like_ascii_ones(born, rest):
    number = f"{born.year}{rest}"
    assert check_identity_number(to_bengali(number), born) is IdKind.NID_17


def test_normalise_number_drops_spaces_and_hyphens_but_keeps_other_text():
    assert normalise_number(" ১৯৯০ 3593-211 ") == "19903593211"
    assert normalise_digits("ওয়ার্ড ৩") == "ওয়ার্ড 3"


@given(digits)
def test_mask_shows_only_the_last_three_digits(number):
    masked = mask(number)
    assert len(masked) == len(number)
    shown = number[-3:] if len(number) > 3 else ""
    assert masked.endswith(shown)
    assert set(masked[: len(masked) - len(shown)]) <= {"*"}


def test_mask_normalises_bengali_digits():
    assert mask("১২৩৪৫৬৭৮৯০") == "*******890"


def test_age_and_minority_turn_on_the_birthday():
    born = date(2008, 6, 2)
    assert age_on(born, date(2026, 6, 1)) == 17 and is_minor(born, date(2026, 6, 1))
    assert age_on(born, date(2026, 6, 2)) == 18 and not is_minor(born, date(2026, 6, 2))


def test_death_registration_number_starts_with_the_year_of_death():
    assert check_death_registration_no("২০২০৩৫৯৩২১১০০০০০১", date(2020, 3, 1)) == "20203593211000001"
    with pytest.raises(ValueError, match="year of death 2021, not 2020"):
        check_death_registration_no("20203593211000001", date(2021, 3, 1))
    with pytest.raises(ValueError, match="17 digits"):
        check_death_registration_no("2020359321100000")
