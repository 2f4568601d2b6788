"""Trade licences from fiscal year to fiscal year: the fee at admission (business category, signboard tax, arrears,
VAT), the licence number at issue and the register it lives in, the renewal that supersedes last year's certificate,
and June's reminder to renew.

The issuer calls two functions: `licence_terms` before it signs (the number to print and sign, and the validity that
ends with the fiscal year), and `licence_issued` in the transaction that records the signed certificate (the register
follows; a renewal supersedes the certificate before it). Both are idempotent: the issue activity may run twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.outbox import Outbox
from sonod import audit, db
from sonod.bengali import to_bn_digits
from sonod.licences import (
    TRADE_LICENCE,
    between,
    ends_at,
    fee_lines,
    last_day,
    licence_number,
    shifted,
)
from sonod.printed import Validity
from workflows import activities as contract
from workflows.messages import Contact, IssueRequest, Notice, RemindersSent, RenewalReminders, Submission

REMINDER_PAGE = 200  # licences a reminder activity takes at a time


def superseded_reason(certificate_no: str) -> str:
    return f"superseded by {certificate_no}"


# --- admission: the fee ----------------------------------------------------------------------------------------------

def licence_fee(session: Session, submission: Submission, rule: db.UnionRule) -> list[dict]:
    """The trade licence's fee lines under the union's rule (`Registry.admit`): none if the union charges nothing."""
    if not rule.fee_lines:
        return []
    details = submission.details
    renewed = session.get(db.Licence, (submission.union, details["renews"])) if details.get("renews") else None
    arrears = between(renewed.fiscal_year, details["fiscal_year"]) if renewed else []
    return fee_lines(rule.fee_lines, details.get("business_category"), rule.tax_table, arrears)


# --- issue: the number and the register ------------------------------------------------------------------------------

def licence_terms(sessions: sessionmaker, req: IssueRequest) -> tuple[dict, Validity | None]:
    """The details to print and sign, and the validity: a trade licence gets its licence number (the one it renews,
    or the union's next, given once per certificate) and is valid to the end of its fiscal year."""
    app = req.application
    if app.certificate_type != TRADE_LICENCE:
        return app.details, None
    with sessions.begin() as session:
        number = _licence_number(session, req)
    year = app.details["fiscal_year"]
    return app.details | {"licence_no": number}, Validity(last_day=last_day(year), ends_at=ends_at(year))


def _licence_number(session: Session, req: IssueRequest) -> str:
    app, union = req.application, req.application.union.slug
    renews = app.details.get("renews")
    if renews and session.get(db.Licence, (union, renews)) is not None:
        return renews
    given = session.scalar(select(db.Licence.licence_no).where(db.Licence.application_id == app.application_id))
    if given is not None:  # a retry of this issue, or its English edition
        return given
    seq = (session.scalar(select(func.max(db.Licence.seq)).where(db.Licence.union_slug == union)) or 0) + 1
    number = licence_number(union, seq)  # two at once: the unique (union, seq) refuses one, and its retry goes on
    session.add(db.Licence(
        union_slug=union, licence_no=number, seq=seq, certificate_no=req.certificate_no,
        application_id=app.application_id, fiscal_year=app.details["fiscal_year"],
        business_name_bn=app.details["business_name_bn"], business_category=app.details.get("business_category"),
        mobile=app.contact.mobile, issued_at=req.issued_at))
    return number


def licence_issued(session: Session, req: IssueRequest, details: dict) -> None:
    """In the issuer's transaction that records the signed certificate: the register holds it as the licence's
    current certificate, and the certificate it renews is superseded (revoked, "superseded by <number>")."""
    app = req.application
    if app.certificate_type != TRADE_LICENCE or getattr(req, "language", "bn") != "bn":
        return  # another language's edition follows its Bengali certificate
    licence = session.get(db.Licence, (app.union.slug, details["licence_no"]), with_for_update=True)
    certificate = session.get(db.Certificate, req.certificate_no)
    assert licence is not None and certificate is not None, "licence_terms gave the number; the issuer recorded it"
    if licence.application_id != app.application_id:  # a renewal, not yet recorded
        _supersede(session, req, licence.certificate_no)
        licence.certificate_no, licence.application_id = req.certificate_no, app.application_id
        licence.fiscal_year, licence.renewed_at = details["fiscal_year"], req.issued_at
    licence.holder_name_bn, licence.holder_name_en = certificate.holder_name_bn, certificate.holder_name_en
    licence.business_name_bn = details["business_name_bn"]
    licence.business_category, licence.mobile = details.get("business_category"), app.contact.mobile


def _supersede(session: Session, req: IssueRequest, old_no: str) -> None:
    """Last year's certificate (and its other languages' editions) revoked, "superseded by <number>", by the officer
    who approved the renewal, with its audit entry."""
    old = session.get(db.Certificate, old_no, with_for_update=True)
    if old is None or old.revoked_at is not None:  # revoked by the chairman meanwhile: nothing to add
        return
    approver = req.decisions[-1].actor if req.decisions else None
    by, role = (approver.username, approver.role.value) if approver else ("sonod", "operator")
    at, reason = datetime.now(UTC), superseded_reason(req.certificate_no)
    session.execute(update(db.Certificate).where(db.Certificate.application_id == old.application_id,
                                                 db.Certificate.revoked_at.is_(None))
                    .values(revoked_at=at, revoked_by=by, revoke_reason=reason, superseded_by=req.certificate_no))
    session.execute(update(db.Application).where(db.Application.id == old.application_id).values(revoked_at=at))
    audit.record(session, union=old.union_slug, actor=by, role=role, action="certificate.supersede", target=old_no,
                 detail={"superseded_by": req.certificate_no, "licence_no": req.application.details.get("renews")})


# --- June: the reminder to renew -------------------------------------------------------------------------------------

DUE = (select(db.Licence.union_slug, db.Licence.licence_no, db.Licence.application_id, db.Licence.business_name_bn,
              db.Licence.fiscal_year, db.Licence.mobile, db.Union.name_bn)
       .join(db.Certificate, db.Certificate.certificate_no == db.Licence.certificate_no)
       .join(db.Union, db.Union.slug == db.Licence.union_slug)
       .where(db.Certificate.revoked_at.is_(None), db.Licence.mobile.is_not(None))
       .order_by(db.Licence.union_slug, db.Licence.licence_no))


class LicenceRegister(contract.LicenceRegister):
    def __init__(self, sessions: sessionmaker, outbox: Outbox) -> None:
        self.sessions, self.outbox = sessions, outbox

    @activity.defn(name="LicenceRegister.remind")
    def remind(self, batch: RenewalReminders) -> RemindersSent:
        """One page of the licences of `batch.fiscal_year` still unrenewed, each holder told by SMS that renewal is
        due: once per licence and year whatever runs it again (the outbox's key is the licence's certificate's
        application and the year)."""
        with self.sessions() as session:
            q = DUE.where(db.Licence.fiscal_year == batch.fiscal_year)
            if batch.after:
                q = q.where(tuple_(db.Licence.union_slug, db.Licence.licence_no) > tuple_(*batch.after))
            rows = session.execute(q.limit(REMINDER_PAGE)).all()
        for row in rows:
            activity.heartbeat(row.licence_no)
            self.outbox.notify(Notice(
                application_id=row.application_id, key=f"licence_due:{row.fiscal_year}", template="licence_due",
                union=row.union_slug, contact=Contact(mobile=row.mobile), params={
                    "licence_no": row.licence_no, "business": row.business_name_bn, "union": row.name_bn,
                    "end": to_bn_digits(last_day(row.fiscal_year).strftime("%d/%m/%Y")),
                    "next_year": to_bn_digits(shifted(row.fiscal_year, 1))}))
        last = rows[-1] if len(rows) == REMINDER_PAGE else None
        return RemindersSent(sent=len(rows), after=[last.union_slug, last.licence_no] if last else None)

