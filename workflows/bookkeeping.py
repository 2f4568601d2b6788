"""How CertificateApplication keeps its record: the timeline, the read model and its audit entries, the notices, the
search attributes, and the clocks of the officers' steps (`until`).

Process 1 (`Submission.process`) wrote each step as it came: a projection, an `Outbox.notify` activity and an upsert
each. The lean process (`LEAN_PROCESS`) marks what changed (`dirty`) and writes it all at once (`settle`): by the
local activity `Registry.project` before the workflow waits, or handed to the activity that acts next (`carried`);
it upserts only the search attributes that changed, and one task keeps the officers' clocks on one timer
(`keep_time`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sonod.domain import Role, Status
    from workflows.activities import Outbox, Registry
    from workflows.messages import (
        OUTBOX,
        SONOD,
        SYSTEM,
        Actor,
        ApplicationInput,
        AuditNote,
        Awaiting,
        Event,
        EventKind,
        NidRecord,
        Notice,
        Projection,
        StatusView,
        Submission,
    )
    from workflows.policies import NOTIFY_POLICY, PROJECT_POLICY
    from workflows.search_attributes import search_attributes_for, upserts


@dataclass
class Clock:
    """A durable timer of a human step (`until`): `act` runs at `at` while `live` holds, again every `every`."""

    at: datetime
    act: Callable[[datetime], Awaitable[None]]
    every: timedelta | None = None
    live: Callable[[], bool] = lambda: True


class Bookkeeping:
    """The record-keeping half of CertificateApplication, which sets these and defines the methods below."""

    submission: Submission
    app: ApplicationInput | None
    status: Status
    events: list[Event]
    round: int
    identity: NidRecord | None
    waiting_on: Role | None
    overdue: bool
    audit_notes: list[AuditNote]
    last_notice: Notice | None
    lean: bool
    dirty: bool
    notices: list[Notice]
    projections: int
    settling: bool
    attributes: dict[str, object]
    clocks: tuple[Clock, ...]
    timekeeper: asyncio.Task | None
    certificate_no: str | None

    def admitted(self) -> ApplicationInput:
        raise NotImplementedError

    def deadline(self) -> datetime:
        raise NotImplementedError

    def ward_no(self) -> int | None:
        raise NotImplementedError

    def view(self) -> StatusView:
        raise NotImplementedError

    def awaiting(self, status: Status | None = None) -> Awaiting | None:
        raise NotImplementedError

    async def step(self, status: Status, kind: EventKind, note: str, actor: Actor = SONOD, **params) -> None:
        """Enter a status: record the event, project the read model, then update the search attributes (lean: both
        at the next write)."""
        self.record(kind, note, actor, status, **params)
        if self.lean:
            self.status, self.dirty = status, True
            return
        await self.project(status)
        self.status = status
        self.upsert_search_attributes()

    def upsert_search_attributes(self) -> None:
        if self.lean:
            self.dirty = True
            return
        workflow.upsert_search_attributes(upserts(self.search_attributes()))

    def search_attributes(self):
        return search_attributes_for(self.admitted(), self.status, self.deadline(), self.overdue, self.waiting_on,
                                     self.awaiting())

    def record(self, kind: EventKind, note: str, actor: Actor = SONOD, status: Status | None = None,
               **params) -> None:
        """An entry of the timeline: what happened, who did it and in which office (officers only), and the facts."""
        office = actor.role if actor.role not in (Role.PORTAL, Role.CITIZEN) and actor not in SYSTEM else None
        self.events.append(Event(at=workflow.now(), status=status or self.status, actor=actor.username, note=note,
                                 kind=kind, office=office, params=params))

    def note(self, action: str, actor: Actor, **detail) -> None:
        """An audit entry, written with the next projection."""
        key = f"{self.submission.application_id}:{len(self.events)}:{len(self.audit_notes)}:{action}"
        self.audit_notes.append(AuditNote(key=key, action=action, actor=actor, detail=detail))

    async def project(self, status: Status | None = None) -> None:
        if self.lean:
            self.dirty = True
            return
        view = self.view()
        if status is not None:
            view.status, view.awaiting = status, self.awaiting(status)
        notes, self.audit_notes = self.audit_notes, []
        await workflow.execute_local_activity_method(
            Registry.project, Projection(input=self.admitted(), view=view, identity=self.identity, audit=notes),
            **PROJECT_POLICY,
        )

    async def notify(self, template: str, params: dict, *, to_roles: list[Role] | None = None,
                     to_applicant: bool = True, key: str | None = None, resendable: bool = True) -> None:
        """`resendable=False` for a courtesy note that must not take the place of the step's own notice in `resend`."""
        app = self.admitted()
        notice = Notice(
            application_id=app.application_id, key=f"r{self.round}:{key or template}", template=template,
            to_applicant=to_applicant, to_roles=to_roles or [], union=app.union.slug,
            ward_no=self.ward_no(), contact=app.contact if to_applicant else None, params=params,
        )
        if resendable:
            self.last_notice = notice
        if self.lean:
            if channels := self.queue(notice):
                self.record(EventKind.NOTIFIED, f"{template}: queued for {', '.join(channels)}", OUTBOX,
                            template=template, channels=channels)
            return
        delivered = await workflow.execute_activity_method(Outbox.notify, notice, **NOTIFY_POLICY)
        if delivered.channels:
            self.record(EventKind.NOTIFIED, f"{template}: sent by {', '.join(delivered.channels)}", OUTBOX,
                        template=template, channels=delivered.channels)

    async def until(self, done: Callable[[], bool], *clocks: Clock) -> None:
        """Wait for a person (`done`), racing the step's durable timers: each live clock acts when it comes due, in
        the order given, and a clock with `every` comes due again after each interval."""
        if self.lean:
            self.clocks = clocks
            if self.timekeeper is None:
                self.timekeeper = asyncio.create_task(self.keep_time())
            await self.settle()
            await workflow.wait_condition(done)
            self.clocks = ()
            return
        while not done():
            live = [clock for clock in clocks if clock.live()]
            if await self.wait(done, min(clock.at for clock in live) - workflow.now()):
                return
            now = workflow.now()
            for clock in clocks:
                if clock.live() and now >= clock.at:
                    if clock.every:
                        clock.at = now + clock.every
                    await clock.act(now)

    async def wait(self, condition, timeout: timedelta) -> bool:
        """True when the condition held before the timeout."""
        await self.settle()
        try:
            await workflow.wait_condition(condition, timeout=max(timeout, timedelta(seconds=1)))
            return True
        except TimeoutError:
            return False

    async def keep_time(self) -> None:
        """Lean: the officers' clocks (`until`), one durable timer at a time for every step, so that a decision
        cancels no timer. A later step's clocks come due no sooner than the earlier step's (the same deadline; a
        reminder counted from the later start); should one come due sooner, the timer is set again."""
        while True:
            due = self.earliest()
            if due is None:
                await workflow.wait_condition(lambda: self.earliest() is not None)
                continue
            if await self.wait(lambda due=due: (self.earliest() or due) < due, due - workflow.now()):
                continue
            now = workflow.now()
            for clock in self.clocks:
                if clock.live() and now >= clock.at:
                    if clock.every:
                        clock.at = now + clock.every
                    await clock.act(now)
            await self.settle()

    def earliest(self) -> datetime | None:
        return min((clock.at for clock in self.clocks if clock.live()), default=None)

    def queue(self, notice: Notice) -> list[str]:
        """Lean: the notice goes to the outbox with the next write of the read model; answers how the applicant is
        reached."""
        self.notices.append(notice)
        self.dirty = True
        return notice.channels()

    async def settle(self) -> None:
        """Lean: write what changed since the last write (the read model, its audit entries and the notices, in one
        local transaction), then upsert the search attributes that changed, all in one upsert."""
        if not self.lean:
            return
        await workflow.wait_condition(lambda: not self.settling)  # one write at a time, in order
        if not self.dirty:
            return
        self.settling = True
        try:
            await workflow.execute_local_activity_method(Registry.project, self.take_projection(), **PROJECT_POLICY)
        finally:
            self.settling = False
        self.upsert_changed()

    def carried(self) -> Projection | None:
        """Lean: what changed, for the activity about to run to write with its own work; None when nothing did."""
        if not self.lean or not self.dirty:
            return None
        projection = self.take_projection()
        self.upsert_changed()
        return projection

    def take_projection(self) -> Projection:
        notes, self.audit_notes = self.audit_notes, []
        notices, self.notices = self.notices, []
        self.projections += 1
        self.dirty = False
        return Projection(input=self.admitted(), view=self.view(), identity=self.identity, audit=notes,
                          notices=notices, seq=self.projections)

    def upsert_changed(self) -> None:
        changed = [pair for pair in self.search_attributes() if self.attributes.get(pair.key.name) != pair.value]
        if changed:
            workflow.upsert_search_attributes([pair.key.value_set(pair.value) for pair in changed])
            self.attributes.update((pair.key.name, pair.value) for pair in changed)

    def adopt(self, issued: Projection) -> None:
        """Lean: the application as the issue activity recorded it."""
        self.events, self.status, self.projections = list(issued.view.events), issued.view.status, issued.seq
        self.certificate_no = issued.view.certificate_no
        self.upsert_changed()
