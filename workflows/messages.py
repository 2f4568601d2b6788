"""What goes in and out of the CertificateApplication workflow, its updates and its activities.

Pydantic models, converted by temporalio's pydantic data converter (and encrypted by the PII codec).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from sonod.domain import DecisionKind, Role, Status

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
OptName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None
Mobile = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(\+?88)?01[3-9][0-9]{8}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Applicant(BaseModel):
    """What the applicant claims; the NID gateway's answer is kept beside it as `Identity`."""

    model_config = ConfigDict(extra="allow", str_max_length=300)
    nid: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
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
    """Who acts. The API builds it from a verified token or portal key; the workflow trusts it."""

    username: str
    role: Role
    union: str | None = None
    upazila: str | None = None
    ward_no: int | None = None
    acts_for: list[Role] = []
    ip: str | None = None


class FeeLine(Model):
    code: str
    name_bn: str
    name_en: str
    amount: int


class Fee(Model):
    amount: int = 0
    currency: str = "BDT"
    lines: list[FeeLine] = []


class Timing(Model):
    deadline_days: int
    reminder_every: dt.timedelta
    escalate_after: dt.timedelta
    payment_expiry: dt.timedelta
    correction_expiry: dt.timedelta


class UnionView(Model):
    slug: str
    name_bn: str
    name_en: str
    upazila_bn: str
    upazila_en: str
    upazila_slug: str
    district_bn: str
    district_en: str


class ApplicationInput(Model):
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
    submitted_by: Actor
    submitted_at: dt.datetime


class Event(Model):
    at: dt.datetime
    status: Status
    actor: str
    note: str = ""


class Decision(Model):
    kind: DecisionKind
    reason: Reason = ""
    actor: Actor


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


class StatusView(Model):
    application_id: str
    union: str
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
    events: list[Event]


class ApplicationResult(Model):
    status: Status
    certificate_no: str | None = None


# --- activities ---------------------------------------------------------------------------------

class Projection(Model):
    """The read model's row, written after every step."""

    input: ApplicationInput
    view: StatusView
    identity: dict[str, Any] | None = None


class NidCheck(Model):
    application_id: str
    nid: str
    date_of_birth: dt.date
    name: str


class Identity(Model):
    matches: bool
    error_code: str | None = None
    reason: str = ""
    voter: dict[str, Any] | None = None


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
    identity: dict[str, Any]
    certificate_no: str
    issued_at: dt.datetime
    decisions: list[Decision]


class IssuedCertificate(Model):
    certificate_no: str
    kid: str
    pdf_ref: str


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


class Delivered(Model):
    channels: list[str] = []  # how the applicant was reached: sms, email
