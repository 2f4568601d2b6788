"""The database: sonod's read model, registry and outbox (SQLAlchemy 2)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.functions import FunctionElement


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware on every backend (SQLite stores naive values): stored and read back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            return value.replace(tzinfo=None) if dialect.name == "sqlite" else value
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}
    if TYPE_CHECKING:  # SQLAlchemy types it as any FromClause; every model here maps a table
        __table__: ClassVar[Table]


class Union(Base):
    __tablename__ = "unions"
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    # the union's own code (its BBS geo-code where it has one): digits, unique, the first part of its memo numbers
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name_bn: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    upazila_bn: Mapped[str] = mapped_column(String(100))
    upazila_en: Mapped[str] = mapped_column(String(100))
    upazila_slug: Mapped[str] = mapped_column(String(60), index=True)
    district_bn: Mapped[str] = mapped_column(String(100))
    district_en: Mapped[str] = mapped_column(String(100))
    escalation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # the union's own clock, in seconds, where it differs from the deployment's settings: deadline_days,
    # reminder_every_s, escalate_after_s, payment_expiry_s, correction_expiry_s (activities/registry.rules_for)
    timing: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # whose certificate signs the union's PDFs (sonod/pki.py): "union" (the Union Parishad's office) or "chairman"
    pdf_signer: Mapped[str] = mapped_column(String(10), default="union", server_default="union")
    # the gateway its fees are paid through (activities/payments/gateway.gateway_for); None: SONOD_PAYMENT_PROVIDER
    payment_provider: Mapped[str | None] = mapped_column(String(20))
    # SMS segments the union may still send (activities/sms/dispatch.py); None: not metered
    sms_balance: Mapped[int | None] = mapped_column(Integer)
    # the margins (mm) of the union's pre-printed letterhead, {"top", "bottom", "left", "right"}; None: the
    # defaults (sonod/printing.py LETTERHEAD)
    letterhead: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    copy_fee: Mapped[int | None] = mapped_column(Integer)  # a duplicate copy's fee; None: activities/copies.py's


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    union_slug: Mapped[str | None] = mapped_column(ForeignKey("unions.slug"), index=True)
    upazila_slug: Mapped[str | None] = mapped_column(String(60))
    ward_no: Mapped[int | None] = mapped_column(Integer)
    name_bn: Mapped[str] = mapped_column(String(100), default="")
    name_en: Mapped[str] = mapped_column(String(100), default="")
    mobile: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # the last TOTP step used: a code works once
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the account-wide count of failed log-ins since `failed_since`, from every address; past its ceiling, until
    # `locked_until`, only addresses that have not failed on it may try (api/limits.py)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    failed_since: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Delegation(Base):
    """An acting chairman or administrator acts for the chairman between two dates."""

    __tablename__ = "delegations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    union_slug: Mapped[str] = mapped_column(ForeignKey("unions.slug"))
    acts_as: Mapped[str] = mapped_column(String(30))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]


class Session(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed log-ins since `window_start`, per (account, address) pair and per address (api/limits.py)."""

    __tablename__ = "login_throttle"
    scope: Mapped[str] = mapped_column(String(10), primary_key=True)  # "pair" or "address"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(index=True)
    locked_until: Mapped[dt.datetime | None]


class PortalKey(Base):
    __tablename__ = "portal_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CertificateTypeRow(Base):
    __tablename__ = "certificate_types"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_bn: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    fields_schema: Mapped[dict[str, Any]]
    valid_days: Mapped[int | None] = mapped_column(Integer)


