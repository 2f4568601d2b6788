"""Issue 12, item 7: an audit log that cannot be rewritten quietly.

Each entry's MAC is keyed (HMAC under a key derived from SONOD_MASTER_KEY, which the database does not hold), and the
head of each chain is checkpointed, signed with the union's Ed25519 key and published. The attacks are what someone
who can write the database (but holds no key) can do: edit an entry and recompute the chain after it, or delete the
newest entries together with the checkpoints that the database kept.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text

from sonod import audit, db
from sonod.migrate import upgrade
from sonod.settings import Settings
from tests import test_admin_cli
from tests.conftest import _fresh_database_url
from tests.test_admin_cli import chain
from tests.unions_kit import Gateway, audit_rows, cli, database, union_for

url = test_admin_cli.url  # the fixture: a migrated, seeded database of this module's own

CHECKPOINT_FIELDS = {"chain", "seq", "mac", "at", "alg", "kid", "signed", "signature"}


def unkeyed_hash(prev: str, e: db.AuditEntry) -> str:
    """The chain's hash as anyone can compute it without a key (what sonod used before the key)."""
    content = {"union": e.union_slug, "seq": e.seq, "at": e.at.astimezone(dt.UTC).isoformat(), "actor": e.actor,
               "role": e.role, "action": e.action, "target": e.target, "detail": e.detail, "ip": e.ip, "prev": prev}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def rewrite(url: str, union: str, seq: int, **values) -> None:
    """Edit entry `seq` and recompute every hash from it on, as an attacker without the key would."""
    with database(url) as session:
        rows = session.scalars(select(db.AuditEntry).where(db.AuditEntry.union_slug == union)
                               .order_by(db.AuditEntry.seq)).all()
        for name, value in values.items():
            setattr(rows[seq - 1], name, value)
        for previous, row in zip([None, *rows], rows, strict=False):  # each with the one before
            if row.seq >= seq:
                row.prev_hash = previous.hash if previous else "0" * 64
                row.hash = unkeyed_hash(row.prev_hash, row)


def published(url: str, union: str) -> dict:
    with TestClient(create_app(url)) as client:
        r = client.get("/api/v1/audit/checkpoints", params={"union": union})
    assert r.status_code == 200, r.text
    return r.json()


def create_app(url: str):
    from api.main import create_app

    return create_app(Settings(database_url=url))


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- editing and recomputing -----------------------------------------------------------------------------------


def test_an_edited_entry_with_the_chain_recomputed_without_the_key_is_reported(url):
    chain(url, "durgapur", 6)
    rewrite(url, "durgapur", 3, detail={"reason": "forged"})
    r = cli(url, "audit", "verify", "--union", "durgapur")
    assert r.exit_code == 1, r.output
    assert "durgapur: entry 3 was edited" in r.output


def test_an_intact_chain_verifies(url):
    chain(url, "jalalabad", 4)
    r = cli(url, "audit", "verify", "--union", "jalalabad")
    assert r.exit_code == 0 and "intact" in r.output, r.output


# --- checkpoints -----------------------------------------------------------------------------------------------


def test_deleting_the_newest_entries_is_reported_against_a_kept_checkpoint(url, tmp_path):
    chain(url, "karpara", 6)
    assert cli(url, "audit", "checkpoint", "--union", "karpara").exit_code == 0
    kept = tmp_path / "karpara.json"
    kept.write_text(json.dumps(published(url, "karpara")))
    with database(url) as session:  # the newest entries go, and with them whatever the database kept of them
        session.execute(delete(db.AuditEntry).where(db.AuditEntry.union_slug == "karpara", db.AuditEntry.seq > 3))
        session.execute(text("DELETE FROM audit_checkpoints WHERE chain = 'karpara'"))
    r = cli(url, "audit", "verify", "--union", "karpara", "--checkpoints", str(kept))
    assert r.exit_code == 1, r.output
    assert "karpara: entries 4 to 6 were deleted" in r.output


def test_a_checkpoint_is_signed_with_the_unions_key_from_the_trust_list(url):
    chain(url, "latifpur", 2)
    assert cli(url, "audit", "checkpoint", "--union", "latifpur").exit_code == 0
    checkpoint = published(url, "latifpur")["checkpoints"][-1]
    assert set(checkpoint) == CHECKPOINT_FIELDS  # nothing personal: positions, MACs and times
    assert json.loads(checkpoint["signed"]) == {"typ": "sonod-audit-checkpoint/1", "chain": "latifpur",
                                                "seq": checkpoint["seq"], "mac": checkpoint["mac"],
                                                "at": checkpoint["at"]}
    with TestClient(create_app(url)) as client:
        trust_list = client.get("/.well-known/jwks.json").json()
    key = next(k for k in trust_list["keys"] if k["kid"] == checkpoint["kid"])
    assert key["union"] == "latifpur" and checkpoint["alg"] == "EdDSA"
    Ed25519PublicKey.from_public_bytes(b64url(key["x"])).verify(b64url(checkpoint["signature"]),
                                                                 checkpoint["signed"].encode())


