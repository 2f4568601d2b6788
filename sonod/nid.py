"""NID and birth registration numbers: their shapes, Bengali digits, and masking.

Pure and stdlib-only: deterministic workflow code imports it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

BENGALI_DIGITS = "০১২৩৪৫৬৭৮৯"
_TO_ASCII = str.maketrans(BENGALI_DIGITS, "0123456789")
_SEPARATORS = str.maketrans("", "", " -\t")
MIN_BIRTH_YEAR = 1900
NID_LENGTHS = (10, 13, 17)
ADULT_AGE = 18


class IdKind(StrEnum):
    NID_10 = "nid10"  # smart card
    NID_13 = "nid13"  # old laminated card
    NID_17 = "nid17"  # birth year + the 13 digits
    BRN = "brn"  # birth registration number, for those without an NID

    @property
    def is_nid(self) -> bool:
        return self is not IdKind.BRN


_NID_KINDS = {10: IdKind.NID_10, 13: IdKind.NID_13, 17: IdKind.NID_17}


def normalise_digits(s: str) -> str:
    """Bengali digits (০-৯) become ASCII digits; everything else is kept."""
    return s.translate(_TO_ASCII)


def normalise_number(s: str) -> str:
    """The canonical form of a typed number: ASCII digits, no spaces or hyphens."""
    return normalise_digits(s).translate(_SEPARATORS)


def check_identity_number(
    number: str, date_of_birth: date | None = None, *, brn: bool = False, today: date | None = None
) -> IdKind:
    """The kind of `number` (an NID, or a BRN when `brn`); raises ValueError naming the problem.

    A 17-digit number starts with the birth year: it must equal `date_of_birth.year` when that is
    given, else lie in 1900..the current year. Inside a workflow pass `date_of_birth` or
    `today=workflow.now().date()`, since `date.today()` is off limits there.
    """
    what = "birth registration number" if brn else "NID"
    digits = normalise_number(number)
    if not digits:
        raise ValueError(f"{what} is empty")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{what} must contain only digits")
    if brn:
        if len(digits) != 17:
            raise ValueError(f"birth registration number must be 17 digits, not {len(digits)}")
        kind = IdKind.BRN
    else:
        if len(digits) not in NID_LENGTHS:
            raise ValueError(f"NID must be 10, 13 or 17 digits, not {len(digits)}")
        kind = _NID_KINDS[len(digits)]
    if len(digits) == 17:
        _check_year_prefix(f"a 17-digit {what}", digits, date_of_birth, today)
    return kind


def check_death_registration_no(number: str, date_of_death: date | None = None) -> str:
    """The canonical death registration number: 17 digits starting with the year of death."""
    digits = normalise_number(number)
    if len(digits) != 17 or not (digits.isascii() and digits.isdigit()):
        raise ValueError("death registration number must be 17 digits")
    if date_of_death is not None and digits[:4] != f"{date_of_death.year:04d}":
        raise ValueError(
            f"a death registration number starts with the year of death {date_of_death.year}, not {digits[:4]}"
        )
    return digits


def _check_year_prefix(what: str, digits: str, date_of_birth: date | None, today: date | None) -> None:
    year = int(digits[:4])
    if date_of_birth is not None:
        if year != date_of_birth.year:
            raise ValueError(f"{what} starts with the birth year {date_of_birth.year}, not {digits[:4]}")
        if year < MIN_BIRTH_YEAR:
            raise ValueError(f"{what} starts with the birth year, and {year} is before {MIN_BIRTH_YEAR}")
        return
    last = (today or date.today()).year
    if not MIN_BIRTH_YEAR <= year <= last:
        raise ValueError(
            f"{what} starts with the birth year, and {digits[:4]} is not a plausible one ({MIN_BIRTH_YEAR}..{last})"
        )


def age_on(date_of_birth: date, on: date) -> int:
    """Completed years of age on the day `on`."""
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def is_minor(date_of_birth: date, on: date) -> bool:
    return age_on(date_of_birth, on) < ADULT_AGE


def mask(number: str) -> str:
    """Only the last 3 digits, for logs and screens: `*******123`."""
    digits = normalise_number(number)
    if len(digits) <= 3:
        return "*" * len(digits)
    return "*" * (len(digits) - 3) + digits[-3:]
