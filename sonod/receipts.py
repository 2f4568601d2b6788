"""The money receipt's facts as the database has them: which payment paid an application's fee, the receipt's number
and the lines it lists. The API (which offers and serves the receipt) and the activity (which numbers, renders and
stores it, activities/receipt.py) read them here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sonod import db

# the states of a gateway's order (db.PaymentOrder) once the gateway has confirmed it; a refund keeps the receipt
SETTLED = ("paid", "refunding", "refunded")
CALLBACK = "gateway"  # the method of a fee confirmed by the signed callback (the demo's and a custom gateway's)


@dataclass(frozen=True)
class PaidFee:
    transaction_id: str
    method: str  # the provider: ekpay, bkash, sslcommerz, nagad; or CALLBACK
    amount: int
    currency: str
    paid_at: dt.datetime


def paid_fee(session: Session, application: db.Application) -> PaidFee | None:
    """The payment that paid this application's fee: its gateway order that the gateway confirmed, else the first
    signed callback of the fee's amount; None while the fee is unpaid (or there is none)."""
    if not application.fee_paid or application.fee_amount <= 0:
        return None
    order = session.scalar(select(db.PaymentOrder)
                           .where(db.PaymentOrder.application_id == application.id,
                                  db.PaymentOrder.state.in_(SETTLED), db.PaymentOrder.paid_at.is_not(None))
                           .order_by(db.PaymentOrder.paid_at).limit(1))
    if order is not None and order.paid_at is not None:
        return PaidFee(order.transaction_id or order.order_id, order.provider, order.amount, order.currency,
                       order.paid_at)
    payment = session.scalar(select(db.Payment)
                             .where(db.Payment.application_id == application.id,
                                    db.Payment.amount == application.fee_amount, db.Payment.currency == "BDT")
                             .order_by(db.Payment.received_at).limit(1))
    if payment is None:
        return None
    return PaidFee(payment.transaction_id, CALLBACK, payment.amount, payment.currency, payment.received_at)


def receipt_number(union: str, year: int, seq: int) -> str:
    """`<UNION>-MR-<year>-<6 digits>`, a union's receipts numbered from 1 each calendar year, as its certificates."""
    return f"{union.upper()}-MR-{year}-{seq:06d}"


def receipt_of(session: Session, application_id: str) -> db.Receipt | None:
    return session.scalar(select(db.Receipt).where(db.Receipt.application_id == application_id))


def fee_lines(session: Session, application: db.Application, paid: PaidFee) -> list[dict]:
    """The lines the receipt lists: the fee's lines as the application was admitted under them, when they add up to
    what was paid; else (an application projected before the read model kept them) one line of the whole fee."""
    lines = application.fee_lines or []
    if lines and sum(int(line["amount"]) for line in lines) == paid.amount:
        return [{k: line[k] for k in ("code", "name_bn", "name_en", "amount")} for line in lines]
    kind = session.get(db.CertificateTypeRow, application.certificate_type)
    name_bn, name_en = (kind.name_bn, kind.name_en) if kind else (application.certificate_type,) * 2
    return [{"code": "fee", "name_bn": f"{name_bn} ফি", "name_en": f"{name_en} fee", "amount": paid.amount}]
