"""What a verifier with no network keeps: the signed trust list and the signed status lists (docs/CERTIFICATES.md).

- **Trust list**: compact JWS, ES256 by the sonod root (sonod/pki.py), header `typ` `sonod-trust-list+jws`; payload
  `{"iss": "sonod-root", "iat", "next_update", "keys": [every JWK of /.well-known/jwks.json]}`. A verifier pins
  the root's public JWK and takes no union key that this signature does not vouch for.
- **Status list**, one per union and year: compact JWS, EdDSA by the union's current signing key (one the trust
  list holds), `typ` `sonod-status-list+jws`; payload `{"iss": <union>, "year", "iat", "next_update", "size",
  "bits": base64url(gzip(bitstring))}`. Bit i is the certificate of sequence number i (its number is
  `<UNION>-<YEAR>-<SEQ>`), W3C Bitstring Status List order: byte i // 8, mask 0x80 >> i % 8; 1 is revoked.
  At least `MIN_BITS` bits (the W3C's 16 KB), so that a list says nothing of how many certificates a union issued;
  gzip makes that about 60 bytes.

api/static/verify-offline.js makes the same checks in the browser; tests/test_offline.py and tests/ui hold both
to the same answers.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256

from sonod.signing import TrustedKey, Verification, _signature_matches, trusted_keys_from_jwks, verify_qr_text

TRUST_LIST_TYP = "sonod-trust-list+jws"
STATUS_LIST_TYP = "sonod-status-list+jws"
ROOT_ISSUER = "sonod-root"
MIN_BITS = 131_072  # 16 KB, the W3C Bitstring Status List's minimum: herd privacy
MAX_BITS = 1 << 24  # 2 MB: more certificates than a union issues in a year, and a cap on a gzip bomb
TRUST_LIST_TTL = timedelta(days=1)  # next_update = iat + this
STATUS_LIST_TTL = timedelta(days=1)
MAX_JWS_CHARS = 4_000_000
_NUMBER = re.compile(r"([A-Z0-9][A-Z0-9-]{0,39})-(\d{4})-(\d{6,9})(?:-EN)?")  # -EN: an English certificate


class ListError(ValueError):
    """A trust list or status list that is malformed or not signed by whom it must be."""


class Verdict(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    INVALID = "invalid"


# --- compact JWS (RFC 7515) ---------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ListError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact(header: Mapping[str, Any], payload: Mapping[str, Any], sign: Callable[[bytes], bytes]) -> str:
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{head}.{body}.{b64url(sign(f'{head}.{body}'.encode('ascii')))}"


@dataclass(frozen=True)
class _Parts:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _split(token: str, typ: str) -> _Parts:
    if not isinstance(token, str) or len(token) > MAX_JWS_CHARS or token.count(".") != 2:
        raise ListError("not a compact JWS")
    head, body, sig = token.strip().split(".")
    try:
        header, payload = json.loads(unb64url(head)), json.loads(unb64url(body))
    except (ValueError, UnicodeDecodeError):
        raise ListError("the JWS header or payload is not JSON") from None
    if not (isinstance(header, dict) and isinstance(payload, dict)):
        raise ListError("the JWS header or payload is not an object")
    if header.get("typ") != typ:
        raise ListError(f"not a {typ} (typ {header.get('typ')!r})")
    if "crit" in header:
        raise ListError("the JWS has critical header parameters this verifier does not know")
    return _Parts(header, payload, f"{head}.{body}".encode("ascii"), unb64url(sig))


def _times(payload: Mapping[str, Any]) -> tuple[datetime, datetime]:
    iat, next_update = payload.get("iat"), payload.get("next_update")
    if not (type(iat) is int and type(next_update) is int and 0 <= iat <= next_update < 2**40):
        raise ListError("iat and next_update must be whole seconds, next_update not before iat")
    return datetime.fromtimestamp(iat, UTC), datetime.fromtimestamp(next_update, UTC)


# --- the trust list, signed by the root -----------------------------------------------------------------


@dataclass(frozen=True)
class TrustList:
    iat: datetime
    next_update: datetime
    keys: dict[str, TrustedKey]


def trust_list_jws(jwks_keys: list[dict[str, Any]], root_kid: str, sign_es256: Callable[[bytes], bytes],
                   now: datetime) -> str:
    """The JWKS's keys signed by the root; `sign_es256` gives raw r||s (64 bytes)."""
    iat = int(now.timestamp())
    payload = {"iss": ROOT_ISSUER, "iat": iat, "next_update": iat + int(TRUST_LIST_TTL.total_seconds()),
               "keys": jwks_keys}
    return _compact({"alg": "ES256", "kid": root_kid, "typ": TRUST_LIST_TYP}, payload, sign_es256)


