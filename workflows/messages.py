"""What goes in and out of the CertificateApplication workflow, its updates and its activities.

Pydantic models, converted by temporalio's pydantic data converter (and encrypted by the PII codec).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from sonod.domain import STANDS_IN_FOR_CHAIRMAN, DecisionKind, Role, Status

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
OptName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None
Mobile = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(\+?88)?01[3-9][0-9]{8}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Number = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Language = Literal["bn", "en", "both"]  # the certificates asked for: Bengali, English (`<number>-EN`), or both
CertificateNo = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=60)]
Attestation = Annotated[str, StringConstraints(strip_whitespace=True, max_length=3000)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Applicant(BaseModel):
    """What the applicant claims; the NID gateway's answer is kept beside it as `Identity`."""

    model_config = ConfigDict(extra="allow", str_max_length=300)
    nid: Number | None = None  # exactly one of nid and brn (api/services/applications.py checked_applicant)
    brn: Number | None = None  # a birth registration number, for minors and people without an NID
    date_of_birth: dt.date
    name_bn: Name
    name_en: Name
    father_name_bn: OptName = None
    mother_name_bn: OptName = None
    father_name_en: OptName = None
    mother_name_en: OptName = None
    ward_no: int | None = Field(None, ge=1, le=9)


class Contact(Model):
    mobile: Mobile | None = None
    email: EmailStr | None = None


class Actor(Model):
    """Who acts. The API builds it from a verified token, portal key or (a citizen) the application number and the
    mobile number proved together; only sonod's processes can seal it (sonod/codec.py), and the workflow decides
    what this actor may do."""

    username: str
    role: Role
    union: str | None = None
    upazila: str | None = None
    ward_no: int | None = None
    acts_for: list[Role] = []
    ip: str | None = None
    mobile: str | None = None  # a citizen's: the number proved with the application number

    @property
    def roles(self) -> set[Role]:
        """Their own role and those they act for by delegation."""
        return {self.role, *self.acts_for}

    def revokes_in(self, union: str) -> bool:
        """The union's chairman, or whoever acts for the chairman there by delegation (`acts_for` of that union)."""
        return (self.role is Role.CHAIRMAN and self.union == union) or Role.CHAIRMAN in self.acts_for


SONOD = Actor(username="sonod", role=Role.OPERATOR)  # the workflow's own clock acting
PORICHOY = Actor(username="porichoy", role=Role.OPERATOR)  # the NID gateway's answer
OUTBOX = Actor(username="outbox", role=Role.OPERATOR)  # what was sent, and how
SYSTEM = (SONOD, PORICHOY, OUTBOX)  # sonod itself: no person, no office


class FeeLine(Model):
    code: str
    name_bn: str
    name_en: str
    amount: int


CALLBACK = "callback"  # the demo's (and a custom gateway's) signed callback: POST /api/v1/payments/callback


class Fee(Model):
    amount: int = 0
    currency: str = "BDT"
    lines: list[FeeLine] = []
    provider: str = CALLBACK  # the union's payment gateway (ekpay, bkash, sslcommerz, nagad), or the callback


class Timing(Model):
    deadline_days: int
    reminder_every: dt.timedelta
    escalate_after: dt.timedelta
    payment_expiry: dt.timedelta
    correction_expiry: dt.timedelta
    payment_poll: dt.timedelta = dt.timedelta(minutes=5)  # with no word from the gateway, ask it this often


class UnionView(Model):
    slug: str
    code: str = ""  # the union's own code: its memo numbers begin with it
    name_bn: str
    name_en: str
    upazila_bn: str
    upazila_en: str
    upazila_slug: str
    district_bn: str
    district_en: str


