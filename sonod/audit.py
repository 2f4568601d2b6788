"""The tamper-evident audit log: one chain per union, and one (`DEPLOYMENT`) for what belongs to no union.

Each entry's MAC (stored in `audit_log.hash`) is HMAC-SHA256, under the audit key, of the entry's content and the
previous entry's MAC. The audit key is derived (HKDF-SHA256) from SONOD_MASTER_KEY, which the database does not hold:
someone who can write the database but has not the master key cannot edit an entry and recompute the chain after it.

Deleting the newest entries leaves a shorter chain that is still consistent, so the head of each chain is
checkpointed: (chain, seq, MAC, time), signed with the union's current Ed25519 signing key (the one whose public half
is in /.well-known/jwks.json), or, for the deployment's chain, MACed with the audit key. sonod checkpoints a chain
every CHECKPOINT_EVERY entries and whenever `sonod audit checkpoint` runs (run it from cron), stores the checkpoints and
publishes them at GET /api/v1/audit/checkpoints?union=<slug>. Whoever keeps them can later run
`sonod audit verify --checkpoints FILE` against the database: an entry deleted or rewritten since shows.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select, text, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sonod import db

GENESIS = "0" * 64
# The chain of what belongs to no union: operators' and upazila officers' log-ins, ops verbs, deployment keys.
DEPLOYMENT = "deployment"
CHECKPOINT_EVERY = 50  # entries; `sonod audit checkpoint` makes one at any time
CHECKPOINT_TYPE = "sonod-audit-checkpoint/1"
_KEY_INFO = b"sonod audit log v1"


@functools.cache
def audit_key(master_key_b64: str) -> bytes:
    """The audit log's HMAC key, derived from the master key (HKDF-SHA256, its own `info`)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt=None, info=_KEY_INFO).derive(base64.b64decode(master_key_b64))


def _master_key() -> str:
    from sonod.settings import get_settings

    return get_settings().master_key


def content(*, union: str, seq: int, at: dt.datetime, actor: str, role: str, action: str, target: str,
            detail: Any, ip: str | None, prev: str) -> dict:
    """What an entry's MAC covers."""
    return {"union": union, "seq": seq, "at": at.astimezone(dt.UTC).isoformat(), "actor": actor, "role": role,
            "action": action, "target": target, "detail": detail, "ip": ip, "prev": prev}


def content_mac(key: bytes, content: Mapping[str, Any]) -> str:
    return hmac.new(key, json.dumps(content, sort_keys=True, ensure_ascii=False).encode(), hashlib.sha256).hexdigest()


def entry_mac(key: bytes, prev: str, e: db.AuditEntry) -> str:
    return content_mac(key, content(union=e.union_slug, seq=e.seq, at=e.at, actor=e.actor, role=e.role,
                                    action=e.action, target=e.target, detail=e.detail, ip=e.ip, prev=prev))


def record(session: Session, *, union: str, actor: str, role: str, action: str, target: str,
           detail: dict | None = None, ip: str | None = None) -> db.AuditEntry:
    """Append to the chain `union` (a union's slug, or DEPLOYMENT), in the caller's transaction.

    PostgreSQL serialises the appenders of a chain on an advisory lock; SQLite, whose writers hold the database's
    write lock, retries on the (chain, seq) unique constraint."""
    for _ in range(20):
        try:
            with session.begin_nested():
                entry = _append(session, union, actor, role, action, target, detail or {}, ip)
                if entry.seq % CHECKPOINT_EVERY == 0:
                    make_checkpoint(session, union)
                return entry
        except IntegrityError:
            continue
    raise RuntimeError(f"could not append to the audit log of {union}")


