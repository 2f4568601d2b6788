"""Sending one outbox SMS: charge the union once, try its providers in order, record who took it; else retry with
backoff, and after the last attempt mark it failed. A union without the segments holds the message until topped up.

The outbox activity makes the first attempt; the worker's retry loop (`retry_due`) the others. An attempt is claimed
by moving `attempts` on from the value read, so two workers never send one message at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import cast

from sqlalchemy import CursorResult, bindparam, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from activities.sms.providers import SmsOut, SmsProvider, SmsRefused
from sonod import db

log = logging.getLogger("sonod.sms")

OUTBOX, UNIONS = db.OutboxMessage.__table__, db.Union.__table__
LEASE = dt.timedelta(minutes=5)  # an attempt that crashed is taken up again after this
HELD_REASON = "SMS balance empty"
# how long an attempt keeps trying to write down its outcome while the database is away (a provider that took the
# message must not be asked again only because the write failed): past this, the lease takes it up again
RECORD_FOR_S = 60.0
CLAIM = (update(OUTBOX)
         .where(OUTBOX.c.id == bindparam("message_id"), OUTBOX.c.status == "pending",
                OUTBOX.c.attempts == bindparam("seen"))
         .values(attempts=OUTBOX.c.attempts + 1, next_attempt_at=bindparam("lease_until"))
         .returning(OUTBOX.c.id, OUTBOX.c.union_slug, OUTBOX.c.recipient, OUTBOX.c.body, OUTBOX.c.idempotency_key,
                    OUTBOX.c.segments, OUTBOX.c.charged, OUTBOX.c.attempts))
CHARGE = (update(UNIONS)
          .where(UNIONS.c.slug == bindparam("union"), UNIONS.c.sms_balance >= bindparam("segments"))
          .values(sms_balance=UNIONS.c.sms_balance - bindparam("segments")))
DUE = (select(OUTBOX.c.id, OUTBOX.c.attempts)
       .where(OUTBOX.c.status == "pending", OUTBOX.c.channel == "sms", OUTBOX.c.next_attempt_at <= bindparam("now"))
       .order_by(OUTBOX.c.next_attempt_at).limit(bindparam("limit")))


@dataclass(frozen=True)
class Backoff:
    max_attempts: int = 6
    base_s: float = 30.0
    max_s: float = 3600.0

    def after(self, attempts: int) -> dt.timedelta:
        return dt.timedelta(seconds=min(self.base_s * 2 ** (attempts - 1), self.max_s))


def charge(session: Session, union: str | None, segments: int) -> bool:
    """Take `segments` from the union's balance; False if it has fewer. A union with no balance is not metered."""
    if union is None or cast(CursorResult, session.execute(CHARGE, {"union": union, "segments": segments})).rowcount:
        return True
    return session.scalar(select(UNIONS.c.sms_balance).where(UNIONS.c.slug == union)) is None


def refund(session: Session, message_id: int, union: str | None) -> None:
    """Give a message's charge back to its union (once: the charge becomes 0)."""
    charged = session.scalar(select(OUTBOX.c.charged).where(OUTBOX.c.id == message_id))
    taken_back = cast(CursorResult, session.execute(
        update(OUTBOX).where(OUTBOX.c.id == message_id, OUTBOX.c.charged == charged).values(charged=0))).rowcount
    if charged and taken_back and union is not None:
        session.execute(update(UNIONS).where(UNIONS.c.slug == union, UNIONS.c.sms_balance.is_not(None))
                        .values(sms_balance=UNIONS.c.sms_balance + charged))


def release_held(session: Session, union: str) -> int:
    """After a top-up: the union's held messages are due now (the retry loop sends them)."""
    return cast(CursorResult, session.execute(
        update(OUTBOX).where(OUTBOX.c.union_slug == union, OUTBOX.c.status == "held")
        .values(status="pending", next_attempt_at=db.utcnow(), last_error=None))).rowcount


