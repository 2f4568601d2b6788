"""Issue a certificate: sign its QR payload with the union's key, render the PDF, sign the PDF (PAdES, with the
union's certificate of the sonod PKI: activities/pades.py), store it, record it.

What it says of the holder is `sonod.printed`'s list, the one the deciding officer saw: the NID record's fields, and
the applicant's claims the record lacks, printed marked as claims; no other applicant field reaches the paper. A type
with a validity signs its end (the CWT `exp`) as well as printing it."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import sessionmaker
from temporalio import activity

from activities.editions import attested_request, issue_editions
from activities.licences import licence_issued, licence_terms
from activities.outbox import Queued
from activities.pades import PdfSealer
from activities.registry import Projector, allocate
from activities.render import CertificateDocument, CertificateRenderer, Holder, Signatory, store_pdf
from sonod import db
from sonod.bengali import dhaka_date, to_bn_digits
from sonod.catalogue import BY_CODE, CATALOGUE
from sonod.domain import Role
from sonod.keys import KeyStore
from sonod.metrics import TIME_TO_ISSUE
from sonod.printed import holder_values, printed, validity
from sonod.signing import CertificateClaims, content_hash, qr_text, sign_payload
from workflows import activities as contract
from workflows.messages import IssuedCertificate, IssueRequest, NumberRequest

TITLES = {
    Role.CHAIRMAN: ("চেয়ারম্যান", "Chairman"),
    Role.ACTING_CHAIRMAN: ("প্যানেল চেয়ারম্যান", "Panel Chairman"),
    Role.ADMINISTRATOR: ("প্রশাসক", "Administrator"),
    Role.SECRETARY: ("প্রশাসনিক কর্মকর্তা (সচিব)", "Administrative Officer (Secretary)"),
    Role.WARD_MEMBER: ("ইউপি সদস্য", "UP Member"),
}

# The signed certificate's columns (SET from the parameters given), by its number.
RECORD = update(db.Certificate.__table__).where(db.Certificate.__table__.c.certificate_no == bindparam("number"))


def memo_number(union_code: str, certificate_type: str, year: int, seq: int) -> str:
    """All digits, as union memos are (স্মারক নং ০৭.০২.২০২৬.০০০০১৫): the union's code, the type, year, number."""
    type_no = next((i for i, t in enumerate(CATALOGUE, 1) if t.code == certificate_type), 0)
    return f"{union_code}.{type_no:02d}.{year}.{seq:06d}"


