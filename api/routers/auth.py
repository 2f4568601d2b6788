from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import or_, select, update

from api.deps import DbSession, Officer, SettingsDep, client_ip
from api.errors import Locked, Unauthorized
from api.limits import Window
from api.schemas import Token
from sonod import audit, db
from sonod.domain import Role
from sonod.security import issue_token, totp_step, verify_password
from sonod.settings import Settings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

LOG_INS = Window(300, 60.0, "too many log-in attempts from this address; wait a minute")


@router.post("/token")
def login(request: Request, session: DbSession, settings: SettingsDep,
          username: Annotated[str, Form(max_length=80)], password: Annotated[str, Form(max_length=200)],
          totp: Annotated[str | None, Form(max_length=10)] = None) -> Token:
    ip = client_ip(request)
    LOG_INS.check(ip or "?")
    LOG_INS.hit(ip or "?")
    user = session.scalar(select(db.User).where(db.User.username == username.strip().lower()))
    now = db.utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        raise Locked("this account is locked after repeated failed log-ins; try again later")
    needs_totp = user is not None and Role(user.role).needs_totp
    if needs_totp and not totp:  # asked before the password is checked, so that this answer says nothing of it
        raise Unauthorized("this role needs a TOTP code: send the form field totp")
    ok = user is not None and user.active and verify_password(user.password_hash, password)
    if ok and needs_totp:
        ok = _totp_accepted(session, settings, user, totp)
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


def _totp_accepted(session, settings: Settings, user: db.User, code: str) -> bool:
    """A right code, once: a code seen on a hacked or shoulder-surfed desk cannot be replayed within its window.

    In dev mode the demo officers share one published secret, so reuse is allowed there (scripts log in often)."""
    step = totp_step(user.totp_secret, code) if user.totp_secret else None
    if step is None:
        return False
    if settings.dev_mode:
        return True
    claimed = session.execute(  # atomic: of two log-ins racing with the same code, one wins
        update(db.User).where(db.User.id == user.id, or_(db.User.totp_last_step.is_(None),
                                                         db.User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    return claimed.rowcount == 1


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
