"""Print batches (issue 16): the union office's secretary or UDC operator chooses issued certificates, and the
`PrintBatch` workflow (workflows/printing.py) makes one print-ready PDF of them and marks them printed. Only the
union's own officers who print may start, follow or download one; each start and each download is on the union's
audit log. The union's letterhead margins are set by its secretary or chairman."""

from __future__ import annotations

from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError

from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.services.transaction import commit_early, end_transaction
from api.services.unions import get_union
from sonod import audit, db
from sonod.domain import N_, Role
from sonod.printable import select_chosen
from sonod.printing import MAX_BATCH, Margins, PrintFilters, PrintRequest, new_batch_id
from sonod.settings import Settings
from workflows.messages import Actor
from workflows.printing import PrintBatch

PRINTERS = frozenset({Role.SECRETARY, Role.UDC, Role.CHAIRMAN, Role.ACTING_CHAIRMAN})
MARGIN_SETTERS = frozenset({Role.SECRETARY, Role.CHAIRMAN})
RUNNING = ("selecting", "rendering", "marking")
ENDED_BADLY = (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TERMINATED, WorkflowExecutionStatus.TIMED_OUT,
               WorkflowExecutionStatus.CANCELED)
RECENT = 10


def said(error: type[Invalid], loc: list, template: str, **params: str | int) -> Invalid:
    """A 422 whose words are a catalogue's template, filled in (`ApiError.said`, naming the field)."""
    return error(loc, template.format(**params), code=template, params=params)


def printing_union(session: Session, officer: Actor, slug: str | None, loc: list | None = None) -> db.Union:
    """The union named (else the officer's own), if the officer prints for it: its own secretary, UDC operator or
    chairman; 403 for anyone else."""
    union = get_union(session, slug or officer.union, loc or ["body", "union"])
    if officer.union != union.slug or officer.role not in PRINTERS:
        raise Forbidden.said(N_("{username} does not print the certificates of {union}"),
                             username=officer.username, union=union.slug)
    return union


def check_filters(session: Session, filters: PrintFilters, loc: list) -> None:
    if filters.certificate_type and session.get(db.CertificateTypeRow, filters.certificate_type) is None:
        raise said(Invalid, [*loc, "certificate_type"], N_("unknown certificate type {code}"),
                   code=filters.certificate_type)


def matching(session: Session, union: str, filters: PrintFilters) -> list:
    """What a batch with these filters would print now (at most one more than MAX_BATCH: enough to say too many)."""
    return select_chosen(session, union, filters, MAX_BATCH + 1)


async def start(session: Session, settings: Settings, temporal: Client, officer: Actor, union_slug: str | None,
                filters: PrintFilters, letterhead: bool, loc: list | None = None) -> db.PrintBatch:
    loc = loc or ["body"]
    union = await run_in_threadpool(printing_union, session, officer, union_slug, [*loc, "union"])
    await run_in_threadpool(check_filters, session, filters, loc)
    found = len(await run_in_threadpool(matching, session, union.slug, filters))
    if found == 0:
        raise Invalid([*loc, "filters"], N_("no issued certificate matches these filters"))
    if found > MAX_BATCH:
        raise said(Invalid, [*loc, "filters"], N_("more than {limit} certificates match, and a batch prints at most "
                                                  "{limit}: choose a day, a type or a ward"), limit=MAX_BATCH)
    batch = db.PrintBatch(id=new_batch_id(union.slug), union_slug=union.slug, requested_by=officer.username,
                          filters=filters.model_dump(mode="json"), letterhead=letterhead, state="selecting",
                          total=found, done=0, skipped=[], created_at=db.utcnow())
    session.add(batch)
    await run_in_threadpool(audit.record, session, union=union.slug, actor=officer.username, role=officer.role.value,
                            action="print.batch", target=batch.id,
                            detail={"filters": batch.filters, "letterhead": letterhead, "matching": found},
                            ip=officer.ip)
    await end_transaction(session)  # the workflow's first activity reads the row
    try:
        await temporal.start_workflow(PrintBatch.run, PrintRequest(batch_id=batch.id, union=union.slug,
                                                                   filters=filters, letterhead=letterhead),
                                      id=batch.id, task_queue=settings.task_queue,
                                      id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except RPCError:
        await run_in_threadpool(_failed, session, batch.id)
        raise
    return batch


def readable(session: Session, officer: Actor, batch_id: str) -> db.PrintBatch:
    batch = session.get(db.PrintBatch, batch_id[:60])
    if batch is None:
        raise NotFound(f"no print batch {batch_id[:60]!r}")
    printing_union(session, officer, batch.union_slug, ["path", "batch_id"])
    return batch


async def current(session: Session, temporal: Client, batch: db.PrintBatch) -> db.PrintBatch:
    """The batch as it stands: a running one whose workflow ended without finishing it is marked failed."""
    await run_in_threadpool(session.refresh, batch)  # the worker writes its progress in other transactions
    if batch.state in RUNNING:
        try:
            status = (await temporal.get_workflow_handle(batch.id).describe()).status
        except RPCError:
            return batch  # Temporal away: the row's progress is still the truth so far
        if status in ENDED_BADLY:
            await run_in_threadpool(_failed, session, batch.id)
            await run_in_threadpool(session.refresh, batch)
    return batch


def _failed(session: Session, batch_id: str) -> None:
    session.execute(update(db.PrintBatch).where(db.PrintBatch.id == batch_id, db.PrintBatch.state.in_(RUNNING))
                    .values(state="failed"))
    commit_early(session)  # on record even if the request goes on to refuse (the PDF of a failed batch: 409)


def pdf_file(session: Session, settings: Settings, officer: Actor, batch: db.PrintBatch) -> Path:
    if batch.state != "done" or batch.pdf_path is None:
        raise Conflict(f"print batch {batch.id} has no PDF yet ({batch.state})")
    path = settings.pdf_dir / batch.pdf_path
    if not path.is_file():
        raise NotFound(f"the PDF of print batch {batch.id} is no longer stored")
    audit.record(session, union=batch.union_slug, actor=officer.username, role=officer.role.value,
                 action="print.download", target=batch.id, detail={"certificates": batch.done}, ip=officer.ip)
    return path


def recent(session: Session, union: str) -> list[db.PrintBatch]:
    return list(session.scalars(select(db.PrintBatch).where(db.PrintBatch.union_slug == union)
                                .order_by(db.PrintBatch.created_at.desc()).limit(RECENT)))


def set_margins(session: Session, officer: Actor, union: db.Union, margins: Margins, loc: list) -> None:
    """The union's letterhead margins, set by its secretary or chairman; 422 naming the margin that leaves too
    little room for a certificate."""
    if officer.union != union.slug or officer.role not in MARGIN_SETTERS:
        raise Forbidden.said(N_("{username} may not set the letterhead of {union}"), username=officer.username,
                             union=union.slug)
    if (field := margins.cramped()) is not None:
        raise Invalid([*loc, field], N_("these margins leave too little room for a certificate"))
    union.letterhead = margins.model_dump()
    audit.record(session, union=union.slug, actor=officer.username, role=officer.role.value,
                 action="union.letterhead", target=union.slug, detail=margins.model_dump(), ip=officer.ip)
