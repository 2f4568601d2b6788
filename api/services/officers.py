"""Officers: who an officer is in a union (their delegations there), and what waits on them or came from them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sonod import db
from sonod.bengali import to_ascii_digits
from sonod.domain import OFFICER_STEPS, STANDS_IN_FOR_CHAIRMAN, Role, Status
from workflows.messages import Actor, Awaiting


def delegated_roles(session: Session, user_id: int, union: str | None) -> list[Role]:
    """The roles this officer acts for in this union today: a delegation counts only in its own union."""
    if union is None:
        return []
    now = db.utcnow()
    delegated = session.scalars(select(db.Delegation.acts_as).where(
        db.Delegation.user_id == user_id, db.Delegation.union_slug == union,
        db.Delegation.starts_at <= now, db.Delegation.ends_at > now)).all()
    return sorted({Role(r) for r in delegated})


def officer_actor(session: Session, user: db.User, ip: str | None) -> Actor:
    return Actor(username=user.username, role=Role(user.role), union=user.union_slug, upazila=user.upazila_slug,
                 ward_no=user.ward_no, acts_for=delegated_roles(session, user.id, user.union_slug), ip=ip)


def acting_in(session: Session, actor: Actor, union: str) -> Actor:
    """The officer as they act in `union`: with the delegations of that union only."""
    if actor.role is Role.PORTAL:
        return actor
    user_id = session.scalar(select(db.User.id).where(db.User.username == actor.username))
    acts_for = delegated_roles(session, user_id, union) if user_id is not None else []  # no such user: no delegation
    return actor.model_copy(update={"acts_for": acts_for})


def awaiting(row: db.Application) -> Awaiting | None:
    """Who may decide the application now, as its workflow published it."""
    return Awaiting.model_validate(row.awaiting) if row.awaiting and Status(row.status).awaits_officer else None


def may_decide(row: db.Application, actor: Actor) -> bool:
    return (waits := awaiting(row)) is not None and waits.admits(actor)


def queue(session: Session, actor: Actor, limit: int = 200) -> list[db.Application]:
    """What this officer may decide now, by the workflow's word, overdue first, then by deadline: in their union, or
    in their upazila's unions for those who stand in for a chairman."""
    if actor.union is not None:
        unions = [actor.union]
    elif actor.role in STANDS_IN_FOR_CHAIRMAN and actor.upazila:
        unions = list(session.scalars(select(db.Union.slug).where(db.Union.upazila_slug == actor.upazila)))
    else:
        return []
    rows = session.scalars(select(db.Application).where(
        db.Application.union_slug.in_(unions), db.Application.status.in_([s.value for s in OFFICER_STEPS]))).all()
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted((r for r in rows if may_decide(r, actor)),
                  key=lambda r: (not r.overdue, r.deadline_at or far, r.id))[:limit]


def submitted_by(session: Session, username: str, limit: int = 100, q: str = "") -> list[db.Application]:
    """What this officer (a UDC operator, say) submitted on citizens' behalf, newest first; with `q`, only those
    whose number, applicant's name (Bengali or English) or mobile number holds it (Bengali digits read as ASCII)."""
    query = select(db.Application).where(db.Application.submitted_by == username)
    if q := q.strip()[:100]:
        digits = to_ascii_digits(q)
        query = query.where(or_(
            func.upper(db.Application.id).contains(digits.upper(), autoescape=True),
            db.Application.applicant["name_bn"].as_string().contains(q, autoescape=True),
            func.lower(db.Application.applicant["name_en"].as_string()).contains(q.lower(), autoescape=True),
            db.Application.contact["mobile"].as_string().contains(digits, autoescape=True)))
    return list(session.scalars(query.order_by(db.Application.created_at.desc()).limit(limit)))
