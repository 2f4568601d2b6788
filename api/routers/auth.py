from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.deps import DbSession, Officer, SettingsDep, client_ip
from api.schemas import Token
from api.services import sessions

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token")
def login(request: Request, session: DbSession, settings: SettingsDep,
          username: Annotated[str, Form(max_length=80)], password: Annotated[str, Form(max_length=200)],
          totp: Annotated[str | None, Form(max_length=200)] = None) -> Token:
    return sessions.log_in(session, settings, username, password, totp, client_ip(request)).token


@router.post("/logout", status_code=204)
def logout(officer: Officer, session: DbSession) -> None:
    """Ends every session of this officer, e.g. after a lost phone."""
    sessions.log_out(session, officer)


@router.get("/me")
def me(officer: Officer) -> dict:
    return officer.model_dump(mode="json", exclude={"ip"})
