from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from api.deps import DbSession, SettingsDep, TemporalClient
from api.schemas import DecisionOut, NotificationOut
from api.services import payments

router = APIRouter(prefix="/api/v1/payments", tags=["payments"])


@router.post("/callback")
async def callback(request: Request, session: DbSession, settings: SettingsDep, temporal: TemporalClient,
                   signature: Annotated[str | None, Header(alias="X-Signature")] = None) -> DecisionOut:
    """The payment gateway confirms a fee; signed with HMAC-SHA256 over the raw body."""
    return await payments.receive(session, settings, temporal, await request.body(), signature)


# One route a method: a route of two methods gives OpenAPI one operation id twice.
@router.post("/{provider}/ipn")
@router.get("/{provider}/ipn", name="ipn_by_get")
async def ipn(provider: str, request: Request, session: DbSession, settings: SettingsDep,
              temporal: TemporalClient) -> NotificationOut:
    """A payment gateway's notification (IPN): stored as it came; the order it names is then asked about at the
    gateway by its application's workflow. 400 unreadable, 404 no such order, 409 another provider's order."""
    read = await payments.notified(session, settings, temporal, provider, "ipn", request.method,
                                   request.url.query, request.headers, await request.body())
    return NotificationOut(outcome=read.outcome.value, order_id=read.order_id)


@router.post("/{provider}/return", response_class=RedirectResponse, status_code=303)
@router.get("/{provider}/return", response_class=RedirectResponse, status_code=303, name="payer_returns_by_get")
async def payer_returns(provider: str, request: Request, session: DbSession, settings: SettingsDep,
                        temporal: TemporalClient) -> RedirectResponse:
    """The payer's browser back from the gateway: treated as a notification (never as proof of payment), then sent
    to the union's track page."""
    read = await payments.notified(session, settings, temporal, provider, "return", request.method,
                                   request.url.query, request.headers, await request.body())
    return RedirectResponse(await run_in_threadpool(payments.track_url, session, read), status_code=303)
