"""The signed QR payload, sealed signing keys, the trust list and the revocation list."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import subprocess
import zlib
from datetime import UTC, date, datetime, timedelta

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sonod.qr import make_qr, qr_png
from sonod.signing import (
    CertificateClaims,
    InvalidQr,
    KeyUnsealError,
    NewKey,
    TrustedKey,
    content_hash,
    is_revoked,
    jwk,
    jwks,
    new_signing_key,
    open_private_key,
    payload_from_qr_text,
    qr_text,
    revocation_hash,
    revocation_list,
    seal_private_key,
    sign_payload,
    trusted_keys_from_jwks,
    verify_qr_text,
)
from tests.stack import ZBARIMG

URL = "http://127.0.0.1:8000/verify"
BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
KEY_BORN = datetime(2026, 1, 1, tzinfo=UTC)
ISSUED_AT = datetime(2026, 3, 14, 10, 30, tzinfo=UTC)
MASTER = bytes(range(32))
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def union_key(
    union: str = "paikkandi", not_before: datetime = KEY_BORN, not_after: datetime | None = None
) -> tuple[NewKey, TrustedKey]:
    key = new_signing_key(union, not_before)
    return key, TrustedKey(key.kid, union, key.public_raw, not_before, not_after)


def certificate(union: str = "paikkandi", **fields: object) -> CertificateClaims:
    return CertificateClaims(
        **{
            "certificate_no": "PKD-2026-000123",
            "certificate_type": "citizenship",
            "union": union,
            "name_bn": "মোহাম্মদ আব্দুর রহমান খান",
            "name_en": "Mohammad Abdur Rahman Khan",
            "issued_on": date(2026, 3, 14),
            "content_hash": content_hash({"certificate_no": "PKD-2026-000123", "details": {}}),
            **fields,
        }
    )


def trusting(*keys: TrustedKey):
    return {key.kid: key for key in keys}.get


def cose_of(payload: str) -> bytes:
    return zlib.decompress(base64.b32decode(payload + "=" * (-len(payload) % 8)))


def payload_of(cose: bytes) -> str:
    return base64.b32encode(zlib.compress(cose)).decode().rstrip("=")


KEY, TRUSTED = union_key()
KEY_OBJECT = Ed25519PrivateKey.from_private_bytes(KEY.private_raw)
CLAIMS = certificate()
PAYLOAD = sign_payload(CLAIMS, KEY.private_raw, KEY.kid, ISSUED_AT)
COSE = cose_of(PAYLOAD)
LOOKUP = trusting(TRUSTED)


def check(text: str):
    return verify_qr_text(text, LOOKUP, now=ISSUED_AT)


# --- signing and verifying ------------------------------------------------------------------------


def test_a_signed_certificate_verifies_with_its_claims():
    result = check(qr_text(URL, PAYLOAD))
    assert result.valid, result.reason
    assert result.claims == CLAIMS
    assert result.kid == KEY.kid


def test_a_printed_qr_scanned_by_zbarimg_verifies(tmp_path):
    png = tmp_path / "qr.png"
    png.write_bytes(qr_png(qr_text(URL, PAYLOAD)))
    scanned = subprocess.run([*ZBARIMG, str(png)], capture_output=True, text=True, check=True).stdout
    result = check(scanned)
    assert result.valid, result.reason
    assert result.claims == CLAIMS


def test_the_payload_is_a_cose_sign1_with_eddsa_and_the_kid_protected():
    cose = cbor2.loads(COSE)
    assert cose.tag == 18
    protected, unprotected, body, signature = cose.value
    assert cbor2.loads(protected) == {1: -8, 4: KEY.kid.encode()}
    assert not unprotected
    claims = cbor2.loads(body)
    assert claims[1] == "paikkandi" and claims[6] == int(ISSUED_AT.timestamp())
    assert claims["h"] == CLAIMS.content_hash and len(signature) == 64
    assert re.fullmatch(r"[A-Z2-7]+", PAYLOAD)


def test_a_typical_certificate_qr_is_version_13_or_less():
    """Printable at 3 cm: the longest union slug, names of about 25 characters, a 30-character URL."""
    url = "http://sonod.example.bd/verify"
    seed, kid = hashlib.sha256(b"size").digest(), "chandradighalia-2026-1a2b3c"  # fixed: the size is reproducible
    versions = set()
    for serial in range(1, 21):
        claims = certificate(
            "chandradighalia",
            certificate_no=f"CDG-2026-{serial:06d}",
            name_bn="মোছাম্মৎ ফাতেমা খাতুন বেগম",
            name_en="Mosammat Fatema Khatun Begum",
            content_hash=content_hash({"serial": serial}),
        )
        versions.add(make_qr(qr_text(url, sign_payload(claims, seed, kid, ISSUED_AT))).version)
    assert len(url) == 30 and len(claims.name_bn) == 26
    assert max(versions) <= 13


# --- tampering and garbage ------------------------------------------------------------------------


@FUZZ
@given(st.data())
def test_flipping_any_byte_of_the_cose_structure_is_invalid(data):
    index = data.draw(st.integers(0, len(COSE) - 1), label="index")
    value = data.draw(st.integers(0, 255).filter(lambda v: v != COSE[index]), label="value")
    tampered = COSE[:index] + bytes([value]) + COSE[index + 1 :]
    assert not check(payload_of(tampered)).valid


@pytest.mark.parametrize("region", ["header", "claims", "signature"])
def test_flipping_a_bit_in_each_region_is_invalid(region):
    start = {"header": 4, "claims": COSE.index(b"PKD-2026"), "signature": len(COSE) - 10}[region]
    tampered = bytearray(COSE)
    tampered[start] ^= 0x01
    result = check(payload_of(bytes(tampered)))
    assert not result.valid
    assert result.reason


def test_changing_any_base32_character_never_verifies_other_content():
    accepted = []
    for index, original in enumerate(PAYLOAD):
        for char in BASE32_ALPHABET.replace(original, ""):
            tampered = PAYLOAD[:index] + char + PAYLOAD[index + 1 :]
            if check(qr_text(URL, tampered)).valid:
                accepted.append(tampered)
    # The signature covers the COSE bytes, not their compression: deflate ignores the padding bits of its
    # last byte, so a change there (a few characters before the end) still carries the same signed bytes.
    assert all(cose_of(text) == COSE for text in accepted)
    assert all(index >= len(PAYLOAD) - 10 for text in accepted for index in _differences(text, PAYLOAD))


def _differences(a: str, b: str) -> list[int]:
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


@FUZZ
@given(st.data())
def test_any_other_character_anywhere_is_invalid(data):
    index = data.draw(st.integers(0, len(PAYLOAD) - 1), label="index")
    char = data.draw(st.characters().filter(lambda c: c not in BASE32_ALPHABET and not c.isspace()), label="char")
    assert not check(qr_text(URL, PAYLOAD[:index] + char + PAYLOAD[index + 1 :])).valid


def test_base32_with_nonzero_unused_bits_is_invalid():
    payload = next(  # 5n bytes leave no unused bits; another certificate number gives another length
        p
        for n in range(20)
        if len(p := sign_payload(certificate(certificate_no=f"PKD-2026-{n:06d}"), KEY.private_raw, KEY.kid, ISSUED_AT))
        % 8
    )
    assert check(payload).valid
    result = check(payload[:-1] + BASE32_ALPHABET[BASE32_ALPHABET.index(payload[-1]) | 1])  # lowest bit is unused
    assert not result.valid
    assert "canonical base32" in result.reason


@FUZZ
@given(st.one_of(st.text(BASE32_ALPHABET, max_size=200), st.binary(max_size=120).map(
    lambda raw: base64.b32encode(raw).decode().rstrip("="))))
def test_the_payload_is_read_as_the_standard_librarys_base32_reads_it(payload):
    """sonod's base32 reader (one integer; a tenth of b32decode's cost) accepts and refuses what b32decode does."""
    from sonod.signing import _Reject, _unbase32

    try:
        expected = base64.b32decode(payload + "=" * (-len(payload) % 8))
        if base64.b32encode(expected).decode().rstrip("=") != payload:
            expected = "not canonical"
    except binascii.Error:
        expected = "not base32"
    try:
        got = _unbase32(payload)
    except _Reject as exc:
        got = "not canonical" if "canonical" in str(exc) else "not base32"
    assert got == expected


def openssl_accepts(public: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["signature", "message", "key"]), st.integers(0, 10_000),
       st.integers(0, 7))
def test_libsodium_accepts_a_signature_only_where_openssl_does(message, part, at, bit):
    """Verification is libsodium's (half the CPU of OpenSSL's, which signs): genuine signatures pass both, and a
    signature, message or key with one bit flipped passes libsodium only if it passes OpenSSL."""
    from sonod.signing import _signature_matches

    signed = {"key": KEY.public_raw, "signature": KEY_OBJECT.sign(message), "message": message}
    assert _signature_matches(signed["key"], signed["signature"], message)
    assert openssl_accepts(signed["key"], signed["signature"], message)
    if signed[part]:
        value, i = signed[part], at % len(signed[part])
        signed[part] = value[:i] + bytes([value[i] ^ (1 << bit)]) + value[i + 1:]
    if _signature_matches(signed["key"], signed["signature"], signed["message"]):
        assert openssl_accepts(signed["key"], signed["signature"], signed["message"])


def test_libsodium_refuses_a_small_order_key_that_openssl_would_take():
    """The identity point as the key and as R, with S = 0, satisfies the verification equation for any message."""
    from sonod.signing import _signature_matches

    identity = bytes([1]) + bytes(31)
    assert openssl_accepts(identity, identity + bytes(32), b"any certificate at all")
    assert not _signature_matches(identity, identity + bytes(32), b"any certificate at all")


def test_every_truncation_is_invalid():
    for length in range(len(PAYLOAD)):
        assert not check(PAYLOAD[:length]).valid
        assert not check(qr_text(URL, PAYLOAD[:length])).valid


@FUZZ
@given(st.text())
def test_random_text_is_invalid(text):
    assert not check(text).valid


@FUZZ
@given(st.binary())
def test_random_bytes_are_invalid_at_every_layer(raw):
    b32 = base64.b32encode(raw).decode().rstrip("=")
    for text in (b32, payload_of(raw), raw.decode("latin-1"), qr_text(URL, b32)):
        assert not check(text).valid


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=80) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.integers(-8, 8) | st.text(max_size=2), inner, max_size=5),
    max_leaves=20,
)


@FUZZ
@given(st.lists(cbor_values, min_size=0, max_size=5), st.sampled_from([18, 17, 98]))
def test_random_cose_like_structures_are_invalid(parts, tag):
    assert not check(payload_of(cbor2.dumps(cbor2.CBORTag(tag, parts)))).valid


def _signed_cose(protected_header: dict, body: dict | None = None, tag: int = 18, extra: bytes = b"") -> str:
    """A COSE_Sign1 with a genuine signature by KEY, shaped as the test needs."""
    protected = cbor2.dumps(protected_header)
    payload = cbor2.dumps(body if body is not None else cbor2.loads(cbor2.loads(COSE).value[2]))
    signature = Ed25519PrivateKey.from_private_bytes(KEY.private_raw).sign(
        cbor2.dumps(["Signature1", protected, b"", payload])
    )
    return payload_of(cbor2.dumps(cbor2.CBORTag(tag, [protected, {}, payload, signature])) + extra)


KID = KEY.kid.encode()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("https://example.org/verify?x=1", "no single c="),
        ("not a payload", "base32"),
        (PAYLOAD.lower(), "base32"),
        ("A", "not valid base32"),
        (PAYLOAD[:-1] + chr(ord(PAYLOAD[-1]) ^ 1), "base32"),  # nonzero unused trailing bits, or a changed byte
        (base64.b32encode(b"plain text, not zlib").decode().rstrip("="), "zlib"),
        (payload_of(b"\xff\xfe"), "CBOR"),
        (payload_of(bytes(1_000_000)), "more than a certificate can hold"),  # a zip bomb
        (payload_of(COSE + b"\x00"), "trailing data"),
        (payload_of(cbor2.dumps(cbor2.loads(COSE).value)), "COSE_Sign1"),  # untagged
        (_signed_cose({1: -8, 4: KID}, tag=17), "COSE_Sign1"),
        (payload_of(cbor2.dumps(cbor2.CBORTag(18, list(cbor2.loads(COSE).value)[:3]))), "four parts"),
        (_signed_cose({1: -7, 4: KID}), "algorithm"),
        (_signed_cose({1: "EdDSA", 4: KID}), "algorithm"),
        (_signed_cose({1: -8}), "key ID"),
        (_signed_cose({1: -8, 4: KID}, body={1: "paikkandi", 6: 1773484200}), "claim set"),
        (_signed_cose({1: -8, 4: KID}, body={1: "paikkandi", 6: 1773484200, -6: 20526, -1: 7}), "malformed"),
        (_signed_cose({1: -8, 4: KID}, body={**cbor2.loads(cbor2.loads(COSE).value[2]), -3: "kajulia"}), "names union"),
    ],
    ids=lambda v: v[:40] if isinstance(v, str) else v,
)
def test_malformed_payloads_are_invalid_with_a_reason(text, reason):
    result = check(text)
    assert not result.valid
    assert reason in result.reason


def test_a_well_formed_reshaped_cose_with_our_signature_still_verifies():
    """The malformed cases above fail on their defect, not because `_signed_cose` is broken."""
    assert check(_signed_cose({1: -8, 4: KID})).valid


# --- keys: whose, and when ------------------------------------------------------------------------


def test_an_unknown_kid_is_invalid():
    other, _ = union_key()
    result = check(sign_payload(CLAIMS, other.private_raw, other.kid, ISSUED_AT))
    assert not result.valid
    assert "unknown signing key" in result.reason


def test_a_key_of_another_union_cannot_sign_for_this_union():
    kajulia, trusted_kajulia = union_key("kajulia")
    payload = sign_payload(CLAIMS, kajulia.private_raw, kajulia.kid, ISSUED_AT)  # iss = paikkandi
    result = verify_qr_text(payload, trusting(TRUSTED, trusted_kajulia), now=ISSUED_AT)
    assert not result.valid
    assert "belongs to union 'kajulia'" in result.reason


def test_a_key_used_before_it_came_into_use_is_invalid():
    payload = sign_payload(CLAIMS, KEY.private_raw, KEY.kid, KEY_BORN - timedelta(seconds=1))
    result = check(payload)
    assert not result.valid
    assert "before key" in result.reason


def test_a_certificate_dated_in_the_future_is_invalid():
    payload = sign_payload(CLAIMS, KEY.private_raw, KEY.kid, ISSUED_AT + timedelta(days=1))
    assert not verify_qr_text(payload, LOOKUP, now=ISSUED_AT).valid
    assert verify_qr_text(payload, LOOKUP, now=ISSUED_AT + timedelta(days=1)).valid


def test_after_rotation_old_certificates_stay_valid_and_the_retired_key_signs_nothing_new():
    rotated_at = ISSUED_AT + timedelta(days=30)
    old, _ = union_key()
    new, trusted_new = union_key(not_before=rotated_at)
    trust = trusting(TrustedKey(old.kid, "paikkandi", old.public_raw, KEY_BORN, not_after=rotated_at), trusted_new)
    later = rotated_at + timedelta(days=1)

    before = sign_payload(CLAIMS, old.private_raw, old.kid, ISSUED_AT)
    at_retirement = sign_payload(CLAIMS, old.private_raw, old.kid, rotated_at)
    after = sign_payload(CLAIMS, old.private_raw, old.kid, later)
    by_new_key = sign_payload(CLAIMS, new.private_raw, new.kid, later)

    assert verify_qr_text(before, trust, now=later).valid
    assert verify_qr_text(by_new_key, trust, now=later).valid
    for stale in (at_retirement, after):
        result = verify_qr_text(stale, trust, now=later)
        assert not result.valid
        assert "retired" in result.reason


def test_a_lookup_that_knows_nothing_makes_everything_invalid():
    assert not verify_qr_text(PAYLOAD, lambda kid: None).valid


# --- the QR text ----------------------------------------------------------------------------------


def test_the_payload_is_found_in_the_url_or_bare():
    assert payload_from_qr_text(qr_text(URL, PAYLOAD)) == PAYLOAD
    assert payload_from_qr_text(f"  {PAYLOAD}\n") == PAYLOAD
    assert payload_from_qr_text(f"https://sonod.example.bd/unions/paikkandi/verify?c={PAYLOAD}") == PAYLOAD


@pytest.mark.parametrize("text", ["", "https://example.org/", f"{URL}?c=", f"{URL}?c=abc", "ABC1", "Zm9v=="])
def test_anything_else_is_not_a_qr_payload(text):
    with pytest.raises(InvalidQr):
        payload_from_qr_text(text)


# --- keys at rest ---------------------------------------------------------------------------------


def test_a_new_key_has_an_ascii_kid_naming_union_and_year():
    key = new_signing_key("paikkandi", KEY_BORN)
    assert re.fullmatch(r"paikkandi-2026-[0-9a-f]{6}", key.kid)
    assert len(key.private_raw) == len(key.public_raw) == 32
    assert new_signing_key("paikkandi", KEY_BORN).kid != key.kid


@pytest.mark.parametrize("union", ["পাইককান্দি", "Paikkandi", "", "a b"])
def test_a_kid_is_only_made_from_a_slug(union):
    with pytest.raises(ValueError):
        new_signing_key(union, KEY_BORN)


def test_a_sealed_key_opens_with_the_master_key_and_its_kid():
    blob = seal_private_key(KEY.private_raw, MASTER, KEY.kid)
    assert blob[0] == 1
    assert KEY.private_raw not in blob
    assert open_private_key(blob, MASTER, KEY.kid) == KEY.private_raw
    assert seal_private_key(KEY.private_raw, MASTER, KEY.kid) != blob  # a fresh data key and nonce each time


@pytest.mark.parametrize(
    ("master", "kid", "damage"),
    [(bytes(32), KEY.kid, None), (MASTER, "kajulia-2026-000000", None), (MASTER, KEY.kid, 60), (MASTER, KEY.kid, 0)],
    ids=["wrong master key", "another kid", "damaged ciphertext", "unknown version"],
)
def test_a_sealed_key_does_not_open_otherwise(master, kid, damage):
    blob = bytearray(seal_private_key(KEY.private_raw, MASTER, KEY.kid))
    if damage is not None:
        blob[damage] ^= 0x02
    with pytest.raises(KeyUnsealError):
        open_private_key(bytes(blob), master, kid)
    with pytest.raises(KeyUnsealError):
        open_private_key(bytes(blob[:-1]), MASTER, KEY.kid)


# --- content hash ---------------------------------------------------------------------------------


def test_the_content_hash_is_over_canonical_json():
    content = {"name_bn": "মো", "a": [1, {"z": 2, "b": None}], "on": date(2026, 3, 14)}
    canonical = '{"a":[1,{"b":null,"z":2}],"name_bn":"মো","on":"2026-03-14"}'
    assert content_hash(content) == hashlib.sha256(canonical.encode()).digest()[:16]
    assert content_hash(dict(reversed(list(content.items())))) == content_hash(content)
    assert content_hash({**content, "a": [1]}) != content_hash(content)


# --- trust list -----------------------------------------------------------------------------------


def test_a_current_key_is_an_okp_jwk_without_exp():
    doc = jwk(TRUSTED)
    assert doc == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(KEY.public_raw).decode().rstrip("="),
        "kid": KEY.kid,
        "use": "sig",
        "alg": "EdDSA",
        "union": "paikkandi",
        "nbf": int(KEY_BORN.timestamp()),
    }


def test_the_jwks_round_trips_through_json_and_still_verifies():
    retired = TrustedKey("kajulia-2025-abcdef", "kajulia", bytes(range(32)), KEY_BORN, KEY_BORN + timedelta(days=9))
    doc = json.loads(json.dumps(jwks([TRUSTED, retired])))
    assert doc["keys"][1]["exp"] == int(retired.not_after.timestamp())
    keys = trusted_keys_from_jwks(doc)
    assert keys == {TRUSTED.kid: TRUSTED, retired.kid: retired}
    assert verify_qr_text(PAYLOAD, keys.get, now=ISSUED_AT).valid


def test_other_key_types_are_skipped_and_malformed_keys_refused():
    rsa = {"kty": "RSA", "kid": "x", "n": "AQAB", "e": "AQAB"}
    assert trusted_keys_from_jwks({"keys": [rsa]}) == {}
    short_x = {"keys": [{**jwk(TRUSTED), "x": "AAAA"}]}
    for bad in (short_x, {"keys": [{"kty": "OKP", "crv": "Ed25519"}]}, [], {"keys": 1}):
        with pytest.raises(ValueError):
            trusted_keys_from_jwks(bad)


# --- revocation -----------------------------------------------------------------------------------


def test_the_revocation_list_holds_hashes_only():
    doc = revocation_list(["PKD-2026-000123", "KJL-2026-000001"], ISSUED_AT)
    assert doc["type"] == "sonod-revocation-list"
    assert doc["generated_at"] == ISSUED_AT.isoformat()
    assert doc["hashes"] == sorted(doc["hashes"]) and len(doc["hashes"]) == 2
    assert "PKD-2026-000123" not in json.dumps(doc)
    assert revocation_hash("PKD-2026-000123") in doc["hashes"]
    assert re.fullmatch(r"[0-9a-f]{32}", revocation_hash("x"))


def test_membership_of_the_revocation_list():
    doc = json.loads(json.dumps(revocation_list(["PKD-2026-000123"], ISSUED_AT)))
    assert is_revoked("PKD-2026-000123", doc)
    assert not is_revoked("PKD-2026-000124", doc)
    assert not is_revoked("PKD-2026-000123", revocation_list([], ISSUED_AT))
