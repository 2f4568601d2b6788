"""Delivery reports: the simulator posts them to the API, which records them on the outbox row; the endpoint is a
hostile boundary (a token per provider, 422 naming the field, one provider cannot touch another's message). And the
dashboard tells a union's officers that its SMS balance is empty."""

from __future__ import annotations

import threading
import time

import httpx
import pyotp
import pytest
import uvicorn
from sqlalchemy import update

from activities.outbox import Outbox
from activities.sms.dispatch import SmsDispatcher
from api.main import create_app
from api.pages.common import TOKEN_COOKIE
from sonod import db
from sonod.settings import Settings
from sonod.sms import dlr_token, dlr_url
from tests.smsgw_kit import SmsGateway, adapters, notify, row, set_balance
from tests.stack import PASSWORD, TOTP_SECRET, free_port


@pytest.fixture(scope="module")
def api(database_url, tmp_path_factory):
    """The API alone (no Temporal: delivery reports and the dashboard's queue do not need it), in a thread."""
    settings = Settings(database_url=database_url, var_dir=tmp_path_factory.mktemp("var"))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", timeout=10) as http:
        yield http, settings
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def gateway(api):
    sim = SmsGateway(dlr_base=str(api[0].base_url))
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def sessions(database_url):
    engine = db.make_engine(database_url)
    yield db.make_session_factory(engine)
    engine.dispose()


def sent_through(sessions, gateway, provider: str, key: str) -> db.OutboxMessage:
    with httpx.Client() as http:
        box = Outbox(sessions, SmsDispatcher(sessions, adapters(gateway.url, http), {"*": [provider]}), None)  # type: ignore[arg-type]
        message = notify(box, "satpar", key)
    assert message.status == "sent" and message.provider == provider
    return message


def wait_for_report(sessions, application_id: str) -> db.OutboxMessage:
    deadline = time.monotonic() + 10
    while (message := row(sessions, application_id)).dlr_status is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return message


@pytest.mark.parametrize(("provider", "outcome", "status"), [
    ("sslwireless", "delivered", "delivered"), ("bulksmsbd", "delivered", "delivered"),
    ("sslwireless", "failed", "undelivered"), ("bulksmsbd", "failed", "undelivered")])
def test_the_providers_report_reaches_the_outbox_row(api, gateway, sessions, provider, outcome, status):
    gateway.reset()
    gateway.faults(**{provider: {"dlr": outcome}})
    message = wait_for_report(sessions, sent_through(sessions, gateway, provider, f"dlr-{provider}-{outcome}")
                              .application_id)
    assert (message.status, message.dlr_status) == (status, status) and message.dlr_at is not None
    assert [m["dlr"] for m in gateway.messages()] == [204]


def report(api, provider: str, body: dict, token: str | None = "auto", **kw) -> httpx.Response:
    http, settings = api
    if token == "auto":
        token = dlr_token(settings.sms_dlr_secret, provider)
    return http.post(f"/api/v1/sms/{provider}/dlr", params={"token": token} if token else {}, json=body, **kw)


@pytest.fixture
def quiet_gateway(gateway):
    gateway.reset()
    gateway.faults(sslwireless={"dlr": "none"}, bulksmsbd={"dlr": "none"})
    return gateway


def test_a_report_without_the_providers_token_is_refused_and_changes_nothing(api, quiet_gateway, sessions):
    message = sent_through(sessions, quiet_gateway, "sslwireless", "dlr-token")
    body = {"csms_id": message.provider_ref, "status": "DELIVERED"}
    assert report(api, "sslwireless", body, token=None).status_code == 401
    assert report(api, "sslwireless", body, token="x" * 32).status_code == 401
    assert report(api, "sslwireless", body, token=dlr_token(api[1].sms_dlr_secret, "bulksmsbd")).status_code == 401
    assert row(sessions, message.application_id).dlr_status is None
    assert report(api, "sslwireless", body).status_code == 204
    assert row(sessions, message.application_id).dlr_status == "delivered"


