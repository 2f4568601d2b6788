"""Checking a QR: the signature against the unions' keys, then the registry for revocation.

`Verifier.check` is the whole of `POST /api/v1/verify` and of the `/verify` page. The signature is checked on
every request (nothing is cached by QR text); what the registry says of a certificate comes from memory:

- what never changes once a certificate is issued (its union, type and content hash) and the unions' names, read
  from the database the first time a certificate is verified, then kept (up to `CAPACITY` certificates);
- the unions' public keys (`KeyStore.known`), all read at start-up and whenever a rotation happened;
- every revoked certificate, with its time and reason.

Revocations, and how fresh the answer is:
- **made through this process** (the API's revoke, the dashboard's): the revoking session's commit puts the
  revocation in memory (`watch`, an SQLAlchemy `after_commit` hook) before the revoke's answer is sent, so every
  verification that starts after it says revoked;
- **made by another process** (another API replica): every `REFRESH_S` the refresher counts the revoked
  certificates in the database (an index of the revoked ones only) and reloads them when the count changed since
  its last pass. Revocations are never undone, so the count tells exactly whether one is new, whatever the clocks;
- **bounded even when the refresher falls behind**: when the last refresh that succeeded began more than
  `MAX_AGE_S` ago (the database is slow or down, the process starts), every answer reads its certificate's row,
  as if nothing were in memory. A revocation committed elsewhere shows within `REFRESH_S` plus one refresh
  query, and never later than `MAX_AGE_S`.

A retired key's end of validity reaches memory within `REFRESH_S` too (a rotation changes the count of keys); a
union's renaming shows within `UNIONS_RELOAD_S` (names are for display).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from anyio import to_thread
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.schemas import VerifyOut, VerifyStatus
from sonod import db
from sonod.bengali import DHAKA
from sonod.catalogue import BY_CODE
from sonod.keys import KeyStore
from sonod.signing import CertificateClaims, TrustedKey, Verification, verify_qr_text

log = logging.getLogger("sonod.verify")

REFRESH_S = 2.0  # revocations and key rotations made by other processes are looked for this often
MAX_AGE_S = 10.0  # past this without a refresh, answers read the registry
UNIONS_RELOAD_S = 300.0
CAPACITY = 100_000  # certificates whose unchanging facts are kept (about 300 bytes each); the oldest go first
UNKNOWN_KIDS = 10_000  # key IDs known not to exist, until the next change of the keys

VALID_REASON = "signed by the union's key and not revoked"
NOT_IN_REGISTRY = "the signature is genuine but no such certificate is in the registry"
CONTENT_MISMATCH = "the certificate's content does not match"
EXPIRED_REASON = "genuine, but its signed validity ended"


@dataclass(frozen=True, slots=True)
class Issued:
    """What the registry says of an issued certificate and never changes."""

    union: str
    certificate_type: str
    content_hash: str | None


@dataclass(frozen=True, slots=True)
class Revocation:
    at: datetime
    reason: str | None
    superseded_by: str | None = None  # the correction's number, when a correction revoked it


@dataclass(frozen=True, slots=True)
class UnionNames:
    name_bn: str
    name_en: str
    upazila_bn: str
    district_bn: str


@dataclass(frozen=True, slots=True)
class Row:
    """One read of a certificate's row, joined with its union."""

    issued: Issued
    revocation: Revocation | None
    union: UnionNames | None


_ROW = (select(db.Certificate.union_slug, db.Certificate.certificate_type, db.Certificate.content_hash,
               db.Certificate.revoked_at, db.Certificate.revoke_reason, db.Certificate.superseded_by,
               db.Union.name_bn, db.Union.name_en,
               db.Union.upazila_bn, db.Union.district_bn)
        .outerjoin(db.Union, db.Union.slug == db.Certificate.union_slug))
_COUNTS = select(
    select(func.count()).select_from(db.Certificate).where(db.Certificate.revoked_at.is_not(None)).scalar_subquery(),
    select(func.count()).select_from(db.SigningKey).scalar_subquery(),
    select(func.count(db.SigningKey.not_after)).scalar_subquery())
_REVOKED = select(db.Certificate.certificate_no, db.Certificate.revoked_at, db.Certificate.revoke_reason,
                  db.Certificate.superseded_by).where(db.Certificate.revoked_at.is_not(None))