class UnionRule(Base):
    """A union's own fee, deadline and approval chain for one certificate type."""

    __tablename__ = "union_rules"
    union_slug: Mapped[str] = mapped_column(ForeignKey("unions.slug"), primary_key=True)
    certificate_type: Mapped[str] = mapped_column(ForeignKey("certificate_types.code"), primary_key=True)
    fee_lines: Mapped[list[Any]] = mapped_column(default=list)
    deadline_days: Mapped[int] = mapped_column(Integer)
    chain: Mapped[list[Any]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_days: Mapped[int | None] = mapped_column(Integer)  # the union's own validity; None: the catalogue's
    # a trade licence's fee by business category, where the union's differs from sonod/licences.py's defaults
    tax_table: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class contact_mobile(FunctionElement):
    """The mobile number given with an application (`applications.contact`'s `mobile`), written in the SQL with no
    bound parameter: the index's expression is then the very one a query names, and the planner uses it."""

    type = Text()
    inherit_cache = True
    name = "contact_mobile"


@compiles(contact_mobile, "postgresql")
def _contact_mobile_pg(element, compiler, **kw) -> str:
    return "(contact ->> 'mobile')"


@compiles(contact_mobile)
def _contact_mobile_sqlite(element, compiler, **kw) -> str:
    return "json_extract(contact, '$.mobile')"


class Application(Base):
    """The read model of one CertificateApplication workflow."""

    __tablename__ = "applications"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    union_slug: Mapped[str] = mapped_column(ForeignKey("unions.slug"))
    certificate_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30))
    round: Mapped[int] = mapped_column(Integer, default=0)
    projection_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # Projection.seq written
    submitted_by: Mapped[str] = mapped_column(String(80))
    applicant: Mapped[dict[str, Any]]
    contact: Mapped[dict[str, Any]]
    details: Mapped[dict[str, Any]]
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    fee_lines: Mapped[list[Any] | None] = mapped_column(JSON)  # the fee's lines as admitted (workflows' FeeLine)
    fee_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_at: Mapped[dt.datetime | None]
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    certificate_no: Mapped[str | None] = mapped_column(String(60))
    awaiting: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the workflow's `Awaiting`: who may decide now
    revoked_at: Mapped[dt.datetime | None] = mapped_column()  # its certificate's revocation (CertificateRevocation)
    language: Mapped[str] = mapped_column(String(4), default="bn", server_default="bn")  # bn, en or both
    corrects: Mapped[str | None] = mapped_column(String(60))  # the issued certificate it corrects
    # a free-text attestation's text as its officer approved it, {"text", "text_en", "by"}: what the chairman approves
    attestation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    events: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_applications_union_created", "union_slug", "created_at", "id"),
        Index("ix_applications_union_status_created", "union_slug", "status", "created_at", "id"),
        # the officers' search by mobile number (api/services/applications.py `search`), newest first
        Index("ix_applications_union_mobile", "union_slug", contact_mobile(), "created_at", "id"),
    )


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    caller: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CertificateCounter(Base):
    __tablename__ = "certificate_counters"
    union_slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer, default=0)


class Certificate(Base):
    __tablename__ = "certificates"
    certificate_no: Mapped[str] = mapped_column(String(60), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(40))
    union_slug: Mapped[str] = mapped_column(String(40), index=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    certificate_type: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[dt.datetime]
    # "en": the English certificate `<number>-EN` of the Bengali one, with its application, year and seq
    language: Mapped[str] = mapped_column(String(2), default="bn", server_default="bn")
    superseded_by: Mapped[str | None] = mapped_column(String(60))  # the correction that revoked it
    kid: Mapped[str | None] = mapped_column(String(80))
    qr_text: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    holder_name_bn: Mapped[str | None] = mapped_column(String(200))
    holder_name_en: Mapped[str | None] = mapped_column(String(200))
    submitted_by: Mapped[str | None] = mapped_column(String(80))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    printed_at: Mapped[dt.datetime | None]  # last printed in a print batch (PrintBatch), and which
    print_batch: Mapped[str | None] = mapped_column(String(60))

    __table_args__ = (
        UniqueConstraint("union_slug", "year", "seq", "language",
                         name="certificates_union_slug_year_seq_language_key"),
        UniqueConstraint("application_id", "language", name="certificates_application_id_language_key"),
        # the revoked ones only: what verifiers poll for (api/verification.py) and the revocation list
        Index("ix_certificates_revoked_at", "revoked_at", postgresql_where=text("revoked_at IS NOT NULL"),
              sqlite_where=text("revoked_at IS NOT NULL")),
    )


class PrintBatch(Base):
    """Issued certificates chosen by an officer, made into one print-ready PDF by the `PrintBatch` workflow
    (workflows/printing.py): the selection frozen in order, the progress, the stored PDF."""

    __tablename__ = "print_batches"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)  # the workflow's id, P-<union>-<random>
    union_slug: Mapped[str] = mapped_column(String(40))
    requested_by: Mapped[str] = mapped_column(String(80))
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    letterhead: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="selecting")  # selecting, rendering, done, failed
    certificate_nos: Mapped[list[Any] | None] = mapped_column(JSON)  # in print order, once selected
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[list[Any]] = mapped_column(default=list)  # numbers left out, each with why
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_print_batches_union_created", "union_slug", "created_at"),)


