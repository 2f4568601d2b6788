"""Checking a QR: the signature against the unions' keys, then the registry for revocation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.schemas import VerifyOut
from sonod import db
from sonod.catalogue import BY_CODE
from sonod.keys import KeyStore
from sonod.signing import verify_qr_text


def verify(session: Session, keys: KeyStore, qr: str) -> VerifyOut:
    result = verify_qr_text(qr, lambda kid: keys.lookup(kid, session))  # one session, one connection
    if not result.valid or result.claims is None:
        return VerifyOut(status="invalid", certificate=None, reason=result.reason)
    claims = result.claims
    row = session.get(db.Certificate, claims.certificate_no)
    if row is None or row.union_slug != claims.union or row.certificate_type != claims.certificate_type:
        return VerifyOut(status="invalid", certificate=None,
                         reason="the signature is genuine but no such certificate is in the registry")
    if row.content_hash and row.content_hash != claims.content_hash.hex():
        return VerifyOut(status="invalid", certificate=None, reason="the certificate's content does not match")
    union = session.get(db.Union, claims.union)
    kind = BY_CODE.get(claims.certificate_type)
    certificate = {
        "certificate_no": claims.certificate_no, "certificate_type": claims.certificate_type,
        "certificate_type_name_bn": kind.name_bn if kind else None,
        "certificate_type_name_en": kind.name_en if kind else None,
        "union": claims.union, "union_name_bn": union.name_bn if union else None,
        "union_name_en": union.name_en if union else None,
        "upazila_name_bn": union.upazila_bn if union else None, "district_name_bn": union.district_bn if union else None,
        "name_bn": claims.name_bn, "name_en": claims.name_en, "issued_on": claims.issued_on.isoformat(),
        "kid": result.kid,
    }
    if row.revoked_at is not None:
        certificate["revoked_at"], certificate["revoke_reason"] = row.revoked_at.isoformat(), row.revoke_reason
        return VerifyOut(status="revoked", certificate=certificate,
                         reason=f"revoked by the union: {row.revoke_reason or 'no reason given'}")
    return VerifyOut(status="valid", certificate=certificate, reason="signed by the union's key and not revoked")
