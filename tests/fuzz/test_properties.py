"""Properties of the rules every layer trusts: NID and BRN numbers, the QR payload parser, Bengali digits, and the
API's input models. What tests/test_nid.py, test_signing.py and test_bengali.py already show is not repeated here:
these are the metamorphic and never-raises properties, over arbitrary text rather than well-formed numbers."""

from __future__ import annotations

import contextlib
import json
import math
import re
import zlib
from base64 import b32encode
from datetime import UTC, date, datetime, timedelta

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from api.schemas import AmendIn, ApplicationIn, DecisionIn, PaymentCallback, RevokeIn, VerifyIn, unstorable
from api.services.applications import canonical_hash
from sonod.bengali import BN_DIGITS, bangla_date, format_bangla_date, format_date_bn, to_ascii_digits, to_bn_digits
from sonod.nid import (
    NID_LENGTHS,
    IdKind,
    age_on,
    check_death_registration_no,
    check_identity_number,
    is_minor,
    mask,
    normalise_digits,
    normalise_number,
)
from sonod.signing import (
    CertificateClaims,
    InvalidQr,
    TrustedKey,
    new_signing_key,
    payload_from_qr_text,
    qr_text,
    sign_payload,
    verify_qr_text,
)
from workflows.messages import Applicant

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TODAY = date(2026, 6, 1)
ASCII_DIGITS = "0123456789"
SEPARATORS = " -\t"
OTHER_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳४५६७०१２３０１𝟘𝟙"  # Arabic-Indic, Persian, Devanagari, fullwidth, mathematical
number_like = st.text(alphabet=ASCII_DIGITS + BN_DIGITS + SEPARATORS + OTHER_DIGITS + "abxO.+", max_size=30)
birthdays = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


def verdict(number: str, born: date | None = None, brn: bool = False) -> IdKind | str:
    """The kind, or the error's message: never any other exception."""
    try:
        return check_identity_number(number, born, brn=brn, today=TODAY)
    except ValueError as e:
        return str(e)


# --- NID and BRN ------------------------------------------------------------------------------------------------


@FUZZ
@given(st.text() | number_like, st.none() | birthdays, st.booleans())
def test_any_text_is_a_kind_of_number_or_a_value_error(text, born, brn):
    kind = verdict(text, born, brn)
    if isinstance(kind, IdKind):
        digits = normalise_number(text)
        assert re.fullmatch(r"[0-9]+", digits)
        assert len(digits) == (17 if brn else {IdKind.NID_10: 10, IdKind.NID_13: 13, IdKind.NID_17: 17}[kind])
        assert kind.is_nid is not brn


@FUZZ
@given(number_like, st.none() | birthdays, st.booleans(), st.data())
def test_separators_anywhere_do_not_change_the_verdict(number, born, brn, data):
    spaced = number
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(spaced)))
        spaced = spaced[:at] + data.draw(st.sampled_from(SEPARATORS)) + spaced[at:]
    assert verdict(spaced, born, brn) == verdict(number, born, brn)


@FUZZ
@given(st.text(alphabet=ASCII_DIGITS, min_size=1, max_size=20), st.none() | birthdays, st.booleans(), st.data())
def test_any_mix_of_bengali_and_ascii_digits_is_judged_as_its_ascii_digits(number, born, brn, data):
    mixed = "".join(BN_DIGITS[int(c)] if data.draw(st.booleans()) else c for c in number)
    assert verdict(mixed, born, brn) == verdict(number, born, brn)


@FUZZ
@given(st.sampled_from(NID_LENGTHS), birthdays, st.data())
def test_a_digit_of_another_script_makes_a_number_invalid(length, born, data):
    number = str(born.year) + data.draw(st.text(alphabet=ASCII_DIGITS, min_size=length - 4, max_size=length - 4))
    assert isinstance(verdict(number, born), IdKind)
    at = data.draw(st.integers(0, length - 1))
    foreign = number[:at] + data.draw(st.sampled_from(OTHER_DIGITS)) + number[at + 1:]
    assert verdict(foreign, born) == "NID must contain only digits"  # str.isdigit() alone would take it


@FUZZ
@given(st.integers(0, 9999), st.text(alphabet=ASCII_DIGITS, min_size=13, max_size=13), st.booleans())
def test_without_a_birth_date_a_17_digit_number_needs_a_plausible_birth_year(year, rest, brn):
    kind = verdict(f"{year:04d}{rest}", brn=brn)
    assert isinstance(kind, IdKind) == (1900 <= year <= TODAY.year)


@FUZZ
@given(st.dates(min_value=date(TODAY.year - 18, 1, 1), max_value=TODAY),
       st.text(alphabet=ASCII_DIGITS, min_size=13, max_size=13))
def test_a_minors_birth_registration_number_is_also_a_well_formed_17_digit_nid(born, rest):
    """A minor applies with a BRN in the NID field: its shape is that of a 17-digit NID of the same birth year."""
    assume(is_minor(born, TODAY))
    brn = f"{born.year}{rest}"
    assert verdict(brn, born, brn=True) is IdKind.BRN
    assert verdict(brn, born) is IdKind.NID_17
    assert verdict(to_bn_digits(brn), born, brn=True) is IdKind.BRN