class Licence(Base):
    """A trade licence in its union's register: its number, kept from fiscal year to fiscal year, and the certificate
    of its latest year (activities/licences.py); each renewal's certificate supersedes the one before."""

    __tablename__ = "licences"
    union_slug: Mapped[str] = mapped_column(ForeignKey("unions.slug"), primary_key=True)
    licence_no: Mapped[str] = mapped_column(String(60), primary_key=True)  # PAIKKANDI-TL-00012
    seq: Mapped[int] = mapped_column(Integer)
    certificate_no: Mapped[str] = mapped_column(String(60), unique=True)
    application_id: Mapped[str] = mapped_column(String(40))  # the current certificate's
    fiscal_year: Mapped[str] = mapped_column(String(9))  # the current certificate's: "2026-2027"
    holder_name_bn: Mapped[str | None] = mapped_column(String(200))
    holder_name_en: Mapped[str | None] = mapped_column(String(200))
    business_name_bn: Mapped[str] = mapped_column(String(200))
    business_category: Mapped[str | None] = mapped_column(String(40))
    mobile: Mapped[str | None] = mapped_column(String(20))  # where the renewal reminder goes
    issued_at: Mapped[dt.datetime]  # the first certificate's
    renewed_at: Mapped[dt.datetime | None]

    __table_args__ = (
        UniqueConstraint("union_slug", "seq", name="licences_union_slug_seq_key"),
        Index("ix_licences_union_year", "union_slug", "fiscal_year", "seq"),
    )


class CertificateCopy(Base):
    """A duplicate copy of an issued certificate: asked for, paid (the union's `copy_fee`), made once; the same
    certificate printed again and marked a copy, never signed again (activities/copies.py)."""

    __tablename__ = "certificate_copies"
    copy_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the workflow's id, CP<yymmdd>-<random>
    certificate_no: Mapped[str] = mapped_column(String(60), index=True)
    union_slug: Mapped[str] = mapped_column(String(40))
    requested_by: Mapped[str] = mapped_column(String(80))
    fee: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="BDT")
    transaction_id: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[dt.datetime | None]
    made_at: Mapped[dt.datetime | None]
    pdf_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SigningKey(Base):
    __tablename__ = "signing_keys"
    kid: Mapped[str] = mapped_column(String(80), primary_key=True)
    union_slug: Mapped[str] = mapped_column(ForeignKey("unions.slug"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    not_before: Mapped[dt.datetime]
    not_after: Mapped[dt.datetime | None]


class PkiCertificate(Base):
    """The sonod PKI (sonod/pki.py): the root, the issuing CAs, the TSA and the unions' PDF-signing certificates,
    each with its P-256 key sealed under the master key like the signing keys."""

    __tablename__ = "pki_certificates"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)  # "root", "ca/<upazila>", "union/<slug>", ...
    role: Mapped[str] = mapped_column(String(20))
    issuer: Mapped[str | None] = mapped_column(String(120))
    serial: Mapped[str] = mapped_column(String(40))  # hex, for the issuer's CRL
    certificate: Mapped[bytes] = mapped_column(LargeBinary)  # DER
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    not_before: Mapped[dt.datetime]
    not_after: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]


class OutboxMessage(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    application_id: Mapped[str | None] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # SMS (activities/sms/): the union charged, segments counted and charged once, the provider that took it and its
    # reference, the next retry, the last refusal, and the delivery report
    union_slug: Mapped[str | None] = mapped_column(String(40))
    segments: Mapped[int | None] = mapped_column(Integer)
    charged: Mapped[int | None] = mapped_column(Integer)
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    dlr_status: Mapped[str | None] = mapped_column(String(20))
    dlr_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_outbox_retry", "status", "next_attempt_at"),
                      Index("ix_outbox_provider_ref", "provider", "provider_ref"))


class Payment(Base):
    __tablename__ = "payments"
    transaction_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Receipt(Base):
    """The money receipt (মানি রিসিট) of an application's fee: numbered once, when it is first asked for, its lines
    as the application was admitted under; its PDF stored once (activities/receipt.py, sonod/receipts.py)."""

    __tablename__ = "receipts"
    receipt_no: Mapped[str] = mapped_column(String(60), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(40), unique=True)
    union_slug: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(20))  # the provider (bkash, ...), or "gateway" for the callback
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[Any]] = mapped_column(default=list)
    paid_at: Mapped[dt.datetime]
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    pdf_path: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (UniqueConstraint("union_slug", "year", "seq"),)


