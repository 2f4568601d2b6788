"""Migrations: up to head, down to base and up again, on PostgreSQL (when configured) and on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import inspect

from sonod.db import Base, make_engine
from sonod.migrate import downgrade, upgrade
from sonod.settings import ROOT

MODEL_TABLES = set(Base.metadata.tables)


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def schema_drift(url: str) -> list:
    """What autogenerate would still change: the migrations and the models must agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()


def assert_round_trip(url: str) -> None:
    upgrade(url)
    assert tables(url) == MODEL_TABLES

    downgrade(url)
    assert tables(url) == set()

    upgrade(url)
    assert tables(url) == MODEL_TABLES


def test_round_trip_on_the_test_database(empty_database_url):
    assert_round_trip(empty_database_url)


def test_round_trip_on_sqlite(tmp_path):
    assert_round_trip(f"sqlite:///{tmp_path / 'sonod.db'}")


def test_migrations_match_the_models(empty_database_url):
    upgrade(empty_database_url)

    assert schema_drift(empty_database_url) == []


def test_upgrade_twice_changes_nothing(empty_database_url):
    upgrade(empty_database_url)
    upgrade(empty_database_url)

    assert tables(empty_database_url) == MODEL_TABLES


@pytest.mark.parametrize("direction", ["up", "down"])
def test_cli_migrates_the_embedded_database_under_var(tmp_path, direction):
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SONOD_")}
    env["SONOD_VAR_DIR"] = str(tmp_path / "fresh" / "var")  # does not exist yet: `sonod migrate` makes it

    def sonod(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "infra.cli", "migrate", *args], check=False, env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    up = sonod()
    assert up.returncode == 0, up.stderr
    database = f"sqlite:///{tmp_path / 'fresh' / 'var' / 'sonod.db'}"
    assert tables(database) == MODEL_TABLES
    assert "revision" in up.stdout

    if direction == "down":
        down = sonod("--down")
        assert down.returncode == 0, down.stderr
        assert tables(database) == set()