class Submission(Model):
    """What the applicant's side asked for: the workflow's input. The union's rules (chain, fee, deadlines) are not in
    it: the workflow reads them from the registry when it starts (`Registry.admit`)."""

    application_id: str
    union: str
    certificate_type: str
    applicant: Applicant
    contact: Contact
    details: dict[str, Any]
    submitted_by: Actor
    submitted_at: dt.datetime
    language: Language = "bn"
    corrects: CertificateNo | None = None  # the issued certificate this application corrects (it supersedes it)
    # The version of the process the workflow runs (CertificateApplication): 1, each step written, told and upserted
    # on its own, for the applications started before LEAN_PROCESS (their histories replay it); LEAN_PROCESS for the
    # new ones. Not a permission: both run the same checks.
    process: int = 1


LEAN_PROCESS = 2  # what changed is written at once, before the workflow waits or by the activity that acts next


class ApplicationInput(Model):
    """The application as the workflow holds it: the submission with the union's rules, as `Registry.admit` read
    them."""

    application_id: str
    union: UnionView
    certificate_type: str
    applicant: Applicant
    contact: Contact
    details: dict[str, Any]
    chain: list[Role]
    fee: Fee
    timing: Timing
    escalation_roles: list[Role]
    escalation_notify: list[Role] = [Role.UPAZILA_ADMIN]  # told, with the escalation roles, when a step escalates
    submitted_by: Actor
    submitted_at: dt.datetime
    language: Language = "bn"
    corrects: CertificateNo | None = None


class EventKind(StrEnum):
    """What happened, for the timeline's words (api/locale): the English `note` is for logs and API v1."""

    RECEIVED = "received"
    NID_CHECK = "nid_check"
    NID_FAILED = "nid_failed"
    PAYMENT_DUE = "payment_due"
    AWAITING = "awaiting"
    DECIDED = "decided"
    AMENDED = "amended"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    ISSUING = "issuing"
    ISSUED = "issued"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # the fee or a correction did not come in time
    NOTIFIED = "notified"
    RESENT = "resent"
    REVOKED = "revoked"


class Event(Model):
    at: dt.datetime
    status: Status
    actor: str
    note: str = ""
    kind: EventKind | None = None  # None: recorded before events had kinds
    office: Role | None = None  # the office of the person who acted; None when sonod itself did
    params: dict[str, Any] = {}  # the decision, its reason, the step, the channels...


class Decision(Model):
    kind: DecisionKind
    reason: Reason = ""
    actor: Actor
    text: Attestation | None = None  # the secretary's approval of a free-text attestation: its text, printed
    text_en: Attestation | None = None  # and its English, for an English certificate


class PaymentIn(Model):
    transaction_id: str
    amount: int
    currency: str = "BDT"


class Amendment(Model):
    applicant: Applicant | None = None
    contact: Contact | None = None
    details: dict[str, Any] | None = None
    actor: Actor


class Cancellation(Model):
    reason: Reason
    actor: Actor


class Escalation(Model):
    reason: Reason
    actor: Actor


class Resend(Model):
    """An operator asks for the last notification again (`sonod ops resend`)."""

    reason: Reason = ""
    actor: Actor


class Awaiting(Model):
    """The officer step an application waits on and who may decide it now: the workflow's one answer, published in
    its status view, the read model and the `SonodDeciders` search attribute, and read by everyone else."""

    step: Role
    status: Status
    union: str
    upazila: str
    ward_no: int | None = None  # a ward member's step: the ward of the NID record; None: the record names none
    deciders: list[Role]

    def in_union(self, actor: Actor) -> bool:
        """The union's own officers, and the upazila's officers who stand in for a chairman."""
        if actor.union is not None:
            return actor.union == self.union
        return actor.upazila == self.upazila and actor.role in STANDS_IN_FOR_CHAIRMAN

    def admits(self, actor: Actor) -> bool:
        """Whether this officer may decide this step now."""
        if not self.in_union(actor) or not actor.roles & set(self.deciders):
            return False
        return not (self.step is Role.WARD_MEMBER and actor.role is Role.WARD_MEMBER
                    and self.ward_no is not None and actor.ward_no != self.ward_no)