class ReceiptCounter(Base):
    __tablename__ = "receipt_counters"
    union_slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer, default=0)


class PaymentOrder(Base):
    """A fee asked of a provider's gateway (activities/payments/orders.py). `state`: open, paid, expired or
    cancelled (closed unpaid by the workflow), refunding, refunded; only the workflow's status query makes it paid."""

    __tablename__ = "payment_orders"
    order_id: Mapped[str] = mapped_column(String(60), primary_key=True)  # <application id>-P<attempt>
    application_id: Mapped[str] = mapped_column(String(40), index=True)
    union_slug: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    redirect_url: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None]
    transaction_id: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime | None]
    refund_ref: Mapped[str | None] = mapped_column(String(200))
    refunded_at: Mapped[dt.datetime | None]
    refund_claim: Mapped[str | None] = mapped_column(String(80))  # the workflow whose refund call is under way

    __table_args__ = (Index("ix_payment_orders_state_created", "state", "created_at"),)


class PaymentNotification(Base):
    """Every IPN and payer's return as it came, trusted for nothing: what the workflow's status query then found is
    the order's `state`. `dedupe_key` is set on the first of identical notifications only (the one that nudged)."""

    __tablename__ = "payment_notifications"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # ipn | return
    method: Mapped[str] = mapped_column(String(8))
    order_id: Mapped[str | None] = mapped_column(String(60), index=True)
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)  # a subset: content type, signatures, user agent
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(30))
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class AuditEntry(Base):
    """Chained per union (and `deployment`): `hash` is the HMAC-SHA256, under the audit key, of the row's content and
    the previous row's `hash` (sonod/audit.py)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    union_slug: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("union_slug", "seq"),)


class AuditCheckpoint(Base):
    """A chain's head (seq, MAC, time) signed with the union's Ed25519 key, or MACed for the deployment's chain;
    published at GET /api/v1/audit/checkpoints so that others can keep it (sonod/audit.py)."""

    __tablename__ = "audit_checkpoints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    mac: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    alg: Mapped[str] = mapped_column(String(10))
    kid: Mapped[str | None] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("chain", "seq"),)


def make_engine(url: str, *, read_only: bool = False, **kw: Any) -> Engine:
    """The engine of a process. `read_only`: one for reads that must not wait for writers, such as verification:
    on SQLite a plain (deferred) BEGIN, which in WAL mode never takes the write lock, and `query_only`; on
    PostgreSQL read-only transactions and a small pool."""
    kw.setdefault("hide_parameters", True)  # errors (and so logs and failures) never carry a row's NID or name
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kw)

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record) -> None:
            conn.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            if read_only:
                cur.execute("PRAGMA query_only=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            # writers take the write lock up front: processes queue on busy_timeout instead of failing to upgrade;
            # a reader's snapshot needs no lock at all
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if read_only:
        kw.setdefault("connect_args", {"options": "-c default_transaction_read_only=on"})
    kw.setdefault("pool_size", 2 if read_only else 5)
    kw.setdefault("max_overflow", 6 if read_only else 15)
    return create_engine(url, pool_pre_ping=True, **kw)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def upsert(session: OrmSession, model: type[Base], values: dict, keys: list[str], update_cols: list[str] | None = None):
    """INSERT … ON CONFLICT on PostgreSQL and SQLite alike; without update_cols, conflicts are ignored.

    The statement is built once per shape and the row sent as parameters, in the session's transaction:
    building `.values(...)` and `excluded` anew cost more than the insert itself."""
    stmt = upsert_statement(session.get_bind().dialect.name, model, tuple(keys), tuple(update_cols or ()))
    if session.autoflush:  # as an ORM statement would: pending objects first
        session.flush()
    return session.connection().execute(stmt, values)


@functools.cache
def upsert_statement(dialect_name: str, model: type[Base], keys: tuple[str, ...], update_cols: tuple[str, ...],
                     unless_newer: str | None = None):
    """`unless_newer`: a column that only rises; a row whose value is higher than the one given is left alone."""
    stmt = (postgresql if dialect_name == "postgresql" else sqlite).insert(model.__table__)
    if update_cols:
        where = model.__table__.c[unless_newer] <= stmt.excluded[unless_newer] if unless_newer else None
        return stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update_cols},
                                          where=where)
    return stmt.on_conflict_do_nothing(index_elements=keys)
