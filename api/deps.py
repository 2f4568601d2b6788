"""Dependencies, as `Annotated` aliases: settings, database session, Temporal client, callers, tenancy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.errors import Forbidden, Unauthorized
from api.services import sessions
from sonod import db
from sonod.domain import Role
from sonod.security import hash_api_key
from sonod.settings import Settings
from workflows.messages import Actor


async def get_settings(request: Request) -> Settings:
    """`async`, as it does no I/O: a plain `def` dependency costs a hop to the threadpool on every request."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the handler succeeds: the request's one commit (services flush;
    api/services/transaction.py names the few that must commit earlier)."""
    with request.app.state.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


async def get_temporal(request: Request) -> Client:
    return await request.app.state.temporal.get()


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the answer is sent, so that a client never acts on a write that is not yet visible
# (a token used at once, a verify right after a revoke). The default scope would commit after the response.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
TemporalClient = Annotated[Client, Depends(get_temporal)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)
_bearer = HTTPBearer(auto_error=False)


def client_ip(request: Request) -> str | None:
    """The client's address: the peer's, unless the peer is one of SONOD_TRUSTED_PROXIES; then the right-most hop of
    X-Forwarded-For that is not a trusted proxy (the hops left of it are whatever the client chose to send).

    `sonod api` runs uvicorn with forwarded_allow_ips set to the same list (api/guards.server_options), so uvicorn
    may already have put that hop in the peer's place; the rule then gives the same answer again."""
    peer = request.client.host if request.client else None
    settings = getattr(request.app.state, "settings", None)
    trusted = getattr(settings, "trusted_proxies", None) or ()
    if peer is None or not _among(_ip(peer), trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    client = peer
    for hop in reversed([h for h in hops if h]):
        address = _ip(hop)
        if address is None:  # a trusted proxy wrote this hop: an unreadable one ends the walk at that proxy
            return client
        client = str(address)
        if not _among(address, trusted):
            return client
    return client


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def _among(address, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def _officer(request: Request, session: Session, settings: Settings,
             credentials: HTTPAuthorizationCredentials | None) -> Actor | None:
    if credentials is None:
        return None
    return sessions.officer_of(session, settings, credentials.credentials, client_ip(request))


def _portal(request: Request, session: Session, key: str | None) -> Actor | None:
    if key is None:
        return None
    portal = session.scalar(select(db.PortalKey).where(db.PortalKey.key_hash == hash_api_key(key),
                                                       db.PortalKey.active))
    if portal is None:
        raise Unauthorized("unknown or disabled portal API key")
    return Actor(username=f"portal:{portal.name}", role=Role.PORTAL, ip=client_ip(request))


def get_caller(request: Request, session: DbSession, settings: SettingsDep,
               key: Annotated[str | None, Depends(_api_key)],
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    actor = _officer(request, session, settings, credentials) or _portal(request, session, key)
    if actor is None:
        raise Unauthorized("send a portal key (X-API-Key) or an officer's bearer token")
    return actor


def get_officer(request: Request, session: DbSession, settings: SettingsDep,
                key: Annotated[str | None, Depends(_api_key)],
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    actor = _officer(request, session, settings, credentials)
    if actor is None:
        if _portal(request, session, key) is not None:
            raise Forbidden("this is for officers; a portal key cannot do it")
        raise Unauthorized("log in: this needs an officer's bearer token")
    return actor


async def get_tenant(request: Request) -> str | None:
    """The union named by the host (`<slug>.<base domain>`) or the path (`/unions/<slug>/`). No I/O: `async`."""
    return getattr(request.state, "union", None)


Caller = Annotated[Actor, Depends(get_caller)]
Officer = Annotated[Actor, Depends(get_officer)]
Tenant = Annotated[str | None, Depends(get_tenant)]