def test_a_forged_checkpoint_in_the_database_is_reported(url):
    chain(url, "majhigati", 3)
    assert cli(url, "audit", "checkpoint", "--union", "majhigati").exit_code == 0
    with database(url) as session:
        session.execute(text("UPDATE audit_checkpoints SET seq = 2 WHERE chain = 'majhigati'"))
    r = cli(url, "audit", "verify", "--union", "majhigati")
    assert r.exit_code == 1 and "signature" in r.output, r.output


def test_the_deployment_chain_takes_entries_and_verifies(url):
    with database(url) as session:
        audit.record(session, union=audit.DEPLOYMENT, actor="operator", role="operator", action="auth.login",
                     target="operator")
    assert cli(url, "audit", "checkpoint").exit_code == 0
    assert published(url, audit.DEPLOYMENT)["checkpoints"][-1]["alg"] == "HS256"
    r = cli(url, "audit", "verify", "--union", audit.DEPLOYMENT)
    assert r.exit_code == 0, r.output


# --- what the log records --------------------------------------------------------------------------------------


def test_key_rotation_is_audited(url):
    assert cli(url, "keys", "rotate", "nizra").exit_code == 0
    assert [e.action for e in audit_rows(url, "nizra")] == ["key.rotate"]


def test_portal_key_changes_are_audited_without_the_key(url):
    created = cli(url, "portal-keys", "create", "audited-portal")
    rotated = cli(url, "portal-keys", "rotate", "audited-portal")
    assert cli(url, "portal-keys", "disable", "audited-portal").exit_code == 0
    entries = [e for e in audit_rows(url, audit.DEPLOYMENT) if e.target == "audited-portal"]
    assert [e.action for e in entries] == ["portal_key.create", "portal_key.rotate", "portal_key.disable"]
    keys = [r.output.strip().splitlines()[-1] for r in (created, rotated)]
    assert not any(key in json.dumps(e.detail) for key in keys for e in entries)


def test_entries_written_before_the_key_are_re_keyed_by_the_migration(tmp_path):
    url, drop = _fresh_database_url(tmp_path)
    try:
        upgrade(url, "0005")
        with database(url) as session:
            prev = "0" * 64
            for seq in (1, 2):
                e = db.AuditEntry(union_slug="kathi", seq=seq, at=db.utcnow(), actor="chairman.kathi",
                                  role="chairman", action="decision.approve", target=f"A-{seq}", detail={}, ip=None,
                                  prev_hash=prev)
                e.hash = prev = unkeyed_hash(prev, e)
                session.add(e)
        upgrade(url)
        with database(url) as session:
            assert audit.verify(session, "kathi") == []
        assert [e.action for e in audit_rows(url, "kathi")] == ["decision.approve", "decision.approve", "audit.rekeyed"]
    finally:
        drop()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_payment_is_audited(request, stack, settings):
    from tests.test_chains import trade_licence

    union = await union_for(request, settings.db_url, "aud")
    app_id = await trade_licence(stack, union)
    paid = await Gateway(stack.http).confirm(app_id, 690, f"TX-{app_id}")
    assert paid.status_code == 200, paid.text
    entry = next(e for e in audit_rows(settings.db_url, union) if e.action == "payment.received")
    assert (entry.target, entry.detail["transaction_id"], entry.detail["amount"]) == (app_id, f"TX-{app_id}", 690)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_refused_payment_is_audited_with_its_reason(request, stack, settings):
    from tests.test_chains import trade_licence

    union = await union_for(request, settings.db_url, "aud")
    app_id = await trade_licence(stack, union, index=16)
    assert (await Gateway(stack.http).confirm(app_id, 500)).status_code == 422
    entry = next(e for e in audit_rows(settings.db_url, union) if e.action == "payment.refused")
    assert entry.target == app_id and entry.detail["amount"] == 500 and entry.detail["reason"]


async def test_a_position_past_any_chain_is_a_422_naming_it(stack):
    r = await stack.http.get("/api/v1/audit/checkpoints", params={"union": "paikkandi", "after": 2**40})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "after"], r.text
