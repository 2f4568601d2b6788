"""Which issued certificates a print batch chooses (sonod/printing.py's `PrintFilters`): the API counts them before a
batch starts, and the batch's first activity freezes them (activities/printing.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sonod import db
from sonod.bengali import DHAKA
from sonod.printing import PrintFilters


def chosen(union: str, filters: PrintFilters) -> Select:
    """The issued certificates of `union` that `filters` choose, in the register's order, with what the cover lists
    and the ward is read from: revoked ones never, and only those whose signed PDF is stored."""
    c, a = db.Certificate, db.Application
    q = (select(c.certificate_no, c.certificate_type, c.issued_at, c.holder_name_bn, c.holder_name_en, c.printed_at,
                a.identity, a.applicant)
         .join(a, a.id == c.application_id)
         .where(c.union_slug == union, c.revoked_at.is_(None), c.qr_text.is_not(None), c.content_hash.is_not(None),
                c.pdf_path.is_not(None))
         .order_by(c.year, c.seq, c.certificate_no))
    if filters.issued_on is not None:
        start = dt.datetime.combine(filters.issued_on, dt.time(), DHAKA)
        q = q.where(c.issued_at >= start, c.issued_at < start + dt.timedelta(days=1))
    if filters.certificate_type:
        q = q.where(c.certificate_type == filters.certificate_type)
    if filters.not_printed:
        q = q.where(c.printed_at.is_(None))
    return q


def ward_of(identity: dict[str, Any] | None, applicant: dict[str, Any] | None) -> int | None:
    """The holder's ward: the NID record's, else the one the applicant gave."""
    ward = (identity or {}).get("ward_no") or (applicant or {}).get("ward_no")
    return int(ward) if ward else None


def select_chosen(session: Session, union: str, filters: PrintFilters, limit: int | None = None) -> list:
    """The rows of `chosen`, the ward filter applied here (the ward is in JSON: read the same on both databases)."""
    rows = []
    for row in session.execute(chosen(union, filters)):
        if filters.ward_no is not None and ward_of(row.identity, row.applicant) != filters.ward_no:
            continue
        rows.append(row)
        if limit is not None and len(rows) >= limit:
            break
    return rows
