"""The SMS providers' adapters against the simulator over real HTTP (success, refusal, timeout, duplicate), and the
dispatcher: fallback, retries with backoff then failed, the union's balance charged once, held messages."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from activities.sms import dispatch
from activities.sms.dispatch import Backoff, release_held
from activities.sms.providers import HttpTemplate, SmsOut, SmsRefused, Template
from activities.sms.segments import segments
from sonod import db
from sonod.db import make_engine, make_session_factory
from tests.smsgw_kit import PROTOCOL, SmsGateway, adapters, balance, notify, outbox, row, set_balance

TEXT = "আপনার সনদ PAIKKANDI-2026-000009 ইস্যু হয়েছে।"


@pytest.fixture(scope="module")
def gateway():
    sim = SmsGateway()
    yield sim
    sim.stop()


@pytest.fixture
def sim(gateway):
    gateway.reset()
    return gateway


@pytest.fixture(scope="module")
def http():
    with httpx.Client() as client:
        yield client


PROVIDERS = list(PROTOCOL)


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_bengali_message_is_taken_and_recorded_as_ucs2(sim, http, name):
    ref = adapters(sim.url, http)[name].send(SmsOut("01711000001", TEXT, "A1:r0:issued:sms:01711000001"))
    [taken] = sim.messages(PROTOCOL[name])
    assert taken["msisdn"] == "8801711000001" and taken["text"] == TEXT
    assert taken["encoding"] == "ucs2" and taken["segments"] == segments(TEXT).count == 1
    assert ref == taken["ref"]


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_refusal_is_a_refusal(sim, http, name):
    sim.faults(**{PROTOCOL[name]: {"refuse": True}})
    with pytest.raises(SmsRefused):
        adapters(sim.url, http)[name].send(SmsOut("01711000001", TEXT, "A1:r0:refused"))
    assert sim.messages() == []


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_provider_that_does_not_answer_in_time_is_a_refusal(sim, http, name):
    """A refusal to us, though the provider may take it later (as the simulator does): why SSL Wireless gets the
    same csms_id on the next attempt."""
    sim.faults(**{PROTOCOL[name]: {"latency_ms": 800}})
    with pytest.raises(SmsRefused, match=r"no answer within 0\.3 s"):
        adapters(sim.url, http, timeout=0.3)[name].send(SmsOut("01711000001", TEXT, "A1:r0:slow"))
    deadline = time.monotonic() + 5
    while not sim.messages() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(sim.messages()) == 1


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_provider_that_is_down_is_a_refusal(sim, http, name):
    sim.faults(**{PROTOCOL[name]: {"down": True}})
    with pytest.raises(SmsRefused, match="503"):
        adapters(sim.url, http)[name].send(SmsOut("01711000001", TEXT, "A1:r0:down"))


def test_ssl_wireless_takes_a_repeated_csms_id_as_already_sent_and_sends_it_once(sim, http):
    ssl = adapters(sim.url, http)["sslwireless"]
    message = SmsOut("01711000001", TEXT, "A1:r0:issued:sms:01711000001")
    assert ssl.send(message) == ssl.send(message) == message.ref
    assert len(sim.messages()) == 1 and len(message.ref) == 20 and message.ref.isalnum()


# --- the dispatcher, on the test database ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sessions(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def union(sessions, request):
    """A union of the seeded database, metered from 100 segments; unmetered again afterwards."""
    slug = request.param if hasattr(request, "param") else "kajulia"
    set_balance(sessions, slug, 100)
    yield slug
    set_balance(sessions, slug, None)


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_outbox_sends_one_message_once_through_each_provider_however_often_it_runs(sim, http, sessions, union,
                                                                                      name):
    box = outbox(sessions, sim, http, [name])
    first = notify(box, union, f"once-{name}")
    again = notify(box, union, f"once-{name}")
    assert first.id == again.id and again.status == "sent" and again.provider == name and again.attempts == 1
    assert len(sim.messages()) == 1 and again.provider_ref == sim.messages()[0]["ref"]


def test_the_segments_are_in_the_outbox_and_charged_to_the_union_once(sim, http, sessions, union):
    box = outbox(sessions, sim, http, ["sslwireless"])
    sent = notify(box, union, "charged", "nid_failed")
    expected = segments(sent.body).count
    assert expected > 1 and sent.segments == sent.charged == expected
    assert balance(sessions, union) == 100 - expected
    notify(box, union, "charged", "nid_failed")
    assert balance(sessions, union) == 100 - expected


def test_when_the_first_provider_refuses_the_fallback_sends_it(sim, http, sessions, union):
    sim.faults(sslwireless={"refuse": True})
    sent = notify(outbox(sessions, sim, http, ["sslwireless", "bulksmsbd"]), union, "fallback")
    assert sent.status == "sent" and sent.provider == "bulksmsbd"
    assert [m["protocol"] for m in sim.messages()] == ["bulksmsbd"]


def test_when_the_first_provider_times_out_the_fallback_sends_it(sim, http, sessions, union):
    """The price: the first provider may still take it late, and the citizen hear twice (docs/INTEGRATIONS.md)."""
    sim.faults(sslwireless={"latency_ms": 800})
    sent = notify(outbox(sessions, sim, http, ["sslwireless", "bulksmsbd"], timeout=0.3), union, "fallback-slow")
    assert sent.status == "sent" and sent.provider == "bulksmsbd"
    deadline = time.monotonic() + 5
    while len(sim.messages()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["protocol"] for m in sim.messages()] == ["bulksmsbd", "sslwireless"]


def test_a_message_no_provider_takes_is_retried_with_backoff_then_failed_and_kept(sim, http, sessions, union):
    sim.faults(sslwireless={"down": True}, bulksmsbd={"refuse": True})
    box = outbox(sessions, sim, http, ["sslwireless", "bulksmsbd"], Backoff(max_attempts=3, base_s=60, max_s=600))
    before = db.utcnow()
    first = notify(box, union, "failing")
    assert first.status == "pending" and first.attempts == 1 and "503" in first.last_error
    assert first.charged == first.segments and balance(sessions, union) == 100 - first.segments  # charged once
    waits = [first.next_attempt_at - before]
    for _ in range(2):  # the retries are due: as the worker's loop would find them
        with sessions.begin() as session:
            session.execute(update(db.OutboxMessage).where(db.OutboxMessage.id == first.id)
                            .values(next_attempt_at=db.utcnow() - dt.timedelta(seconds=1)))
        at = db.utcnow()
        assert box.sms.retry_due() == 1
        later = row(sessions, first.application_id)
        if later.next_attempt_at:
            waits.append(later.next_attempt_at - at)
            assert balance(sessions, union) == 100 - later.segments  # not charged again by a retry
    assert [round(w.total_seconds() / 60) for w in waits] == [1, 2]  # 60 s, then doubled
    assert later.status == "failed" and later.attempts == 3 and "1007" in later.last_error
    assert sim.messages() == [] and box.sms.retry_due() == 0
    assert balance(sessions, union) == 100 and later.charged == 0  # no provider took it: the charge went back


def test_an_attempt_cut_short_after_the_send_is_taken_up_by_the_activitys_retry_and_sent_once(sim, http, sessions,
                                                                                               union, monkeypatch):
    """The database goes away between the provider's yes and our record of it: the activity fails, Temporal retries
    it, the retry sends again under the same csms_id, and SSL Wireless takes it as the duplicate it is."""
    box = outbox(sessions, sim, http, ["sslwireless"])
    record = box.sms._record

    def lost(message_id, **values):
        monkeypatch.setattr(box.sms, "_record", record)
        raise ConnectionError("the database went away")

    monkeypatch.setattr(box.sms, "_record", lost)
    with pytest.raises(ConnectionError):
        notify(box, union, "cut-short")
    sent = notify(box, union, "cut-short")
    assert sent.status == "sent" and sent.attempts == 2 and len(sim.messages()) == 1
    assert balance(sessions, union) == 100 - sent.segments


def test_an_attempt_whose_record_meets_the_database_away_writes_it_when_it_is_back(sim, http, sessions, union,
                                                                                   monkeypatch):
    """The database goes away between the provider's yes and our record of it, and comes back: the attempt waits
    and writes 'sent' (the outbox's sender threads have no activity retry; the lease alone would take 5 minutes)."""
    box = outbox(sessions, sim, http, ["sslwireless"])
    waits: list[float] = []
    monkeypatch.setattr(dispatch.time, "sleep", waits.append)
    begins = iter([sessions.begin, away, away, sessions.begin])  # the claim, two failed records, then the record
    monkeypatch.setattr(box.sms, "sessions", FlakySessions(sessions, begins))
    sent = notify(box, union, "record-waits")
    assert sent.status == "sent" and sent.attempts == 1 and len(sim.messages()) == 1
    assert waits == [0.5, 1.0]


def away():
    raise OperationalError("UPDATE outbox_messages", {}, ConnectionError("server closed the connection"))


class FlakySessions:
    """A session factory whose `begin()` calls take turns from `begins`; everything else is the real one's."""

    def __init__(self, real, begins) -> None:
        self.real, self.begins = real, begins

    def begin(self):
        return next(self.begins)()

    def __call__(self, *args, **kwargs):
        return self.real(*args, **kwargs)


def test_the_workers_retry_loop_sends_a_message_once_its_retry_is_due(sim, http, sessions, union):
    sim.faults(sslwireless={"down": True})
    box = outbox(sessions, sim, http, ["sslwireless"], Backoff(max_attempts=3, base_s=0.5, max_s=1))
    first = notify(box, union, "loop")
    assert first.status == "pending" and first.attempts == 1
    sim.faults(sslwireless={"down": False})

    async def until_sent() -> db.OutboxMessage:
        looping = asyncio.create_task(box.sms.retry_forever(0.1))
        try:
            while (message := row(sessions, first.application_id)).status == "pending":
                await asyncio.sleep(0.05)
            return message
        finally:
            looping.cancel()

    sent = asyncio.run(asyncio.wait_for(until_sent(), 15))
    assert sent.status == "sent" and sent.attempts == 2 and len(sim.messages()) == 1


def test_a_union_without_the_segments_has_its_message_held_then_sent_after_a_top_up(sim, http, sessions, union):
    set_balance(sessions, union, 0)
    box = outbox(sessions, sim, http, ["sslwireless"])
    held = notify(box, union, "held")
    assert held.status == "held" and held.attempts == 0 and held.charged is None
    assert sim.messages() == [] and box.sms.retry_due() == 0
    with sessions.begin() as session:
        session.execute(update(db.Union).where(db.Union.slug == union).values(sms_balance=10))
        assert release_held(session, union) == 1
    assert box.sms.retry_due() == 1
    sent = row(sessions, held.application_id)
    assert sent.status == "sent" and len(sim.messages()) == 1
    assert balance(sessions, union) == 10 - sent.segments


def test_a_union_that_is_not_metered_sends_without_a_balance(sim, http, sessions):
    assert balance(sessions, "boultali") is None
    sent = notify(outbox(sessions, sim, http, ["bulksmsbd"]), "boultali", "unmetered")
    assert sent.status == "sent" and balance(sessions, "boultali") is None


def test_a_busy_port_is_one_line_naming_the_setting(gateway):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "infra.smsgw", "--port", gateway.url.rsplit(":", 1)[1]],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "already in use" in done.stderr and "SONOD_SMSGW_PORT" in done.stderr
    assert done.stderr.strip().count("\n") == 0


