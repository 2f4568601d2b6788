"""The HTTP shapes of API v1 (see ../shared/CONTRACT.md)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from sonod.domain import DecisionKind, Role, Status
from workflows.messages import Applicant, Attestation, Awaiting, CertificateNo, Contact, Language

Slug = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z0-9-]{1,40}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, which PostgreSQL refuses in text, and half a surrogate pair


def unstorable(value: Any, path: str = "") -> str | None:
    """The path to the first string in `value` (or in its lists and maps, keys too) that no database stores."""
    todo = [(path, value)]
    while todo:  # a loop, not recursion: the maps of `details` may nest deep
        where, v = todo.pop()
        if isinstance(v, str):
            if UNSTORABLE.search(v):
                return where
        elif isinstance(v, dict):
            todo += [(f"{where}.{k}", k) for k in v] + [(f"{where}.{k}", item) for k, item in v.items()]
        elif isinstance(v, (list, tuple)):
            todo += [(f"{where}[{i}]", item) for i, item in enumerate(v)]
    return None


class Storable(BaseModel):
    """Text that a database can store: no NUL characters and no half surrogate pairs, in any field, however deep."""

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        if (where := unstorable(value, info.field_name or "")) is not None:
            raise ValueError(f"{where} must not contain a NUL character or half a surrogate pair")
        return value


class In(Storable):
    model_config = ConfigDict(extra="forbid")


class ApplicantIn(Applicant, Storable):
    @model_validator(mode="after")
    def _few_extras(self) -> ApplicantIn:
        extra = self.model_extra or {}
        if len(extra) > 20:
            raise ValueError("too many applicant fields")
        for name, value in extra.items():
            if not isinstance(value, (str, int, float, bool, type(None))) or len(str(value)) > 300:
                raise ValueError(f"applicant.{name} must be a short plain value")
            if isinstance(value, float) and not math.isfinite(value):  # json.loads reads NaN; JSON has none
                raise ValueError(f"applicant.{name} must be a finite number")
            if unstorable(value) is not None:
                raise ValueError(f"applicant.{name} must not contain a NUL character or half a surrogate pair")
        return self


class ApplicationIn(In):
    union: Slug | None = Field(None, description="the union's slug; optional when the host or path names it")
    certificate_type: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
    applicant: ApplicantIn
    contact: Contact = Contact()
    details: dict[str, Any] = {}
    language: Language = Field("bn", description="the certificates asked for: bn, en (its number marked -EN) or both")
    corrects: CertificateNo | None = Field(None, description="the number of an issued certificate this corrects: "
                                                             "once issued, it supersedes that one")


class Accepted(BaseModel):
    application_id: str
    status: Status
    status_url: str


class FeeOut(BaseModel):
    amount: int
    currency: str = "BDT"
    paid: bool


class EventOut(BaseModel):
    """One entry of the timeline. The facts the applicant's side may see: never which NID field failed."""

    at: dt.datetime
    status: Status
    actor: str
    note: str
    kind: str | None = None
    office: Role | None = None  # the office of the officer who acted
    decision: DecisionKind | None = None
    reason: str | None = None  # the officer's written reason, or the applicant's for a cancellation

    @classmethod
    def of(cls, event: dict) -> EventOut:
        params = event.get("params") or {}
        return cls(**{k: event.get(k) for k in ("at", "status", "note", "kind", "office")}, actor=actor_of(event),
                   decision=params.get("decision"), reason=params.get("reason") or None)


def actor_of(event: dict) -> str:
    """Who acted, without sonod's internal names: an officer's account (with `office`), `applicant`, `portal`, or
    `sonod` for what sonod did itself (the NID check, the messages, the clock)."""
    actor = event["actor"]
    if event.get("office"):
        return actor
    if actor == "citizen":
        return "applicant"
    if actor.startswith("portal:"):
        return "portal"
    return "sonod" if actor in ("sonod", "outbox", "porichoy") else actor


