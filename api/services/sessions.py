"""Officers' sessions: logging in (the throttle of api/limits.py, the password, TOTP), the session a bearer token
names, and logging out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

import jwt
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from api.errors import ApiError, Unauthorized
from api.limits import PAIR, LoginThrottle, Window, address_key
from api.schemas import Token
from api.services.officers import officer_actor
from api.services.transaction import commit_early
from sonod import audit, db
from sonod.domain import Role
from sonod.security import issue_token, read_token, totp_step, verify_password
from sonod.settings import Settings
from workflows.messages import Actor

LOG_INS = Window(300, 60.0, "too many log-in attempts from this address; wait a minute")


@dataclass(frozen=True)
class LoggedIn:
    token: Token
    role: Role


def log_in(session: Session, settings: Settings, username: str, password: str, totp: str | None,
           ip: str | None) -> LoggedIn:
    """A new session and its bearer token, or 401 (423, 429 from the throttle).

    Every attempt that reaches the accounts is audited: in the account's union's chain, else the deployment's.
    A flood refused by LOG_INS, the per-process window in front, is not: it never reaches the accounts."""
    LOG_INS.check(address_key(ip))
    LOG_INS.hit(address_key(ip))
    name = username.strip().lower()
    user = session.scalar(select(db.User).where(db.User.username == name))
    if user is not None:
        session.expunge(user)  # a snapshot: no reload, and so no SQLite write lock, while the password is checked
    now = db.utcnow()

    def audited(action: str, **detail) -> None:
        audit.record(session, union=(user.union_slug if user else None) or audit.DEPLOYMENT,
                     actor=user.username if user else name[:80], role=user.role if user else "unknown",
                     action=action, target=user.username if user else name[:80], detail=detail, ip=ip)

    def refused(refusal: ApiError, action: str, **detail) -> ApiError:
        """The refusal to raise, its audit entry (and any failure counted) on record first."""
        audited(action, **detail)
        commit_early(session)
        return refusal

    needs_totp = user is not None and Role(user.role).needs_totp
    if needs_totp and not totp:  # asked before the password is checked, so that this answer says nothing of it
        raise refused(Unauthorized("this role needs a TOTP code: send the form field totp"),
                      "auth.login_failed", reason="no TOTP code")
    attempt = LoginThrottle(settings, now).admit(session, name, user.id if user else None, ip)
    if attempt.refusal is not None:
        raise refused(attempt.refusal, "auth.refused", locked=attempt.refused_by)
    commit_early(session)  # this attempt's place is taken before the password is checked: parallel guesses queue here
    ok = (user is not None and user.active and verify_password(user.password_hash, password)
          and (not needs_totp or _totp_accepted(session, settings, user, totp)))
    if user is None or not ok:
        locked = attempt.failed(session)
        raise refused(Unauthorized("wrong username, password or TOTP code"),
                      "auth.locked" if PAIR in locked else "auth.login_failed",
                      **({"locked": locked} if locked else {}))
    attempt.succeeded(session)
    expires = now + timedelta(minutes=settings.token_ttl_minutes)
    sid = secrets.token_urlsafe(16)
    session.add(db.Session(id=sid, user_id=user.id, expires_at=expires, ip=ip))
    audited("auth.login")
    session.flush()
    token = Token(access_token=issue_token(settings.secret_key, username=user.username, session_id=sid,
                                           expires_at=expires), expires_in=settings.token_ttl_minutes * 60)
    return LoggedIn(token=token, role=Role(user.role))


def _totp_accepted(session: Session, settings: Settings, user: db.User, code: str | None) -> bool:
    """A right code, once: a code seen on a hacked or shoulder-surfed desk cannot be replayed within its window.

    In dev mode the demo officers share one published secret, so reuse is allowed there (scripts log in often)."""
    step = totp_step(user.totp_secret, code) if user.totp_secret and code else None
    if step is None:
        return False
    if settings.dev_mode:
        return True
    claimed = cast(CursorResult, session.execute(  # atomic: of two log-ins racing with the same code, one wins
        update(db.User).where(db.User.id == user.id, or_(db.User.totp_last_step.is_(None),
                                                         db.User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)))
    return claimed.rowcount == 1  # an UPDATE's result is a CursorResult; Session.execute is typed as returning Result


def officer_of(session: Session, settings: Settings, token: str, ip: str | None) -> Actor:
    """The officer whose live session this bearer token names, or 401."""
    try:
        claims = read_token(settings.secret_key, token)
    except jwt.InvalidTokenError:
        raise Unauthorized("the bearer token is invalid or has expired") from None
    sess = session.get(db.Session, claims["sid"])
    if sess is None or sess.revoked_at is not None or sess.expires_at <= db.utcnow():
        raise Unauthorized("this session has ended; log in again")
    user = session.get(db.User, sess.user_id)
    if user is None or not user.active or user.username != claims["sub"]:
        raise Unauthorized("this account is disabled")
    return officer_actor(session, user, ip)


def log_out(session: Session, officer: Actor) -> None:
    """Ends every session of this officer, e.g. after a lost phone."""
    user_id = session.scalar(select(db.User.id).where(db.User.username == officer.username))
    session.execute(update(db.Session).where(db.Session.user_id == user_id, db.Session.revoked_at.is_(None))
                    .values(revoked_at=db.utcnow()))
    audit.record(session, union=officer.union or audit.DEPLOYMENT, actor=officer.username, role=officer.role.value,
                 action="auth.logout", target=officer.username, ip=officer.ip)


def end_session(session: Session, sid: str | None) -> None:
    """Log out one session only, a browser's (`log_out` ends every session of the officer)."""
    row = session.get(db.Session, sid) if sid else None
    if row is not None and row.revoked_at is None:
        row.revoked_at = db.utcnow()