class StatusView(Model):
    application_id: str
    union: str
    submitted_by: str | None = None
    certificate_type: str
    fee: Fee
    status: Status
    round: int
    certificate_no: str | None
    deadline_at: dt.datetime | None
    overdue: bool
    escalated: bool
    fee_paid: bool
    waiting_on: Role | None
    awaiting: Awaiting | None = None
    events: list[Event]
    payment: PaymentOrderRef | None = None  # the open order at the union's payment gateway: where the payer pays


class ApplicationResult(Model):
    status: Status
    certificate_no: str | None = None


# --- activities ---------------------------------------------------------------------------------

class AuditNote(Model):
    """An entry of the union's audit log, written by the workflow's projection in the same transaction as the read
    model, so that it is as durable as what it records; `key` makes a retried projection write it once."""

    key: str
    action: str
    actor: Actor
    detail: dict[str, Any] = {}


class Projection(Model):
    """The read model's row, with the audit entries and the notices of the steps since the last one, written in one
    transaction. `seq` rises with each projection of an application: an older one never overwrites a newer (a retried
    activity's)."""

    input: ApplicationInput
    view: StatusView
    identity: NidRecord | None = None
    audit: list[AuditNote] = []
    notices: list[Notice] = []
    seq: int = 0


    def issued(self, certificate_no: str, at: dt.datetime) -> Projection:
        """The application once its certificate is issued: the issue activity records it with the certificate, and
        the workflow adopts it, so that both hold the same timeline."""
        app, view, identity = self.input, self.view, self.identity
        ward_no = identity.ward_no if identity and identity.union in (None, app.union.slug) else None
        notice = Notice(application_id=app.application_id, key=f"r{view.round}:issued", template="issued",
                        union=app.union.slug, ward_no=ward_no, contact=app.contact,
                        params={"certificate_no": certificate_no})
        events = [*view.events, Event(at=at, status=Status.ISSUED, actor=SONOD.username, kind=EventKind.ISSUED,
                                      note=f"certificate {certificate_no} issued",
                                      params={"certificate_no": certificate_no})]
        if channels := notice.channels():
            events.append(Event(at=at, status=Status.ISSUED, actor=OUTBOX.username, kind=EventKind.NOTIFIED,
                                note=f"issued: queued for {', '.join(channels)}",
                                params={"template": "issued", "channels": channels}))
        note = AuditNote(key=f"{app.application_id}:{len(view.events)}:0:certificate.issue", action="certificate.issue",
                         actor=SONOD, detail={"certificate_no": certificate_no})
        return self.model_copy(update={
            "view": view.model_copy(update={"status": Status.ISSUED, "certificate_no": certificate_no, "events": events,
                                            "waiting_on": None, "awaiting": None}),
            "audit": [note], "notices": [notice], "seq": self.seq + 1})


class NidCheck(Model):
    application_id: str
    nid: str
    date_of_birth: dt.date
    name: str
    projection: Projection | None = None  # the application as the check starts, written by the check's activity


class BrnCheck(Model):
    """A birth registration number to look up: the registry matches the number and the date of birth, sonod the
    names."""

    application_id: str
    brn: str
    date_of_birth: dt.date
    name_bn: str
    name_en: str
    projection: Projection | None = None  # as NidCheck's


class NidRecord(BaseModel):
    """What the NID gateway's record says of the applicant (not what the applicant claims). The fields sonod reads
    are typed; the gateway's others are kept as they come, for the certificate to print."""

    model_config = ConfigDict(extra="allow")
    nid: str | None = None
    brn: str | None = None  # the birth registry's record holds this one instead
    date_of_birth: dt.date | None = None
    name_bn: str | None = None
    name_en: str | None = None
    father_name_bn: str | None = None
    mother_name_bn: str | None = None
    gender: str | None = None
    union: str | None = None
    ward_no: int | None = None
    photo: str | None = None

    def fields(self) -> dict[str, Any]:
        """Every field the record holds, by name, as JSON."""
        return self.model_dump(mode="json", exclude_none=True)


class Identity(Model):
    matches: bool
    error_code: str | None = None
    reason: str = ""
    voter: NidRecord | None = None