def test_one_provider_cannot_report_on_anothers_message(api, quiet_gateway, sessions):
    message = sent_through(sessions, quiet_gateway, "sslwireless", "dlr-other")
    r = report(api, "bulksmsbd", {"message_id": message.provider_ref, "status": "DELIVERED"})
    assert r.status_code == 404 and row(sessions, message.application_id).dlr_status is None


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "DELIVERED"}, "csms_id"),
    ({"csms_id": "", "status": "DELIVERED"}, "csms_id"),
    ({"csms_id": ["S1"], "status": "DELIVERED"}, "csms_id"),
    ({"csms_id": "S1" * 60, "status": "DELIVERED"}, "csms_id"),
    ({"csms_id": "S123", "status": "maybe"}, "status"),
    ({"csms_id": "S123"}, "status"),
])
def test_a_malformed_report_is_a_422_naming_the_field(api, body, field):
    r = report(api, "sslwireless", body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field], r.text


def test_a_report_that_is_not_an_object_or_too_big_is_a_422_and_an_unknown_one_a_404(api):
    assert report(api, "sslwireless", ["x"]).status_code == 422  # type: ignore[arg-type]
    assert report(api, "sslwireless", {"csms_id": "S1", "status": "DELIVERED", "pad": "x" * 5000}).status_code == 422
    assert report(api, "sslwireless", {"csms_id": "Snosuchmessage", "status": "DELIVERED"}).status_code == 404
    assert report(api, "nosuchprovider", {"ref": "1", "status": "DELIVERED"}, token="t").status_code == 404


def test_a_form_report_is_read_too(api, quiet_gateway, sessions):
    message = sent_through(sessions, quiet_gateway, "bulksmsbd", "dlr-form")
    http, settings = api
    r = http.post(dlr_url("", settings.sms_dlr_secret, "bulksmsbd"),
                  data={"message_id": message.provider_ref, "status": "Delivered"})
    assert r.status_code == 204 and row(sessions, message.application_id).status == "delivered"


# --- the dashboard ---------------------------------------------------------------------------------------------


def dashboard(api, username: str) -> str:
    http, _ = api
    r = http.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD,
                                              "totp": pyotp.TOTP(TOTP_SECRET).now()})
    assert r.status_code == 200, r.text
    with httpx.Client(base_url=http.base_url, cookies={TOKEN_COOKIE: r.json()["access_token"]}) as browser:
        page = browser.get("/dashboard/")
    assert page.status_code == 200, page.text
    return page.text


EMPTY_BN = "এসএমএস ব্যালান্স শেষ"


def test_the_officers_of_a_union_whose_sms_balance_is_empty_see_it_on_the_dashboard(api, sessions):
    set_balance(sessions, "gopinathpur", 0)
    try:
        assert EMPTY_BN in dashboard(api, "chairman.gopinathpur")
        assert EMPTY_BN in dashboard(api, "uno.gopalganj-sadar")  # the upazila's administrator, naming the union
        assert EMPTY_BN not in dashboard(api, "chairman.kathi")
    finally:
        set_balance(sessions, "gopinathpur", None)
    assert EMPTY_BN not in dashboard(api, "chairman.gopinathpur")


def test_a_balance_too_low_for_a_held_message_is_shown_too(api, sessions, quiet_gateway):
    set_balance(sessions, "gopinathpur", 1)
    try:
        with httpx.Client() as http:
            box = Outbox(sessions, SmsDispatcher(sessions, adapters(quiet_gateway.url, http), {"*": ["sslwireless"]}),
                         None)  # type: ignore[arg-type]
            held = notify(box, "gopinathpur", "too-low", "nid_failed")
        assert held.status == "held" and held.segments > 1
        assert EMPTY_BN in dashboard(api, "chairman.gopinathpur")
    finally:
        set_balance(sessions, "gopinathpur", None)
        with sessions.begin() as session:
            session.execute(update(db.OutboxMessage).where(db.OutboxMessage.id == held.id).values(status="failed"))