# --- settings ------------------------------------------------------------------------------------------------------


def refused_secrets(**settings) -> str:
    from pydantic import ValidationError

    from sonod.settings import Settings

    with pytest.raises(ValidationError) as refused:
        Settings(dev_mode=False, **settings)
    return str(refused.value)


def test_outside_dev_mode_a_routed_providers_demo_credentials_and_the_report_secret_are_refused():
    said = refused_secrets(sms_routes={"*": ["sslwireless"], "kathi": ["bulksmsbd"]})
    assert "SONOD_SSLWIRELESS_API_TOKEN" in said and "SONOD_BULKSMSBD_API_KEY" in said
    assert "SONOD_SMS_DLR_SECRET" in said
    offline = refused_secrets(sms_routes={"*": ["file"]})
    assert "SMS_DLR" not in offline and "SSLWIRELESS" not in offline and "BULKSMSBD" not in offline


@pytest.mark.parametrize("routes", [{"*": ["bogus"]}, {"kathi": ["file"]}, {"*": []}])
def test_routes_name_known_providers_and_have_a_default(routes):
    from pydantic import ValidationError

    from sonod.settings import Settings

    with pytest.raises(ValidationError, match="SMS routes"):
        Settings(sms_routes=routes)


@pytest.mark.parametrize(("url", "body"), [("https://sms.example/send?to=$number", ""),
                                           ("https://sms.example/send", '{"cost": "5$"}')])
def test_a_template_with_an_unknown_placeholder_is_refused_when_the_worker_starts(http, url, body):
    with pytest.raises(ValueError, match="only \\$to"):
        HttpTemplate(http, Template(url=url, body=body), 1.0)


def test_a_refusal_leaves_out_a_number_the_provider_echoes(sim, http):
    with pytest.raises(SmsRefused) as refused:
        adapters(sim.url, http)["sslwireless"].send(SmsOut("01211000001", TEXT, "A1:r0:bad-number"))
    assert "4025" in str(refused.value) and "1211000001" not in str(refused.value)