class NumberRequest(Model):
    application_id: str
    union: str
    certificate_type: str
    issued_at: dt.datetime


class CertificateNumber(Model):
    certificate_no: str
    year: int
    seq: int


class IssueRequest(Model):
    application: ApplicationInput
    identity: NidRecord
    certificate_no: str = ""  # "": the issue numbers it, in the transaction that writes `projection`
    issued_at: dt.datetime
    decisions: list[Decision]
    language: Literal["bn", "en"] = "bn"  # the page's; "en": the English certificate `<number>-EN` of the Bengali one
    projection: Projection | None = None  # as the issue starts: written with the number, then `.issued(...)`


class IssuedCertificate(Model):
    certificate_no: str
    kid: str
    pdf_ref: str


class ReceiptRequest(Model):
    """The money receipt of an application whose fee is paid (workflows/receipt.py)."""

    application_id: str


class IssuedReceipt(Model):
    receipt_no: str
    pdf_ref: str  # under the PDF store, as a certificate's


class Notice(Model):
    """One message to the applicant or to officers; `key` makes it idempotent."""

    application_id: str
    key: str
    template: str
    to_applicant: bool = True
    to_roles: list[Role] = []
    union: str
    ward_no: int | None = None
    contact: Contact | None = None
    params: dict[str, Any] = {}


    def channels(self) -> list[str]:
        """How the applicant is reached: sms, email (the officers' inbox and SMS are not counted)."""
        contact = self.contact if self.to_applicant else None
        return sorted(c for c, to in (("email", contact and contact.email), ("sms", contact and contact.mobile)) if to)


class Delivered(Model):
    channels: list[str] = []  # how the applicant was reached: sms, email


# --- revoking an issued certificate (workflows/revocation.py) -----------------------------------------------


class Revocation(Model):
    certificate_no: str
    union: str
    reason: Reason
    actor: Actor


class Revoked(Model):
    """The certificate as revoked (by this revocation, or by the one before it)."""

    certificate_no: str
    application_id: str
    certificate_type: str
    revoked_at: dt.datetime
    revoked_by: str
    reason: str
    contact: Contact | None = None


# --- the open order at the union's payment gateway (the rest: workflows/payment_messages.py) ----------------


class PaymentOrderRef(Model):
    order_id: str
    provider: str
    provider_ref: str | None = None
    redirect_url: str | None = None
    expires_at: dt.datetime


# --- a duplicate copy of an issued certificate (workflows/copies.py, activities/copies.py) ------------------------


class CopyStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    MAKING = "making"
    MADE = "made"
    EXPIRED = "expired"  # the fee did not come in time


class CopyRequest(Model):
    """A duplicate copy asked for by `actor` (the API checked that they may): its fee is the union's, read when the
    workflow admits it (`Copies.admit`)."""

    copy_id: str
    certificate_no: str
    actor: Actor


class CopyOrder(Model):
    copy_id: str
    certificate_no: str
    union: str
    fee: int
    currency: str = "BDT"
    payment_expiry: dt.timedelta


class CopyPayment(Model):
    """The fee as the workflow took it (the signed callback's), recorded with the copy."""

    copy_id: str
    transaction_id: str | None = None  # None: no fee


class CopyMade(Model):
    copy_id: str
    certificate_no: str
    pdf_ref: str


class CopyView(Model):
    copy_id: str
    certificate_no: str
    union: str | None = None
    fee: int | None = None  # None until admitted
    currency: str = "BDT"
    status: CopyStatus
    pdf_ref: str | None = None


# --- June's reminder to renew trade licences (workflows/licences.py, activities/licences.py) -----------------------


class RenewalReminders(Model):
    """A run of the reminder: the licences of `fiscal_year` ("": the one ending this June) after `after`."""

    fiscal_year: str = ""
    after: list[str] | None = None  # the (union, licence number) last reminded
    sent: int = 0  # reminded by the runs before this one (continue-as-new)


class RemindersSent(Model):
    sent: int
    after: list[str] | None = None  # None: no licence left
