"""The SMS gateway simulator (infra/smsgw) as a process on loopback, for tests that speak to it over HTTP."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from activities.outbox import Outbox
from activities.sms.dispatch import Backoff, SmsDispatcher
from activities.sms.providers import BulkSmsBd, HttpTemplate, SslWireless, Template
from sonod import db
from sonod.settings import SMS_DEV_SECRETS
from tests.stack import Simulator, free_port
from workflows.messages import Contact, Notice

SSL_TOKEN, BULK_KEY = SMS_DEV_SECRETS["sslwireless_api_token"], SMS_DEV_SECRETS["bulksmsbd_api_key"]


class SmsGateway(Simulator):
    """`python -m infra.smsgw`; its delivery reports go to `dlr_base` (none when empty)."""

    module = "infra.smsgw"

    def __init__(self, dlr_base: str = "") -> None:
        super().__init__(free_port(), "--dlr-base", dlr_base)

    def messages(self, protocol: str | None = None) -> list[dict]:
        r = httpx.get(f"{self.url}/_sim/messages", params={"protocol": protocol} if protocol else {}, timeout=5)
        r.raise_for_status()
        return r.json()


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
