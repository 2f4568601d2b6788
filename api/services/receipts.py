"""Money receipts: the receipt of an application's paid fee, made by the worker the first time anyone asks for it
(`MoneyReceipt`, workflows/receipt.py: numbered, rendered and stored once), then served from storage. Every fetch is
on the union's audit log, whoever fetched it."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from api.errors import NotFound, Unavailable
from api.services.transaction import end_transaction
from sonod import audit, db
from sonod.domain import N_
from sonod.receipts import paid_fee, receipt_of
from sonod.settings import Settings
from workflows.messages import Actor, ReceiptRequest
from workflows.receipt import MoneyReceipt, receipt_workflow_id

MAKING = timedelta(seconds=30)  # how long a first fetch waits for the worker before it answers 503


def offered(row: db.Application) -> bool:
    """Whether the pages offer the receipt: a fee, paid."""
    return row.fee_paid and row.fee_amount > 0


async def receipt_file(session: Session, settings: Settings, temporal: Client, reader: Actor,
                       row: db.Application) -> tuple[Path, str]:
    """The receipt's PDF and number, for a reader the caller has already let see this application (its citizen, the
    operator who filed it, the union's officers); 404 while its fee is unpaid."""
    application_id, union = row.id, row.union_slug  # read now: nothing may open a transaction during the wait
    if await run_in_threadpool(paid_fee, session, row) is None:
        raise NotFound(N_("this application has no paid fee, and so no money receipt"))
    receipt = await run_in_threadpool(_stored, session, settings, application_id)
    if receipt is None:
        await end_transaction(session)  # the activity writes the receipt (SQLite: one writer at a time)
        # whatever the workflow answers (or fails with), the registry says below whether the receipt is stored
        with contextlib.suppress(WorkflowFailureError):
            await temporal.execute_workflow(
                MoneyReceipt.run, ReceiptRequest(application_id=application_id),
                id=receipt_workflow_id(application_id), task_queue=settings.task_queue, execution_timeout=MAKING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        receipt = await run_in_threadpool(_stored, session, settings, application_id)
        if receipt is None:
            raise Unavailable(N_("the money receipt cannot be made just now; try again in a minute"))
    assert receipt.pdf_path is not None, "_stored answers stored receipts"
    await run_in_threadpool(audit.record, session, union=union, actor=reader.username,
                            role=reader.role.value, action="payment.receipt", target=application_id,
                            detail={"receipt_no": receipt.receipt_no}, ip=reader.ip)
    return settings.pdf_dir / receipt.pdf_path, receipt.receipt_no


def _stored(session: Session, settings: Settings, application_id: str) -> db.Receipt | None:
    receipt = receipt_of(session, application_id)
    if receipt is not None:
        session.refresh(receipt)  # the worker may have just stored it, in another transaction
    if receipt is None or receipt.pdf_path is None or not (settings.pdf_dir / receipt.pdf_path).is_file():
        return None
    return receipt
