"""What slows down guessing: in-memory sliding windows (requests from one address, tracking tries), and the log-in
throttle, whose counters live in the database.

The windows are per API process: with N processes an attacker gets N times the allowance, which still turns a
guessing attack of days into one of years. A proxy's per-address limits belong in front (docs/OPERATIONS.md)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from sqlalchemy import and_, case, delete, literal, null, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.errors import ApiError, Locked, TooManyRequests
from sonod import db
from sonod.settings import Settings

MAX_KEYS = 100_000  # past this many keys the oldest windows are dropped, so a flood cannot grow memory


class Window:
    def __init__(self, limit: int, seconds: float, refusal: str) -> None:
        self.limit, self.seconds, self.refusal = limit, seconds, refusal
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> int:
        hits = self._hits.get(key)
        if hits is None:
            return 0
        since = time.monotonic() - self.seconds
        while hits and hits[0] < since:
            hits.popleft()
        return len(hits)

    def check(self, key: str) -> None:
        """Raises TooManyRequests (429) once `limit` hits fell within the window."""
        if self._recent(key) >= self.limit:
            raise TooManyRequests(self.refusal)

    def hit(self, key: str) -> None:
        if key not in self._hits and len(self._hits) >= MAX_KEYS:
            self._hits.pop(next(iter(self._hits)))
        self._hits[key].append(time.monotonic())


# --- log-ins: failures counted in the database, by one atomic statement each -------------------------------------

PAIR, ADDRESS = "pair", "address"


def address_key(ip: str | None) -> str:
    """What one client holds: an IPv4 address, or an IPv6 address's /64 (a home or an office gets a whole /64)."""
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return (ip or "?")[:64]
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(getattr(addr, "ipv4_mapped", None) or addr)


@dataclass(frozen=True)
class Count:
    failures: int  # in the current window, the attempt in progress included
    locked_until: dt.datetime | None

    def holds(self, now: dt.datetime, limit: int) -> bool:
        return (self.locked_until is not None and self.locked_until > now) or self.failures > limit

    def minutes_left(self, now: dt.datetime, lockout: int) -> int:
        if self.locked_until is None or self.locked_until <= now:
            return lockout
        return max(1, math.ceil((self.locked_until - now).total_seconds() / 60))


def _one_more(failures, window_start, locked_until, now: dt.datetime, since: dt.datetime) -> dict:
    """The SET of a statement that counts one more attempt: nothing while locked, a new window once the last ended."""
    now_, since_ = literal(now, db.UTCDateTime()), literal(since, db.UTCDateTime())
    held = and_(locked_until.is_not(None), locked_until > now_)
    stale = or_(window_start.is_(None), window_start <= since_)
    return {failures: case((held, failures), (stale, 1), else_=failures + 1),
            window_start: case((held, window_start), (stale, now_), else_=window_start),
            locked_until: case((held, locked_until), else_=null())}


def _one_less(failures) -> dict:
    return {failures: case((failures > 0, failures - 1), else_=0)}


