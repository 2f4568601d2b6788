"""The registry: the union's rules an application is admitted under, the read model of applications (with the
audit entries the workflow writes beside it), and the gap-free certificate numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.editions import revoke_siblings
from activities.licences import licence_fee
from activities.outbox import UNSENT_AFTER_S, Outbox, Queued
from sonod import audit, db
from sonod.db import upsert, upsert_statement
from sonod.domain import Role
from sonod.licences import TRADE_LICENCE
from sonod.settings import Settings
from workflows import activities as contract
from workflows.messages import (
    ApplicationInput,
    CertificateNumber,
    Contact,
    Fee,
    NumberRequest,
    Projection,
    Revocation,
    Revoked,
    Submission,
    Timing,
    UnionView,
)

NOT_ISSUED = "NotIssued"  # the union does not issue this type (any more): non-retryable
DEFAULT_ESCALATION_ROLES = [Role.ACTING_CHAIRMAN, Role.ADMINISTRATOR]


def certificate_no(union: str, year: int, seq: int) -> str:
    return f"{union.upper()}-{year}-{seq:06d}"


# Core statements, built once: the ORM's unit of work cost more than the three statements themselves.
CERTIFICATES, COUNTERS = db.Certificate.__table__, db.CertificateCounter.__table__
ALLOCATED = select(CERTIFICATES.c.certificate_no, CERTIFICATES.c.year, CERTIFICATES.c.seq).where(
    CERTIFICATES.c.application_id == bindparam("application_id"), CERTIFICATES.c.language == "bn")
NEXT_NO = (update(COUNTERS)
           .where(COUNTERS.c.union_slug == bindparam("union"), COUNTERS.c.year == bindparam("counter_year"))
           .values(last_no=COUNTERS.c.last_no + 1)
           .returning(COUNTERS.c.last_no))


class Projector:
    """Writes a workflow's projection: the read model's row (never over a newer one), its audit entries and its
    notices in the outbox, in one transaction; the queued messages go out once it commits (`Outbox.send_later`)."""

    def __init__(self, sessions: sessionmaker, outbox: Outbox | None = None) -> None:
        self.sessions, self.outbox = sessions, outbox

    def write(self, p: Projection) -> None:
        with self.sessions.begin() as session:
            queued = self.write_in(session, p)
        self.sent_later(queued)

    def sent_later(self, queued: Queued) -> None:
        """After the commit of `write_in`'s transaction."""
        if self.outbox is not None:
            self.outbox.send_later(queued)

    def write_in(self, session: Session, p: Projection) -> Queued:
        """In `session`'s transaction; answers what to send once it commits."""
        app = p.input
        values = row_values(p)
        updated = tuple(k for k in values if k not in ("id", "created_at"))
        session.execute(upsert_statement(session.get_bind().dialect.name, db.Application, ("id",), updated,
                                         unless_newer="projection_seq"), values)
        for note in p.audit:
            if session.scalar(select(db.AuditEntry.id).where(db.AuditEntry.union_slug == app.union.slug,
                                                             db.AuditEntry.target == app.application_id,
                                                             db.AuditEntry.action == note.action)
                              .where(db.AuditEntry.detail["key"].as_string() == note.key)) is not None:
                continue  # a retried projection
            audit.record(session, union=app.union.slug, actor=note.actor.username, role=note.actor.role.value,
                         action=note.action, target=app.application_id, detail={**note.detail, "key": note.key},
                         ip=note.actor.ip)
        queued = Queued()
        if self.outbox is not None:
            # an SMS that no sender takes up (the worker stopped after the commit) is the retry loop's a minute later
            later = db.utcnow() + timedelta(seconds=UNSENT_AFTER_S)
            for notice in p.notices:
                queued += self.outbox.queue(session, notice, first_attempt_at=later)
        elif p.notices:
            raise RuntimeError("a projection with notices needs the outbox")
        return queued


def row_values(p: Projection) -> dict:
    """The read model's row of a projection."""
    app, view = p.input, p.view
    values = dict(
        id=app.application_id, union_slug=app.union.slug, certificate_type=app.certificate_type,
        status=view.status.value, round=view.round, submitted_by=app.submitted_by.username,
        applicant=app.applicant.model_dump(mode="json"), contact=app.contact.model_dump(mode="json"),
        details=app.details, identity=p.identity.fields() if p.identity else None,
        fee_amount=app.fee.amount, fee_lines=[line.model_dump() for line in app.fee.lines],
        fee_paid=view.fee_paid, language=app.language, corrects=app.corrects,
        deadline_at=view.deadline_at, overdue=view.overdue, certificate_no=view.certificate_no,
        events=[e.model_dump(mode="json") for e in view.events], created_at=app.submitted_at,
        updated_at=view.events[-1].at if view.events else app.submitted_at,
    )
    values["awaiting"] = view.awaiting.model_dump(mode="json") if view.awaiting else None
    values["projection_seq"] = p.seq
    return values


