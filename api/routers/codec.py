"""A Temporal codec server: operators read encrypted payloads in the Web UI or the CLI; nobody writes them here.

Temporal stores every payload sealed by `PiiCodec` (sonod/codec.py), so its histories hold no NID and no name.
The Web UI (or `temporal workflow show --codec-endpoint ...`) POSTs `{"payloads": [...]}` here, each payload in
protobuf JSON (base64 `metadata` values and `data`), with the header `X-Namespace`; it gets them back decoded.
Only the `operator` role may call it, and only the Web UI's own origin may call it from a browser (see
`api/operations.py` for the CORS rule). Each call is logged with the operator's name, never the payloads.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials
from google.protobuf import json_format
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload

from api.deps import DbSession, SettingsDep, _bearer, _officer
from api.errors import Forbidden, Invalid, Unauthorized
from api.pages.common import TOKEN_COOKIE
from sonod import audit
from sonod.codec import ENCODING, PiiCodec, Unsealed
from sonod.domain import Role
from workflows.messages import Actor

PREFIX = "/api/v1/codec"
router = APIRouter(prefix=PREFIX, tags=["operations"])
log = logging.getLogger("sonod.codec")

MAX_PAYLOADS = 2000


class Payloads(BaseModel):
    payloads: list[dict[str, Any]] = Field(max_length=MAX_PAYLOADS)


def require_operator(request: Request, session: DbSession, settings: SettingsDep,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    """An operator's bearer token, or the session cookie of the operator's web log-in (/dashboard/login), which the
    Web UI sends when its codec setting "include cross-origin credentials" is on (same site, other port)."""
    if credentials is None and request.cookies.get(TOKEN_COOKIE):
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=request.cookies[TOKEN_COOKIE])
    officer = _officer(request, session, settings, credentials)
    if officer is None:
        raise Unauthorized("log in as an operator: a bearer token, or the web log-in's cookie")
    if officer.role is not Role.OPERATOR:
        raise Forbidden("only operators may decode Temporal payloads")
    return officer


Operator = Annotated[Actor, Depends(require_operator)]
Namespace = Annotated[str | None, Header(alias="X-Namespace", max_length=200)]


def codec(request: Request) -> PiiCodec:
    state = request.app.state
    if getattr(state, "pii_codec", None) is None:
        state.pii_codec = PiiCodec.from_settings(state.settings)
    return state.pii_codec


def parse(body: Payloads) -> list[Payload]:
    out = []
    for i, item in enumerate(body.payloads):
        try:
            out.append(json_format.ParseDict(item, Payload()))
        except json_format.ParseError as e:
            raise Invalid(["body", "payloads", i], f"not a Temporal payload in protobuf JSON: {e}") from None
    return out


def dump(payloads: list[Payload]) -> Payloads:
    return Payloads(payloads=[json_format.MessageToDict(p) for p in payloads])


def check_namespace(settings, namespace: str | None) -> None:
    if namespace is not None and namespace != settings.temporal_namespace:
        raise Forbidden(f"this codec server serves the namespace {settings.temporal_namespace} only")


@router.post("/decode")
def decode(body: Payloads, request: Request, operator: Operator, session: DbSession, settings: SettingsDep,
           namespace: Namespace = None) -> Payloads:
    """Open sealed payloads, whichever application they are bound to; others pass through unchanged."""
    check_namespace(settings, namespace)
    payloads = parse(body)
    try:
        decoded = [codec(request).decrypt(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]
    except Unsealed as e:  # a tampered payload or an unknown key: say which, keep serving
        raise Invalid(["body", "payloads"], f"cannot decode: {e}") from None
    log.info("codec decode", extra={"operator": operator.username, "payloads": len(payloads),
                                    "namespace": namespace or settings.temporal_namespace})
    audit.record(session, union=audit.DEPLOYMENT, actor=operator.username, role=operator.role.value,
                 action="codec.decode", target=namespace or settings.temporal_namespace,
                 detail={"payloads": len(payloads)}, ip=operator.ip)
    return dump(decoded)


@router.post("/encode")
async def encode(operator: Operator) -> Payloads:
    """Refused: sonod seals payloads only inside its own processes, so that nobody, an operator included, can send a
    workflow an input, an update or a signal through Temporal (docs/SECURITY.md). Operators act with `sonod ops`."""
    raise Forbidden("sonod does not seal payloads for the Web UI or the CLI: act through sonod's API or `sonod ops`")
