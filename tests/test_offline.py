"""The signed trust list and status lists (sonod/offline.py), and the verdict drawn from them alone."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from sonod.offline import (
    MIN_BITS,
    ListError,
    Verdict,
    b64url,
    judge,
    number_parts,
    read_status_list,
    read_trust_list,
    unb64url,
)
from sonod.signing import TrustedKey, new_signing_key
from tests.offline_kit import KEY, KEY_BORN, ROOT, TRUSTED, UNION, Root, issue, status_list

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def trust():
    return read_trust_list(ROOT.trust_list([TRUSTED], NOW), ROOT.jwk)


def lists(*revoked: int):
    listed = read_status_list(status_list(list(revoked), NOW), trust().keys)
    return {(UNION, 2026): listed}


def forge(token: str, **changes) -> str:
    """The token with its payload changed and its signature kept."""
    head, body, sig = token.split(".")
    payload = json.loads(unb64url(body)) | changes
    return ".".join([head, b64url(json.dumps(payload).encode()), sig])


def test_the_trust_list_signed_by_the_pinned_root_gives_the_union_keys():
    listed = trust()
    assert listed.keys == {KEY.kid: TRUSTED}
    assert listed.iat == NOW and listed.next_update == NOW + timedelta(days=1)


def test_a_trust_list_signed_by_another_root_is_refused():
    with pytest.raises(ListError, match="pinned root"):
        read_trust_list(Root().trust_list([TRUSTED], NOW), ROOT.jwk)


def test_another_root_with_the_pinned_kid_is_refused_by_the_signature():
    impostor = Root()
    impostor.jwk = dict(impostor.jwk, kid=ROOT.jwk["kid"])
    with pytest.raises(ListError, match="signature does not match"):
        read_trust_list(impostor.trust_list([TRUSTED], NOW), ROOT.jwk)


def test_a_key_slipped_into_a_signed_trust_list_breaks_its_signature():
    intruder = new_signing_key(UNION, KEY_BORN)
    token = ROOT.trust_list([TRUSTED], NOW)
    forged = forge(token, keys=json.loads(unb64url(token.split(".")[1]))["keys"] + [
        {"kty": "OKP", "crv": "Ed25519", "x": b64url(intruder.public_raw), "kid": intruder.kid, "union": UNION,
         "nbf": 0}])
    with pytest.raises(ListError, match="signature"):
        read_trust_list(forged, ROOT.jwk)


def test_the_status_list_bits_are_in_w3c_order_and_at_least_16_kb():
    token = status_list([1, 9], NOW)
    payload = json.loads(unb64url(token.split(".")[1]))
    bits = gzip.decompress(unb64url(payload["bits"]))
    assert payload["size"] == MIN_BITS == len(bits) * 8
    assert bits[:2] == bytes([0b0100_0000, 0b0100_0000])  # bit 1: byte 0 mask 0x40; bit 9: byte 1 mask 0x40
    assert len(token) < 600  # 16 KB of bits, compressed


def test_a_status_list_reads_back_with_its_revoked_bits():
    listed = lists(2, 7)[(UNION, 2026)]
    assert [seq for seq in range(10) if listed.revoked(seq)] == [2, 7]
    assert not listed.revoked(MIN_BITS + 5)


def test_a_status_list_signed_by_a_key_outside_the_trust_list_is_refused():
    stranger = new_signing_key(UNION, KEY_BORN)
    from sonod.offline import status_list_jws

    with pytest.raises(ListError, match="not signed"):
        read_status_list(status_list_jws(UNION, 2026, [], 3, stranger.kid, stranger.private_raw, NOW), trust().keys)


def test_a_status_list_with_a_bit_cleared_after_signing_is_refused():
    token = status_list([2], NOW)
    cleared = forge(token, bits=b64url(gzip.compress(bytes(MIN_BITS // 8))))
    with pytest.raises(ListError, match="signature"):
        read_status_list(cleared, trust().keys)


def test_a_union_cannot_sign_the_status_list_of_another():
    other = TrustedKey(KEY.kid, "kajulia", KEY.public_raw, KEY_BORN)  # the trust list says the key is kajulia's
    with pytest.raises(ListError, match="belongs to union 'kajulia'"):
        read_status_list(status_list([], NOW), {KEY.kid: other})


def test_certificate_numbers_give_union_year_and_sequence():
    assert number_parts("PAIKKANDI-2026-000042") == ("paikkandi", 2026, 42)
    assert number_parts("UI-SCAN-2026-000001") == ("ui-scan", 2026, 1)
    with pytest.raises(ValueError):
        number_parts("PKD-26-1")


@pytest.mark.parametrize(("qr", "revoked", "verdict"), [
    (issue(1), (), Verdict.VALID),
    (issue(2), (2,), Verdict.REVOKED),
    (issue(3, valid_until=NOW - timedelta(days=1)), (), Verdict.EXPIRED),
    (issue(4, valid_until=NOW - timedelta(days=1)), (4,), Verdict.REVOKED),  # revoked wins over expired
    ("hello", (), Verdict.INVALID),
])
def test_the_verdict_from_the_lists_alone(qr, revoked, verdict):
    assert judge(qr, trust(), lists(*revoked), NOW).verdict is verdict


def test_a_forged_certificate_is_invalid_with_the_reason():
    forged = issue(1)
    forged = forged[:-20] + ("A" if forged[-20] != "A" else "B") + forged[-19:]
    answer = judge(forged, trust(), lists(), NOW)
    assert answer.verdict is Verdict.INVALID and answer.reason


def test_a_genuine_certificate_without_its_status_list_is_undecided():
    answer = judge(issue(1), trust(), {}, NOW)
    assert answer.verdict is Verdict.INVALID and not answer.decided and "no status list" in answer.reason


def test_a_number_of_another_union_is_invalid():
    answer = judge(issue(1, number="KAJULIA-2026-000001"), trust(), lists(), NOW)
    assert answer.verdict is Verdict.INVALID and "not of union paikkandi" in answer.reason