def root_key(root_jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """The pinned root's public key from its JWK (EC P-256)."""
    if root_jwk.get("kty") != "EC" or root_jwk.get("crv") != "P-256" or not isinstance(root_jwk.get("kid"), str):
        raise ListError("the pinned root is not an EC P-256 JWK with a kid")
    try:
        x, y = (int.from_bytes(unb64url(root_jwk[c]), "big") for c in ("x", "y"))
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, ValueError) as exc:
        raise ListError(f"the pinned root's JWK is malformed: {exc}") from None


def read_trust_list(token: str, root_jwk: Mapping[str, Any]) -> TrustList:
    """The union keys of a trust list, after checking its ES256 signature against the pinned root."""
    parts = _split(token, TRUST_LIST_TYP)
    if parts.header.get("alg") != "ES256" or parts.header.get("kid") != root_jwk.get("kid"):
        raise ListError("the trust list is not signed (ES256) by the pinned root's kid")
    if len(parts.signature) != 64:
        raise ListError("an ES256 signature is 64 bytes (r||s)")
    der = encode_dss_signature(int.from_bytes(parts.signature[:32], "big"), int.from_bytes(parts.signature[32:], "big"))
    try:
        root_key(root_jwk).verify(der, parts.signing_input, ec.ECDSA(SHA256()))
    except InvalidSignature:
        raise ListError("the trust list's signature does not match the pinned root") from None
    if parts.payload.get("iss") != ROOT_ISSUER:
        raise ListError("the trust list's issuer is not the sonod root")
    iat, next_update = _times(parts.payload)
    try:
        keys = trusted_keys_from_jwks({"keys": parts.payload.get("keys")})
    except ValueError as exc:
        raise ListError(str(exc)) from None
    return TrustList(iat, next_update, keys)


# --- status lists, signed by each union ------------------------------------------------------------------


