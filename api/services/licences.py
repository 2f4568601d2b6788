"""Trade licences: a union's register (its licences and their state, a page at a time, or all as CSV), what a renewal
application starts from, and the checks a trade licence application passes at submission."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
from collections.abc import Iterator

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import Session

from api.errors import Conflict, Invalid, NotFound
from api.schemas import LicenceOut, LicencePage
from api.services import applications  # which imports this module: its names are read when called
from api.services.unions import get_union
from sonod import audit, db
from sonod.bengali import dhaka_date
from sonod.domain import Role
from sonod.licences import (
    CATEGORIES,
    TRADE_LICENCE,
    LicenceState,
    between,
    fee_lines,
    first_year,
    fiscal_year_of,
    last_day,
    renewal_year,
    state_of,
)
from workflows.messages import Actor

ROW = (select(db.Licence, db.Certificate.revoked_at)
       .join(db.Certificate, db.Certificate.certificate_no == db.Licence.certificate_no))
CSV_COLUMNS = ("licence_no", "state", "fiscal_year", "valid_until", "certificate_no", "business_name_bn",
               "business_category", "holder_name_bn", "holder_name_en", "mobile", "issued_at", "renewed_at")


def today() -> dt.date:
    return dhaka_date(db.utcnow())


# --- submission ------------------------------------------------------------------------------------------------------

def check_details(session: Session, union: str, certificate_type: str, details: dict, now: dt.datetime) -> None:
    """A trade licence's year is a fiscal year no later than the next; a renewal names a licence of this union, in
    force or lapsed, for a year after its last. 422 naming the field."""
    if certificate_type != TRADE_LICENCE:
        return
    loc = ["body", "details"]
    if details.get("licence_no"):
        raise Invalid([*loc, "licence_no"], "the union gives the licence number when it issues the licence")
    year, this_year = details["fiscal_year"], fiscal_year_of(dhaka_date(now))
    if int(year[5:]) != first_year(year) + 1:
        raise Invalid([*loc, "fiscal_year"], "a fiscal year runs from July to June of the next year, e.g. 2026-2027")
    if first_year(year) > first_year(this_year) + 1:
        raise Invalid([*loc, "fiscal_year"], f"a licence is issued for {this_year} or the next fiscal year at most")
    if not details.get("renews"):
        return
    found = session.execute(ROW.where(db.Licence.union_slug == union,
                                      db.Licence.licence_no == details["renews"])).first()
    if found is None:
        raise Invalid([*loc, "renews"], f"{union} has no trade licence {details['renews']}")
    licence, revoked_at = found
    if revoked_at is not None:
        raise Invalid([*loc, "renews"], f"trade licence {licence.licence_no} was revoked; apply for a new licence")
    if year <= licence.fiscal_year or year < this_year:
        raise Invalid([*loc, "fiscal_year"], f"licence {licence.licence_no} is issued up to {licence.fiscal_year}; "
                                             f"renew it for {renewal_year(licence.fiscal_year, dhaka_date(now))}")


# --- the register ----------------------------------------------------------------------------------------------------

def the_union(session: Session, caller: Actor, tenant: str | None, union: str | None) -> db.Union:
    """The union named (else the address's, else the officer's), whose register the caller may read."""
    row = applications.named_union(session, union, tenant, ["query", "union"]) if union or tenant else \
        get_union(session, caller.union, ["query", "union"])
    applications.require_read(session, caller, row.slug, None)
    return row


def in_state(state: LicenceState | None, on: dt.date):
    """The SQL condition for licences in `state` on that day (sonod.licences.state_of, as a WHERE)."""
    year, june = fiscal_year_of(on), on.month == 6
    live = db.Certificate.revoked_at.is_(None)
    return {
        None: true(),
        LicenceState.REVOKED: db.Certificate.revoked_at.is_not(None),
        LicenceState.EXPIRED: and_(live, db.Licence.fiscal_year < year),
        LicenceState.DUE: and_(live, db.Licence.fiscal_year == year) if june else false(),
        LicenceState.CURRENT: and_(live, or_(db.Licence.fiscal_year > year,
                                             and_(db.Licence.fiscal_year == year, false() if june else true()))),
    }[state]


def out(licence: db.Licence, revoked_at: dt.datetime | None, on: dt.date) -> LicenceOut:
    return LicenceOut(
        licence_no=licence.licence_no, union=licence.union_slug,
        state=state_of(licence.fiscal_year, on, revoked_at is not None), fiscal_year=licence.fiscal_year,
        valid_until=last_day(licence.fiscal_year), certificate_no=licence.certificate_no,
        business_name_bn=licence.business_name_bn, business_category=licence.business_category,
        holder_name_bn=licence.holder_name_bn, holder_name_en=licence.holder_name_en, mobile=licence.mobile,
        issued_at=licence.issued_at, renewed_at=licence.renewed_at)


def page(session: Session, union: str, state: LicenceState | None, limit: int, cursor: str | None,
         on: dt.date | None = None) -> LicencePage:
    """In licence-number order, keyset-paginated on the number."""
    on = on or today()
    q = ROW.where(db.Licence.union_slug == union, in_state(state, on)).order_by(db.Licence.licence_no)
    if cursor:
        q = q.where(db.Licence.licence_no > decode_cursor(cursor))
    rows = session.execute(q.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return LicencePage(items=[out(licence, revoked_at, on) for licence, revoked_at in rows],
                       next_cursor=encode_cursor(rows[-1][0].licence_no) if more and rows else None)


def encode_cursor(licence_no: str) -> str:
    return base64.urlsafe_b64encode(licence_no.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        raise Invalid(["query", "cursor"], "the cursor is not one this API gave out") from None


def csv_lines(session: Session, caller: Actor, union: str, on: dt.date | None = None) -> Iterator[str]:
    """The whole register as CSV (UTF-8 with a BOM, which spreadsheet programs need to read Bengali), audited as an
    export of the holders' names and mobile numbers."""
    on = on or today()
    audit.record(session, union=union, actor=caller.username, role=caller.role.value, action="licences.export",
                 target=union, detail={"on": on.isoformat()}, ip=caller.ip)
    rows = session.execute(ROW.where(db.Licence.union_slug == union).order_by(db.Licence.licence_no)).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + _drain(buffer)
    for licence, revoked_at in rows:
        row = out(licence, revoked_at, on).model_dump(mode="json")
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# --- renewal ---------------------------------------------------------------------------------------------------------