class Registry(contract.Registry):
    def __init__(self, sessions: sessionmaker, settings: Settings, projector: Projector | None = None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.projector = projector or Projector(sessions)

    @activity.defn(name="Registry.admit")
    def admit(self, submission: Submission) -> ApplicationInput:
        """The submission under its union's rules for its type, as the registry has them now: the chain, the fee,
        the deadlines. The workflow takes them from here and from nowhere else."""
        with self.sessions() as session:
            return rules_for(session, self.settings, submission)

    @activity.defn(name="Registry.project")
    def project(self, p: Projection) -> None:
        self.projector.write(p)

    @activity.defn(name="Registry.revoke")
    def revoke(self, revocation: Revocation) -> Revoked:
        """Record the revocation once, with its audit entry: a retry (or a second revocation) finds it recorded and
        answers the first one's facts."""
        with self.sessions.begin() as session:
            certificate = session.get(db.Certificate, revocation.certificate_no, with_for_update=True)
            if certificate is None or certificate.union_slug != revocation.union:
                raise ApplicationError(f"no certificate {revocation.certificate_no} of {revocation.union}",
                                       type="NoCertificate", non_retryable=True)
            if certificate.revoked_at is None:
                certificate.revoked_at = datetime.now(UTC)
                certificate.revoked_by, certificate.revoke_reason = revocation.actor.username, revocation.reason
                revoke_siblings(session, certificate)  # its other language's too, and its application
                audit.record(session, union=revocation.union, actor=revocation.actor.username,
                             role=revocation.actor.role.value, action="certificate.revoke",
                             target=revocation.certificate_no, detail={"reason": revocation.reason},
                             ip=revocation.actor.ip)
            contact = session.scalar(select(db.Application.contact)
                                     .where(db.Application.id == certificate.application_id))
            return Revoked(certificate_no=certificate.certificate_no, application_id=certificate.application_id,
                           certificate_type=certificate.certificate_type, revoked_at=certificate.revoked_at,
                           revoked_by=certificate.revoked_by, reason=certificate.revoke_reason or "",
                           contact=Contact.model_validate(contact) if contact else None)

    @activity.defn(name="Registry.allocate_number")
    def allocate_number(self, req: NumberRequest) -> CertificateNumber:
        with self.sessions.begin() as session:
            return allocate(session, req)


def allocate(session: Session, req: NumberRequest) -> CertificateNumber:
    """The next number of the union's year, once per application: retries get the same number."""
    year = req.issued_at.year
    existing = session.execute(ALLOCATED, {"application_id": req.application_id}).first()
    if existing is not None:
        return CertificateNumber(certificate_no=existing.certificate_no, year=existing.year, seq=existing.seq)
    upsert(session, db.CertificateCounter, dict(union_slug=req.union, year=year, last_no=0), ["union_slug", "year"])
    seq = session.execute(NEXT_NO, {"union": req.union, "counter_year": year}).scalar_one()
    number = certificate_no(req.union, year, seq)
    session.execute(insert(CERTIFICATES), dict(
        certificate_no=number, application_id=req.application_id, union_slug=req.union, year=year, seq=seq,
        certificate_type=req.certificate_type, issued_at=req.issued_at,
    ))
    return CertificateNumber(certificate_no=number, year=year, seq=seq)



def rules_for(session: Session, settings: Settings, submission: Submission) -> ApplicationInput:
    union = session.get(db.Union, submission.union)
    rule = session.get(db.UnionRule, (submission.union, submission.certificate_type)) if union else None
    if union is None or rule is None or not rule.enabled:
        raise ApplicationError(f"{submission.union} does not issue {submission.certificate_type!r}",
                               type=NOT_ISSUED, non_retryable=True)
    escalation, timing = union.escalation or {}, union.timing or {}
    fee_lines = licence_fee(session, submission, rule) if submission.certificate_type == TRADE_LICENCE \
        else rule.fee_lines or []
    return ApplicationInput(
        **submission.model_dump(exclude={"union", "process"}),
        union=UnionView(slug=union.slug, code=union.code, name_bn=union.name_bn, name_en=union.name_en,
                        upazila_bn=union.upazila_bn, upazila_en=union.upazila_en, upazila_slug=union.upazila_slug,
                        district_bn=union.district_bn, district_en=union.district_en),
        chain=[Role(r) for r in rule.chain],
        fee=Fee(amount=sum(line["amount"] for line in fee_lines), lines=fee_lines,
                provider=union.payment_provider or settings.payment_provider),
        timing=Timing(
            deadline_days=timing.get("deadline_days", rule.deadline_days),
            reminder_every=seconds(timing, "reminder_every_s", hours=settings.reminder_interval_hours),
            escalate_after=seconds(timing, "escalate_after_s",
                                   days=escalation.get("after_days", settings.escalate_after_days)),
            payment_expiry=seconds(timing, "payment_expiry_s", days=settings.payment_expiry_days),
            correction_expiry=seconds(timing, "correction_expiry_s", days=settings.correction_expiry_days),
            payment_poll=seconds(timing, "payment_poll_s", minutes=settings.payment_poll_minutes),
        ),
        escalation_roles=[Role(r) for r in escalation.get("roles", DEFAULT_ESCALATION_ROLES)],
        escalation_notify=[Role(r) for r in escalation.get("notify", [Role.UPAZILA_ADMIN])],
    )


def seconds(timing: dict, key: str, **default) -> timedelta:
    """A union's own timing (`unions.timing`, in seconds) where it sets one, else the deployment's."""
    return timedelta(seconds=timing[key]) if key in timing else timedelta(**default)
