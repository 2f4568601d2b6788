from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict

from api.deps import DbSession, Officer, SettingsDep, TemporalClient, Tenant
from api.services import print_batches
from sonod import db
from sonod.printing import AS_SIGNED, PrintFilters, as_signed

PREFIX = "/api/v1/print-batches"
router = APIRouter(prefix=PREFIX, tags=["print batches"])


class PrintBatchIn(PrintFilters):
    """The union (the officer's own by default), which of its issued certificates, and on what paper."""

    model_config = ConfigDict(extra="forbid")

    union: str | None = None
    letterhead: bool = False  # on the union's pre-printed letterhead: no masthead, the union's margins


class Skipped(BaseModel):
    certificate_no: str
    why: Literal["revoked", "missing"]


class PrintBatchOut(BaseModel):
    batch_id: str
    union: str
    status: Literal["selecting", "rendering", "marking", "done", "failed"]
    filters: PrintFilters
    letterhead: bool
    total: int  # certificates chosen (while selecting: those that matched when it started)
    done: int  # rendered so far
    skipped: list[Skipped]  # chosen but not printed
    as_signed: list[str]  # printed from their own signed PDFs: their records no longer draw what they signed
    requested_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    pdf_url: str | None  # once done


def out(batch: db.PrintBatch) -> PrintBatchOut:
    return PrintBatchOut(
        batch_id=batch.id, union=batch.union_slug, status=batch.state,
        filters=PrintFilters.model_validate(batch.filters), letterhead=batch.letterhead, total=batch.total,
        done=batch.done, skipped=[Skipped.model_validate(s) for s in batch.skipped if s["why"] != AS_SIGNED],
        as_signed=as_signed(batch.skipped),
        requested_by=batch.requested_by, created_at=batch.created_at, finished_at=batch.finished_at,
        pdf_url=f"{PREFIX}/{batch.id}/pdf" if batch.state == "done" and batch.pdf_path else None)


@router.post("", status_code=202)
async def start(body: PrintBatchIn, officer: Officer, session: DbSession, settings: SettingsDep,
                temporal: TemporalClient, tenant: Tenant) -> PrintBatchOut:
    filters = PrintFilters.model_validate(body.model_dump(exclude={"union", "letterhead"}))
    batch = await print_batches.start(session, settings, temporal, officer, body.union or tenant, filters,
                                      body.letterhead)
    return out(batch)


@router.get("/{batch_id}")
async def read(batch_id: str, officer: Officer, session: DbSession, temporal: TemporalClient) -> PrintBatchOut:
    batch = await run_in_threadpool(print_batches.readable, session, officer, batch_id)
    return out(await print_batches.current(session, temporal, batch))


@router.get("/{batch_id}/pdf", response_class=FileResponse)
def pdf(batch_id: str, officer: Officer, session: DbSession, settings: SettingsDep) -> FileResponse:
    batch = print_batches.readable(session, officer, batch_id)
    return FileResponse(print_batches.pdf_file(session, settings, officer, batch), media_type="application/pdf",
                        filename=f"{batch.id}.pdf")