def _lock(session: Session, chain: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        lock_id = int.from_bytes(hashlib.sha256(f"sonod-audit:{chain}".encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _head(session: Session, chain: str) -> db.AuditEntry | None:
    return session.scalars(select(db.AuditEntry).where(db.AuditEntry.union_slug == chain)
                           .order_by(db.AuditEntry.seq.desc()).limit(1)).first()


def _append(session: Session, union: str, actor: str, role: str, action: str, target: str, detail: dict,
            ip: str | None) -> db.AuditEntry:
    _lock(session, union)
    last = _head(session, union)
    entry = db.AuditEntry(union_slug=union, seq=(last.seq + 1) if last else 1, at=db.utcnow(), actor=actor,
                          role=role, action=action, target=target, detail=detail, ip=ip,
                          prev_hash=last.hash if last else GENESIS)
    entry.hash = entry_mac(audit_key(_master_key()), entry.prev_hash, entry)
    session.add(entry)
    session.flush()
    return entry


# --- checkpoints ---------------------------------------------------------------------------------------------


def signed_text(chain: str, seq: int, mac: str, at: dt.datetime) -> str:
    """The exact text a checkpoint's signature covers (canonical JSON)."""
    return json.dumps({"typ": CHECKPOINT_TYPE, "chain": chain, "seq": seq, "mac": mac,
                       "at": at.astimezone(dt.UTC).isoformat(timespec="seconds")},
                      sort_keys=True, separators=(",", ":"))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def make_checkpoint(session: Session, chain: str) -> db.AuditCheckpoint | None:
    """Sign the chain's head now; the latest checkpoint if it is already at the head; None for an empty chain."""
    head = _head(session, chain)
    if head is None:
        return None
    latest = latest_checkpoint(session, chain)
    if latest is not None and latest.seq == head.seq:
        return latest
    at = db.utcnow().replace(microsecond=0)
    message = signed_text(chain, head.seq, head.hash, at).encode()
    master = _master_key()
    if session.get(db.Union, chain) is not None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from sonod.keys import KeyStore
        from sonod.signing import open_private_key

        key = KeyStore(None, master).ensure(session, chain, at)
        private = open_private_key(key.sealed_private_key, base64.b64decode(master), key.kid)
        alg, kid, signature = "EdDSA", key.kid, Ed25519PrivateKey.from_private_bytes(private).sign(message)
    else:  # the deployment's chain (or a union gone): the audit key's MAC, checkable by whoever holds the key
        alg, kid, signature = "HS256", None, hmac.new(audit_key(master), message, hashlib.sha256).digest()
    checkpoint = db.AuditCheckpoint(chain=chain, seq=head.seq, mac=head.hash, at=at, alg=alg, kid=kid,
                                    signature=_b64(signature))
    session.add(checkpoint)
    session.flush()
    return checkpoint


def latest_checkpoint(session: Session, chain: str) -> db.AuditCheckpoint | None:
    return session.scalars(select(db.AuditCheckpoint).where(db.AuditCheckpoint.chain == chain)
                           .order_by(db.AuditCheckpoint.seq.desc()).limit(1)).first()


def checkpoints(session: Session, chain: str, after_seq: int = 0, limit: int = 1000) -> list[db.AuditCheckpoint]:
    return list(session.scalars(select(db.AuditCheckpoint)
                                .where(db.AuditCheckpoint.chain == chain, db.AuditCheckpoint.seq > after_seq)
                                .order_by(db.AuditCheckpoint.seq).limit(limit)))


def published(cp: db.AuditCheckpoint) -> dict:
    """A checkpoint as GET /api/v1/audit/checkpoints publishes it: positions, MACs and times, nothing personal."""
    return {"chain": cp.chain, "seq": cp.seq, "mac": cp.mac,
            "at": cp.at.astimezone(dt.UTC).isoformat(timespec="seconds"), "alg": cp.alg, "kid": cp.kid,
            "signed": signed_text(cp.chain, cp.seq, cp.mac, cp.at),
            "signature": cp.signature}


def _signature_holds(session: Session, chain: str, cp: Mapping[str, Any]) -> bool:
    try:
        message, signature = cp["signed"].encode(), _unb64(cp["signature"])
        if cp.get("alg") == "HS256":
            return hmac.compare_digest(hmac.new(audit_key(_master_key()), message, hashlib.sha256).digest(), signature)
        key = session.get(db.SigningKey, cp.get("kid") or "")
        if cp.get("alg") != "EdDSA" or key is None or key.union_slug != chain:
            return False
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


# --- verification --------------------------------------------------------------------------------------------


def verify(session: Session, chain: str, kept: Iterable[Mapping[str, Any]] = ()) -> list[str]:
    """Problems found in the chain, checked with the audit key, against its stored checkpoints and against `kept`
    (checkpoints as published, kept outside); empty when it is intact."""
    problems: dict[str, None] = {}  # in order, each once
    anchors: list[tuple[int, str, str]] = []  # (seq, mac, when) of every checkpoint whose signature holds
    for cp in [published(row) for row in checkpoints(session, chain, limit=10**9)] + list(kept):
        try:
            signed = json.loads(cp["signed"])
        except (KeyError, TypeError, ValueError):
            signed = None
        if not isinstance(signed, dict) or signed.get("chain") != chain:
            if isinstance(signed, dict) and signed.get("chain") is not None:
                continue  # another chain's checkpoint
            problems["a checkpoint cannot be read"] = None
            continue
        if signed.get("typ") != CHECKPOINT_TYPE or not _signature_holds(session, chain, cp):
            problems[f"the checkpoint of entry {signed.get('seq')} ({signed.get('at')}) has a bad signature: "
                     "forged or altered"] = None
            continue
        anchors.append((int(signed["seq"]), str(signed["mac"]), str(signed["at"])))

    key = audit_key(_master_key())
    wanted = {seq for seq, _, _ in anchors}
    seen: dict[int, str] = {}
    prev, expected_seq, last_seq = GENESIS, 1, 0
    for e in session.scalars(select(db.AuditEntry).where(db.AuditEntry.union_slug == chain)
                             .order_by(db.AuditEntry.seq).execution_options(yield_per=1000)):
        if e.seq != expected_seq:
            problems[f"entry {expected_seq} is missing (next is {e.seq})"] = None
        if e.prev_hash != prev:
            problems[f"entry {e.seq} does not follow the previous entry's MAC"] = None
        if not hmac.compare_digest(entry_mac(key, e.prev_hash, e), e.hash):
            problems[f"entry {e.seq} was edited "
                     "(its MAC does not match: changed, or recomputed without the key)"] = None
        if e.seq in wanted:
            seen[e.seq] = e.hash
        prev, expected_seq, last_seq = e.hash, e.seq + 1, e.seq
    for seq, mac, at in sorted(anchors):
        if seq > last_seq:
            gone = f"entry {seq} was" if seq == last_seq + 1 else f"entries {last_seq + 1} to {seq} were"
            problems[f"{gone} deleted (the checkpoint of {at} saw entry {seq})"] = None
        elif seen.get(seq) != mac:
            problems[f"entry {seq} is not the one the checkpoint of {at} saw: rewritten or removed since"] = None
    return list(problems)


def chains(session: Session) -> list[str]:
    """Every chain: each union's, the deployment's, and any other that has entries."""
    names = session.scalars(union(select(db.Union.slug), select(db.AuditEntry.union_slug)))
    return sorted(set(names) | {DEPLOYMENT})


def count(session: Session, union: str) -> int:
    return session.scalar(select(func.count()).select_from(db.AuditEntry).where(db.AuditEntry.union_slug == union)) or 0
