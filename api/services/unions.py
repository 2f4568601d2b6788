"""Unions: finding one, who serves it, the certificates it issues (the catalogue) and its figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import false, func, literal, select
from sqlalchemy.orm import Session

from api.errors import Forbidden, Invalid, NotFound
from sonod import db
from sonod.catalogue import CATALOGUE
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


def unions_seen(session: Session, officer: Actor) -> list[db.Union]:
    """The unions an officer's pages may show: their own; an upazila's administrators every union of it."""
    q = select(db.Union).order_by(db.Union.name_en)
    if officer.union is not None:
        q = q.where(db.Union.slug == officer.union)
    elif officer.role is not Role.OPERATOR:
        q = q.where(db.Union.upazila_slug == officer.upazila) if officer.upazila else q.where(false())
    return [u for u in session.scalars(q) if sees_union(officer, u)]


def served_by(session: Session, officer: Actor, named: str | None = None) -> db.Union:
    """The union a page shows: the one named (`?union=`), else the officer's own (422 for an officer of none);
    403 unless they serve it."""
    union = get_union(session, named or officer.union, ["query", "union"])
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
        item: dict[str, object] = {"code": t.code, "name_bn": t.name_bn, "name_en": t.name_en,
                                   "fields": t.fields_schema, "valid_days": t.valid_days}
        if rule := rules.get(t.code):
            if not rule.enabled:
                continue
            if rule.valid_days is not None:
                item["valid_days"] = rule.valid_days or None
            item |= {"union": slug, "deadline_days": rule.deadline_days, "chain": rule.chain,
                     "fee": {"amount": sum(line["amount"] for line in rule.fee_lines), "currency": "BDT",
                             "lines": rule.fee_lines}}
        out.append(item)
    return out


def issued_here(session: Session, slug: str) -> list[dict]:
    """The catalogue's entries this union issues, in the catalogue's order: the twelve most asked for first."""
    order = {t.code: i for i, t in enumerate(CATALOGUE)}
    return sorted((k for k in catalogue(session, slug) if "union" in k), key=lambda k: order.get(k["code"], len(order)))


def type_names(session: Session) -> dict[str, db.CertificateTypeRow]:
    """Every certificate type by its code, for the names pages show."""
    return {t.code: t for t in session.scalars(select(db.CertificateTypeRow))}


FINAL_VALUES = [s.value for s in Status if s.is_final]
OFFICER_STEPS_IN_ORDER = [STEP_STATUS[r] for r in (Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN)]


@dataclass
class Figures:
    """One union's figures (or the sum of several). `issued` counts the certificates in force and `revoked` those
    withdrawn since; the median time to issue is over both (a revocation does not change how long issuing took)."""

    backlog: int = 0
    overdue: int = 0
    issued: int = 0
    revoked: int = 0
    revenue: int = 0  # taka: the fees of applications whose fee the workflow has taken as paid
    median_to_issue: timedelta | None = None


def _by_union(session: Session, q, slugs: list[str]) -> dict:
    return dict(session.execute(q.where(db.Application.union_slug.in_(slugs))
                                .group_by(db.Application.union_slug)).all())


def _medians_to_issue(session: Session, slugs: list[str], *, by_union: bool = True) -> dict[str | None, timedelta]:
    """The median time from submission to issue, by union (else over all of them, under the key None): computed by
    PostgreSQL, or here on SQLite (which has no percentile)."""
    issued = (db.Certificate.application_id == db.Application.id) & db.Certificate.pdf_path.is_not(None) \
        & (db.Certificate.language == "bn") & db.Application.union_slug.in_(slugs)
    key = db.Application.union_slug if by_union else literal(None)
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", db.Certificate.issued_at - db.Application.created_at)
        q = select(key, func.percentile_cont(0.5).within_group(seconds)).where(issued)
        rows = session.execute(q.group_by(key) if by_union else q).all()
        return {slug: timedelta(seconds=float(median)) for slug, median in rows if median is not None}
    durations: dict[str | None, list[timedelta]] = {}
    for slug, created, issued_at in session.execute(
            select(key, db.Application.created_at, db.Certificate.issued_at).where(issued)):
        durations.setdefault(slug, []).append(issued_at - created)
    return {slug: _median(d) for slug, d in durations.items()}


def _median(values: list[timedelta]) -> timedelta:
    """statistics.median of durations (the mean of the middle two for an even count): typeshed types it for numbers
    only."""
    ordered, mid = sorted(values), len(values) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def figures_by_union(session: Session, slugs: list[str]) -> dict[str, Figures]:
    """The figures of each of these unions (an upazila's, union by union), in a few grouped queries."""
    open_ = db.Application.status.not_in(FINAL_VALUES)
    count = select(db.Application.union_slug, func.count())
    backlog = _by_union(session, count.where(open_), slugs)
    overdue = _by_union(session, count.where(open_, db.Application.overdue), slugs)
    revenue = _by_union(session, select(db.Application.union_slug, func.sum(db.Application.fee_amount))
                        .where(db.Application.fee_paid, db.Application.fee_amount > 0), slugs)
    certificates = select(db.Certificate.union_slug, func.count()).where(
        db.Certificate.pdf_path.is_not(None), db.Certificate.union_slug.in_(slugs),
        db.Certificate.language == "bn")  # a certificate issued in both languages counts once
    issued = dict(session.execute(certificates.where(db.Certificate.revoked_at.is_(None))
                                  .group_by(db.Certificate.union_slug)).all())
    revoked = dict(session.execute(certificates.where(db.Certificate.revoked_at.is_not(None))
                                   .group_by(db.Certificate.union_slug)).all())
    medians = _medians_to_issue(session, slugs)
    return {slug: Figures(backlog=backlog.get(slug, 0), overdue=overdue.get(slug, 0), issued=issued.get(slug, 0),
                          revoked=revoked.get(slug, 0), revenue=int(revenue.get(slug) or 0),
                          median_to_issue=medians.get(slug)) for slug in slugs}


def total(session: Session, each: dict[str, Figures]) -> Figures:
    """The unions' figures summed; the median is the median over all their certificates, not of the medians."""
    rows = each.values()
    return Figures(backlog=sum(f.backlog for f in rows), overdue=sum(f.overdue for f in rows),
                   issued=sum(f.issued for f in rows), revoked=sum(f.revoked for f in rows),
                   revenue=sum(f.revenue for f in rows),
                   median_to_issue=_medians_to_issue(session, list(each), by_union=False).get(None))


def union_figures(session: Session, union: str) -> dict:
    """The union's backlog by status, overdue applications by step, its certificates in force and revoked, the fees
    it took and the median time to issue."""
    backlog = dict(session.execute(
        select(db.Application.status, func.count()).where(db.Application.union_slug == union,
                                                           db.Application.status.not_in(FINAL_VALUES))
        .group_by(db.Application.status)).all())
    overdue = dict(session.execute(
        select(db.Application.status, func.count()).where(db.Application.union_slug == union,
                                                           db.Application.overdue,
                                                           db.Application.status.not_in(FINAL_VALUES))
        .group_by(db.Application.status)).all())
    totals = figures_by_union(session, [union])[union]
    return {
        "backlog": {s: backlog.get(s.value, 0) for s in Status if not s.is_final},
        "overdue": {s: overdue.get(s.value, 0) for s in OFFICER_STEPS_IN_ORDER},
        "issued": totals.issued, "revoked": totals.revoked, "revenue": totals.revenue,
        "median_to_issue": totals.median_to_issue,
    }
