"""The tamper-evident audit log: per union, each entry's hash covers its content and the previous hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sonod import db

GENESIS = "0" * 64
# The chain of what belongs to no union: operators' and upazila officers' log-ins, ops verbs, deployment keys.
DEPLOYMENT = "deployment"


def entry_hash(prev_hash: str, e: db.AuditEntry) -> str:
    content = {
        "union": e.union_slug, "seq": e.seq, "at": e.at.astimezone(dt.UTC).isoformat(), "actor": e.actor, "role": e.role,
        "action": e.action, "target": e.target, "detail": e.detail, "ip": e.ip, "prev": prev_hash,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def record(session: Session, *, union: str, actor: str, role: str, action: str, target: str,
           detail: dict | None = None, ip: str | None = None) -> db.AuditEntry:
    """Append to the union's chain. PostgreSQL serialises appenders on the union's row; SQLite, which has no
    row locks, retries on the (union, seq) unique constraint."""
    for _ in range(20):
        try:
            with session.begin_nested():
                return _append(session, union, actor, role, action, target, detail or {}, ip)
        except IntegrityError:
            continue
    raise RuntimeError(f"could not append to the audit log of {union}")


def _append(session: Session, union: str, actor: str, role: str, action: str, target: str, detail: dict,
            ip: str | None) -> db.AuditEntry:
    session.get(db.Union, union, with_for_update=True)
    last = session.scalars(select(db.AuditEntry).where(db.AuditEntry.union_slug == union)
                           .order_by(db.AuditEntry.seq.desc()).limit(1)).first()
    entry = db.AuditEntry(union_slug=union, seq=(last.seq + 1) if last else 1, at=db.utcnow(), actor=actor,
                          role=role, action=action, target=target, detail=detail, ip=ip,
                          prev_hash=last.hash if last else GENESIS)
    entry.hash = entry_hash(entry.prev_hash, entry)
    session.add(entry)
    session.flush()
    return entry


def verify(session: Session, union: str) -> list[str]:
    """Problems found in the union's chain; empty when it is intact."""
    problems, prev, expected_seq = [], GENESIS, 1
    for e in session.scalars(select(db.AuditEntry).where(db.AuditEntry.union_slug == union)
                             .order_by(db.AuditEntry.seq)):
        if e.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (next is {e.seq})")
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq} does not follow the previous entry's hash")
        if entry_hash(e.prev_hash, e) != e.hash:
            problems.append(f"entry {e.seq} was edited")
        prev, expected_seq = e.hash, e.seq + 1
    return problems


def count(session: Session, union: str) -> int:
    return session.scalar(select(func.count()).select_from(db.AuditEntry).where(db.AuditEntry.union_slug == union))