def renewal(session: Session, caller: Actor, tenant: str | None, union: str | None, licence_no: str,
            on: dt.date | None = None) -> dict:
    """The renewal application of a licence, filled in from its latest one: for the year it renews for, with
    `renews` naming it and this year's holding tax receipt left to give; and the fee it will cost (arrears with it).
    For the union's officers and desk, and the portal that applied for it."""
    on = on or today()
    slug = union or tenant or caller.union
    found = session.execute(ROW.where(db.Licence.union_slug == slug,
                                      db.Licence.licence_no == licence_no.strip().upper())).first()
    if found is None:
        raise NotFound(f"no trade licence {licence_no} in {slug}")
    licence, revoked_at = found
    app = session.get(db.Application, licence.application_id)
    assert app is not None, "a licence's certificate was issued to an application of the read model"
    if not (caller.role is Role.UDC and caller.union == licence.union_slug):
        applications.require_read(session, caller, licence.union_slug, app.submitted_by, tenant)
    if revoked_at is not None:
        raise Conflict(f"trade licence {licence.licence_no} was revoked; it is not renewed")
    year = renewal_year(licence.fiscal_year, on)
    details = {k: v for k, v in app.details.items() if k != "licence_no"} | {
        "renews": licence.licence_no, "fiscal_year": year, "holding_tax_receipt_no": None}
    rule = session.get(db.UnionRule, (licence.union_slug, TRADE_LICENCE))
    lines = fee_lines(rule.fee_lines, details.get("business_category"), rule.tax_table,
                      between(licence.fiscal_year, year)) if rule and rule.fee_lines else []
    return {"union": licence.union_slug, "certificate_type": TRADE_LICENCE, "applicant": app.applicant,
            "contact": app.contact, "details": details,
            "fee": {"amount": sum(line["amount"] for line in lines), "currency": "BDT", "lines": lines}}


def fees(session: Session, union: str) -> list[dict]:
    """The union's yearly licence fee of each business category: its own where it set one, else the schedule's."""
    rule = session.get(db.UnionRule, (union, TRADE_LICENCE))
    if rule is None or not rule.enabled:
        raise NotFound(f"{union} does not issue trade licences")
    own = rule.tax_table or {}
    return [{"code": c.code, "name_bn": c.name_bn, "name_en": c.name_en, "fee": int(own.get(c.code, c.fee)),
             "unions_own": c.code in own} for c in CATEGORIES]
