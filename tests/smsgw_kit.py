"""The SMS gateway simulator (infra/smsgw) as a process on loopback, for tests that speak to it over HTTP."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
from sqlalchemy import select, update

from activities.outbox import Outbox
from activities.sms.dispatch import Backoff, SmsDispatcher
from activities.sms.providers import BulkSmsBd, HttpTemplate, SslWireless, Template
from sonod import db
from sonod.settings import SMS_DEV_SECRETS
from tests.stack import ROOT, free_port
from workflows.messages import Contact, Notice

SSL_TOKEN, BULK_KEY = SMS_DEV_SECRETS["sslwireless_api_token"], SMS_DEV_SECRETS["bulksmsbd_api_key"]


class SmsGateway:
    def __init__(self, dlr_base: str = "") -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        self.proc = subprocess.Popen([sys.executable, "-m", "infra.smsgw", "--host", "127.0.0.1", "--port", port,
                                      "--dlr-base", dlr_base, "--log-level", "warning"], cwd=ROOT)
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the SMS gateway simulator did not start")

    def faults(self, **per_protocol: dict) -> None:
        httpx.post(f"{self.url}/_sim/faults", json=per_protocol, timeout=5).raise_for_status()

    def messages(self, protocol: str | None = None) -> list[dict]:
        r = httpx.get(f"{self.url}/_sim/messages", params={"protocol": protocol} if protocol else {}, timeout=5)
        r.raise_for_status()
        return r.json()

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sim/reset", timeout=5).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def adapters(url: str, http: httpx.Client, timeout: float = 2.0) -> dict:
    template = Template(  # the generic provider, told to speak BulkSMSBD's protocol as a form
        url=url + "/api/smsapi", content_type="form", success=(("response_code", 202),), id_field="message_id",
        body=f"api_key={BULK_KEY}&type=text&number=$msisdn&senderid=SONOD&message=$text")
    return {"sslwireless": SslWireless(http, url, SSL_TOKEN, "SONOD", timeout),
            "bulksmsbd": BulkSmsBd(http, url, BULK_KEY, "8809600000000", timeout),
            "http": HttpTemplate(http, template, timeout)}


PROTOCOL = {"sslwireless": "sslwireless", "bulksmsbd": "bulksmsbd", "http": "bulksmsbd"}


def set_balance(sessions, slug: str, balance: int | None) -> None:
    with sessions.begin() as session:
        session.execute(update(db.Union).where(db.Union.slug == slug).values(sms_balance=balance))


def balance(sessions, slug: str) -> int | None:
    with sessions() as session:
        return session.scalar(select(db.Union.sms_balance).where(db.Union.slug == slug))


def outbox(sessions, sim, http, routes: list[str], backoff: Backoff | None = None, timeout: float = 2.0) -> Outbox:
    dispatcher = SmsDispatcher(sessions, adapters(sim.url, http, timeout), {"*": routes}, backoff)
    return Outbox(sessions, dispatcher, mail=None)  # type: ignore[arg-type]  # SMS only


def notify(box: Outbox, union: str, key: str, template: str = "issued") -> db.OutboxMessage:
    application_id = f"A-SMS-{key}"
    box.notify(Notice(application_id=application_id, key=key, template=template, union=union,
                      contact=Contact(mobile="01711000002"), params={"certificate_no": "KAJULIA-2026-000001",
                                                                    "days": 30}))
    return row(box.sessions, application_id)


def row(sessions, application_id: str) -> db.OutboxMessage:
    with sessions() as session:
        return session.scalars(select(db.OutboxMessage).where(db.OutboxMessage.application_id == application_id,
                                                              db.OutboxMessage.channel == "sms")).one()