@FUZZ
@given(st.text() | number_like)
def test_normalising_is_idempotent_and_leaves_no_separator_or_bengali_digit(text):
    once = normalise_number(text)
    assert normalise_number(once) == once
    assert not set(once) & set(SEPARATORS + BN_DIGITS)


@FUZZ
@given(st.text() | number_like)
def test_a_mask_never_shows_more_than_the_last_three_characters(text):
    digits, masked = normalise_number(text), mask(text)
    assert len(masked) == len(digits)
    hidden = max(len(digits) - 3, 0) if len(digits) > 3 else len(digits)
    assert masked[:hidden] == "*" * hidden
    assert masked[hidden:] == digits[hidden:]


@FUZZ
@given(st.text() | number_like, st.none() | st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)))
def test_a_death_registration_number_is_17_ascii_digits_or_a_value_error(text, died):
    try:
        number = check_death_registration_no(text, died)
    except ValueError:
        return
    assert re.fullmatch(r"[0-9]{17}", number)
    assert died is None or number.startswith(f"{died.year:04d}")


@FUZZ
@given(birthdays, st.integers(0, 120 * 366))
def test_age_grows_by_at_most_one_a_day_and_minority_ends_at_18(born, days):
    on = born + timedelta(days=days)
    age, tomorrow = age_on(born, on), age_on(born, on + timedelta(days=1))
    assert age >= 0 and tomorrow - age in (0, 1)
    assert is_minor(born, on) == (age < 18)
    assert on.year - born.year - 1 <= age <= on.year - born.year


# --- the QR payload parser --------------------------------------------------------------------------------------

KEY = new_signing_key("paikkandi", datetime(2026, 1, 1, tzinfo=UTC))
TRUSTED = TrustedKey(KEY.kid, "paikkandi", KEY.public_raw, datetime(2026, 1, 1, tzinfo=UTC), None)
NOW = datetime(2026, 3, 14, 10, 30, tzinfo=UTC)
URL = "https://paikkandi.sonod.example.bd/verify"
hosts = st.text(alphabet="[]:@.%/?#=&ab19-", max_size=12) | st.text(max_size=12)
url_like = st.builds(lambda scheme, host, path, query: f"{scheme}://{host}/{path}?{query}",
                     st.sampled_from(["http", "https", "", "ftp", "HTTP"]), hosts, st.text(max_size=10),
                     st.lists(st.tuples(st.sampled_from(["c", "C", "c ", "x", ""]),
                                        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=%&", max_size=30)),
                              max_size=3).map(lambda kv: "&".join(f"{k}={v}" for k, v in kv)))


def strict_lookup(kid: str) -> TrustedKey | None:
    """As the database looks keys up: PostgreSQL refuses a NUL, and no kid has a control character."""
    assert kid.isascii() and kid.isprintable(), f"looked up {kid!r}"
    return TRUSTED if kid == KEY.kid else None


def cose_payload(protected: dict, claims: dict, key=KEY) -> str:
    protected_bytes, body = cbor2.dumps(protected), cbor2.dumps(claims)
    signature = Ed25519PrivateKey.from_private_bytes(key.private_raw).sign(
        cbor2.dumps(["Signature1", protected_bytes, b"", body]))
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected_bytes, {}, body, signature]))
    return b32encode(zlib.compress(cose)).decode().rstrip("=")


@FUZZ
@given(url_like | st.builds(lambda t: qr_text(URL, t), st.text()) | st.text())
@example("http://[x?c=AAAA")  # urlsplit refused the host with a ValueError, and /api/v1/verify answered 500
@example("https://a]b/verify?c=AAAA")
def test_any_url_like_text_is_invalid_and_nothing_raises(text):
    with contextlib.suppress(InvalidQr):
        payload_from_qr_text(text)
    assert not verify_qr_text(text, strict_lookup, now=NOW).valid


@FUZZ
@given(st.binary(max_size=70))
@example(b"paikkandi-2026-\x00")  # a NUL reached the key lookup, and PostgreSQL refused the query: 500
@example(b"\x7f")
def test_a_key_id_that_is_not_printable_ascii_is_never_looked_up(kid):
    payload = cose_payload({1: -8, 4: kid}, {1: "paikkandi", 6: int(NOW.timestamp())})
    result = verify_qr_text(qr_text(URL, payload), strict_lookup, now=NOW)
    assert not result.valid


claim_values = st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats() | st.text(max_size=30) \
    | st.binary(max_size=20) | st.lists(st.integers(), max_size=2)


@FUZZ
@given(st.dictionaries(st.sampled_from([1, 6, -1, -2, -3, -4, -5, -6, "h", 99, "x"]), claim_values, max_size=9))
def test_any_claim_set_under_a_genuine_signature_is_judged_without_raising(claims):
    result = verify_qr_text(cose_payload({1: -8, 4: KEY.kid.encode()}, claims), strict_lookup, now=NOW)
    assert result.valid == (result.claims is not None)
    if result.valid:
        assert result.claims.union == claims[1] == "paikkandi"


