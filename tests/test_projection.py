"""The read model as the lean process writes it (activities/registry.Projector): the row, its audit entries and its
notices in one transaction; the notices sent once it commits (the transactional outbox); never an older projection
over a newer one."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select, update

from activities.delivery import SmsSink
from activities.outbox import Outbox
from activities.registry import Projector
from activities.sms.dispatch import SmsDispatcher
from activities.sms.providers import FileProvider
from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import Status
from tests.test_rules import admitted
from workflows.messages import SONOD, AuditNote, Contact, Event, EventKind, Notice, Projection, StatusView


@pytest.fixture
def box(database_url, tmp_path):
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    sms = SmsSink(tmp_path / "sms.jsonl")
    dispatcher = SmsDispatcher(sessions, {"file": FileProvider(sms)}, {"*": ["file"]})
    outbox = Outbox(sessions, dispatcher, mail=None)  # type: ignore[arg-type]  # SMS only
    yield Projector(sessions, outbox), sessions, sms
    engine.dispose()


def projection(database_url: str, app_id: str, seq: int, status: Status, *notices: Notice) -> Projection:
    """The application `app_id` after `seq` projections, in `status`."""
    app = admitted(database_url, "paikkandi").model_copy(update={"application_id": app_id,
                                                                 "contact": Contact(mobile="01711000002")})
    events = [Event(at=app.submitted_at + dt.timedelta(seconds=i), status=s, actor="sonod", kind=EventKind.RECEIVED)
              for i, s in enumerate([Status.SUBMITTED, Status.VERIFYING_NID, Status.AWAITING_DECISION][:seq])]
    view = StatusView(application_id=app.application_id, union="paikkandi", certificate_type=app.certificate_type,
                      fee=app.fee, status=status, round=0, certificate_no=None, deadline_at=None, overdue=False,
                      escalated=False, fee_paid=True, waiting_on=None, events=events)
    audit = [AuditNote(key=f"{app.application_id}:{seq}:0:test.step", action="test.step", actor=SONOD)]
    return Projection(input=app, view=view, audit=audit, notices=list(notices), seq=seq)


def told(app_id: str, template: str) -> Notice:
    return Notice(application_id=app_id, key=f"r0:{template}", template=template,
                  union="paikkandi", contact=Contact(mobile="01711000002"))


def sent_sms(sms: SmsSink, count: int, timeout: float = 5) -> list:
    deadline = time.monotonic() + timeout
    while len(sms.messages()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return sms.messages()



def submitted(database_url: str, app_id: str) -> Projection:
    """As the NID check starts: the applicant told of the receipt."""
    return projection(database_url, app_id, 2, Status.VERIFYING_NID, told(app_id, "submitted"))


def test_the_row_its_audit_entry_and_its_notice_commit_together_and_the_notice_goes_out(box, database_url):
    projector, sessions, sms = box
    app_id = "A261206-PROJECTION0001"
    projector.write(submitted(database_url, app_id))
    with sessions() as session:
        row = session.get(db.Application, app_id)
        assert (row.status, row.projection_seq) == ("verifying_nid", 2)
        assert session.scalar(select(db.AuditEntry.action).where(db.AuditEntry.target == app_id)) == "test.step"
    assert [m["to"] for m in sent_sms(sms, 1)] == ["01711000002"]
    projector.write(submitted(database_url, app_id))  # a retried activity
    time.sleep(0.3)
    assert len(sms.messages()) == 1


def test_a_projection_that_does_not_commit_queues_nothing(box, database_url):
    projector, sessions, _ = box
    app_id = "A261206-PROJECTION0002"
    with pytest.raises(RuntimeError), sessions.begin() as session:
        projector.write_in(session, submitted(database_url, app_id))
        raise RuntimeError("the activity failed before its commit")
    with sessions() as session:
        assert session.scalars(select(db.OutboxMessage).where(db.OutboxMessage.application_id == app_id)).all() == []
        assert session.get(db.Application, app_id) is None


def test_an_older_projection_never_overwrites_a_newer_one(box, database_url):
    """A retried NID check writes the application as the check started, after the workflow has moved on."""
    projector, sessions, _ = box
    app_id = "A261206-PROJECTION0003"
    projector.write(projection(database_url, app_id, 3, Status.AWAITING_DECISION))
    projector.write(projection(database_url, app_id, 2, Status.VERIFYING_NID))
    with sessions() as session:
        row = session.get(db.Application, app_id)
        assert (row.status, row.projection_seq, len(row.events)) == ("awaiting_decision", 3, 3)


def test_a_queued_sms_no_sender_took_up_is_sent_by_the_retry_loop(box, database_url):
    """The worker stopped between the commit and the send: the SMS waits in the outbox, and the worker's SMS retry
    loop sends it once it is due (a minute after it was queued)."""
    projector, sessions, sms = box
    app_id = "A261206-PROJECTION0004"
    projector.outbox.send_later = lambda queued: None  # the sender never runs

    def status() -> str:
        with sessions() as session:
            return session.scalar(select(db.OutboxMessage.status).where(db.OutboxMessage.application_id == app_id))

    def ours() -> list:  # the session's database may hold other tests' messages that come due here too
        return [m for m in sms.messages() if m["key"].startswith(f"{app_id}:")]

    projector.write(submitted(database_url, app_id))
    projector.outbox.sms.retry_due()
    assert status() == "pending" and ours() == []  # not due yet: a sender may still take it
    with sessions.begin() as session:
        session.execute(update(db.OutboxMessage).where(db.OutboxMessage.application_id == app_id)
                        .values(next_attempt_at=db.utcnow() - dt.timedelta(seconds=1)))
    projector.outbox.sms.retry_due()
    assert status() == "sent"
    assert [m["to"] for m in ours()] == ["01711000002"]
