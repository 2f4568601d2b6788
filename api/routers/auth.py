from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import or_, select, update

from api.deps import DbSession, Officer, SettingsDep, client_ip
from api.errors import Unauthorized
from api.limits import PAIR, LoginThrottle, Window, address_key
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
          totp: Annotated[str | None, Form(max_length=200)] = None) -> Token:
    """Every attempt that reaches the accounts is audited: in the account's union's chain, else the deployment's.

    A flood refused by LOG_INS, the per-process window in front, is not: it never reaches the accounts."""
    ip = client_ip(request)
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

    needs_totp = user is not None and Role(user.role).needs_totp
    if needs_totp and not totp:  # asked before the password is checked, so that this answer says nothing of it
        audited("auth.login_failed", reason="no TOTP code")
        session.commit()
        raise Unauthorized("this role needs a TOTP code: send the form field totp")
    attempt = LoginThrottle(settings, now).admit(session, name, user.id if user else None, ip)
    if attempt.refusal is not None:
        audited("auth.refused", locked=attempt.refused_by)
        session.commit()
        raise attempt.refusal
    session.commit()  # this attempt's place is taken before the password is checked: parallel guesses queue here
    ok = user is not None and user.active and verify_password(user.password_hash, password)
    if ok and needs_totp:
        ok = _totp_accepted(session, settings, user, totp)
    if not ok:
        locked = attempt.failed(session)
        audited("auth.locked" if PAIR in locked else "auth.login_failed", **({"locked": locked} if locked else {}))
        session.commit()
        raise Unauthorized("wrong username, password or TOTP code")
    attempt.succeeded(session)
    expires = now + timedelta(minutes=settings.token_ttl_minutes)
    sid = secrets.token_urlsafe(16)
    session.add(db.Session(id=sid, user_id=user.id, expires_at=expires, ip=ip))
    audited("auth.login")
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
    audit.record(session, union=officer.union or audit.DEPLOYMENT, actor=officer.username, role=officer.role.value,
                 action="auth.logout", target=officer.username, ip=officer.ip)


@router.get("/me")
def me(officer: Officer) -> dict:
    return officer.model_dump(mode="json", exclude={"ip"})