@FUZZ
@given(st.text(min_size=1, max_size=60).filter(str.strip), st.text(min_size=1, max_size=60).filter(str.strip),
       st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 3, 14)))
def test_any_bengali_or_english_name_survives_signing_and_verifying(name_bn, name_en, issued_on):
    assume(unstorable(name_bn) is None and unstorable(name_en) is None)
    claims = CertificateClaims(certificate_no="PAIKKANDI-2026-000001", certificate_type="citizenship",
                               union="paikkandi", name_bn=name_bn, name_en=name_en, issued_on=issued_on,
                               content_hash=bytes(16))
    result = verify_qr_text(qr_text(URL, sign_payload(claims, KEY.private_raw, KEY.kid, NOW)), strict_lookup, now=NOW)
    assert result.valid, result.reason
    assert (result.claims.name_bn, result.claims.name_en) == (name_bn, name_en)


# --- Bengali digits -------------------------------------------------------------------------------------------


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8")) | number_like)
def test_the_nid_rules_and_the_bengali_module_read_digits_alike(text):
    assert normalise_digits(text) == to_ascii_digits(text)


@FUZZ
@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_dates_in_bengali_carry_no_ascii_digit_and_read_back(day):
    gregorian, bangla = format_date_bn(day), format_bangla_date(day)
    assert not re.search(r"[0-9]", gregorian + bangla)
    assert to_ascii_digits(gregorian).split()[::2] == [str(day.day), str(day.year)]
    b = bangla_date(day)
    assert to_ascii_digits(bangla).split() == [str(b.day), b.month_name, str(b.year), "বঙ্গাব্দ"]
    assert bangla_date(datetime.combine(day, datetime.min.time())) == b


@FUZZ
@given(st.decimals(allow_nan=False, allow_infinity=False, places=2) | st.floats(allow_nan=False) | st.integers())
def test_any_number_reads_back_from_bengali_digits(n):
    assert to_ascii_digits(to_bn_digits(n)) == str(n)
    assert not any(c in ASCII_DIGITS for c in to_bn_digits(n))


# --- the API's input models -----------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=25)
APPLICANT_KEYS = ["nid", "date_of_birth", "name_bn", "name_en", "father_name_bn", "mother_name_bn", "ward_no",
                  "village_bn", ""]
applicants = st.fixed_dictionaries({}, optional={
    "nid": st.text(alphabet=ASCII_DIGITS + BN_DIGITS + " ", max_size=18) | json_scalars,
    "date_of_birth": st.dates().map(date.isoformat) | json_scalars,
    "name_bn": st.text(max_size=130) | json_scalars, "name_en": st.text(max_size=130) | json_scalars,
    "ward_no": st.integers(-1, 11) | json_scalars,
}) | st.dictionaries(st.sampled_from(APPLICANT_KEYS), json_values, max_size=8)
applications = st.fixed_dictionaries({"applicant": applicants}, optional={
    "union": st.sampled_from(["paikkandi", " Paikkandi ", "a b", ""]) | json_scalars,
    "certificate_type": st.sampled_from(["citizenship", "warish", ""]) | json_scalars,
    "contact": st.fixed_dictionaries({}, optional={"mobile": st.from_regex(r"(\+?88)?01[3-9][0-9]{8}", fullmatch=True)
                                                   | json_scalars, "email": json_scalars}) | json_values,
    "details": json_values,
    "extra": json_values,
})


def only_validation_errors(model: type[BaseModel], value) -> BaseModel | None:
    try:
        return model.model_validate(value)
    except ValidationError as e:
        json.dumps(e.errors(include_url=False, include_input=False, include_context=False), default=str)
        return None


@FUZZ
@given(json_values | applications)
def test_an_application_is_valid_or_a_validation_error_and_what_passes_can_be_stored_and_sent(value):
    accepted = only_validation_errors(ApplicationIn, value)
    if accepted is None:
        return
    dumped = accepted.model_dump(mode="json")
    assert unstorable(dumped) is None
    canonical_hash(dumped)  # the idempotency key's digest
    applicant = Applicant.model_validate_json(accepted.applicant.model_dump_json())  # as the workflow receives it
    assert applicant.model_dump(mode="json") == accepted.applicant.model_dump(mode="json")


@FUZZ
@given(json_values, st.sampled_from([DecisionIn, AmendIn, PaymentCallback, RevokeIn, VerifyIn]))
def test_the_other_bodies_are_valid_or_a_validation_error(value, model):
    accepted = only_validation_errors(model, value)
    if accepted is not None and model is not VerifyIn:
        assert unstorable(accepted.model_dump(mode="json")) is None


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_applicant_field_is_refused(value):
    """JSON parsers accept NaN and Infinity; what is stored and sent to the workflow must read back the same."""
    body = {"union": "paikkandi", "certificate_type": "citizenship",
            "applicant": {"nid": "1234567890", "date_of_birth": "1990-01-01", "name_bn": "ক", "name_en": "K",
                          "height": value}}
    assert only_validation_errors(ApplicationIn, body) is None