def top_up(session: Session, union: str, segments: int) -> tuple[int, int]:
    """Add segments to the union's balance (a union not metered starts from none) and release its held messages;
    answers the new balance and how many were released. LookupError for a union that does not exist."""
    done = session.execute(update(UNIONS).where(UNIONS.c.slug == union)
                           .values(sms_balance=func.coalesce(UNIONS.c.sms_balance, 0) + segments)
                           .returning(UNIONS.c.sms_balance)).first()
    if done is None:
        raise LookupError(union)
    return done.sms_balance, release_held(session, union)


class SmsDispatcher:
    def __init__(self, sessions: sessionmaker, providers: dict[str, SmsProvider], routes: dict[str, list[str]],
                 backoff: Backoff | None = None) -> None:
        self.sessions, self.providers, self.routes = sessions, providers, routes
        self.backoff = backoff or Backoff()

    def route(self, union: str | None) -> list[SmsProvider]:
        names = self.routes.get(union or "*") or self.routes["*"]
        return [self.providers[name] for name in names]

    def deliver(self, message_id: int, seen: int) -> str:
        """One attempt at a pending message whose attempts were `seen`; answers its status after it ("taken": another
        attempt has it)."""
        now = db.utcnow()
        with self.sessions.begin() as session:
            row = session.execute(CLAIM, {"message_id": message_id, "seen": seen, "lease_until": now + LEASE}).first()
            if row is None:
                return "taken"
            if row.charged is None:
                if not charge(session, row.union_slug, row.segments or 1):
                    session.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
                        status="held", attempts=row.attempts - 1, next_attempt_at=None, last_error=HELD_REASON))
                    log.warning("SMS %s held: union %s has no SMS balance", row.id, row.union_slug)
                    return "held"
                session.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(charged=row.segments or 1))
        message = SmsOut(to=row.recipient, text=row.body, key=row.idempotency_key)
        errors = []
        for provider in self.route(row.union_slug):
            try:
                ref = provider.send(message)
            except SmsRefused as e:
                errors.append(str(e))
                log.warning("SMS %s attempt %s: %s", row.id, row.attempts, e)
                continue
            return self._record(row.id, status="sent", sent_at=db.utcnow(), provider=provider.name,
                                provider_ref=ref, next_attempt_at=None, last_error=None)
        error = "; ".join(errors)[:300]
        if row.attempts >= self.backoff.max_attempts:  # no provider took it: what it was charged goes back
            with self.sessions.begin() as session:
                refund(session, row.id, row.union_slug)
            return self._record(row.id, status="failed", next_attempt_at=None, last_error=error)
        return self._record(row.id, status="pending", next_attempt_at=db.utcnow() + self.backoff.after(row.attempts),
                            last_error=error)

    def _record(self, message_id: int, **values) -> str:
        give_up, wait = time.monotonic() + RECORD_FOR_S, 0.5
        while True:
            try:
                with self.sessions.begin() as session:
                    session.execute(update(OUTBOX).where(OUTBOX.c.id == message_id).values(**values))
                return values["status"]
            except OperationalError:
                if time.monotonic() + wait > give_up:
                    raise
                log.warning("SMS %s: recording %s waits for the database", message_id, values["status"])
                time.sleep(wait)
                wait = min(wait * 2, 8.0)

    def retry_due(self, limit: int = 100) -> int:
        """One attempt at each message whose retry is due; answers how many were attempted."""
        with self.sessions() as session:
            due = session.execute(DUE, {"now": db.utcnow(), "limit": limit}).all()
        return sum(self.deliver(m.id, m.attempts) != "taken" for m in due)

    async def retry_forever(self, every_s: float) -> None:
        while True:
            try:
                await asyncio.to_thread(self.retry_due)
            except Exception:  # a database blip: the next round tries again
                log.exception("SMS retry round failed")
            await asyncio.sleep(every_s)
