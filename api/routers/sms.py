from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import DbSession, SettingsDep
from api.services import sms

router = APIRouter(prefix="/api/v1/sms", tags=["sms"])


@router.post("/{provider}/dlr", status_code=204)
async def delivery_report(provider: str, request: Request, session: DbSession, settings: SettingsDep,
                          token: Annotated[str | None, Query(max_length=100)] = None) -> None:
    """A provider's delivery report (JSON or a form), at the URL `sonod ops sms dlr-url <provider>` prints."""
    sms.check_token(settings, provider, token)
    ref, status = sms.parse_report(provider, await request.body(), request.headers.get("content-type", ""))
    await run_in_threadpool(sms.record_report, session, provider, ref, status)