class ApplicationOut(BaseModel):
    application_id: str
    union: str
    certificate_type: str
    status: Status
    certificate_no: str | None
    deadline_at: dt.datetime | None
    overdue: bool = False
    round: int = 0
    fee: FeeOut
    awaiting: Awaiting | None = None  # the officer step it waits on and who may decide it now, by the workflow
    revoked: bool = False  # its certificate has been revoked
    language: Literal["bn", "en", "both"] = "bn"  # the certificates asked for ("en": with its Bengali one)
    corrects: str | None = None  # the issued certificate it corrects
    pay_url: str | None = None  # awaiting payment at its union's gateway: where the payer pays
    events: list[EventOut] = []


class ApplicationPage(BaseModel):
    items: list[ApplicationOut]
    next_cursor: str | None


class DecisionIn(In):
    decision: DecisionKind
    reason: Reason = ""
    text: Attestation | None = Field(None, description="a free-text attestation's text, with the approval of the "
                                                       "step that writes it (the secretary's)")
    text_en: Attestation | None = Field(None, description="its English, when an English certificate was asked for")


class DecisionOut(BaseModel):
    application_id: str
    status: Status


class NotificationOut(BaseModel):
    """What sonod did with a gateway's notification: `nudged` (its application's workflow asks the gateway),
    `settled` (already paid), `late` (a closed order: a payment found is refunded), `duplicate`, `received`."""

    outcome: str
    order_id: str | None = None


class CancelIn(In):
    reason: Reason = Field(min_length=1)


class EscalateIn(In):
    reason: Reason = Field(min_length=1)


class AmendIn(In):
    applicant: ApplicantIn | None = None
    contact: Contact | None = None
    details: dict[str, Any] | None = None


class RevokeIn(In):
    reason: Reason = Field(min_length=3)


class CertificateOut(BaseModel):
    certificate_no: str
    application_id: str
    union: str
    certificate_type: str
    issued_at: dt.datetime
    kid: str | None
    status: Literal["valid", "revoked", "expired"]  # revoked wins over expired
    valid_until: dt.datetime | None = None  # the signed end of validity (CWT exp); None: no end
    revoked_at: dt.datetime | None = None
    revoke_reason: str | None = None
    holder_name_bn: str | None = None
    holder_name_en: str | None = None
    pdf_url: str
    language: Literal["bn", "en"] = "bn"
    english_no: str | None = None  # a Bengali certificate's English one (`<number>-EN`), when it was asked for
    superseded_by: str | None = None  # revoked when the correction with this number was issued


class CopyOut(BaseModel):
    """A duplicate copy of a certificate: `awaiting_payment` (pay `fee` through the payment callback, naming `copy_id`
    as its `application_id`), `making`, `made` (its PDF at `pdf_url`) or `expired` (not paid in time)."""

    copy_id: str
    certificate_no: str
    status: Literal["awaiting_payment", "making", "made", "expired"]
    fee: FeeOut
    status_url: str
    pdf_url: str | None = None


class VerifyIn(BaseModel):
    qr: Annotated[str, StringConstraints(max_length=8000)]


VerifyStatus = Literal["valid", "revoked", "expired", "invalid"]


class VerifyOut(BaseModel):
    status: VerifyStatus
    certificate: dict[str, Any] | None
    reason: str


class PaymentCallback(In):
    application_id: Annotated[str, StringConstraints(max_length=40)]
    amount: int = Field(ge=0, le=10_000_000)
    currency: Literal["BDT"] = "BDT"
    transaction_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class LicenceOut(BaseModel):
    """A trade licence in its union's register (sonod/licences.py: current, due in June, expired, revoked)."""

    licence_no: str
    union: str
    state: Literal["current", "due", "expired", "revoked"]
    fiscal_year: str
    valid_until: dt.date  # 30 June of its fiscal year
    certificate_no: str  # its latest year's certificate
    business_name_bn: str
    business_category: str | None = None
    holder_name_bn: str | None = None
    holder_name_en: str | None = None
    mobile: str | None = None
    issued_at: dt.datetime  # its first certificate
    renewed_at: dt.datetime | None = None


class LicencePage(BaseModel):
    items: list[LicenceOut]
    next_cursor: str | None


class RenewalOut(BaseModel):
    """The body of `POST /api/v1/applications` that renews a licence, filled in from its latest application; `fee` is
    what it will cost, arrears included (the workflow's admission decides it)."""

    union: str
    certificate_type: str
    applicant: dict[str, Any]
    contact: dict[str, Any]
    details: dict[str, Any]
    fee: dict[str, Any]
