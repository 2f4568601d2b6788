"""Signed QR payloads, signing keys at rest, the public trust list and the revocation list.

The payload is a COSE_Sign1 structure (RFC 9052, CBOR tag 18) carrying CWT claims (RFC 8392), as in
the EU Digital COVID Certificate, compressed with zlib and encoded as uppercase base32 without padding:

    payload   = BASE32(ZLIB(COSE_Sign1))
    COSE_Sign1 = 18([protected: bstr .cbor {1: -8 (EdDSA), 4: kid}, unprotected: {}, payload: bstr .cbor claims,
                     signature: bstr (Ed25519 over Sig_structure ["Signature1", protected, h'', payload])])
    claims    = {1 iss: union slug, 6 iat: issue time (epoch seconds), 4 exp: end of validity (epoch seconds; only
                 for a certificate whose type has a validity),
                 -1: certificate no, -2: certificate type code, -3: union slug, -4: name (Bengali), -5: name (English),
                 -6: issue date (days since 1970-01-01, as RFC 8943), "h": content hash (16 bytes)}

The QR text is `<verify URL>?c=<payload>`; base32 (A-Z, 2-7) fits the QR alphanumeric mode.
A verifier needs only the issuing union's public key (the JWKS at /.well-known/jwks.json), so it works
offline. sonod signs with OpenSSL (`cryptography`) and checks signatures with libsodium (PyNaCl), which takes half
the CPU and refuses the non-canonical and small-order points that OpenSSL lets through. Revocation is published as a
list of hashes of certificate numbers, never the numbers themselves.

The signature covers the COSE bytes, not their compression: re-compressing gives another text for the same
signed certificate, so identify a certificate by its number, never by its payload text.

Private signing keys are stored sealed: a fresh AES-256-GCM data key encrypts the key (the kid is the
associated data), and the data key is wrapped under the master key with AES key wrap (RFC 3394).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
import secrets
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cbor2
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

COSE_SIGN1_TAG = 18
ALG_EDDSA = -8
HDR_ALG, HDR_KID = 1, 4
CWT_ISS, CWT_EXP, CWT_IAT = 1, 4, 6
C_NO, C_TYPE, C_UNION, C_NAME_BN, C_NAME_EN, C_ISSUED_ON, C_HASH = -1, -2, -3, -4, -5, -6, "h"

MAX_PAYLOAD_CHARS = 4096  # a QR code holds at most 4296 alphanumeric characters
MAX_COSE_BYTES = 8192  # decompression limit: no zip bombs
CLOCK_SKEW = timedelta(minutes=5)
_EPOCH = date(1970, 1, 1)
_BASE32 = re.compile(r"[A-Z2-7]+")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")

SEAL_VERSION = 1
_SEAL_LEN = 1 + 40 + 12 + 32 + 16  # version, wrapped data key, nonce, sealed key, GCM tag


class KeyUnsealError(Exception):
    """The sealed key cannot be opened: wrong master key, another kid, or a damaged blob."""


class InvalidQr(ValueError):
    """The text is neither a verification URL carrying `c=` nor a bare base32 payload."""


class CertificateClaims(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_bytes="hex", val_json_bytes="hex")

    certificate_no: str = Field(min_length=1)
    certificate_type: str = Field(min_length=1)
    union: str = Field(min_length=1)
    name_bn: str
    name_en: str
    issued_on: date
    content_hash: bytes = Field(min_length=16, max_length=16)
    valid_until: datetime | None = None  # the CWT `exp`: from this instant on, the certificate has expired

    def expired(self, now: datetime) -> bool:
        return self.valid_until is not None and now >= self.valid_until


@dataclass(frozen=True)
class NewKey:
    kid: str
    private_raw: bytes
    public_raw: bytes


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    union: str
    public_raw: bytes
    not_before: datetime
    not_after: datetime | None = None  # retired at; None while the key is current


@dataclass(frozen=True)
class Verification:
    valid: bool
    claims: CertificateClaims | None
    kid: str | None
    reason: str
    expired: bool = False  # genuine, but its signed validity has passed


class _Reject(Exception):
    """Internal: the payload is not a valid certificate, for the reason given."""


# --- keys -----------------------------------------------------------------------------------------


def new_signing_key(union: str, now: datetime) -> NewKey:
    if not _SLUG.fullmatch(union):
        raise ValueError("a union slug is lowercase ASCII letters, digits and hyphens")
    key = Ed25519PrivateKey.generate()
    return NewKey(
        kid=f"{union}-{now.year}-{secrets.token_hex(3)}",
        private_raw=key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        public_raw=key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )


def seal_private_key(raw: bytes, master_key: bytes, kid: str) -> bytes:
    """`version || AES-KW(master, data key) || nonce || AES-GCM(data key, raw, aad=kid)`."""
    if len(raw) != 32 or len(master_key) != 32:
        raise ValueError("the private key and the master key must be 32 bytes")
    data_key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
    sealed = AESGCM(data_key).encrypt(nonce, raw, kid.encode())
    return bytes([SEAL_VERSION]) + aes_key_wrap(master_key, data_key) + nonce + sealed


def open_private_key(blob: bytes, master_key: bytes, kid: str) -> bytes:
    if len(blob) != _SEAL_LEN or blob[0] != SEAL_VERSION:
        raise KeyUnsealError(f"not a version {SEAL_VERSION} sealed key")
    wrapped, nonce, sealed = blob[1:41], blob[41:53], blob[53:]
    try:
        data_key = aes_key_unwrap(master_key, wrapped)
    except (InvalidUnwrap, ValueError):
        raise KeyUnsealError("the master key does not open this key") from None
    try:
        return AESGCM(data_key).decrypt(nonce, sealed, kid.encode())
    except InvalidTag:
        raise KeyUnsealError(f"the sealed key does not belong to kid {kid!r} or is damaged") from None


# --- payload --------------------------------------------------------------------------------------


def content_hash(content: Mapping[str, Any]) -> bytes:
    """First 16 bytes of SHA-256 over canonical JSON (sorted keys, UTF-8, no spaces; dates in ISO 8601)."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_iso)
    return hashlib.sha256(text.encode()).digest()[:16]


