"""Officers' credentials: argon2 password hashes, TOTP, and short-lived signed tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sonod.bengali import to_ascii_digits

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def totp_step(secret: str, code: str, at: dt.datetime | None = None) -> int | None:
    """The 30-second step whose code this is, one step of clock drift either way allowed; None if none matches.

    The caller keeps the last step used, so that a code works once (RFC 6238, section 5.2). The code may be typed
    in Bengali digits or with spaces; anything else that is not its digits (letters, other scripts, another length)
    matches no step, as a wrong code does."""
    totp, code = pyotp.TOTP(secret), "".join(to_ascii_digits(code).split())
    if len(code) != totp.digits or not (code.isascii() and code.isdigit()):
        return None
    now = totp.timecode(at or dt.datetime.now(dt.UTC))
    for step in (now, now - 1, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def issue_token(secret: str, *, username: str, session_id: str, expires_at: dt.datetime) -> str:
    return jwt.encode({"sub": username, "sid": session_id, "exp": expires_at}, secret, algorithm="HS256")


def read_token(secret: str, token: str) -> dict:
    """The claims of a valid token; raises jwt.InvalidTokenError otherwise."""
    return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "sid", "exp"]})


def hash_api_key(key: str) -> str:
    """How a portal's API key is stored: SHA-256 is enough for a random 256-bit key (no password to guess)."""
    return hashlib.sha256(key.encode()).hexdigest()


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def same_signature(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.lower(), given.strip().lower())
