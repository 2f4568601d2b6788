"""The officers' search (api/services/applications.py `search`) and the upazila's figures (api/services/unions.py),
read from the read model (issue 18)."""

from __future__ import annotations

import datetime as dt

import pytest

from api.errors import Invalid
from api.services import applications, unions
from sonod import db
from sonod.domain import Status
from tests import test_queue
from tests.test_queue import UNION

session = test_queue.session


def row(app_id: str, minutes_ago: int, name_bn: str = "রহিম", name_en: str = "Rahim", mobile: str | None = None,
        status: Status = Status.ISSUED, **kw) -> db.Application:
    app = test_queue.application(app_id, status, ward=1, due_in_days=1, **kw)
    app.applicant = {"name_bn": name_bn, "name_en": name_en}
    app.contact = {"mobile": mobile}
    app.created_at = db.utcnow() - dt.timedelta(minutes=minutes_ago)
    return app


def ids(found: applications.Found) -> list[str]:
    return [r.app.application_id for r in found.items]


@pytest.mark.parametrize(("typed", "kind", "value"), [
    ("a261128-a05b37a2c0ffee00", "application", "A261128-A05B37A2C0FFEE00"),
    ("paikkandi-২০২৬-০০০০০১", "certificate", "PAIKKANDI-2026-000001"),
    ("+৮৮ ০১৭১১-০০০০০০", "mobile", "01711000000"),
    ("  শাহিদা   খাতুন ", "name", "শাহিদা খাতুন"),
    ("50%_", "name", "50%_"),
])
def test_what_an_officer_types_is_taken_for_a_number_a_mobile_or_a_name(typed, kind, value):
    assert applications.search_terms(typed) == (kind, value)


def test_digits_that_are_no_number_are_refused_on_q():
    with pytest.raises(Invalid) as e:
        applications.search_terms("01711")
    assert e.value.errors[0]["loc"] == ["query", "q"] and e.value.detail == applications.SEARCH_DIGITS


def test_a_mobile_number_is_found_however_it_was_given(session):
    session.add_all([row("S-1", 3, mobile="+8801911000001"), row("S-2", 2, mobile="01911000001"),
                     row("S-3", 1, mobile="01911000002")])
    session.flush()

    assert ids(applications.search(session, UNION, None, "০১৯১১০০০০০১", 50, None)) == ["S-2", "S-1"]


def test_a_name_search_reads_a_bounded_window_and_goes_on_from_where_it_stopped(session, monkeypatch):
    monkeypatch.setattr(applications, "NAME_SCAN", 3)
    session.add_all([row("N-1", 6, "মোছাঃ শাহিদা খাতুন", "Mst. Shahida Khatun"),
                     *(row(f"N-{i}", 6 - i, "রাকিব", "Rakib") for i in range(2, 6)),
                     row("N-6", 0, "শাহিদা বেগম", "Shahida Begum")])
    session.flush()

    first = applications.search(session, UNION, None, "SHAHIDA", 50, None)
    assert ids(first) == ["N-6"] and first.searched_to is not None and first.next_cursor
    second = applications.search(session, UNION, None, "SHAHIDA", 50, first.next_cursor)
    assert ids(second) == ["N-1"] and second.next_cursor is None


def test_the_figures_count_revoked_certificates_apart_and_the_fees_taken(session):
    session.add_all([row("R-1", 10, fee_amount=100, fee_paid=True), row("R-2", 10, fee_amount=50, fee_paid=False),
                     row("R-3", 10)])
    session.flush()
    for n, app_id in enumerate(("R-1", "R-2", "R-3"), 1):
        issued = session.get(db.Application, app_id).created_at + dt.timedelta(seconds=40 + n)
        session.add(db.Certificate(certificate_no=f"QUEUE-TEST-2026-00000{n}", application_id=app_id,
                                   union_slug=UNION, year=2026, seq=n, certificate_type="warish", pdf_path="x.pdf",
                                   issued_at=issued, revoked_at=issued if app_id == "R-3" else None))
    session.flush()

    f = unions.figures_by_union(session, [UNION])[UNION]

    assert (f.issued, f.revoked, f.revenue) == (2, 1, 100)
    assert f.median_to_issue == dt.timedelta(seconds=42)
    assert unions.total(session, {UNION: f}).median_to_issue == dt.timedelta(seconds=42)