class Issuer(contract.Issuer):
    def __init__(self, sessions: sessionmaker, keys: KeyStore, renderer: CertificateRenderer, pdf_dir: Path,
                 verify_url: str, sealer: PdfSealer | None = None, projector: Projector | None = None) -> None:
        """`sealer`: signs the PDFs; None leaves them unsigned (tests of the rendering alone). `projector`: writes the
        application's read model with the number and with the certificate (`req.projection`)."""
        self.sessions, self.keys, self.renderer, self.sealer = sessions, keys, renderer, sealer
        self.projector = projector or Projector(sessions)
        self.pdf_dir, self.verify_url = pdf_dir, verify_url
        self._not_before: dict[str, datetime] = {}  # by kid: a key's not_before never changes
        # Signing and rendering hold the GIL: more of them at once than the machine has cores only slows the
        # worker's workflow tasks (39 at once in tests/test_certificates.py made them take over 5 s).
        self.rendering = threading.BoundedSemaphore(os.cpu_count() or 2)

    @activity.defn(name="Issuer.issue")
    def issue(self, req: IssueRequest) -> IssuedCertificate:
        req = attested_request(req)  # an attestation prints the text its officer wrote (activities/editions.py)
        if not req.certificate_no:
            req = req.model_copy(update={"certificate_no": self.number(req)})
        with self.rendering:
            return self.sign_render_record(req)

    def sign_render_record(self, req: IssueRequest) -> IssuedCertificate:
        app = req.application
        with self.sessions() as session:
            row = session.get(db.Certificate, req.certificate_no)
            if row.pdf_path and (self.pdf_dir / row.pdf_path).exists():
                return IssuedCertificate(certificate_no=row.certificate_no, kid=row.kid, pdf_ref=row.pdf_path)
            officers = {u.username: u for u in session.scalars(
                select(db.User).where(db.User.username.in_([d.actor.username for d in req.decisions])))}
            memo_no = memo_number(app.union.code, app.certificate_type, row.year, row.seq)
            kind = session.get(db.CertificateTypeRow, app.certificate_type)
            valid_days = kind.valid_days if kind is not None else BY_CODE[app.certificate_type].valid_days
            rule = session.get(db.UnionRule, (app.union.slug, app.certificate_type))
            if rule is not None and rule.valid_days is not None:  # the union's own (0: no expiry)
                valid_days = rule.valid_days

        holder, claims = self.holder(req)
        details, fiscal = licence_terms(self.sessions, req)  # a trade licence: its number, valid to its year's end
        valid = fiscal or validity(req.issued_at, valid_days)
        content = {
            "certificate_no": req.certificate_no, "certificate_type": app.certificate_type, "union": app.union.slug,
            "holder": holder.model_dump(mode="json"), "details": details, "issued_at": req.issued_at.isoformat(),
            "claims": claims, "valid_until": valid.ends_at if valid else None,
        }
        digest = content_hash(content)
        # Signed now, not at req.issued_at: a retry may run after a key rotation, and the new key must not look as if
        # it signed before it came into use.
        now = datetime.now(UTC)
        kid, private_key = self.keys.signing_key(app.union.slug, now)
        if kid not in self._not_before:
            key = self.keys.lookup(kid)
            assert key is not None, f"signing_key committed {kid} and keys are never deleted"
            self._not_before[kid] = key.not_before
        signed_at = max(now, req.issued_at, self._not_before[kid])
        signed = CertificateClaims(
            certificate_no=req.certificate_no, certificate_type=app.certificate_type, union=app.union.slug,
            name_bn=holder.name_bn, name_en=holder.name_en, issued_on=dhaka_date(req.issued_at),
            content_hash=digest, valid_until=valid.ends_at if valid else None,
        )
        qr = qr_text(self.verify_url, sign_payload(signed, private_key, kid, signed_at))
        material = self.sealer.material(app.union.slug) if self.sealer else None
        pdf, place = self.renderer.render_with_seal(CertificateDocument(
            certificate_no=req.certificate_no, memo_no=memo_no, certificate_type=app.certificate_type,
            union=app.union.model_dump(), holder=holder, claims=claims, details=details,
            fee_lines=[line.model_dump() for line in app.fee.lines], issued_at=req.issued_at,
            expires_on=valid.last_day if valid else None,
            signatories=[self.signatory(d.actor.role, d.actor.username, officers.get(d.actor.username), d.actor.ward_no,
                                        req.issued_at) for d in req.decisions],
            qr_text=qr, seal=material.view(datetime.now(UTC)) if material else None, language=req.language,
        ))
        if self.sealer and material and place:  # a retry signs again: the file is replaced whole, below
            pdf = self.sealer.seal(pdf, place, material, reason=f"{req.certificate_no}: issued by {material.signer_en}")
        ref = f"{app.union.slug}/{row.year}/{req.certificate_no}.pdf"
        issue_editions(self, req)  # its English certificate; the one it corrects superseded (activities/editions.py)
        store_pdf(self.pdf_dir, ref, pdf)
        with self.sessions.begin() as session:
            session.execute(RECORD, dict(number=req.certificate_no, kid=kid, qr_text=qr, content_hash=digest.hex(),
                                         pdf_path=ref, holder_name_bn=holder.name_bn, holder_name_en=holder.name_en,
                                         submitted_by=app.submitted_by.username))
            licence_issued(session, req, details)
            queued = self.projector.write_in(session, req.projection.issued(req.certificate_no, req.issued_at)) \
                if req.projection else Queued()
        self.projector.sent_later(queued)
        TIME_TO_ISSUE.labels(app.certificate_type).observe((datetime.now(UTC) - app.submitted_at).total_seconds())
        return IssuedCertificate(certificate_no=req.certificate_no, kid=kid, pdf_ref=ref)

    def number(self, req: IssueRequest) -> str:
        """The certificate's number, allocated with the application's read model as the issue starts, in one
        transaction (a retry finds both)."""
        app = req.application
        with self.sessions.begin() as session:
            number = allocate(session, NumberRequest(application_id=app.application_id, union=app.union.slug,
                                                     certificate_type=app.certificate_type, issued_at=req.issued_at))
            queued = self.projector.write_in(session, req.projection) if req.projection else Queued()
        self.projector.sent_later(queued)
        return number.certificate_no

    @staticmethod
    def holder(req: IssueRequest) -> tuple[Holder, list[str]]:
        """The holder as printed (`sonod.printed`), and the fields printed on the applicant's word alone."""
        app = req.application
        values, claims = holder_values(printed(app.certificate_type, app.applicant.model_dump(mode="json"),
                                               app.details, req.identity.fields()))
        return Holder(**values), sorted(claims)

    @staticmethod
    def signatory(role: Role, username: str, user: db.User | None, ward_no: int | None, at) -> Signatory:
        title_bn, title_en = TITLES.get(role, (role.value, role.value))
        if role is Role.WARD_MEMBER and ward_no:
            title_bn, title_en = f"{title_bn}, ওয়ার্ড নং {to_bn_digits(ward_no)}", f"{title_en}, Ward {ward_no}"
        name_en = (user.name_en if user else "") or username
        return Signatory(role=role, name_bn=(user.name_bn if user else "") or name_en, name_en=name_en,
                         title_bn=title_bn, title_en=title_en, signed_at=at)
