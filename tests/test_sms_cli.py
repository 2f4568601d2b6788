"""`sonod ops sms`: a top-up adds to the union's balance, releases its held messages and is audited; the outbox
listing shows segments, status and errors; the delivery-report URL carries the provider's token."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from sonod import db
from sonod.settings import Settings
from sonod.sms import dlr_token
from tests.smsgw_kit import balance, set_balance
from tests.unions_kit import cli, database


@pytest.fixture(scope="module")
def sessions(database_url):
    engine = db.make_engine(database_url)
    yield db.make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def urfi(sessions):
    set_balance(sessions, "urfi", 0)
    yield "urfi"
    set_balance(sessions, "urfi", None)


def held_message(url: str, key: str) -> int:
    with database(url) as session:
        message = db.OutboxMessage(idempotency_key=key, application_id="A-SMS-CLI", channel="sms",
                                   recipient="01711000003", body="আবেদন", status="held", union_slug="urfi",
                                   segments=1, last_error="SMS balance empty")
        session.add(message)
        session.flush()
        return message.id


def test_a_top_up_adds_segments_releases_held_messages_and_is_audited(database_url, sessions, urfi):
    message_id = held_message(database_url, "A-SMS-CLI:r0:issued:sms:01711000003")
    r = cli(database_url, "ops", "sms", "top-up", urfi, "500", "--as", "receipt 114")
    assert r.exit_code == 0, r.output
    assert "urfi: SMS balance 500 segments; 1 held messages released" in r.output
    assert balance(sessions, urfi) == 500
    with database(database_url) as session:
        message = session.get(db.OutboxMessage, message_id)
        assert message.status == "pending" and message.next_attempt_at is not None and message.last_error is None
        entry = session.scalars(select(db.AuditEntry).where(db.AuditEntry.union_slug == urfi)
                                .order_by(db.AuditEntry.id.desc())).first()
        assert (entry.action, entry.actor, entry.detail) == ("sms.top_up", "receipt 114",
                                                             {"segments": 500, "balance": 500})
    assert cli(database_url, "ops", "sms", "top-up", urfi, "20").exit_code == 0
    assert balance(sessions, urfi) == 520


@pytest.mark.parametrize("args", [("top-up", "nosuchunion", "5"), ("top-up", "urfi", "0"),
                                  ("dlr-url", "nosuchprovider"), ("balance", "--union", "nosuchunion")])
def test_bad_arguments_are_refused(database_url, args):
    assert cli(database_url, "ops", "sms", *args).exit_code == 2


def test_the_outbox_shows_segments_status_and_the_last_error_without_the_number(database_url, urfi):
    held_message(database_url, "A-SMS-CLI:r1:issued:sms:01711000003")
    r = cli(database_url, "ops", "sms", "outbox", "--union", urfi, "--status", "held", "--json")
    assert r.exit_code == 0, r.output
    [row] = json.loads(r.output)
    assert (row["status"], row["segments"], row["last_error"], row["to"]) == ("held", 1, "SMS balance empty", "…003")
    assert "01711000003" not in r.output
    table = cli(database_url, "ops", "sms", "balance", "--union", urfi)
    assert table.exit_code == 0 and "urfi" in table.output


def test_the_delivery_report_url_holds_the_providers_token(database_url):
    r = cli(database_url, "ops", "sms", "dlr-url", "sslwireless")
    token = dlr_token(Settings().sms_dlr_secret, "sslwireless")
    assert r.exit_code == 0 and r.output.strip().endswith(f"/api/v1/sms/sslwireless/dlr?token={token}")


# --- `sonod dev` ---------------------------------------------------------------------------------------------------


def test_sonod_dev_sends_the_demo_through_the_simulator_it_starts(monkeypatch, tmp_path):
    from infra.dev import Stack, effective_settings, plan

    for name in ("SONOD_SMS_ROUTES", "SONOD_SMSGW_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = effective_settings(Settings(var_dir=tmp_path, smsgw_port=18093))
    assert settings.sms_routes == {"*": ["sslwireless", "bulksmsbd"]}
    assert settings.sslwireless_url == settings.bulksmsbd_url == settings.smsgw_url == "http://127.0.0.1:18093"
    stack = Stack(settings, forward_logs=False)
    assert json.loads(stack.env["SONOD_SMS_ROUTES"]) == settings.sms_routes
    [smsgw] = [c for c in plan(stack, embed_temporal=False, porichoy=False) if c.name == "smsgw"]
    assert [p.port for p in smsgw.ports] == [18093]


def test_sonod_dev_leaves_routes_the_operator_set_alone_and_starts_no_simulator(monkeypatch, tmp_path):
    from infra.dev import Stack, effective_settings, plan

    monkeypatch.setenv("SONOD_SMS_ROUTES", '{"*": ["file"]}')
    settings = effective_settings(Settings(var_dir=tmp_path))
    assert settings.sms_routes == {"*": ["file"]}
    assert "smsgw" not in [c.name for c in plan(Stack(settings, forward_logs=False), embed_temporal=False,
                                                   porichoy=False)]
