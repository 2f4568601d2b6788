"""An application's open order at its union's payment gateway, as the read side shows it: where the payer pays."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sonod import db
from workflows.payment_messages import OrderState


def open_order(session: Session, application_id: str) -> db.PaymentOrder | None:
    """The application's open order at its union's gateway, when the gateway gave an http(s) address to pay at (the
    track page's link; nothing else a gateway says reaches a page)."""
    row = session.scalars(select(db.PaymentOrder).where(
        db.PaymentOrder.application_id == application_id, db.PaymentOrder.state == OrderState.OPEN.value,
    ).order_by(db.PaymentOrder.created_at.desc()).limit(1)).first()
    url = row.redirect_url if row else None
    return row if url and payable(url) else None


def payable(url: str) -> bool:
    return url.startswith(("https://", "http://")) and not any(c in url for c in "\"'<> \n")

