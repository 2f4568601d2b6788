"""Delivery through the outbox: a real SMTP server on loopback, the SMS sink, and idempotency keys."""

from __future__ import annotations

import email
import email.policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from activities.delivery import SmsSink, SmtpMailer
from activities.outbox import Outbox
from activities.sms.dispatch import SmsDispatcher
from activities.sms.providers import FileProvider
from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import Role
from tests.stack import free_port
from workflows.messages import Contact, Notice


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def outbox(database_url, smtp, tmp_path):
    controller, _ = smtp
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    sms = SmsSink(tmp_path / "sms.jsonl")
    dispatcher = SmsDispatcher(sessions, {"file": FileProvider(sms)}, {"*": ["file"]})
    yield Outbox(sessions, dispatcher, SmtpMailer("127.0.0.1", controller.port, "sonod@test")), sms, sessions
    engine.dispose()


def notice(key: str, **kw) -> Notice:
    return Notice(application_id="A-OUTBOX-1", key=key, template="issued", union="paikkandi",
                  contact=Contact(mobile="01711000001", email="citizen@example.org"),
                  params={"certificate_no": "PAIKKANDI-2026-000009"}, **kw)


def test_the_applicant_gets_one_sms_and_one_email_even_when_the_activity_runs_twice(outbox, smtp):
    box, sms, _ = outbox
    _, inbox = smtp
    first = box.notify(notice("r0:issued"))
    again = box.notify(notice("r0:issued"))
    assert first.channels == again.channels == ["email", "sms"]
    assert len(inbox.messages) == 1 and inbox.messages[0].rcpt_tos == ["citizen@example.org"]
    body = email.message_from_bytes(inbox.messages[0].content, policy=email.policy.default).get_content()
    assert "PAIKKANDI-2026-000009" in body
    assert [m["to"] for m in sms.messages()] == ["01711000001"]


def test_another_event_is_another_message(outbox, smtp):
    box, sms, _ = outbox
    box.notify(notice("r0:submitted"))
    box.notify(notice("r1:submitted"))
    assert len(smtp[1].messages) == 2 and len(sms.messages()) == 2


def test_officers_get_an_inbox_message_in_their_own_union_and_ward(outbox):
    box, _, sessions = outbox
    box.notify(notice("r0:awaiting_ward_member", to_applicant=False, to_roles=[Role.WARD_MEMBER], ward_no=4))
    with sessions() as session:
        recipients = session.scalars(select(db.OutboxMessage.recipient).where(
            db.OutboxMessage.idempotency_key.like("A-OUTBOX-1:r0:awaiting_ward_member:%"))).all()
    assert recipients == ["ward4.paikkandi"]


def test_a_dead_smtp_server_fails_the_attempt_so_that_temporal_retries(outbox):
    box, _, sessions = outbox
    dead = Outbox(sessions, box.sms, SmtpMailer("127.0.0.1", free_port(), "sonod@test", timeout=2))
    with pytest.raises(OSError):
        dead.notify(notice("r0:rejected"))
    with sessions() as session:
        row = session.scalar(select(db.OutboxMessage).where(
            db.OutboxMessage.idempotency_key.like("A-OUTBOX-1:r0:rejected:email:%")))
    assert row.status == "pending" and row.attempts == 1
    box.notify(notice("r0:rejected"))  # the retry, once SMTP answers
    with sessions() as session:
        assert session.get(db.OutboxMessage, row.id).status == "sent"