_KEYS = select(db.SigningKey.kid, db.SigningKey.union_slug, db.SigningKey.public_key, db.SigningKey.not_before,
               db.SigningKey.not_after)  # as TrustedKey orders them; not the sealed private key
_UNIONS = select(db.Union.slug, db.Union.name_bn, db.Union.name_en, db.Union.upazila_bn, db.Union.district_bn)


class Verifier:
    """The registry facts verification needs, in memory, and the refresher that keeps them current."""

    def __init__(self, engine: Engine, keys: KeyStore, refresh_s: float = REFRESH_S,
                 max_age_s: float = MAX_AGE_S) -> None:
        self.reads = sessionmaker(engine)  # a read-only engine: no write lock, no waiting for writers
        self.keys, self.refresh_s, self.max_age_s = keys, refresh_s, max_age_s
        self.issued: dict[str, Issued] = {}
        self.revoked: dict[str, Revocation] = {}
        self.unions: dict[str, UnionNames] = {}
        self.unknown_kids: set[str] = set()
        self.synced: float | None = None  # time.monotonic() when the last successful refresh began
        self.revoked_count: int | None = None  # revoked certificates in the database at the last refresh
        self.key_counts: tuple[int, int] | None = None  # keys, retired keys
        self.filling = threading.Lock()
        self.unions_at = float("-inf")

    # --- the answer ---------------------------------------------------------------------------------------

    async def check(self, qr: str) -> VerifyOut:
        """valid, revoked, expired or invalid, with the reason; never raises on bad input."""
        missing: list[str] = []
        result = verify_qr_text(qr, lambda kid: self._key(kid, missing))
        if missing:  # a key not in memory: read it, then check again
            await to_thread.run_sync(self._load_key, missing[0])
            result = verify_qr_text(qr, self.keys.known)
        if not result.valid or result.claims is None:
            return _answer("invalid", None, result.reason)
        claims = result.claims
        issued, revocation = self.issued.get(claims.certificate_no), None
        if issued is None or self.stale():
            row = await to_thread.run_sync(self._load_certificate, claims.certificate_no)
            if row is None:
                return _answer("invalid", None, NOT_IN_REGISTRY)
            issued, revocation = row.issued, row.revocation
        return self._judge(claims, result, issued, revocation or self.revoked.get(claims.certificate_no))

    def _judge(self, claims: CertificateClaims, result: Verification, issued: Issued,
               revocation: Revocation | None) -> VerifyOut:
        if issued.union != claims.union or issued.certificate_type != claims.certificate_type:
            return _answer("invalid", None, NOT_IN_REGISTRY)
        if issued.content_hash and issued.content_hash != claims.content_hash.hex():
            return _answer("invalid", None, CONTENT_MISMATCH)
        union = self.unions.get(claims.union)
        kind = BY_CODE.get(claims.certificate_type)
        certificate = {
            "certificate_no": claims.certificate_no, "certificate_type": claims.certificate_type,
            "certificate_type_name_bn": kind.name_bn if kind else None,
            "certificate_type_name_en": kind.name_en if kind else None,
            "union": claims.union, "union_name_bn": union.name_bn if union else None,
            "union_name_en": union.name_en if union else None,
            "upazila_name_bn": union.upazila_bn if union else None,
            "district_name_bn": union.district_bn if union else None,
            "name_bn": claims.name_bn, "name_en": claims.name_en, "issued_on": claims.issued_on.isoformat(),
            "valid_until": valid_until(claims), "kid": result.kid,
        }
        if revocation is not None:  # revoked wins over expired: the union withdrew it, whatever its validity
            certificate["revoked_at"], certificate["revoke_reason"] = revocation.at.isoformat(), revocation.reason
            if revocation.superseded_by:  # a correction replaced it: the verifier is pointed to the new one
                certificate["superseded_by"] = revocation.superseded_by
            return _answer("revoked", certificate, f"revoked by the union: {revocation.reason or 'no reason given'}")
        if result.expired:
            return _answer("expired", certificate, f"{EXPIRED_REASON} on {certificate['valid_until']}")
        return _answer("valid", certificate, VALID_REASON)

    def stale(self) -> bool:
        """Has no refresh succeeded for `max_age_s`? Then the revocations in memory may miss some."""
        return self.synced is None or time.monotonic() - self.synced > self.max_age_s

    # --- what memory lacks, from the database (in a worker thread) ------------------------------------------

    def _key(self, kid: str, missing: list[str]) -> TrustedKey | None:
        key = self.keys.known(kid)
        if key is None and kid not in self.unknown_kids:
            missing.append(kid)
        return key

    def _load_key(self, kid: str) -> None:
        with self.reads() as session:
            found = self.keys.lookup(kid, session)
        if found is None and len(self.unknown_kids) < UNKNOWN_KIDS:
            self.unknown_kids.add(kid)

    def _load_certificate(self, certificate_no: str) -> Row | None:
        with self.reads() as session:
            found = session.execute(_ROW.where(db.Certificate.certificate_no == certificate_no)).first()
        if found is None:
            return None
        slug, kind, digest, revoked_at, reason, superseded_by, *names = found
        row = Row(Issued(sys.intern(slug), sys.intern(kind), digest),
                  Revocation(revoked_at, reason, superseded_by) if revoked_at else None,
                  UnionNames(*names) if names[0] is not None else None)
        if row.union is not None:
            self.unions[slug] = row.union
        if row.revocation is not None:
            self.revoked[certificate_no] = row.revocation
        if digest is not None:  # fully issued: nothing of it changes any more (but its revocation)
            with self.filling:  # misses fill in several threads; the oldest goes first
                if len(self.issued) >= CAPACITY:
                    self.issued.pop(next(iter(self.issued)), None)
                self.issued[certificate_no] = row.issued
        return row

    # --- keeping memory current -----------------------------------------------------------------------------

    def revoked_here(self, certificate_no: str, revocation: Revocation) -> None:
        """A revocation this process committed: it shows from now on."""
        self.revoked[certificate_no] = revocation

    def refresh(self) -> None:
        """One pass of the refresher: reload what changed in the database since the last pass."""
        began = time.monotonic()
        with self.reads() as session:
            revoked, keys, retired = session.execute(_COUNTS).one()
            # Revocations are never undone and rows never deleted: the same count as at the last pass is the same
            # set of revoked certificates, which memory holds already. Another count: read them all again.
            if revoked != self.revoked_count:
                for no, at, reason, superseded_by in session.execute(_REVOKED):
                    assert at is not None, "_REVOKED selects revoked certificates only"
                    self.revoked[no] = Revocation(at, reason, superseded_by)
                self.revoked_count = revoked
            if (keys, retired) != self.key_counts:  # a rotation adds a key and retires one
                self.keys.reload([TrustedKey(*row) for row in session.execute(_KEYS)])
                self.unknown_kids = set()
                self.key_counts = (keys, retired)
            if began - self.unions_at > UNIONS_RELOAD_S:
                names = {slug: UnionNames(*names) for slug, *names in session.execute(_UNIONS)}
                self.unions = {**self.unions, **names}
                self.unions_at = began
        self.synced = began

    async def run(self) -> None:
        """The refresher: `refresh` every `refresh_s`, in a worker thread, until cancelled."""
        while True:
            try:
                await to_thread.run_sync(self.refresh)
            except Exception:  # the database may be away; answers read it while memory is stale
                log.warning("could not refresh the revocations from the database", exc_info=True)
            await asyncio.sleep(self.refresh_s)


