"""Unions: finding one, who serves it, the certificates it issues (the catalogue) and its figures."""

from __future__ import annotations

import statistics

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import Forbidden, Invalid, NotFound
from sonod import db
from sonod.domain import STEP_STATUS, Role, Status
from workflows.messages import Actor


def get_union(session: Session, slug: str | None, loc: list) -> db.Union:
    """The union a request names, or 422 on the field `loc`."""
    union = session.get(db.Union, slug) if slug else None
    if union is None:
        raise Invalid(loc, f"unknown union {slug!r}" if slug else "name the union")
    return union


def tenant_union(session: Session, tenant: str | None) -> db.Union:
    """The union whose pages this address serves (`/unions/<slug>/`, `<slug>.<base domain>`), or 404."""
    union = session.get(db.Union, tenant) if tenant else None
    if union is None:
        raise NotFound(f"no union {tenant!r} here: open /unions/<slug>/ with one of the unions' slugs")
    return union


def all_unions(session: Session) -> list[db.Union]:
    return list(session.scalars(select(db.Union).order_by(db.Union.name_en)))


def sees_union(actor: Actor, union: db.Union) -> bool:
    """Officers see their own union; upazila-wide roles see every union of their upazila."""
    if actor.union is not None:
        return actor.union == union.slug
    return (actor.role in (Role.UPAZILA_ADMIN, Role.ADMINISTRATOR) and actor.upazila == union.upazila_slug) \
        or actor.role is Role.OPERATOR


def require_union(actor: Actor, union: db.Union) -> None:
    if not sees_union(actor, union):
        raise Forbidden(f"{actor.username} does not serve the union {union.slug}")


def served_by(session: Session, officer: Actor) -> db.Union:
    """The officer's own union (422 for an officer of none), which they must serve."""
    union = get_union(session, officer.union, ["query", "union"])
    require_union(officer, union)
    return union


def catalogue(session: Session, slug: str | None) -> list[dict]:
    """Every certificate type with the JSON Schema of its `details`; with a union, its fee, deadline and chain."""
    rules = {}
    if slug:
        get_union(session, slug, ["query", "union"])
        rules = {r.certificate_type: r
                 for r in session.scalars(select(db.UnionRule).where(db.UnionRule.union_slug == slug))}
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


def issued_here(session: Session, slug: str) -> list[dict]:
    """The catalogue's entries this union issues."""
    return [k for k in catalogue(session, slug) if "union" in k]


def type_names(session: Session) -> dict[str, db.CertificateTypeRow]:
    """Every certificate type by its code, for the names pages show."""
    return {t.code: t for t in session.scalars(select(db.CertificateTypeRow))}


FINAL_VALUES = [s.value for s in Status if s.is_final]
OFFICER_STEPS_IN_ORDER = [STEP_STATUS[r] for r in (Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN)]


def union_figures(session: Session, union: str) -> dict:
    """The union's backlog by status, overdue applications by step, and the median time to issue."""
    backlog = dict(session.execute(
        select(db.Application.status, func.count()).where(db.Application.union_slug == union,
                                                           db.Application.status.not_in(FINAL_VALUES))
        .group_by(db.Application.status)).all())
    overdue = dict(session.execute(
        select(db.Application.status, func.count()).where(db.Application.union_slug == union,
                                                           db.Application.overdue,
                                                           db.Application.status.not_in(FINAL_VALUES))
        .group_by(db.Application.status)).all())
    issued = session.execute(
        select(db.Application.created_at, db.Certificate.issued_at)
        .join(db.Certificate, db.Certificate.application_id == db.Application.id)
        .where(db.Application.union_slug == union, db.Certificate.pdf_path.is_not(None))).all()
    durations = [issued_at - created for created, issued_at in issued]
    return {
        "backlog": {s: backlog.get(s.value, 0) for s in Status if not s.is_final},
        "overdue": {s: overdue.get(s.value, 0) for s in OFFICER_STEPS_IN_ORDER},
        "issued": len(durations),
        "median_to_issue": statistics.median(durations) if durations else None,
    }
