"""`sonod ops sms`: the unions' SMS balances, topping one up, the SMS outbox, and the delivery-report URLs.

    sonod ops sms balance [--union paikkandi]
    sonod ops sms top-up paikkandi 5000 [--as "receipt 2026/114"]
    sonod ops sms outbox [--union paikkandi] [--status failed] [--limit 50] [--json]
    sonod ops sms dlr-url sslwireless

A top-up is recorded in the union's audit log; it releases the union's held messages, which the worker then sends.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra.cli_common import BAD_ARGUMENT, fail, load_settings, record, sessions
from sonod.sms import DLR_FIELDS
from sonod.sms import dlr_url as url_for

sms_app = typer.Typer(help="SMS: balances, top-ups, the outbox, delivery-report URLs.", no_args_is_help=True)
UnionOption = Annotated[str | None, typer.Option("--union", help="One union's slug.")]


@sms_app.command()
def balance(union: UnionOption = None) -> None:
    """Each union's SMS balance in segments, and its held messages."""
    from sqlalchemy import func, select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

    held = (select(db.OutboxMessage.union_slug, func.count()).where(db.OutboxMessage.status == "held")
            .group_by(db.OutboxMessage.union_slug))
    with sessions(load_settings()) as factory, factory() as session:
        counts = dict(session.execute(held).all())
        q = select(db.Union.slug, db.Union.sms_balance).order_by(db.Union.slug)
        rows = session.execute(q.where(db.Union.slug == union) if union else q).all()
    if union and not rows:
        fail(f"no union {union}", BAD_ARGUMENT)
    table = Table("union", "balance (segments)", "held messages")
    for slug, left in rows:
        table.add_row(slug, "not metered" if left is None else str(left), str(counts.get(slug, 0)))
    Console().print(table)


@sms_app.command("top-up")
def top_up(union: str, segments: Annotated[int, typer.Argument(min=1, max=10_000_000)],
           as_: Annotated[str | None, typer.Option("--as", help="Who acts, for the audit log.")] = None) -> None:
    """Add SEGMENTS to UNION's SMS balance; its held messages go out."""
    from activities.sms.dispatch import top_up as add  # lazy: SQLAlchemy

    with sessions(load_settings()) as factory, factory.begin() as session:
        try:
            left, released = add(session, union, segments)
        except LookupError:
            fail(f"no union {union}", BAD_ARGUMENT)
        record(session, union, "sms.top_up", union, {"segments": segments, "balance": left}, as_)
    print(f"{union}: SMS balance {left} segments; {released} held messages released")


@sms_app.command()
def outbox(union: UnionOption = None, status: Annotated[str | None, typer.Option(help="pending, held, sent, "
           "delivered, undelivered or failed.")] = None,
           limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")] = False) -> None:
    """The newest SMS messages: status, segments, provider, attempts, next retry, last error, delivery report."""
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

    m = db.OutboxMessage
    q = select(m).where(m.channel == "sms").order_by(m.id.desc()).limit(limit)
    q = q.where(m.union_slug == union) if union else q
    q = q.where(m.status == status) if status else q
    with sessions(load_settings()) as factory, factory() as session:
        rows = [{"id": r.id, "application": r.application_id, "union": r.union_slug, "to": "…" + r.recipient[-3:],
                 "status": r.status, "segments": r.segments, "charged": r.charged, "provider": r.provider,
                 "attempts": r.attempts, "next_attempt_at": r.next_attempt_at and r.next_attempt_at.isoformat(),
                 "last_error": r.last_error, "dlr": r.dlr_status} for r in session.scalars(q)]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(*rows[0].keys()) if rows else Table("no SMS messages")
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r.values()))
    Console().print(table)


@sms_app.command("dlr-url")
def dlr_url(provider: str) -> None:
    """The delivery-report URL to register with PROVIDER (sslwireless, bulksmsbd, http); it holds a secret."""
    if provider not in DLR_FIELDS:
        fail(f"no SMS provider {provider}; one of {', '.join(DLR_FIELDS)}", BAD_ARGUMENT)
    settings = load_settings()
    print(url_for(settings.public_url, settings.sms_dlr_secret, provider))
