"""NID and birth registration numbers: their shapes, Bengali digits, and masking.

Pure and stdlib-only: deterministic workflow code imports it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sonod.domain import N_

BENGALI_DIGITS = "০১২৩৪৫৬৭৮৯"
_TO_ASCII = str.maketrans(BENGALI_DIGITS, "0123456789")
_SEPARATORS = str.maketrans("", "", " -\t")
MIN_BIRTH_YEAR = 1900
NID_LENGTHS = (10, 13, 17)
ADULT_AGE = 18


class NumberError(ValueError):
    """A number that cannot be the one it claims to be. `template` (a catalogue's msgid) and `params` let a page say
    it in the reader's language; `str()` is the English."""

    def __init__(self, template: str, **params: int | str) -> None:
        super().__init__(template.format(**params))
        self.template, self.params = template, params


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
    digits = normalise_number(number)
    if not digits:
        raise NumberError(N_("birth registration number is empty") if brn else N_("NID is empty"))
    if not (digits.isascii() and digits.isdigit()):
        raise NumberError(N_("birth registration number must contain only digits") if brn
                          else N_("NID must contain only digits"))
    if brn:
        if len(digits) != 17:
            raise NumberError(N_("birth registration number must be 17 digits, not {length}"), length=len(digits))
        kind = IdKind.BRN
    else:
        if len(digits) not in NID_LENGTHS:
            raise NumberError(N_("NID must be 10, 13 or 17 digits, not {length}"), length=len(digits))
        kind = _NID_KINDS[len(digits)]
    if len(digits) == 17:
        _check_year_prefix(brn, digits, date_of_birth, today)
    return kind


def reads_as_brn(number: str, date_of_birth: date, on: date) -> bool:
    """A 17-digit number given as an NID by someone under 18 is their birth registration number: the Election
    Commission issues NIDs from 18, and one form field takes either ("NID / birth registration no.")."""
    return len(normalise_number(number)) == 17 and is_minor(date_of_birth, on)


def check_death_registration_no(number: str, date_of_death: date | None = None) -> str:
    """The canonical death registration number: 17 digits starting with the year of death."""
    digits = normalise_number(number)
    if len(digits) != 17 or not (digits.isascii() and digits.isdigit()):
        raise NumberError(N_("death registration number must be 17 digits"))
    if date_of_death is not None and digits[:4] != f"{date_of_death.year:04d}":
        raise NumberError(N_("a death registration number starts with the year of death {year}, not {prefix}"),
                          year=date_of_death.year, prefix=digits[:4])
    return digits


def _check_year_prefix(brn: bool, digits: str, date_of_birth: date | None, today: date | None) -> None:
    year = int(digits[:4])
    if date_of_birth is not None:
        if year != date_of_birth.year:
            raise NumberError(N_("a 17-digit birth registration number starts with the birth year {year}, not {prefix}")
                              if brn else N_("a 17-digit NID starts with the birth year {year}, not {prefix}"),
                              year=date_of_birth.year, prefix=digits[:4])
        if year < MIN_BIRTH_YEAR:
            raise NumberError(N_("a 17-digit number starts with the birth year, and {year} is before {first}"),
                              year=year, first=MIN_BIRTH_YEAR)
        return
    last = (today or date.today()).year
    if not MIN_BIRTH_YEAR <= year <= last:
        raise NumberError(N_("a 17-digit number starts with the birth year, and {prefix} is not a plausible one "
                             "({first}..{last})"), prefix=digits[:4], first=MIN_BIRTH_YEAR, last=last)


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