class LoginThrottle:
    """Failed log-ins, counted where every API process sees them, so that an attacker who only knows a username
    cannot keep its owner out:

    - per (account, address) pair: SONOD_LOGIN_MAX_FAILURES failures lock that pair (423) for
      SONOD_LOGIN_LOCKOUT_MINUTES; the owner at another address is not held up;
    - per address, across accounts: SONOD_LOGIN_ADDRESS_MAX_FAILURES failures and the address waits (429);
    - per account, across addresses (`users.failed_logins`): past SONOD_LOGIN_ACCOUNT_MAX_FAILURES, an address that
      has already failed on the account waits (429), while one that has not may still try. Guessing is held to one
      try per address, and the owner is never locked out.

    Each attempt is counted as a failure *before* its password is checked, by one UPDATE (or upsert) ... RETURNING,
    so that parallel guesses each take a place and only the first `limit` of them are checked; a success gives its
    place back. A window is SONOD_LOGIN_LOCKOUT_MINUTES long."""

    def __init__(self, settings: Settings, now: dt.datetime) -> None:
        self.settings, self.now = settings, now
        self.since = now - dt.timedelta(minutes=settings.login_lockout_minutes)

    def admit(self, session: Session, username: str, user_id: int | None, ip: str | None) -> Attempt:
        """This attempt, counted; or refused (Attempt.refusal), with nothing counted."""
        s, address = self.settings, address_key(ip)
        attempt = Attempt(self, f"{username}|{address}", address, user_id)
        attempt.pair = self._count(session, PAIR, attempt.pair_key)
        if attempt.pair.holds(self.now, s.login_max_failures):
            attempt.refuse("pair", Locked(
                f"this account is locked for log-ins from this address after {s.login_max_failures} failed "
                f"attempts; try again in {attempt.pair.minutes_left(self.now, s.login_lockout_minutes)} minutes"))
            return attempt
        attempt.address = self._count(session, ADDRESS, address)
        if attempt.address.holds(self.now, s.login_address_max_failures):
            attempt.refuse("address", TooManyRequests(
                "too many failed log-ins from this address; try again in "
                f"{attempt.address.minutes_left(self.now, s.login_lockout_minutes)} minutes"))
            session.execute(self._give_back(PAIR, attempt.pair_key))
            return attempt
        if user_id is not None:
            account = self._count_account(session, user_id)
            if account.holds(self.now, s.login_account_max_failures) and attempt.pair.failures > 1:
                attempt.refuse("account", TooManyRequests(
                    "this account has had too many failed log-ins from many addresses; from this address, which "
                    f"has failed on it, try again in {account.minutes_left(self.now, s.login_lockout_minutes)} "
                    "minutes"))
                session.execute(self._give_back(PAIR, attempt.pair_key))
                session.execute(self._give_back(ADDRESS, address))
                return attempt
            attempt.account = account
        if secrets.randbelow(100) == 0:
            self._purge(session)
        return attempt

    def _count(self, session: Session, scope: str, key: str) -> Count:
        table = db.LoginThrottle.__table__
        c = table.c
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = (dialect.insert(table).values(scope=scope, key=key, failures=1, window_start=self.now, locked_until=None)
                .on_conflict_do_update(index_elements=[c.scope, c.key], set_={
                    col.name: value for col, value in _one_more(c.failures, c.window_start, c.locked_until, self.now,
                                                                self.since).items()})
                .returning(c.failures, c.locked_until))
        return Count(*session.execute(stmt).one())

    def _count_account(self, session: Session, user_id: int) -> Count:
        c = db.User.__table__.c
        stmt = (update(db.User.__table__).where(c.id == user_id)
                .values(_one_more(c.failed_logins, c.failed_since, c.locked_until, self.now, self.since))
                .returning(c.failed_logins, c.locked_until))
        return Count(*session.execute(stmt).one())

    def _give_back(self, scope: str, key: str):
        c = db.LoginThrottle.__table__.c
        return update(db.LoginThrottle.__table__).where(c.scope == scope, c.key == key).values(_one_less(c.failures))

    def _lock(self, scope: str, key: str):
        c = db.LoginThrottle.__table__.c
        return update(db.LoginThrottle.__table__).where(c.scope == scope, c.key == key).values(
            locked_until=self.now + dt.timedelta(minutes=self.settings.login_lockout_minutes))

    def _purge(self, session: Session) -> None:
        """Rows whose window has passed and that lock nothing."""
        c = db.LoginThrottle.__table__.c
        session.execute(delete(db.LoginThrottle.__table__).where(
            c.window_start <= self.since, or_(c.locked_until.is_(None), c.locked_until <= self.now)))


@dataclass
class Attempt:
    """One log-in attempt's places in the counters: given back on success, and locks taken on failure."""

    throttle: LoginThrottle
    pair_key: str
    address_key: str
    user_id: int | None
    pair: Count | None = None
    address: Count | None = None
    account: Count | None = None
    refused_by: str | None = None
    refusal: ApiError | None = None

    def refuse(self, scope: str, refusal: ApiError) -> None:
        self.refused_by, self.refusal = scope, refusal

    def failed(self, session: Session) -> list[str]:
        """The counters this failure took past their limit, locked now: "pair", "address", "account"."""
        assert self.pair is not None and self.address is not None, "failed() follows an admitted attempt"
        t, s = self.throttle, self.throttle.settings
        locked = []
        if self.pair.failures >= s.login_max_failures:
            session.execute(t._lock(PAIR, self.pair_key))
            locked.append(PAIR)
        if self.address.failures >= s.login_address_max_failures:
            session.execute(t._lock(ADDRESS, self.address_key))
            locked.append(ADDRESS)
        if self.account is not None and self.account.failures >= s.login_account_max_failures:
            u = db.User.__table__.c
            session.execute(update(db.User.__table__).where(u.id == self.user_id).values(
                locked_until=t.now + dt.timedelta(minutes=s.login_lockout_minutes)))
            locked.append("account")
        return locked

    def succeeded(self, session: Session) -> None:
        """The pair starts afresh; the address and the account get this attempt's place back."""
        c = db.LoginThrottle.__table__.c
        session.execute(update(db.LoginThrottle.__table__).where(c.scope == PAIR, c.key == self.pair_key)
                        .values(failures=0, locked_until=None))
        session.execute(self.throttle._give_back(ADDRESS, self.address_key))
        if self.account is not None:
            u = db.User.__table__.c
            session.execute(update(db.User.__table__).where(u.id == self.user_id).values(_one_less(u.failed_logins)))
