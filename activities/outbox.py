"""The outbox: every SMS, email and officer's inbox message, written once per (application, event, recipient)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.delivery import Mailer
from activities.sms.dispatch import SmsDispatcher
from activities.sms.segments import segments
from sonod import db
from sonod.bengali import to_bn_digits
from sonod.db import upsert
from sonod.domain import Role
from sonod.metrics import NOTIFICATIONS, template_family
from workflows import activities as contract
from workflows.messages import Delivered, Notice

TEMPLATES = {
    "submitted": "আপনার আবেদন {id} গৃহীত হয়েছে।",
    "payment_due": "আবেদন {id}: ফি {amount} টাকা পরিশোধ করুন।",
    "paid": "আবেদন {id}: ফি {amount} টাকা পরিশোধ হয়েছে।",
    "with_ward_member": "আবেদন {id} এখন ওয়ার্ড সদস্যের সুপারিশের অপেক্ষায়।",
    "with_secretary": "আবেদন {id} এখন ইউপি সচিবের যাচাইয়ের অপেক্ষায়।",
    "with_chairman": "আবেদন {id} এখন চেয়ারম্যানের অনুমোদনের অপেক্ষায়।",
    # the same words whatever failed: which field did is for the union's officers only (docs/SECURITY.md)
    "nid_failed": "আবেদন {id}: জাতীয় পরিচয়পত্রের তথ্য মেলেনি। এনআইডি নম্বর, জন্ম তারিখ ও ইংরেজি নাম এনআইডি কার্ডের সাথে "
                  "মিলিয়ে {days} দিনের মধ্যে আবেদন নম্বর ও মোবাইল নম্বর দিয়ে সংশোধন করুন, অথবা ইউনিয়ন ডিজিটাল সেন্টার বা "
                  "ইউনিয়ন পরিষদ কার্যালয়ে যোগাযোগ করুন।",
    "nid_not_corrected": "আবেদন {id}: জাতীয় পরিচয়পত্রের তথ্য নির্ধারিত সময়ে সংশোধন হয়নি, তাই আবেদনটি বন্ধ হয়েছে। "
                         "প্রয়োজনে সঠিক তথ্য দিয়ে নতুন আবেদন করুন।",
    "returned": "আবেদন {id} সংশোধনের জন্য ফেরত পাঠানো হয়েছে: {reason}",
    "rejected": "আবেদন {id} নামঞ্জুর হয়েছে। {note}",
    "cancelled": "আবেদন {id} বাতিল হয়েছে। {note}",
    "issued": "আপনার সনদ {certificate_no} ইস্যু হয়েছে। আবেদন {id}।",
    "revoked": "আপনার সনদ {certificate_no} বাতিল করা হয়েছে। কারণ: {reason}। আবেদন {id}।",
    "escalated": "আবেদন {id} সময়মতো নিষ্পত্তি হয়নি; ভারপ্রাপ্ত চেয়ারম্যান সিদ্ধান্ত নিতে পারবেন।",
    "overdue": "আবেদন {id} নির্ধারিত সময় পেরিয়েছে।",
    "licence_due": "ট্রেড লাইসেন্স {licence_no} ({business}) এর মেয়াদ {end} তারিখে শেষ হবে। {next_year} অর্থবছরের জন্য "
                   "নবায়ন করুন। {union} ইউনিয়ন পরিষদ",
}


def render(template: str, notice: Notice) -> str:
    text = TEMPLATES.get(template) or (
        "আবেদন {id} আপনার সিদ্ধান্তের অপেক্ষায়।" if template.startswith(("awaiting_", "reminder_"))
        else "আবেদন {id}: {template}"
    )
    params = {k: to_bn_digits(v) if isinstance(v, int) else v for k, v in notice.params.items()}
    return text.format_map({"id": notice.application_id, "template": template, "note": "", "reason": "", **params})


OUTBOX = db.OutboxMessage.__table__
ATTEMPT = (update(OUTBOX)  # one more attempt on each mail still pending, and what to send (SMS: activities/sms/)
           .where(OUTBOX.c.idempotency_key.in_(bindparam("keys", expanding=True)), OUTBOX.c.status == "pending",
                  OUTBOX.c.channel != "sms")
           .values(attempts=OUTBOX.c.attempts + 1)
           .returning(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.recipient, OUTBOX.c.subject, OUTBOX.c.body,
                      OUTBOX.c.idempotency_key))
USERS, UNIONS = db.User.__table__, db.Union.__table__
OFFICERS = (select(USERS.c.username, USERS.c.role, USERS.c.ward_no, USERS.c.mobile)  # of the union, or of its upazila
            .where(USERS.c.role.in_(bindparam("roles", expanding=True)), USERS.c.active,
                   or_(USERS.c.union_slug == bindparam("union"),
                       and_(USERS.c.union_slug.is_(None), USERS.c.upazila_slug == select(UNIONS.c.upazila_slug)
                            .where(UNIONS.c.slug == bindparam("union")).scalar_subquery())))
            .order_by(USERS.c.id))
# an SMS no attempt has failed: never tried, or an attempt cut short (this activity's retry takes it up again);
# one that failed is the worker's retry loop's (activities/sms/dispatch.py)
UNFAILED_SMS = select(OUTBOX.c.id, OUTBOX.c.attempts).where(
    OUTBOX.c.idempotency_key.in_(bindparam("keys", expanding=True)), OUTBOX.c.channel == "sms",
    OUTBOX.c.status == "pending", OUTBOX.c.last_error.is_(None))
SENT = update(OUTBOX).where(OUTBOX.c.id == bindparam("message_id")).values(status="sent", sent_at=bindparam("at"))
# a queued SMS that the sender never took up (the worker stopped after the commit) is the retry loop's after this
UNSENT_AFTER_S = 60
log = logging.getLogger("sonod.outbox")


@dataclass
class Queued:
    """What a transaction queued: the SMS to attempt and the mail to send once it commits, and what to count."""

    sms: list = field(default_factory=list)
    mail: list = field(default_factory=list)
    counted: list[tuple[str, str]] = field(default_factory=list)  # (template, channel)

    def __iadd__(self, other: Queued) -> Queued:
        self.sms += other.sms
        self.mail += other.mail
        self.counted += other.counted
        return self


class Outbox(contract.Outbox):
    """Messages are queued in the transaction of the change they tell of (`queue`), then sent (`send`): at once by the
    activity that queued them, or by `send_later`'s threads for the workflow's projections (the transactional outbox:
    the worker's SMS retry loop takes up what was queued and never sent)."""

    def __init__(self, sessions: sessionmaker, sms: SmsDispatcher, mail: Mailer, senders: int = 2) -> None:
        self.sessions, self.sms, self.mail = sessions, sms, mail
        self.senders = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="outbox")

    @activity.defn(name="Outbox.notify")
    def notify(self, notice: Notice) -> Delivered:
        """Queue the messages (idempotently) and count an attempt on the mail still pending, in one transaction (the
        attempt counts even if the send fails); then send them, each marked sent in a transaction of its own. An SMS
        gets its first attempt here, and its retries after a failed attempt from the worker's loop (activities/sms/)."""
        with self.sessions.begin() as session:
            queued = self.queue(session, notice)
        self.send(queued)
        channels = {channel for _, channel in queued.counted if channel != "inbox"}
        return Delivered(channels=sorted(channels) if notice.to_applicant else [])

    def queue(self, session: Session, notice: Notice, first_attempt_at=None) -> Queued:
        """The notice's messages, in `session`'s transaction. `first_attempt_at`: when the SMS retry loop may take up
        an SMS that no sender has (None: only after a failed attempt)."""
        text = render(notice.template, notice)
        rows = self.recipients(session, notice)
        if not rows:
            return Queued()
        keys = [f"{notice.application_id}:{notice.key}:{channel}:{recipient}" for channel, recipient in rows]
        for key, (channel, recipient) in zip(keys, rows, strict=True):
            upsert(session, db.OutboxMessage, dict(
                idempotency_key=key, application_id=notice.application_id, channel=channel,
                recipient=recipient, subject=f"sonod {notice.application_id}", body=text,
                status="pending" if channel != "inbox" else "delivered", union_slug=notice.union,
                segments=segments(text).count if channel == "sms" else None,
                next_attempt_at=first_attempt_at if channel == "sms" else None,
            ), ["idempotency_key"])
        return Queued(sms=list(session.execute(UNFAILED_SMS, {"keys": keys})),
                      mail=list(session.execute(ATTEMPT, {"keys": keys})),
                      counted=[(notice.template, channel) for channel, _ in rows])

    def send(self, queued: Queued) -> None:
        for message in queued.sms:
            self.sms.deliver(message.id, message.attempts)
        for message in queued.mail:
            self.mail.send(message.recipient, message.subject, message.body, message.idempotency_key)
            with self.sessions.begin() as session:
                session.execute(SENT, {"message_id": message.id, "at": db.utcnow()})
        for template, channel in queued.counted:  # counted once the whole notice is out
            NOTIFICATIONS.labels(template_family(template), channel).inc()

    def send_later(self, queued: Queued) -> None:
        """Send what a committed transaction queued, on the outbox's own threads."""
        if queued.sms or queued.mail or queued.counted:
            self.senders.submit(self.send_logged, queued)

    def send_logged(self, queued: Queued) -> None:
        try:
            self.send(queued)
        except Exception:  # the SMS retry loop takes the message up; a mail stays pending, with its attempt counted
            log.exception("sending queued messages failed")

    def recipients(self, session: Session, notice: Notice) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        if notice.to_applicant and notice.contact:
            if notice.contact.mobile:
                rows.append(("sms", notice.contact.mobile))
            if notice.contact.email:
                rows.append(("email", str(notice.contact.email)))
        if notice.to_roles:
            officers = session.execute(OFFICERS, {"roles": list(notice.to_roles), "union": notice.union})
            for user in officers:
                if user.role == Role.WARD_MEMBER and notice.ward_no and user.ward_no != notice.ward_no:
                    continue
                rows.append(("inbox", user.username))
                if user.mobile:
                    rows.append(("sms", user.mobile))
        return rows
