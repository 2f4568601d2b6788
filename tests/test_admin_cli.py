"""Issue #5: the administrator's commands (`sonod officers`, `portal-keys`, `keys rotate`, `audit verify`), run with
typer's CliRunner on a fresh, seeded database of this module's own."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import delete, select, update

from sonod import audit, db
from sonod.migrate import upgrade
from sonod.security import hash_api_key, verify_password
from sonod.seed import seed
from sonod.settings import Settings
from tests.conftest import _fresh_database_url
from tests.unions_kit import cli, database

DHAKA = dt.timezone(dt.timedelta(hours=6))


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    url, drop = _fresh_database_url(tmp_path_factory.mktemp("admin-cli"))
    upgrade(url)
    with database(url) as session:
        seed(session, Settings(database_url=url))
    yield url
    drop()


def user(url: str, username: str) -> db.User | None:
    with database(url) as session:
        return session.scalar(select(db.User).where(db.User.username == username))


def printed(output: str, label: str) -> str:
    return re.search(rf"^{label}: (\S+)$", output, re.MULTILINE).group(1)


# --- officers --------------------------------------------------------------------------------------------------


def test_create_a_ward_member_prints_a_password_that_logs_in(url):
    r = cli(url, "officers", "create", "ward3.new.paikkandi", "--role", "ward_member", "--union", "paikkandi",
            "--ward", "3", "--name-bn", "মোঃ নতুন সদস্য", "--mobile", "01711000111")
    assert r.exit_code == 0, r.output
    assert "totp" not in r.output
    row = user(url, "ward3.new.paikkandi")
    assert (row.role, row.union_slug, row.upazila_slug, row.ward_no, row.active) == \
        ("ward_member", "paikkandi", "gopalganj-sadar", 3, True)
    assert row.totp_secret is None and verify_password(row.password_hash, printed(r.output, "password"))


def test_create_a_chairman_prints_the_totp_provisioning_uri(url):
    r = cli(url, "officers", "create", "chairman2.kathi", "--role", "chairman", "--union", "kathi")
    assert r.exit_code == 0, r.output
    uri = printed(r.output, "totp")
    assert uri.startswith("otpauth://totp/sonod:chairman2.kathi?")
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    row = user(url, "chairman2.kathi")
    assert row.totp_secret == secret and pyotp.TOTP(row.totp_secret).verify(pyotp.TOTP(secret).now())
    assert printed(r.output, "password") not in (row.password_hash, "")


def test_an_upazila_wide_officer_belongs_to_the_upazila_not_a_union(url):
    r = cli(url, "officers", "create", "admin2.gopalganj-sadar", "--role", "administrator", "--union", "gobra")
    assert r.exit_code == 0, r.output
    row = user(url, "admin2.gopalganj-sadar")
    assert (row.union_slug, row.upazila_slug) == (None, "gopalganj-sadar") and row.totp_secret


@pytest.mark.parametrize("args, says", [
    (["--role", "mayor", "--union", "paikkandi"], "unknown role 'mayor'"),
    (["--role", "portal", "--union", "paikkandi"], "unknown role 'portal'"),
    (["--role", "chairman", "--union", "atlantis"], "unknown union 'atlantis'"),
    (["--role", "secretary"], "needs --union"),
    (["--role", "ward_member", "--union", "paikkandi"], "--ward"),
    (["--role", "udc", "--union", "paikkandi", "--ward", "2"], "--ward"),
    (["--role", "ward_member", "--union", "paikkandi", "--ward", "12"], "1 to 9"),
    (["--role", "udc", "--union", "paikkandi", "--mobile", "12345"], "mobile"),
])
def test_create_refuses_bad_arguments_with_exit_2(url, args, says):
    r = cli(url, "officers", "create", "someone.paikkandi", *args)
    assert r.exit_code == 2, r.output
    assert says in r.output
    assert user(url, "someone.paikkandi") is None


def test_create_refuses_a_taken_username(url):
    r = cli(url, "officers", "create", "chairman.paikkandi", "--role", "chairman", "--union", "paikkandi")
    assert r.exit_code == 1 and "already exists" in r.output


def test_disable_ends_every_session_of_the_officer(url):
    with database(url) as session:
        officer = session.scalar(select(db.User).where(db.User.username == "udc.gobra"))
        later = db.utcnow() + dt.timedelta(hours=1)
        session.add_all([db.Session(id=f"s-{i}", user_id=officer.id, expires_at=later) for i in range(2)])
    r = cli(url, "officers", "disable", "udc.gobra")
    assert r.exit_code == 0 and "ended 2 session(s)" in r.output, r.output
    assert not user(url, "udc.gobra").active
    with database(url) as session:
        assert all(s.revoked_at for s in session.scalars(select(db.Session).where(db.Session.id.in_(["s-0", "s-1"]))))
    assert cli(url, "officers", "disable", "nobody.gobra").exit_code == 2


def test_list_shows_a_unions_officers_and_their_state(url):
    cli(url, "officers", "disable", "ward9.urfi")
    r = cli(url, "officers", "list", "--union", "urfi")
    assert r.exit_code == 0, r.output
    lines = {line.split("\t")[0]: line.split("\t") for line in r.output.splitlines()}
    assert lines["chairman.urfi"][1:] == ["chairman", "urfi", "-", "active"]
    assert lines["ward9.urfi"][1:] == ["ward_member", "urfi", "9", "disabled"]
    assert lines["uno.gopalganj-sadar"][2] == "upazila:gopalganj-sadar"
    assert not any(name.endswith(".paikkandi") for name in lines)
    assert cli(url, "officers", "list", "--union", "atlantis").exit_code == 2


def test_delegate_covers_whole_days_in_bangladesh_time(url):
    r = cli(url, "officers", "delegate", "acting.satpar", "--as", "chairman", "--union", "satpar",
            "--from", "2025-07-01", "--to", "2025-07-14")
    assert r.exit_code == 0, r.output
    with database(url) as session:
        d = session.scalars(select(db.Delegation).join(db.User, db.User.id == db.Delegation.user_id)
                            .where(db.User.username == "acting.satpar")).one()
        assert (d.union_slug, d.acts_as) == ("satpar", "chairman")
        assert d.starts_at == dt.datetime(2025, 7, 1, tzinfo=DHAKA)
        assert d.ends_at == dt.datetime(2025, 7, 15, tzinfo=DHAKA)


@pytest.mark.parametrize("username, args, says", [
    ("secretary.satpar", ["--union", "satpar"], "only an acting chairman or an administrator"),
    ("acting.satpar", ["--union", "ulpur"], "does not serve the union ulpur"),
    ("acting.satpar", ["--union", "atlantis"], "unknown union"),
    ("nobody.satpar", ["--union", "satpar"], "unknown officer"),
    ("acting.satpar", ["--union", "satpar", "--as", "secretary"], "only the chairman's role"),
    ("acting.satpar", ["--union", "satpar", "--to", "2025-06-30"], "before --from"),
    ("acting.satpar", ["--union", "satpar", "--from", "1st of July"], "1st of July"),
])
def test_delegate_refuses_bad_arguments_with_exit_2(url, username, args, says):
    options = {"--as": "chairman", "--from": "2025-07-01", "--to": "2025-07-14"}
    for i in range(0, len(args), 2):
        options[args[i]] = args[i + 1]
    r = cli(url, "officers", "delegate", username, *[x for kv in options.items() for x in kv])
    assert r.exit_code == 2, r.output
    assert says in r.output


def test_an_administrator_may_be_delegated_in_any_union_of_the_upazila(url):
    r = cli(url, "officers", "delegate", "admin.gopalganj-sadar", "--as", "chairman", "--union", "borashi",
            "--from", "2025-01-01", "--to", "2025-01-01")
    assert r.exit_code == 0, r.output


# --- keys ------------------------------------------------------------------------------------------------------


def test_rotating_a_portal_key_prints_the_new_key_once_and_stores_its_hash(url):
    cli(url, "portal-keys", "create", "ekpay")
    with database(url) as session:
        old = session.scalar(select(db.PortalKey.key_hash).where(db.PortalKey.name == "ekpay"))
    r = cli(url, "portal-keys", "rotate", "ekpay")
    assert r.exit_code == 0, r.output
    key = r.output.strip().splitlines()[-1]
    with database(url) as session:
        row = session.scalar(select(db.PortalKey).where(db.PortalKey.name == "ekpay"))
        assert row.key_hash == hash_api_key(key) != old and row.active
        assert session.scalar(select(db.PortalKey).where(db.PortalKey.key_hash == old)) is None
    assert key not in cli(url, "portal-keys", "list").output
    assert cli(url, "portal-keys", "rotate", "no-such-portal").exit_code == 2
    assert cli(url, "portal-keys", "create", "ekpay").exit_code == 1


def test_rotating_a_unions_signing_key_retires_the_old_one(url):
    r = cli(url, "keys", "rotate", "karpara")
    assert r.exit_code == 0, r.output
    with database(url) as session:
        keys = session.scalars(select(db.SigningKey).where(db.SigningKey.union_slug == "karpara")
                               .order_by(db.SigningKey.not_before)).all()
        assert len(keys) == 2 and keys[0].not_after is not None and keys[1].not_after is None
        assert keys[0].kid in r.output and keys[1].kid in r.output
    assert cli(url, "keys", "rotate", "atlantis").exit_code != 0


# --- audit -----------------------------------------------------------------------------------------------------


def chain(url: str, union: str, n: int = 5) -> None:
    with database(url) as session:
        for i in range(n):
            audit.record(session, union=union, actor=f"chairman.{union}", role="chairman", action="decision.approve",
                         target=f"A-{i}", detail={"reason": f"ok {i}"}, ip="10.0.0.1")


def test_verify_passes_an_intact_chain(url):
    chain(url, "boultali")
    r = cli(url, "audit", "verify", "boultali")
    assert r.exit_code == 0 and "intact: 5 entries" in r.output, r.output


def test_verify_finds_an_edited_row(url):
    chain(url, "borashi")
    with database(url) as session:
        session.execute(update(db.AuditEntry).where(db.AuditEntry.union_slug == "borashi", db.AuditEntry.seq == 3)
                        .values(actor="someone.else"))
    r = cli(url, "audit", "verify", "borashi")
    assert r.exit_code == 1, r.output
    assert "borashi: entry 3 was edited" in r.output


def test_verify_finds_a_deleted_row(url):
    chain(url, "chandradighalia")
    with database(url) as session:
        session.execute(delete(db.AuditEntry).where(db.AuditEntry.union_slug == "chandradighalia",
                                                    db.AuditEntry.seq == 2))
    r = cli(url, "audit", "verify", "chandradighalia")
    assert r.exit_code == 1, r.output
    assert "entry 2 is missing" in r.output and "entry 3 does not follow" in r.output


def test_verify_finds_reordered_rows(url):
    chain(url, "gopinathpur")
    with database(url) as session:
        rows = {e.seq: e for e in session.scalars(select(db.AuditEntry)
                                                  .where(db.AuditEntry.union_slug == "gopinathpur"))}
        rows[2].seq, rows[4].seq = -2, -4
        session.flush()
        rows[2].seq, rows[4].seq = 4, 2
    r = cli(url, "audit", "verify", "gopinathpur")
    assert r.exit_code == 1, r.output
    for line in ("entry 2 was edited", "entry 2 does not follow", "entry 4 was edited"):
        assert line in r.output


def test_verify_refuses_an_unknown_union(url):
    r = cli(url, "audit", "verify", "atlantis")
    assert r.exit_code == 2 and "unknown union" in r.output
