"""The registry: the read model of applications and the gap-free certificate numbers."""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import sessionmaker
from temporalio import activity

from sonod import db
from sonod.db import upsert, upsert_statement
from workflows.messages import CertificateNumber, NumberRequest, Projection


def certificate_no(union: str, year: int, seq: int) -> str:
    return f"{union.upper()}-{year}-{seq:06d}"


# Core statements, built once: the ORM's unit of work cost more than the three statements themselves.
CERTIFICATES, COUNTERS = db.Certificate.__table__, db.CertificateCounter.__table__
ALLOCATED = select(CERTIFICATES.c.certificate_no, CERTIFICATES.c.year, CERTIFICATES.c.seq).where(
    CERTIFICATES.c.application_id == bindparam("application_id"))
NEXT_NO = (update(COUNTERS)
           .where(COUNTERS.c.union_slug == bindparam("union"), COUNTERS.c.year == bindparam("counter_year"))
           .values(last_no=COUNTERS.c.last_no + 1)
           .returning(COUNTERS.c.last_no))


class Registry:
    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions
        self.engine = sessions.kw["bind"]

    @activity.defn(name="Registry.project")
    def project(self, p: Projection) -> None:
        app, view = p.input, p.view
        values = dict(
            id=app.application_id, union_slug=app.union.slug, certificate_type=app.certificate_type,
            status=view.status.value, round=view.round, submitted_by=app.submitted_by.username,
            applicant=app.applicant.model_dump(mode="json"), contact=app.contact.model_dump(mode="json"),
            details=app.details, identity=p.identity, fee_amount=app.fee.amount, fee_paid=view.fee_paid,
            deadline_at=view.deadline_at, overdue=view.overdue, certificate_no=view.certificate_no,
            events=[e.model_dump(mode="json") for e in view.events], created_at=app.submitted_at,
            updated_at=view.events[-1].at if view.events else app.submitted_at,
        )
        updated = tuple(k for k in values if k not in ("id", "created_at"))
        with self.engine.begin() as connection:  # one statement: no ORM session needed
            connection.execute(upsert_statement(connection.dialect.name, db.Application, ("id",), updated), values)

    @activity.defn(name="Registry.allocate_number")
    def allocate_number(self, req: NumberRequest) -> CertificateNumber:
        """The next number of the union's year, once per application: retries get the same number."""
        year = req.issued_at.year
        with self.sessions.begin() as session:
            existing = session.execute(ALLOCATED, {"application_id": req.application_id}).first()
            if existing is not None:
                return CertificateNumber(certificate_no=existing.certificate_no, year=existing.year, seq=existing.seq)
            upsert(session, db.CertificateCounter, dict(union_slug=req.union, year=year, last_no=0),
                   ["union_slug", "year"])
            seq = session.execute(NEXT_NO, {"union": req.union, "counter_year": year}).scalar_one()
            number = certificate_no(req.union, year, seq)
            session.execute(insert(CERTIFICATES), dict(
                certificate_no=number, application_id=req.application_id, union_slug=req.union, year=year, seq=seq,
                certificate_type=req.certificate_type, issued_at=req.issued_at,
            ))
        return CertificateNumber(certificate_no=number, year=year, seq=seq)

