"""A root, a union key and signed lists for the offline verifier's tests (sonod verify, the /verify web app)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sonod.offline import b64url, status_list_jws, trust_list_jws
from sonod.signing import CertificateClaims, TrustedKey, content_hash, jwk, new_signing_key, qr_text, sign_payload

URL = "http://127.0.0.1:8000/verify"
KEY_BORN = datetime(2026, 1, 1, tzinfo=UTC)
ISSUED_AT = datetime(2026, 3, 14, 10, 30, tzinfo=UTC)
UNION = "paikkandi"
KEY = new_signing_key(UNION, KEY_BORN)
TRUSTED = TrustedKey(KEY.kid, UNION, KEY.public_raw, KEY_BORN)


class Root:
    """A stand-in for the sonod root (sonod/pki.py): an EC P-256 key that signs ES256, raw r||s."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        numbers = self.key.public_key().public_numbers()
        spki = self.key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        self.jwk = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
                    "y": b64url(numbers.y.to_bytes(32, "big")), "kid": b64url(hashlib.sha256(spki).digest()[:16])}

    def sign(self, data: bytes) -> bytes:
        r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def trust_list(self, keys: list[TrustedKey], now: datetime) -> str:
        return trust_list_jws([jwk(key) for key in keys], self.jwk["kid"], self.sign, now)


ROOT = Root()


def issue(seq: int, *, union: str = UNION, valid_until: datetime | None = None, number: str = "") -> str:
    """The QR text of certificate `<UNION>-2026-<seq>` (or `number`) signed by KEY."""
    number = number or f"{union.upper()}-2026-{seq:06d}"
    claims = CertificateClaims(certificate_no=number, certificate_type="citizenship", union=union,
                               name_bn="মোছাম্মৎ ফাতেমা খাতুন", name_en="Mosammat Fatema Khatun",
                               issued_on=date(2026, 3, 14), content_hash=content_hash({"certificate_no": number}),
                               valid_until=valid_until)
    return qr_text(URL, sign_payload(claims, KEY.private_raw, KEY.kid, ISSUED_AT))


def status_list(revoked: list[int], now: datetime, *, highest: int = 10, year: int = 2026) -> str:
    return status_list_jws(UNION, year, revoked, highest, KEY.kid, KEY.private_raw, now)