@dataclass(frozen=True)
class StatusList:
    union: str
    year: int
    iat: datetime
    next_update: datetime
    size: int
    bits: bytes

    def revoked(self, seq: int) -> bool:
        """Bit `seq`; a sequence number past the list's end is of a certificate issued after it: not revoked."""
        return 0 <= seq < self.size and bool(self.bits[seq // 8] & (0x80 >> seq % 8))


def list_size(highest_seq: int) -> int:
    return max(MIN_BITS, (highest_seq + 8) // 8 * 8)


def bitstring(revoked: Iterable[int], size: int) -> bytes:
    bits = bytearray(size // 8)
    for seq in revoked:
        bits[seq // 8] |= 0x80 >> seq % 8
    return bytes(bits)


def status_list_jws(union: str, year: int, revoked: Iterable[int], highest_seq: int, kid: str, private_raw: bytes,
                    now: datetime) -> str:
    size, iat = list_size(highest_seq), int(now.timestamp())
    payload = {"iss": union, "year": year, "iat": iat, "next_update": iat + int(STATUS_LIST_TTL.total_seconds()),
               "size": size, "bits": b64url(gzip.compress(bitstring(revoked, size), 9, mtime=0))}
    key = Ed25519PrivateKey.from_private_bytes(private_raw)
    return _compact({"alg": "EdDSA", "kid": kid, "typ": STATUS_LIST_TYP}, payload, key.sign)


def read_status_list(token: str, keys: Mapping[str, TrustedKey]) -> StatusList:
    """A status list after checking its signature against the union's key in the (already checked) trust list."""
    parts = _split(token, STATUS_LIST_TYP)
    kid, payload = parts.header.get("kid"), parts.payload
    key = keys.get(kid) if isinstance(kid, str) else None
    if parts.header.get("alg") != "EdDSA" or key is None:
        raise ListError(f"the status list is not signed (EdDSA) by a key of the trust list (kid {kid!r})")
    if len(parts.signature) != 64 or not _signature_matches(key.public_raw, parts.signature, parts.signing_input):
        raise ListError("the status list's signature does not match its union's key")
    union, year, size = payload.get("iss"), payload.get("year"), payload.get("size")
    if union != key.union:
        raise ListError(f"key {kid!r} belongs to union {key.union!r}, not to the issuer {union!r}")
    if not (type(year) is int and 1970 <= year <= 9999 and type(size) is int and 0 < size <= MAX_BITS
            and size % 8 == 0):
        raise ListError("the status list's year or size is malformed")
    iat, next_update = _times(payload)
    signed_at = int(iat.timestamp())  # whole seconds, as a QR's iat is compared (sonod.signing._check_key_use)
    if signed_at < int(key.not_before.timestamp()) or (key.not_after and signed_at >= int(key.not_after.timestamp())):
        raise ListError(f"the status list was signed outside key {kid!r}'s time of use")
    try:
        inflater = zlib.decompressobj(wbits=31)  # gzip
        bits = inflater.decompress(unb64url(payload.get("bits", "")), size // 8 + 1)
    except (zlib.error, ListError):
        raise ListError("the status list's bits are not gzip in base64url") from None
    if len(bits) != size // 8 or not inflater.eof:
        raise ListError("the status list's bits do not hold `size` bits")
    return StatusList(union, year, iat, next_update, size, bits)


def number_parts(certificate_no: str) -> tuple[str, int, int]:
    """(union, year, sequence number) of `<UNION>-<YEAR>-<SEQ>` (or of its English certificate's, `...-EN`, which
    shares the Bengali one's bit: they are revoked together); ValueError if it is not one."""
    match = _NUMBER.fullmatch(certificate_no)
    if match is None:
        raise ValueError(f"{certificate_no!r} is not a certificate number <UNION>-<YEAR>-<SEQ>")
    return match.group(1).lower(), int(match.group(2)), int(match.group(3))


# --- the verdict ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    reason: str
    result: Verification
    status_list: StatusList | None  # the list that spoke for the certificate
    decided: bool = True  # False: genuine, but no cached status list can say whether it is revoked


def judge(text: str, trust: TrustList, status_lists: Mapping[tuple[str, int], StatusList],
          now: datetime) -> Answer:
    """valid, revoked, expired or invalid from the cached lists alone."""
    result = verify_qr_text(text, trust.keys.get, now)
    claims = result.claims
    if not result.valid or claims is None:
        return Answer(Verdict.INVALID, result.reason, result, None)
    try:
        union, year, seq = number_parts(claims.certificate_no)
    except ValueError as exc:
        return Answer(Verdict.INVALID, str(exc), result, None)
    if union != claims.union:
        return Answer(Verdict.INVALID, f"the number {claims.certificate_no} is not of union {claims.union}",
                      result, None)
    listed = status_lists.get((union, year))
    if listed is None:
        return Answer(Verdict.INVALID, f"no status list of {union} {year} is cached, so revocation cannot be "
                      "checked: refresh the lists", result, None, decided=False)
    if listed.revoked(seq):
        return Answer(Verdict.REVOKED, f"revoked by the union (status list of {listed.iat:%Y-%m-%d %H:%M} UTC)",
                      result, listed)
    if result.expired:
        return Answer(Verdict.EXPIRED, f"genuine, but its signed validity ended at {claims.valid_until}",
                      result, listed)
    return Answer(Verdict.VALID, "signed by the union's key, vouched for by the sonod root, and not revoked",
                  result, listed)


def age(then: datetime, now: datetime) -> str:
    """`3 h 05 min`, `2 d 4 h`: how old a list is."""
    seconds = max(0, int((now - then).total_seconds()))
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    return f"{days} d {hours} h" if days else f"{hours} h {minutes:02d} min"

