"""What an application asks beside one Bengali certificate, on the API's side (the issue step's is
activities/editions.py):

- a correction after issue: a new application that names the certificate it corrects (`corrects`), checked here when
  it is submitted; once it is issued, the corrected certificate is revoked as superseded;
- a free-text attestation's text, kept on the read model once its officer's approval is accepted, for the chairman
  to read before approving it as written.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.errors import Invalid
from api.schemas import ApplicationIn
from sonod import db
from sonod.domain import DecisionKind, Role, Status
from sonod.editions import original_no
from workflows.attestation import writer_of
from workflows.messages import Applicant, Decision

FIELD = ["body", "corrects"]
ENDED = [s.value for s in Status if s.is_final]


def checked_correction(session: Session, corrects: str | None, union: str, certificate_type: str,
                       applicant: Applicant) -> str | None:
    """The Bengali number of the certificate corrected, or 422 on `corrects`: it must be an issued certificate in
    force, of this union and type, held by this applicant (the same NID or birth registration number)."""
    if corrects is None:
        return None
    number = original_no(corrects)
    row = session.get(db.Certificate, number)
    if row is None or row.pdf_path is None or row.union_slug != union:
        raise Invalid(FIELD, f"{union} has issued no certificate {corrects}")
    if row.certificate_type != certificate_type:
        raise Invalid(FIELD, f"{corrects} is a {row.certificate_type} certificate, not a {certificate_type} one")
    if row.revoked_at is not None:
        raise Invalid(FIELD, f"{corrects} was revoked: {row.revoke_reason or ''}".strip())
    issued_to = session.get(db.Application, row.application_id)
    held = (issued_to.applicant or {}) if issued_to else {}
    if not any(getattr(applicant, key) and getattr(applicant, key) == held.get(key) for key in ("nid", "brn")):
        raise Invalid(FIELD, f"{corrects} was issued to another person than this applicant")
    under_way = session.scalar(select(db.Application.id).where(
        db.Application.union_slug == union, db.Application.corrects == number,
        db.Application.status.not_in(ENDED)).limit(1))
    if under_way is not None:  # one at a time (as the read model has them: a correction sent a moment ago may pass)
        raise Invalid(FIELD, f"the correction {under_way} of {corrects} is under way")
    return number


def defaults_of_extensions(body: ApplicationIn) -> set[str]:
    """The fields added to the body since idempotency keys were first stored, left at their defaults: hashed as
    before they existed, so that a repeat of an older request still answers its application."""
    return {field for field, default in (("language", "bn"), ("corrects", None)) if getattr(body, field) == default}


def record_attestation(session: Session, application_id: str, decision: Decision) -> None:
    """The text an accepted approval of the writer's step carried (the workflow refused one without it)."""
    if decision.kind is DecisionKind.APPROVE and decision.text:
        session.execute(update(db.Application).where(db.Application.id == application_id).values(
            attestation={"text": decision.text, "text_en": decision.text_en, "by": decision.actor.username}))


def writes_text(session: Session, row: db.Application) -> bool:
    """Whether the step the application waits on is the one whose approval carries a free-text attestation's text."""
    rule = session.get(db.UnionRule, (row.union_slug, row.certificate_type))
    step = (row.awaiting or {}).get("step")
    writer = writer_of(row.certificate_type, [Role(r) for r in rule.chain]) if rule else None
    return writer is not None and step == writer.value


def printed_details(row: db.Application) -> dict:
    """The details as the certificate prints them: a free-text attestation's approved text in place of the
    applicant's draft."""
    written = row.attestation or {}
    if not written.get("text"):
        return row.details
    return row.details | {"statement_bn": written["text"]} | (
        {"statement_en": written["text_en"]} if written.get("text_en") else {})
