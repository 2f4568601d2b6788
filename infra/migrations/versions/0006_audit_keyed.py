"""a keyed audit chain and its signed checkpoints (issue 12)

Entries written before this revision were chained with plain SHA-256, which anyone can recompute. The upgrade
checks each chain as it was, re-MACs every entry with the audit key (derived from SONOD_MASTER_KEY, which the
migration runs with), and appends to each chain an `audit.rekeyed` entry that says how many entries it re-keyed and
what the unkeyed check found wrong, so that tampering before the key stays on record. The downgrade puts the plain
SHA-256 chain back.

Revision ID: 0006
Revises: 0005
"""
import datetime as dt
import hashlib
import json
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from sonod.db import UTCDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
audit_log = sa.table(
    "audit_log", sa.column("id", sa.Integer), sa.column("union_slug", sa.String), sa.column("seq", sa.Integer),
    sa.column("at", UTCDateTime()), sa.column("actor", sa.String), sa.column("role", sa.String),
    sa.column("action", sa.String), sa.column("target", sa.String), sa.column("detail", sa.JSON),
    sa.column("ip", sa.String), sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("chain", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alg", sa.String(10), nullable=False),
        sa.Column("kid", sa.String(80), nullable=True),
        sa.Column("signature", sa.String(200), nullable=False),
        sa.UniqueConstraint("chain", "seq"),
    )
    from sonod.audit import audit_key, content_mac
    from sonod.settings import Settings

    key = audit_key(Settings().master_key)
    rekey(lambda fields: content_mac(key, fields), report=True)


def downgrade() -> None:
    rekey(_sha256, report=False)
    op.drop_table("audit_checkpoints")


def _content(row, prev: str) -> dict:
    return {"union": row.union_slug, "seq": row.seq, "at": row.at.astimezone(dt.UTC).isoformat(), "actor": row.actor,
            "role": row.role, "action": row.action, "target": row.target, "detail": row.detail, "ip": row.ip,
            "prev": prev}


def _sha256(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def rekey(mac, *, report: bool) -> None:
    """Rewrite every chain's links with `mac`; with `report`, first check it unkeyed and append what was found."""
    conn = op.get_bind()
    chains = [c for (c,) in conn.execute(sa.select(audit_log.c.union_slug).distinct())]
    for chain in chains:
        rows = conn.execute(sa.select(audit_log).where(audit_log.c.union_slug == chain)
                            .order_by(audit_log.c.seq)).all()
        problems, old_prev, prev, seq = [], GENESIS, GENESIS, 0
        for row in rows:
            if row.seq != seq + 1 or row.prev_hash != old_prev or _sha256(_content(row, row.prev_hash)) != row.hash:
                problems.append(row.seq)
            old_prev, seq = row.hash, row.seq
            new = mac(_content(row, prev))
            conn.execute(sa.update(audit_log).where(audit_log.c.id == row.id).values(prev_hash=prev, hash=new))
            prev = new
        if report:
            at = dt.datetime.now(dt.UTC)
            entry = {"union_slug": chain, "seq": seq + 1, "at": at, "actor": "sonod migrate", "role": "operator",
                     "action": "audit.rekeyed", "target": chain, "ip": None, "prev_hash": prev,
                     "detail": {"entries": len(rows), "unkeyed_check_failed_at": problems[:100]}}
            conn.execute(sa.insert(audit_log).values(**entry, hash=mac(_content(SimpleNamespace(**entry), prev))))