def valid_until(claims: CertificateClaims) -> str | None:
    """The end of the signed validity (CWT `exp`) in Bangladesh time, ISO 8601; None for no end."""
    return claims.valid_until.astimezone(DHAKA).isoformat() if claims.valid_until else None


def _answer(status: VerifyStatus, certificate: dict | None, reason: str) -> VerifyOut:
    return VerifyOut.model_construct(status=status, certificate=certificate, reason=reason)


# --- revocations committed by this process ----------------------------------------------------------------

_PENDING = "sonod.verify.revoked"


def watch(sessions: sessionmaker, verifier: Verifier) -> None:
    """Tell `verifier` of every revocation that a session of `sessions` commits, as it commits."""

    @event.listens_for(sessions, "after_flush")
    def _flushed(session: Session, _context) -> None:
        for row in (*session.new, *session.dirty):
            if isinstance(row, db.Certificate) and row.revoked_at is not None:
                session.info.setdefault(_PENDING, {})[row.certificate_no] = Revocation(
                    row.revoked_at, row.revoke_reason, row.superseded_by)

    @event.listens_for(sessions, "after_commit")
    def _committed(session: Session) -> None:
        for no, revocation in session.info.pop(_PENDING, {}).items():
            verifier.revoked_here(no, revocation)

    @event.listens_for(sessions, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop(_PENDING, None)
