"""What the issue step does beside the Bengali certificate (activities/issuer.py calls it):

- **the English certificate**, when the applicant asked for one: a full certificate of its own, page, signed QR
  payload, PDF and registry row, numbered as the Bengali one with the language mark `-EN` (`PAIKKANDI-2026-000015-EN`),
  verified as any certificate is and revoked with its Bengali one;
- **a correction's supersession**: when an application that corrects an issued certificate is issued, the corrected
  one (with its English) is revoked, "superseded by <new number>", and verification of it names the new one;
- **a free-text attestation's text**: the writer's approval (workflows/attestation.py) becomes the certificate's body.

Each part is idempotent: a retried issue finds the English certificate stored, or the old one superseded already.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from sonod import audit, db
from sonod.editions import english_no
from workflows.attestation import attested
from workflows.messages import IssueRequest

if TYPE_CHECKING:
    from activities.issuer import Issuer

SONOD = ("sonod", "operator")  # the audit's actor and role for what the issue step does itself


def attested_request(req: IssueRequest) -> IssueRequest:
    """A free-text attestation's request with the written text as its statement (Bengali, and English when given);
    any other request as it is."""
    approval = attested(req.application, req.decisions)
    if approval is None or not approval.text:
        return req
    details = {**req.application.details, "statement_bn": approval.text.strip()}
    if approval.text_en:
        details["statement_en"] = approval.text_en.strip()
    return req.model_copy(update={"application": req.application.model_copy(update={"details": details})})


def issue_editions(issuer: Issuer, req: IssueRequest) -> None:
    """After the Bengali certificate is rendered, before it is recorded (so that a recorded Bengali certificate means
    this is done): its English certificate, then the supersession of the certificate it corrects."""
    if req.language != "bn":
        return
    app = req.application
    if app.language in ("en", "both"):
        number = english_no(req.certificate_no)
        with issuer.sessions.begin() as session:
            add_english_row(session, req.certificate_no, number)
        # the read model is the Bengali certificate's to write (`projection`), once it is recorded
        issuer.issue(req.model_copy(update={"certificate_no": number, "language": "en", "projection": None}))
    if app.corrects:
        supersede(issuer.sessions, app.corrects, req.certificate_no, app.union.slug)


def add_english_row(session: Session, original: str, number: str) -> None:
    """The English certificate's row, as its Bengali one was allocated (its application, year and seq), once."""
    if session.get(db.Certificate, number) is not None:
        return
    row = session.get(db.Certificate, original)
    assert row is not None, "the number is allocated before the certificate is issued"
    session.execute(insert(db.Certificate.__table__), dict(
        certificate_no=number, application_id=row.application_id, union_slug=row.union_slug, year=row.year,
        seq=row.seq, certificate_type=row.certificate_type, issued_at=row.issued_at, language="en"))


def supersede(sessions: sessionmaker, corrected: str, by: str, union: str) -> None:
    """Revoke the corrected certificate and its English, "superseded by <by>", once, with its audit entry."""
    with sessions.begin() as session:
        old = session.get(db.Certificate, corrected, with_for_update=True)
        if old is None or old.union_slug != union or old.revoked_at is not None:
            return  # checked when the correction was submitted; revoked since by the chairman: nothing to add
        old.revoked_at, old.revoked_by = datetime.now(UTC), SONOD[0]
        old.revoke_reason, old.superseded_by = f"superseded by {by}", by
        revoke_siblings(session, old)
        audit.record(session, union=union, actor=SONOD[0], role=SONOD[1], action="certificate.supersede",
                     target=corrected, detail={"superseded_by": by})


def revoke_siblings(session: Session, certificate: db.Certificate) -> list[str]:
    """The other languages' certificates of a certificate just revoked, revoked with it (and its application marked
    revoked); their numbers."""
    session.execute(update(db.Application).where(db.Application.id == certificate.application_id)
                    .values(revoked_at=certificate.revoked_at))
    siblings = list(session.scalars(select(db.Certificate).where(
        db.Certificate.application_id == certificate.application_id,
        db.Certificate.certificate_no != certificate.certificate_no, db.Certificate.revoked_at.is_(None))))
    for sibling in siblings:
        sibling.revoked_at, sibling.revoked_by = certificate.revoked_at, certificate.revoked_by
        sibling.revoke_reason, sibling.superseded_by = certificate.revoke_reason, certificate.superseded_by
    return [s.certificate_no for s in siblings]
