"""The officers' queue and the union's figures, read from the read model (api/services/officers.py and unions.py).
The queue goes by the workflow's word on who may decide now (`officers.awaiting`), which these rows carry as the
workflow publishes it."""

from __future__ import annotations

import datetime as dt

import pytest

from api.services import officers, unions
from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import STEP_STATUS, Role, Status
from workflows.messages import Actor, Awaiting

UNION = "queue-test"  # a union of its own, added and rolled back by each test: no other test's applications
UPAZILA = "gopalganj-sadar"
STEP = {status: role for role, status in STEP_STATUS.items()}


@pytest.fixture
def session(database_url):
    engine = make_engine(database_url)
    with make_session_factory(engine)() as s:
        s.add(db.Union(slug=UNION, code="99", name_bn="পরীক্ষা", name_en="Test", upazila_bn="গোপালগঞ্জ সদর",
                       upazila_en="Gopalganj Sadar", upazila_slug=UPAZILA, district_bn="গোপালগঞ্জ",
                       district_en="Gopalganj"))
        s.flush()
        yield s
        s.rollback()
    engine.dispose()


def application(app_id: str, status: Status, *, ward: int | None, due_in_days: float, overdue: bool = False,
                escalated_to: tuple[Role, ...] = (), **kw) -> db.Application:
    """A row as the workflow projects it: `ward` is the NID record's, and `awaiting` names the step's deciders (the
    escalation's roles too, once the chairman's step is escalated)."""
    now = db.utcnow()
    step = STEP.get(status)
    awaiting = Awaiting(step=step, status=status, union=UNION, upazila=UPAZILA,
                        ward_no=ward if step is Role.WARD_MEMBER else None,
                        deciders=[step, *escalated_to]).model_dump(mode="json") if step else None
    return db.Application(
        id=app_id, union_slug=UNION, certificate_type="warish", status=status.value, submitted_by="portal:test",
        applicant={"name_bn": "ক"}, contact={}, details={}, identity={"union": UNION, "ward_no": ward},
        deadline_at=now + dt.timedelta(days=due_in_days), overdue=overdue, events=[], awaiting=awaiting,
        created_at=now - dt.timedelta(days=3), updated_at=now, **kw)


def test_the_queue_puts_overdue_first_then_the_nearest_deadline_and_keeps_to_the_members_ward(session):
    session.add_all([
        application("Q-LATER", Status.AWAITING_RECOMMENDATION, ward=2, due_in_days=5),
        application("Q-SOONER", Status.AWAITING_RECOMMENDATION, ward=2, due_in_days=1),
        application("Q-OVERDUE", Status.AWAITING_RECOMMENDATION, ward=2, due_in_days=-1, overdue=True),
        application("Q-OTHER-WARD", Status.AWAITING_RECOMMENDATION, ward=3, due_in_days=0.5),
        application("Q-SECRETARY", Status.AWAITING_VERIFICATION, ward=2, due_in_days=0.5),
    ])
    session.flush()
    member = Actor(username=f"ward2.{UNION}", role=Role.WARD_MEMBER, union=UNION, ward_no=2)
    assert [r.id for r in officers.queue(session, member)] == ["Q-OVERDUE", "Q-SOONER", "Q-LATER"]
    secretary = Actor(username=f"secretary.{UNION}", role=Role.SECRETARY, union=UNION)
    assert [r.id for r in officers.queue(session, secretary)] == ["Q-SECRETARY"]


def test_an_acting_chairman_sees_the_chairmans_queue(session):
    session.add(application("Q-DECIDE", Status.AWAITING_DECISION, ward=1, due_in_days=2))
    session.flush()
    acting = Actor(username=f"acting.{UNION}", role=Role.ACTING_CHAIRMAN, union=UNION, acts_for=[Role.CHAIRMAN])
    assert [r.id for r in officers.queue(session, acting)] == ["Q-DECIDE"]


def test_once_escalated_the_chairmans_step_is_in_the_queue_of_the_upazilas_administrator(session):
    session.add_all([
        application("Q-ESCALATED", Status.AWAITING_DECISION, ward=1, due_in_days=-1, overdue=True,
                    escalated_to=(Role.ACTING_CHAIRMAN, Role.ADMINISTRATOR)),
        application("Q-NOT-YET", Status.AWAITING_DECISION, ward=1, due_in_days=1),
    ])
    session.flush()
    administrator = Actor(username=f"admin.{UPAZILA}", role=Role.ADMINISTRATOR, upazila=UPAZILA)
    assert [r.id for r in officers.queue(session, administrator)] == ["Q-ESCALATED"]
    elsewhere = Actor(username="admin.kotalipara", role=Role.ADMINISTRATOR, upazila="kotalipara")
    assert officers.queue(session, elsewhere) == []
    acting = Actor(username=f"acting.{UNION}", role=Role.ACTING_CHAIRMAN, union=UNION)  # no delegation
    assert [r.id for r in officers.queue(session, acting)] == ["Q-ESCALATED"]


def test_the_figures_count_the_backlog_and_the_overdue_and_the_median_time_to_issue(session):
    session.add_all([
        application("F-1", Status.AWAITING_VERIFICATION, ward=1, due_in_days=-1, overdue=True),
        application("F-2", Status.AWAITING_VERIFICATION, ward=1, due_in_days=2),
        application("F-3", Status.ISSUED, ward=1, due_in_days=2),
    ])
    session.flush()
    f3 = session.get(db.Application, "F-3")
    session.add(db.Certificate(certificate_no="QUEUE-TEST-2026-000001", application_id="F-3", union_slug=UNION,
                               year=2026, seq=1, certificate_type="warish", pdf_path="x.pdf",
                               issued_at=f3.created_at + dt.timedelta(hours=30)))
    session.flush()
    figures = unions.union_figures(session, UNION)
    assert figures["backlog"][Status.AWAITING_VERIFICATION] == 2
    assert figures["overdue"][Status.AWAITING_VERIFICATION] == 1
    assert figures["issued"] == 1 and figures["median_to_issue"] == dt.timedelta(hours=30)
