from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from api.deps import DbSession, SettingsDep, TemporalClient
from api.schemas import DecisionOut
from api.services import payments

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])


@router.post("/callback")
async def callback(request: Request, session: DbSession, settings: SettingsDep, temporal: TemporalClient,
                   signature: Annotated[str | None, Header(alias="X-Signature")] = None) -> DecisionOut:
    """The payment gateway confirms a fee; signed with HMAC-SHA256 over the raw body."""
    return await payments.receive(session, settings, temporal, await request.body(), signature)
