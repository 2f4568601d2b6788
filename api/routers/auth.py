from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import select, update

from api.deps import DbSession, Officer, SettingsDep, client_ip
from api.errors import Locked, TooManyRequests, Unauthorized
from api.schemas import Token
from sonod import audit, db
from sonod.domain import Role
from sonod.security import issue_token, verify_password, verify_totp

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

WINDOW_S, MAX_PER_WINDOW = 60.0, 300
_attempts: dict[str, deque[float]] = defaultdict(deque)


def _rate_limit(ip: str | None) -> None:
    """At most MAX_PER_WINDOW log-in attempts a minute from one address (per API process)."""
    now, q = time.monotonic(), _attempts[ip or "?"]
    while q and q[0] < now - WINDOW_S:
        q.popleft()
    if len(q) >= MAX_PER_WINDOW:
        raise TooManyRequests("too many log-in attempts from this address; wait a minute")
    q.append(now)


@router.post("/token")
def login(request: Request, session: DbSession, settings: SettingsDep,
          username: Annotated[str, Form(max_length=80)], password: Annotated[str, Form(max_length=200)],
          totp: Annotated[str | None, Form(max_length=10)] = None) -> Token:
    ip = client_ip(request)
    _rate_limit(ip)
    user = session.scalar(select(db.User).where(db.User.username == username.strip().lower()))
    now = db.utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        raise Locked("this account is locked after repeated failed log-ins; try again later")
    needs_totp = user is not None and Role(user.role).needs_totp
    if needs_totp and not totp:  # asked before the password is checked, so that this answer says nothing of it
        raise Unauthorized("this role needs a TOTP code: send the form field totp")
    ok = user is not None and user.active and verify_password(user.password_hash, password)
    if ok and needs_totp:
        ok = user.totp_secret is not None and verify_totp(user.totp_secret, totp)
    if not ok:
        if user is not None:
            user.failed_logins += 1
            locked = user.failed_logins >= settings.login_max_failures
            if locked:
                user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                user.failed_logins = 0
            if user.union_slug:
                audit.record(session, union=user.union_slug, actor=user.username, role=user.role,
                             action="auth.locked" if locked else "auth.login_failed", target=user.username, ip=ip)
            session.commit()
        raise Unauthorized("wrong username, password or TOTP code")
    user.failed_logins, user.locked_until = 0, None
    expires = now + timedelta(minutes=settings.token_ttl_minutes)
    sid = secrets.token_urlsafe(16)
    session.add(db.Session(id=sid, user_id=user.id, expires_at=expires, ip=ip))
    if user.union_slug:
        audit.record(session, union=user.union_slug, actor=user.username, role=user.role, action="auth.login",
                     target=user.username, ip=ip)
    return Token(access_token=issue_token(settings.secret_key, username=user.username, session_id=sid,
                                          expires_at=expires), expires_in=settings.token_ttl_minutes * 60)


@router.post("/logout", status_code=204)
def logout(officer: Officer, session: DbSession) -> None:
    """Ends every session of this officer, e.g. after a lost phone."""
    user_id = session.scalar(select(db.User.id).where(db.User.username == officer.username))
    session.execute(update(db.Session).where(db.Session.user_id == user_id, db.Session.revoked_at.is_(None))
                    .values(revoked_at=db.utcnow()))
    if officer.union:
        audit.record(session, union=officer.union, actor=officer.username, role=officer.role.value,
                     action="auth.logout", target=officer.username, ip=officer.ip)


@router.get("/me")
def me(officer: Officer) -> dict:
    return officer.model_dump(mode="json", exclude={"ip"})
