from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import DbSession, Tenant
from api.services import unions

router = APIRouter(prefix="/api/v1/certificate-types", tags=["catalogue"])


@router.get("")
def catalogue(session: DbSession, tenant: Tenant,
              union: Annotated[str | None, Query(max_length=40)] = None) -> list[dict]:
    """Every certificate type with the JSON Schema of its `details`; with a union, its fee, deadline and chain."""
    return unions.catalogue(session, union or tenant)