def _iso(value: object) -> str:
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def sign_payload(claims: CertificateClaims, private_raw: bytes, kid: str, issued_at: datetime) -> str:
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    protected = cbor2.dumps({HDR_ALG: ALG_EDDSA, HDR_KID: kid.encode("ascii")})
    claim_set = {
        CWT_ISS: claims.union,
        CWT_IAT: int(issued_at.timestamp()),
        C_NO: claims.certificate_no,
        C_TYPE: claims.certificate_type,
        C_UNION: claims.union,
        C_NAME_BN: claims.name_bn,
        C_NAME_EN: claims.name_en,
        C_ISSUED_ON: (claims.issued_on - _EPOCH).days,
        C_HASH: claims.content_hash,
    }
    if claims.valid_until is not None:
        claim_set[CWT_EXP] = int(claims.valid_until.timestamp())
    body = cbor2.dumps(claim_set)
    signature = Ed25519PrivateKey.from_private_bytes(private_raw).sign(_sig_structure(protected, body))
    cose = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, body, signature]))
    return base64.b32encode(zlib.compress(cose, 9)).decode().rstrip("=")


def _signature_matches(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """Ed25519 (RFC 8032) by libsodium, the hot path of /api/v1/verify: half the CPU of OpenSSL's (`cryptography`),
    and stricter: it also refuses non-canonical and small-order points, so it accepts nothing that OpenSSL refuses
    (tests/test_signing.py checks both agree)."""
    try:
        crypto_sign_open(signature + message, public_raw)
    except BadSignatureError:
        return False
    return True


def _sig_structure(protected: bytes, body: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", body])


def qr_text(verify_url: str, payload: str) -> str:
    return f"{verify_url}?c={payload}"


def payload_from_qr_text(text: str) -> str:
    """The base32 payload of a QR's text: the `c` parameter of a URL, or the text itself."""
    text = "".join(text.split())
    if "?" in text or "://" in text:
        try:
            values = parse_qs(urlsplit(text).query).get("c", [])
        except ValueError:  # urlsplit refuses a malformed host, e.g. "http://[x"
            raise InvalidQr("the text is not a well-formed URL") from None
        if len(values) != 1:
            raise InvalidQr("the URL carries no certificate (no single c= parameter)")
        text = values[0]
    if not text:
        raise InvalidQr("the text is empty")
    if len(text) > MAX_PAYLOAD_CHARS:
        raise InvalidQr("the text is too long to be a certificate")
    if not _BASE32.fullmatch(text):
        raise InvalidQr("the payload is not uppercase base32")
    return text


def verify_qr_text(
    text: str, lookup: Callable[[str], TrustedKey | None], now: datetime | None = None
) -> Verification:
    """Check a QR's text against the trusted keys. Never raises on bad input: invalid gives a reason."""
    kid: str | None = None
    try:
        protected, body, signature = _cose_parts(_decompress(_unbase32(payload_from_qr_text(text))))
        kid = _kid(protected)
        key = lookup(kid)
        if key is None:
            raise _Reject(f"unknown signing key {kid!r}")
        if not _signature_matches(key.public_raw, signature, _sig_structure(protected, body)):
            raise _Reject("the signature does not match: the certificate was altered or not issued by sonod")
        iss, iat, claims = _claims(body)
        now = now or datetime.now(UTC)
        _check_key_use(key, iss, iat, now)
    except (InvalidQr, _Reject) as exc:
        return Verification(valid=False, claims=None, kid=kid, reason=str(exc))
    return Verification(valid=True, claims=claims, kid=kid, reason=f"signed by {kid} of union {iss}",
                        expired=claims.expired(now))


def read_claims(text: str) -> CertificateClaims:
    """The claims of a QR's text, its signature NOT checked: for the registry's own copy of what it signed."""
    try:
        return _claims(_cose_parts(_decompress(_unbase32(payload_from_qr_text(text))))[1])[2]
    except _Reject as exc:
        raise InvalidQr(str(exc)) from None


_B32_DIGITS = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789abcdefghijklmnopqrstuv")


def _unbase32(payload: str) -> bytes:
    """RFC 4648 base32 without padding, read as `base64.b32decode` reads it padded (tests/test_signing.py checks),
    but as one base-32 integer: 1 µs instead of 45 for a certificate. `payload` is uppercase base32
    (payload_from_qr_text checks)."""
    if len(payload) % 8 in (1, 3, 6):  # no padding can complete these
        raise _Reject("the payload is not valid base32")
    if not payload:
        return b""
    spare = len(payload) * 5 % 8  # the unused trailing bits, which must be zero
    value = int(payload.encode("ascii").translate(_B32_DIGITS), 32)
    if value & ((1 << spare) - 1):
        raise _Reject("the payload is not canonical base32")
    return (value >> spare).to_bytes(len(payload) * 5 // 8, "big")


def _decompress(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_COSE_BYTES)
    except zlib.error:
        raise _Reject("the payload is not zlib-compressed data") from None
    if inflater.unconsumed_tail:
        raise _Reject("the payload decompresses to more than a certificate can hold")
    if not inflater.eof or inflater.unused_data:
        raise _Reject("the payload is truncated or has trailing data")
    return out


def _cbor(data: bytes, what: str) -> Any:
    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(stream).decode()
    except cbor2.CBORDecodeError:
        raise _Reject(f"the {what} is not valid CBOR") from None
    if stream.tell() != len(data):
        raise _Reject(f"the {what} has trailing data")
    return value


def _cose_parts(data: bytes) -> tuple[bytes, bytes, bytes]:
    cose = _cbor(data, "payload")
    if not isinstance(cose, cbor2.CBORTag) or cose.tag != COSE_SIGN1_TAG:
        raise _Reject("the payload is not a COSE_Sign1 message (CBOR tag 18)")
    parts = cose.value
    if not (isinstance(parts, (list, tuple)) and len(parts) == 4):
        raise _Reject("the COSE_Sign1 message does not have four parts")
    protected, unprotected, body, signature = parts
    if not (isinstance(protected, bytes) and isinstance(unprotected, Mapping) and isinstance(body, bytes)):
        raise _Reject("the COSE_Sign1 headers or content are malformed")
    if not (isinstance(signature, bytes) and len(signature) == 64):
        raise _Reject("the signature is not a 64-byte Ed25519 signature")
    return protected, body, signature


def _kid(protected: bytes) -> str:
    header = _cbor(protected, "protected header")
    if not isinstance(header, Mapping):
        raise _Reject("the protected header is not a map")
    alg = header.get(HDR_ALG)
    if type(alg) is not int or alg != ALG_EDDSA:
        raise _Reject(f"unsupported signature algorithm {alg!r} (expected EdDSA, -8)")
    kid = header.get(HDR_KID)
    if not (isinstance(kid, bytes) and kid.isascii() and kid.decode("ascii").isprintable() and 0 < len(kid) <= 64):
        raise _Reject("the protected header carries no usable key ID")  # looked up before the signature is checked
    return kid.decode("ascii")


def _claims(body: bytes) -> tuple[str, int, CertificateClaims]:
    raw = _cbor(body, "claim set")
    if not isinstance(raw, Mapping):
        raise _Reject("the claim set is not a map")
    iss, iat, days, exp = raw.get(CWT_ISS), raw.get(CWT_IAT), raw.get(C_ISSUED_ON), raw.get(CWT_EXP)
    if not isinstance(iss, str) or type(iat) is not int or type(days) is not int:
        raise _Reject("the claim set lacks its issuer, issue time or issue date")
    if not (0 <= iat < 2**40 and 0 <= days < 2_900_000):
        raise _Reject("the issue time or issue date is out of range")
    if exp is not None and not (type(exp) is int and 0 <= exp < 2**40):  # absent: valid without end (before exp)
        raise _Reject("the end of validity (exp) is malformed or out of range")
    try:
        claims = CertificateClaims.model_validate(
            {
                "certificate_no": raw.get(C_NO),
                "certificate_type": raw.get(C_TYPE),
                "union": raw.get(C_UNION),
                "name_bn": raw.get(C_NAME_BN),
                "name_en": raw.get(C_NAME_EN),
                "issued_on": _EPOCH + timedelta(days=days),
                "content_hash": raw.get(C_HASH),
                "valid_until": None if exp is None else datetime.fromtimestamp(exp, UTC),
            },
            strict=True,
        )
    except ValidationError as exc:
        fields = ", ".join(str(err["loc"][0]) for err in exc.errors())
        raise _Reject(f"the claim set is malformed ({fields})") from None
    if claims.union != iss:
        raise _Reject(f"the certificate names union {claims.union!r} but was issued by {iss!r}")
    return iss, iat, claims


def _check_key_use(key: TrustedKey, iss: str, iat: int, now: datetime) -> None:
    if key.union != iss:
        raise _Reject(f"key {key.kid!r} belongs to union {key.union!r}, not to the issuer {iss!r}")
    if iat < int(key.not_before.timestamp()):
        raise _Reject(f"signed before key {key.kid!r} came into use")
    if key.not_after is not None and iat >= int(key.not_after.timestamp()):
        raise _Reject(f"signed after key {key.kid!r} was retired")
    if iat > (now + CLOCK_SKEW).timestamp():
        raise _Reject("the issue time is in the future")


# --- trust list (JWKS, RFC 7517 / RFC 8037) -------------------------------------------------------


def jwk(key: TrustedKey) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64.urlsafe_b64encode(key.public_raw).decode().rstrip("="),
        "kid": key.kid,
        "use": "sig",
        "alg": "EdDSA",
        "union": key.union,
        "nbf": int(key.not_before.timestamp()),
    }
    if key.not_after is not None:
        doc["exp"] = int(key.not_after.timestamp())
    return doc


def jwks(keys: Iterable[TrustedKey]) -> dict[str, list[dict[str, Any]]]:
    return {"keys": [jwk(key) for key in keys]}


def trusted_keys_from_jwks(doc: Mapping[str, Any]) -> dict[str, TrustedKey]:
    """The Ed25519 keys of a JWKS by kid; other key types are skipped, malformed entries raise ValueError."""
    entries = doc.get("keys") if isinstance(doc, Mapping) else None
    if not isinstance(entries, list) or not all(isinstance(entry, Mapping) for entry in entries):
        raise ValueError("a JWKS is an object whose `keys` is a list of objects")
    keys: dict[str, TrustedKey] = {}
    for entry in entries:
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        try:
            x = entry["x"]
            public_raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
            exp = entry.get("exp")
            key = TrustedKey(
                kid=str(entry["kid"]),
                union=str(entry["union"]),
                public_raw=public_raw,
                not_before=datetime.fromtimestamp(entry["nbf"], UTC),
                not_after=None if exp is None else datetime.fromtimestamp(exp, UTC),
            )
        except (KeyError, TypeError, ValueError, OverflowError, binascii.Error) as exc:
            raise ValueError(f"malformed key in the trust list: {exc!r}") from None
        if len(public_raw) != 32:
            raise ValueError(f"key {key.kid!r} is not a 32-byte Ed25519 public key")
        keys[key.kid] = key
    return keys


# --- revocation -----------------------------------------------------------------------------------

REVOCATION_LIST_TYPE = "sonod-revocation-list"


def revocation_hash(certificate_no: str) -> str:
    return hashlib.sha256(b"sonod-revocation-v1\x00" + certificate_no.encode()).digest()[:16].hex()


def revocation_list(certificate_nos: Iterable[str], generated_at: datetime) -> dict[str, Any]:
    return {
        "type": REVOCATION_LIST_TYPE,
        "generated_at": generated_at.isoformat(),
        "hashes": sorted({revocation_hash(no) for no in certificate_nos}),
    }


def is_revoked(certificate_no: str, revocation_list_doc: Mapping[str, Any]) -> bool:
    if revocation_list_doc.get("type") != REVOCATION_LIST_TYPE:
        raise ValueError("not a sonod revocation list")
    return revocation_hash(certificate_no) in set(revocation_list_doc.get("hashes", []))
