from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from api import services
from api.deps import DbSession, Tenant
from sonod import db

router = APIRouter(prefix="/api/v1/certificate-types", tags=["catalogue"])


@router.get("")
def catalogue(session: DbSession, tenant: Tenant,
              union: Annotated[str | None, Query(max_length=40)] = None) -> list[dict]:
    """Every certificate type with the JSON Schema of its `details`; with a union, its fee, deadline and chain."""
    slug = union or tenant
    rules = {}
    if slug:
        services.get_union(session, slug, ["query", "union"])
        rules = {r.certificate_type: r for r in session.scalars(select(db.UnionRule).where(db.UnionRule.union_slug == slug))}
    out = []
    for t in session.scalars(select(db.CertificateTypeRow).order_by(db.CertificateTypeRow.code)):
        item = {"code": t.code, "name_bn": t.name_bn, "name_en": t.name_en, "fields": t.fields_schema,
                "valid_days": t.valid_days}
        if rule := rules.get(t.code):
            if not rule.enabled:
                continue
            item |= {"union": slug, "deadline_days": rule.deadline_days, "chain": rule.chain,
                     "fee": {"amount": sum(line["amount"] for line in rule.fee_lines), "currency": "BDT",
                             "lines": rule.fee_lines}}
        out.append(item)
    return out
