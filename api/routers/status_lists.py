"""Public: what an offline verifier downloads (sonod/offline.py), the status lists and the trust list signed by the
root. The revocation list (GET /api/v1/revocations) and the JWKS (api/routers/verify.py) stay as they are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.deps import DbSession, SettingsDep
from api.services import status_lists

router = APIRouter(tags=["verification"])
JOSE = "application/jose"
CACHE = {"Cache-Control": "public, max-age=60"}  # a minute: lists are fetched at most daily, revocations show soon


@router.get(status_lists.PREFIX)
def index(session: DbSession) -> dict:
    """Every union-year that has certificates: `{"lists": [{"union", "year", "iat", "url"}]}`."""
    return status_lists.index(session)


@router.get(status_lists.PREFIX + "/{union}/{year}", response_class=Response, responses={200: {"content": {JOSE: {}}}})
def status_list(union: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")],
                year: Annotated[int, Path(ge=1970, le=9999)], session: DbSession, request: Request) -> Response:
    """The union's status list of `year`: a JWS signed with its key; bit i is certificate `<UNION>-<YEAR>-<i>`."""
    token = status_lists.signed(session, request.app.state.keys, union, year)
    return Response(token, media_type=JOSE, headers=CACHE)


@router.get("/.well-known/sonod-trust-list.jws", response_class=Response, responses={200: {"content": {JOSE: {}}}})
def trust_list(session: DbSession, settings: SettingsDep, request: Request) -> Response:
    """Every union's public keys (those of /.well-known/jwks.json), signed ES256 by the sonod root."""
    token = status_lists.trust_list(session, request.app.state.keys, settings.master_key)
    return Response(token, media_type=JOSE, headers=CACHE)
