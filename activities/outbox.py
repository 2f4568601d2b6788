"""The outbox: every SMS, email and officer's inbox message, written once per (application, event, recipient)."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import sessionmaker
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


class Outbox(contract.Outbox):
    def __init__(self, sessions: sessionmaker, sms: SmsDispatcher, mail: Mailer) -> None:
        self.sessions, self.sms, self.mail = sessions, sms, mail

    @activity.defn(name="Outbox.notify")
    def notify(self, notice: Notice) -> Delivered:
        """Queue the messages (idempotently) and count an attempt on the mail still pending, in one transaction (the
        attempt counts even if the send fails); then send them, each marked sent in a transaction of its own. An SMS
        gets its first attempt here, and its retries after a failed attempt from the worker's loop (activities/sms/)."""
        text = render(notice.template, notice)
        rows = self.recipients(notice)
        keys = [f"{notice.application_id}:{notice.key}:{channel}:{recipient}" for channel, recipient in rows]
        pending, sms = [], []
        if rows:
            with self.sessions.begin() as session:
                for key, (channel, recipient) in zip(keys, rows, strict=True):
                    upsert(session, db.OutboxMessage, dict(
                        idempotency_key=key, application_id=notice.application_id, channel=channel,
                        recipient=recipient, subject=f"sonod {notice.application_id}", body=text,
                        status="pending" if channel != "inbox" else "delivered", union_slug=notice.union,
                        segments=segments(text).count if channel == "sms" else None,
                    ), ["idempotency_key"])
                pending = session.execute(ATTEMPT, {"keys": keys}).all()
                sms = session.execute(UNFAILED_SMS, {"keys": keys}).all()
        for message in sms:
            self.sms.deliver(message.id, message.attempts)
        for message in pending:
            self.mail.send(message.recipient, message.subject, message.body, message.idempotency_key)
            with self.sessions.begin() as session:
                session.execute(SENT, {"message_id": message.id, "at": db.utcnow()})
        for channel, _ in rows:  # counted once the whole notice is out: reminders, escalations, receipts...
            NOTIFICATIONS.labels(template_family(notice.template), channel).inc()
        return Delivered(channels=sorted({c for c, _ in rows if c != "inbox"}) if notice.to_applicant else [])

    def recipients(self, notice: Notice) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        if notice.to_applicant and notice.contact:
            if notice.contact.mobile:
                rows.append(("sms", notice.contact.mobile))
            if notice.contact.email:
                rows.append(("email", str(notice.contact.email)))
        if notice.to_roles:
            with self.sessions() as session:
                officers = session.execute(OFFICERS, {"roles": list(notice.to_roles), "union": notice.union})
                for user in officers:
                    if user.role == Role.WARD_MEMBER and notice.ward_no and user.ward_no != notice.ward_no:
                        continue
                    rows.append(("inbox", user.username))
                    if user.mobile:
                        rows.append(("sms", user.mobile))
        return rows
