"""One certificate application, from submission to an issued (or refused) sonod.

Read top to bottom, `run` is the union's process: admit the application under its union's rules (chain, fee and
deadlines come from the registry, never from the input), check the NID with Porichoy,
take the fee, pass each officer of the union's chain (ward member, secretary, chairman), then sign,
render and deliver the certificate. Officers decide through the `decide` update; its validator refuses
the wrong officer or a decision that is not awaited. While an officer's step waits, durable timers remind
the officer, mark the application overdue at its deadline, and let the acting chairman decide after
escalation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sonod.domain import STANDS_IN_FOR_CHAIRMAN, STEP_STATUS, DecisionKind, Role, Status, normalise_mobile
    from workflows.activities import BirthRegistry, Issuer, NidGateway, Outbox, Registry
    from workflows.attestation import check_attestation
    from workflows.bookkeeping import Bookkeeping, Clock
    from workflows.messages import (
        CALLBACK,
        LEAN_PROCESS,
        PORICHOY,
        SONOD,
        Actor,
        Amendment,
        ApplicationInput,
        ApplicationResult,
        AuditNote,
        Awaiting,
        BrnCheck,
        Cancellation,
        Decision,
        Escalation,
        Event,
        EventKind,
        Fee,
        Identity,
        IssueRequest,
        NidCheck,
        NidRecord,
        Notice,
        NumberRequest,
        PaymentIn,
        Resend,
        StatusView,
        Submission,
    )
    from workflows.payment import NOTIFIED, PAYMENT_CONVERSATION, Conversation
    from workflows.payment_messages import PaymentNotice
    from workflows.policies import ISSUE_POLICY, NID_POLICY, NOTIFY_POLICY, PROJECT_POLICY, REGISTRY_POLICY
    from workflows.refusals import Refusal, refuse


CANCELLABLE = frozenset({Status.SUBMITTED, Status.VERIFYING_NID, Status.NID_FAILED, Status.AWAITING_PAYMENT,
                         Status.RETURNED, *STEP_STATUS.values()})
CORRECTABLE = frozenset({Status.RETURNED, Status.NID_FAILED})  # the applicant's turn


class Returned(Exception):
    """An officer sent the application back to the applicant."""


BIRTH_REGISTRY = "identity-by-birth-registration"  # workflow.patched: before it, every applicant had an NID
SMS_EVERY_STEP = "sms-every-step"  # workflow.patched: before it, no SMS told the applicant of each office or the fee


class Ended(Exception):
    """The application ended before issue: its final status, what the timeline says of it (`kind`, `params`), and
    what the applicant is told (`told`: the SMS's parameters)."""

    def __init__(self, status: Status, kind: EventKind, note: str, told: dict | None = None, *,
                 template: str | None = None, **params) -> None:
        super().__init__(note)
        self.status, self.kind, self.note, self.told, self.params = status, kind, note, told or {}, params
        self.template = template or status.value  # the applicant's message


@workflow.defn
class CertificateApplication(Bookkeeping):
    @workflow.init
    def __init__(self, submission: Submission) -> None:
        self.submission = submission
        self.app: ApplicationInput | None = None  # the submission under its union's rules, once admitted
        self.status = Status.SUBMITTED
        self.events: list[Event] = []
        self.round = 0
        self.identity: NidRecord | None = None
        self.fee_paid = False
        self.waiting_on: Role | None = None
        self.decision: Decision | None = None
        self.decisions: list[Decision] = []
        self.amendment: Amendment | None = None
        self.cancellation: Cancellation | None = None
        self.payment: PaymentIn | None = None  # the signed callback's
        self.gateway = Conversation()  # or the union's payment gateway's
        self.escalated = False
        self.overdue = False
        self.deadline_at: datetime | None = None
        self.amended_by: str | None = None  # an officer who corrected this round decides none of its steps
        self.audit_notes: list[AuditNote] = []  # written with the next projection
        self.certificate_no: str | None = None
        self.last_notice: Notice | None = None  # what `resend` sends again
        self.resends = 0
        self.outcome: Status | None = None  # set when the application has ended
        # lean (LEAN_PROCESS): what changed since the read model was written, and the search attributes upserted
        self.lean = False
        self.dirty = False
        self.notices: list[Notice] = []
        self.projections = 0  # Projection.seq
        self.settling = False
        self.attributes: dict[str, object] = {}
        self.clocks: tuple[Clock, ...] = ()  # the officer's step's, kept by one task (`keep_time`)
        self.timekeeper: asyncio.Task | None = None

    @workflow.run
    async def run(self, submission: Submission) -> ApplicationResult:
        # LEAN_PROCESS: what changed is written at once, by a local activity before the workflow waits or by the
        # activity that acts next (the NID check, the issue), and the officers' clocks share one timer
        self.lean = submission.process >= LEAN_PROCESS
        self.attributes = {pair.key.name: pair.value for pair in workflow.info().typed_search_attributes}
        await self.admit(submission)
        await self.notify("submitted", {})
        try:
            while True:
                if not await self.verify_nid():
                    await self.wait_for_amendment(Status.NID_FAILED)
                    continue
                await self.take_fee()
                try:
                    for role in self.admitted().chain:
                        await self.officer_step(role)
                    break
                except Returned:
                    await self.wait_for_amendment(Status.RETURNED)
            result = await self.issue()
        except Ended as end:
            await self.step(end.status, end.kind, end.note, **end.params)
            await self.notify(end.template, end.told)
            await self.project()
            await self.settle()
            result = ApplicationResult(status=end.status)
        self.outcome = result.status
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    # --- the steps ---------------------------------------------------------------------------------

    async def admit(self, submission: Submission) -> None:
        """The union's rules for this certificate type, read from the registry, and the application's first row."""
        self.record(EventKind.RECEIVED, "application received", submission.submitted_by, Status.SUBMITTED)
        self.app = app = await workflow.execute_local_activity_method(Registry.admit, submission, **PROJECT_POLICY)
        self.fee_paid = app.fee.amount == 0
        self.deadline_at = app.submitted_at + timedelta(days=app.timing.deadline_days)
        await self.project()
        self.upsert_search_attributes()

    async def verify_nid(self) -> bool:
        """Whether the NID record matches. When it does not, the applicant is told to check what they gave, in the
        same words whatever failed (which field is for the union's officers only), and may correct it."""
        await self.step(Status.VERIFYING_NID, EventKind.NID_CHECK, "checking the NID with Porichoy", PORICHOY)
        app = self.admitted()
        identity = await self.unless_cancelled(self.check_identity(app))
        if not identity.matches:
            await self.step(Status.NID_FAILED, EventKind.NID_FAILED, "the NID record does not match", PORICHOY,
                            failure=identity.error_code or "NO_MATCH")
            await self.notify("nid_failed", {"days": app.timing.correction_expiry.days})
            return False
        self.identity = identity.voter
        return True

    def check_identity(self, app: ApplicationInput) -> Awaitable[Identity]:
        """The birth registry for a birth registration number, the NID gateway for an NID."""
        applicant, projection = app.applicant, self.carried()
        if applicant.brn is not None and (self.lean or workflow.patched(BIRTH_REGISTRY)):
            return workflow.execute_activity_method(BirthRegistry.verify, BrnCheck(
                application_id=app.application_id, brn=applicant.brn, date_of_birth=applicant.date_of_birth,
                name_bn=applicant.name_bn, name_en=applicant.name_en, projection=projection), **NID_POLICY)
        return workflow.execute_activity_method(NidGateway.verify, NidCheck(
            application_id=app.application_id, nid=applicant.nid or "", date_of_birth=applicant.date_of_birth,
            name=applicant.name_en, projection=projection), **NID_POLICY)

    async def take_fee(self) -> None:
        if self.fee_paid:
            return
        app = self.admitted()
        await self.step(Status.AWAITING_PAYMENT, EventKind.PAYMENT_DUE,
                        f"fee {app.fee.amount} {app.fee.currency}", amount=app.fee.amount)
        await self.notify("payment_due", {"amount": app.fee.amount})
        if app.fee.provider != CALLBACK and (self.lean or workflow.patched(PAYMENT_CONVERSATION)):
            paid = await self.gateway.take(app, lambda: self.cancellation is not None, self.wait) is not None
        else:
            paid = await self.wait(lambda: self.payment is not None or self.cancellation is not None,
                                   app.timing.payment_expiry)
        self.check_cancelled()
        if not paid:
            raise Ended(Status.CANCELLED, EventKind.EXPIRED, "the fee was not paid in time", waited="payment")
        self.fee_paid = True
        if self.lean or workflow.patched(SMS_EVERY_STEP):
            await self.notify("paid", {"amount": app.fee.amount})

    async def officer_step(self, role: Role) -> None:
        """Wait for the officer of this step, reminding and escalating on the union's clock."""
        self.decision = None
        self.waiting_on = role
        await self.step(STEP_STATUS[role], EventKind.AWAITING, f"waiting for the {role.value}", step=role.value)
        await self.notify(f"awaiting_{role.value}", {}, to_roles=[role], to_applicant=False)
        if self.lean or workflow.patched(SMS_EVERY_STEP):
            await self.notify(f"with_{role.value}", {}, resendable=False)
        timing, deadline_at = self.admitted().timing, self.deadline()
        await self.until(
            lambda: self.decision is not None or self.cancellation is not None,
            Clock(deadline_at, lambda now: self.mark_overdue(role), live=lambda: not self.overdue),
            Clock(deadline_at + timing.escalate_after,
                  lambda now: self.escalate_now("the chairman did not decide in time", SONOD),
                  live=lambda: role is Role.CHAIRMAN and not self.escalated),
            Clock(workflow.now() + timing.reminder_every, lambda now: self.remind(role, now),
                  every=timing.reminder_every),
        )
        if self.decision is None:
            self.check_cancelled()
        decision = self.decision
        assert decision is not None  # the wait ends on a decision or a cancellation, and a cancellation raised
        self.decisions.append(decision)
        self.waiting_on = None
        self.note(f"decision.{decision.kind.value}", decision.actor, step=role.value, reason=decision.reason)
        said = dict(decision=decision.kind.value, step=role.value, reason=decision.reason)
        if decision.kind is DecisionKind.REJECT:
            raise Ended(Status.REJECTED, EventKind.DECIDED, decision.reason, {"note": decision.reason}, **said,
                        actor=decision.actor)
        if decision.kind is DecisionKind.RETURN:
            await self.step(Status.RETURNED, EventKind.DECIDED, decision.reason, decision.actor, **said)
            await self.notify("returned", {"reason": decision.reason})
            await self.project()
            raise Returned()
        self.record(EventKind.DECIDED, f"{decision.kind.value}d by the {role.value}", decision.actor, **said)

    async def wait_for_amendment(self, waiting_in: Status) -> None:
        """The applicant's turn: a correction after an officer's return, or after the NID record did not match."""
        # No `self.amendment = None` here: the status is already RETURNED, so an amendment may have come in while
        # the return was being told; clearing it would lose it and leave its update waiting for ever.
        if not await self.wait(lambda: self.amendment is not None or self.cancellation is not None,
                               self.admitted().timing.correction_expiry):
            if waiting_in is Status.NID_FAILED:
                raise Ended(Status.NID_FAILED, EventKind.EXPIRED, "the NID details were not corrected in time",
                            template="nid_not_corrected", waited="correction")
            raise Ended(Status.CANCELLED, EventKind.EXPIRED, "the application was not corrected in time",
                        waited="correction")
        self.check_cancelled()
        amendment, self.amendment = self.amendment, None
        assert amendment is not None  # the wait ends on an amendment or a cancellation, and a cancellation raised
        self.app = self.admitted().model_copy(update={
            k: v for k, v in (("applicant", amendment.applicant), ("contact", amendment.contact),
                              ("details", amendment.details)) if v is not None
        })
        self.round += 1
        self.decisions = []
        officer = amendment.actor.role not in (Role.CITIZEN, Role.PORTAL)
        self.amended_by = amendment.actor.username if officer else None
        self.note("application.amend", amendment.actor, round=self.round)
        await self.step(Status.SUBMITTED, EventKind.AMENDED, "corrected by the applicant", amendment.actor)

    async def issue(self) -> ApplicationResult:
        await self.step(Status.ISSUING, EventKind.ISSUING, "signing and rendering the certificate")
        app, issued_at = self.admitted(), workflow.now()
        if self.lean:  # one activity numbers, signs, renders, stores and records the application as issued
            issuing = self.carried()
            assert issuing is not None  # the step above changed the status
            certificate = await workflow.execute_activity_method(Issuer.issue, IssueRequest(
                application=app, identity=self.identity or NidRecord(), issued_at=issued_at,
                decisions=self.decisions, projection=issuing), **ISSUE_POLICY)
            self.adopt(issuing.issued(certificate.certificate_no, issued_at))
            return ApplicationResult(status=Status.ISSUED, certificate_no=certificate.certificate_no)
        number = await workflow.execute_activity_method(
            Registry.allocate_number,
            NumberRequest(application_id=app.application_id, union=app.union.slug,
                          certificate_type=app.certificate_type, issued_at=issued_at),
            **REGISTRY_POLICY,
        )
        self.certificate_no = number.certificate_no
        certificate = await workflow.execute_activity_method(
            Issuer.issue,
            IssueRequest(application=app, identity=self.identity or NidRecord(),
                         certificate_no=number.certificate_no, issued_at=issued_at, decisions=self.decisions),
            **ISSUE_POLICY,
        )
        self.note("certificate.issue", SONOD, certificate_no=certificate.certificate_no, kid=certificate.kid)
        await self.step(Status.ISSUED, EventKind.ISSUED, f"certificate {certificate.certificate_no} issued",
                        certificate_no=certificate.certificate_no)
        await self.notify("issued", {"certificate_no": certificate.certificate_no})
        await self.project()
        return ApplicationResult(status=Status.ISSUED, certificate_no=certificate.certificate_no)

    # --- what officers, applicants and the gateway send --------------------------------------------

    @workflow.update
    async def decide(self, decision: Decision) -> StatusView:
        deciding = self.status
        self.check_decision(decision)  # again: another update may have won since validation
        self.decision = decision
        await workflow.wait_condition(lambda: self.status != deciding)
        return self.view()

    @decide.validator
    def check_decision(self, decision: Decision) -> None:
        actor = decision.actor
        app = self.admitted()
        self.check_union(actor)
        if decision.kind is not DecisionKind.APPROVE and not decision.reason.strip():
            raise refuse(Refusal.REASON_REQUIRED, decision=decision.kind.value)
        may_stand_in = Role.CHAIRMAN in app.chain and (
            Role.CHAIRMAN in actor.acts_for or (self.escalated and actor.role in app.escalation_roles))
        if not actor.roles & set(app.chain) and not may_stand_in:
            raise refuse(Refusal.NOT_IN_CHAIN, role=actor.role.value, certificate_type=app.certificate_type)
        if self.cancellation is not None:  # of a cancellation and a decision, the first accepted wins
            raise refuse(Refusal.CANCELLING)
        awaiting = self.awaiting() if self.decision is None else None
        if awaiting is not None and not awaiting.admits(actor) and awaiting.step is actor.role is Role.WARD_MEMBER:
            raise refuse(Refusal.OTHER_WARD)
        if awaiting is None or not awaiting.admits(actor):
            acting_as = actor.role if actor.role in app.chain else Role.CHAIRMAN
            raise refuse(Refusal.NOT_AWAITING_OFFICER, status=self.status.value, role=acting_as.value)
        if actor.username == self.amended_by:
            raise refuse(Refusal.CORRECTED_BY_OFFICER)
        check_attestation(app, self.waiting_on, decision)

    @workflow.update
    async def pay(self, payment: PaymentIn) -> StatusView:
        self.check_payment(payment)
        self.payment = payment
        await workflow.wait_condition(lambda: self.status != Status.AWAITING_PAYMENT)
        return self.view()

    @pay.validator
    def check_payment(self, payment: PaymentIn) -> None:
        """The signed callback's payment; a union that takes its fee through a gateway takes none (the workflow asks
        that gateway instead)."""
        fee = self.admitted().fee
        if self.status is not Status.AWAITING_PAYMENT or self.payment is not None or fee.provider != CALLBACK:
            raise refuse(Refusal.NOT_AWAITING_PAYMENT, status=self.status.value)
        if payment.currency != fee.currency or payment.amount != fee.amount:
            raise refuse(Refusal.WRONG_FEE, fee=fee.amount, currency=fee.currency,
                         amount=payment.amount, paid_currency=payment.currency)

    @workflow.signal(name=NOTIFIED)
    def payment_notified(self, notice: PaymentNotice) -> None:
        """The gateway (or the payer's return) named the open order: the workflow asks the gateway, trusting nothing
        the notification said."""
        self.gateway.notified(notice)

    @workflow.update
    async def amend(self, amendment: Amendment) -> StatusView:
        self.check_amendment(amendment)
        self.amendment, waiting_in = amendment, self.status
        await workflow.wait_condition(lambda: self.status is not waiting_in)
        return self.view()

    @amend.validator
    def check_amendment(self, amendment: Amendment) -> None:
        self.check_applicant_side(amendment.actor)
        if self.status not in CORRECTABLE or self.amendment is not None or self.outcome is not None:
            raise refuse(Refusal.NOT_RETURNED, status=self.status.value)

    @workflow.update
    async def cancel(self, cancellation: Cancellation) -> StatusView:
        self.check_cancellation(cancellation)
        self.cancellation = cancellation
        self.note("application.cancel", cancellation.actor, reason=cancellation.reason)
        # until the application has ended: a final status, but the applicant's turn after an NID mismatch is not
        await workflow.wait_condition(
            lambda: (self.status.is_final and self.status is not Status.NID_FAILED) or self.outcome is not None)
        return self.view()

    @cancel.validator
    def check_cancellation(self, cancellation: Cancellation) -> None:
        if cancellation.actor.role is not Role.OPERATOR:  # the deployment's operator ends stuck work: `sonod ops`
            self.check_applicant_side(cancellation.actor)
        if self.status not in CANCELLABLE or self.cancellation is not None or self.decision is not None \
                or self.outcome is not None:
            raise refuse(Refusal.NOT_CANCELLABLE, status=self.status.value)

    @workflow.update
    async def escalate(self, escalation: Escalation) -> StatusView:
        """Let the acting chairman or administrator decide now (operators, or the deadline timer)."""
        await self.escalate_now(escalation.reason, escalation.actor)
        await self.settle()
        return self.view()

    async def escalate_now(self, reason: str, actor: Actor) -> None:
        if self.escalated:
            return
        self.escalated = True
        self.record(EventKind.ESCALATED, f"escalated: {reason}", actor, reason=reason)
        self.note("application.escalate", actor, reason=reason)
        await self.project()
        self.upsert_search_attributes()
        app = self.admitted()
        await self.notify("escalated", {"reason": reason}, to_applicant=False,
                          to_roles=[*app.escalation_roles, *app.escalation_notify])

    @escalate.validator
    def check_escalation(self, escalation: Escalation) -> None:
        if escalation.actor.role is not Role.OPERATOR:
            raise refuse(Refusal.OPERATORS_ONLY, verb="escalate by hand")
        if self.waiting_on is not Role.CHAIRMAN:
            raise refuse(Refusal.NOT_AWAITING_OFFICER, status=self.status.value, role=Role.CHAIRMAN.value)

    @workflow.update
    async def resend(self, request: Resend) -> StatusView:
        """Send the last notification again under a new key, `resend-N` (operators: `sonod ops resend`)."""
        self.resends += 1
        assert self.last_notice is not None  # check_resend refused a resend with nothing sent
        notice = self.last_notice.model_copy(update={"key": f"r{self.round}:resend-{self.resends}"})
        if self.lean:
            sent = self.queue(notice)
        else:
            sent = (await workflow.execute_activity_method(Outbox.notify, notice, **NOTIFY_POLICY)).channels
        channels = ", ".join([*sent, *(["inbox"] if notice.to_roles else [])])
        self.record(EventKind.RESENT, f"resent {notice.template} by {channels or 'no channel'}", request.actor,
                    template=notice.template, channels=channels)
        await self.project()
        await self.settle()
        return self.view()

    @resend.validator
    def check_resend(self, request: Resend) -> None:
        if request.actor.role is not Role.OPERATOR:
            raise refuse(Refusal.OPERATORS_ONLY, verb="resend notifications")
        if self.last_notice is None:
            raise refuse(Refusal.NOTHING_SENT)

    @workflow.query
    def view(self) -> StatusView:
        app, sub = self.app, self.submission
        return StatusView(
            application_id=sub.application_id, union=sub.union, submitted_by=sub.submitted_by.username,
            certificate_type=sub.certificate_type,
            fee=app.fee if app else Fee(), status=self.status, round=self.round, certificate_no=self.certificate_no,
            deadline_at=self.deadline_at, overdue=self.overdue, escalated=self.escalated, fee_paid=self.fee_paid,
            waiting_on=self.waiting_on, awaiting=self.awaiting(), events=self.events, payment=self.gateway.order,
        )

    def awaiting(self, status: Status | None = None) -> Awaiting | None:
        """The step this application waits on (in `status`, by default the current one) and who may decide it now,
        escalation included."""
        role, app, status = self.waiting_on, self.app, status or self.status
        if role is None or app is None or status is not STEP_STATUS[role]:
            return None
        deciders = [role]
        if role is Role.CHAIRMAN and self.escalated:
            deciders += [r for r in app.escalation_roles if r not in deciders]
        return Awaiting(step=role, status=status, union=app.union.slug, upazila=app.union.upazila_slug,
                        ward_no=self.ward_no() if role is Role.WARD_MEMBER else None, deciders=deciders)

    # --- what the clocks do ---------------------------------------------------------------------

    async def mark_overdue(self, role: Role) -> None:
        self.overdue = True
        self.record(EventKind.OVERDUE, f"overdue: the {role.value} has not decided by the deadline", step=role.value)
        await self.project()
        self.upsert_search_attributes()
        await self.notify("overdue", {}, to_roles=[role, Role.UPAZILA_ADMIN], to_applicant=False)

    async def remind(self, role: Role, now: datetime) -> None:
        await self.notify(f"reminder_{role.value}", {"due": self.deadline().isoformat()},
                          to_roles=[role], to_applicant=False, key=f"reminder-{now.isoformat()}")

    # --- what the workflow reads -----------------------------------------------------------------

    def ward_no(self) -> int | None:
        """The ward whose member recommends: the NID record's, when the record lives in this union; never the
        applicant's claim."""
        record = self.identity or NidRecord()
        return record.ward_no if record.union in (None, self.submission.union) else None

    def admitted(self) -> ApplicationInput:
        if self.app is None:
            raise refuse(Refusal.ADMITTING)
        return self.app

    def deadline(self) -> datetime:
        """The deadline, set with the application's admission."""
        assert self.deadline_at is not None, "read before admission"
        return self.deadline_at

    async def unless_cancelled(self, activity):
        """Await the activity, unless the applicant cancels first (say, while the gateway is down)."""
        task = asyncio.ensure_future(activity)
        await workflow.wait_condition(lambda: task.done() or self.cancellation is not None)
        if not task.done():
            task.cancel()
        self.check_cancelled()
        return await task

    def check_cancelled(self) -> None:
        if self.cancellation is not None:
            cancellation = self.cancellation
            raise Ended(Status.CANCELLED, EventKind.CANCELLED, cancellation.reason or "cancelled by the applicant",
                        {"note": cancellation.reason}, reason=cancellation.reason, actor=cancellation.actor)

    def check_union(self, actor: Actor) -> None:
        union = self.admitted().union
        if actor.union == union.slug:
            return
        if actor.union is None and actor.upazila == union.upazila_slug and actor.role in STANDS_IN_FOR_CHAIRMAN:
            return
        raise refuse(Refusal.NOT_THIS_UNION, union=union.slug)

    def check_applicant_side(self, actor: Actor) -> None:
        """The applicant's side is whoever submitted (that portal key, that UDC operator or secretary) and the
        citizen who proved the application's mobile number; no one else."""
        submitter, contact = self.submission.submitted_by, self.admitted().contact
        if actor.role is Role.CITIZEN:
            proved = normalise_mobile(actor.mobile)
            if proved and proved == normalise_mobile(contact.mobile):
                return
            raise refuse(Refusal.MOBILE_MISMATCH)
        if actor.role is submitter.role and actor.username == submitter.username:
            return
        raise refuse(Refusal.NOT_SUBMITTER, username=actor.username)
