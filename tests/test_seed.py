"""The demo seed: 21 unions, the contract's accounts with their roles, a hashed portal key; idempotent."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import Role
from sonod.migrate import upgrade
from sonod.security import verify_password
from sonod.seed import seed
from sonod.settings import ROOT, Settings
from sonod.unions import GOPALGANJ_SADAR

UPAZILA = "gopalganj-sadar"


def contract_accounts() -> dict[str, tuple[Role, str | None, int | None]]:
    """Every log-in that CONTRACT.md promises: username -> (role, union, ward)."""
    accounts: dict[str, tuple[Role, str | None, int | None]] = {f"uno.{UPAZILA}": (Role.UPAZILA_ADMIN, None, None)}
    for union in GOPALGANJ_SADAR:
        accounts[f"chairman.{union.slug}"] = (Role.CHAIRMAN, union.slug, None)
        accounts[f"secretary.{union.slug}"] = (Role.SECRETARY, union.slug, None)
        accounts[f"udc.{union.slug}"] = (Role.UDC, union.slug, None)
        for ward in range(1, 10):
            accounts[f"ward{ward}.{union.slug}"] = (Role.WARD_MEMBER, union.slug, ward)
    return accounts


@pytest.fixture
def settings(empty_database_url) -> Settings:
    upgrade(empty_database_url)
    return Settings(database_url=empty_database_url)


@pytest.fixture
def session_factory(settings):
    engine = make_engine(settings.db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def seeded(settings, session_factory) -> dict[str, int]:
    with session_factory() as session, session.begin():
        return seed(session, settings)


def test_first_seed_creates_everything(seeded):
    assert seeded["unions"] == 21
    assert seeded["users"] >= len(contract_accounts())
    assert seeded["portal_keys"] == 1
    assert seeded["types"] > 0 and seeded["rules"] == seeded["types"] * 21


def test_second_seed_creates_nothing(seeded, settings, session_factory):
    with session_factory() as session, session.begin():
        again = seed(session, settings)

    assert set(again.values()) == {0}
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(db.User)) == seeded["users"]


def test_the_21_unions_of_gopalganj_sadar(seeded, session_factory):
    with session_factory() as session:
        unions = session.scalars(select(db.Union)).all()

    assert len(unions) == 21
    assert {u.slug for u in unions} == {u.slug for u in GOPALGANJ_SADAR}
    assert all(u.slug.isascii() and u.slug == u.slug.lower() for u in unions)
    assert all(u.name_bn and u.name_en and u.district_en == "Gopalganj" for u in unions)
    assert "paikkandi" in {u.slug for u in unions}


def test_every_contract_account_exists_with_its_role(seeded, session_factory):
    with session_factory() as session:
        users = {u.username: u for u in session.scalars(select(db.User))}

    for username, (role, union, ward) in contract_accounts().items():
        assert username in users, username
        user = users[username]
        assert (user.role, user.union_slug, user.ward_no) == (role, union, ward), username
        assert user.active


def test_demo_password_opens_every_account(seeded, settings, session_factory):
    with session_factory() as session:
        hashes = set(session.scalars(select(db.User.password_hash)))

    assert settings.demo_password not in hashes
    assert all(verify_password(h, settings.demo_password) for h in hashes)
    assert not any(verify_password(h, "wrong-password") for h in hashes)


def test_officers_who_need_two_factors_have_the_demo_totp_secret(seeded, settings, session_factory):
    with session_factory() as session:
        users = session.scalars(select(db.User)).all()

    for user in users:
        expected = settings.demo_totp_secret if Role(user.role).needs_totp else None
        assert user.totp_secret == expected, user.username


def test_portal_key_is_stored_hashed(seeded, settings, session_factory):
    with session_factory() as session:
        rows = session.scalars(select(db.PortalKey)).all()

    assert len(rows) == 1
    stored = [str(getattr(row, column.key)) for row in rows for column in db.PortalKey.__table__.columns]
    assert not any(settings.demo_portal_key in value for value in stored)
    assert rows[0].key_hash == hashlib.sha256(settings.demo_portal_key.encode()).hexdigest()


def test_cli_seed_reports_what_it_created_then_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SONOD_")}
    env["SONOD_VAR_DIR"] = str(tmp_path / "var")

    def sonod(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "infra.cli", command], check=False, env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    assert sonod("migrate").returncode == 0
    first, second = sonod("seed"), sonod("seed")

    assert first.returncode == 0, first.stderr
    assert "21 unions" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "nothing new" in second.stdout


def test_cli_seed_before_migrate_says_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SONOD_")}
    env["SONOD_VAR_DIR"] = str(tmp_path / "var")

    run = subprocess.run([sys.executable, "-m", "infra.cli", "seed"], check=False, env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)

    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    assert "sonod migrate" in run.stderr
