"""Public: the audit log's signed checkpoints, for anyone to keep (sonod/audit.py).

A checkpoint names a chain's position and MAC at a time, signed with the union's Ed25519 key (`alg` EdDSA, `kid`
in /.well-known/jwks.json) or, for the deployment's own chain, MACed with the audit key (`alg` HS256). It carries
nothing personal. Whoever keeps them can later show, with `sonod audit verify --checkpoints FILE`, that no entry
they saw has been deleted or rewritten since."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DbSession
from api.errors import NotFound
from sonod import audit, db

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/checkpoints")
def checkpoints(session: DbSession,
                union: Annotated[str, Query(min_length=1, max_length=40, pattern="^[a-z0-9-]+$",
                                            description=f"a union's slug, or `{audit.DEPLOYMENT}`")],
                after: Annotated[int, Query(ge=0, le=2**31 - 1, description="only checkpoints after this entry")] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 1000) -> dict:
    """The chain's checkpoints, oldest first: `{"union", "checkpoints": [{"chain", "seq", "mac", "at", "alg",
    "kid", "signed", "signature"}]}`; `signature` (base64url) covers the exact text of `signed`."""
    if union != audit.DEPLOYMENT and session.get(db.Union, union) is None:
        raise NotFound(f"no union {union!r}")
    return {"union": union,
            "checkpoints": [audit.published(cp) for cp in audit.checkpoints(session, union, after, limit)]}
