"""Issue 12, item 8: a production deployment starts from an empty, migrated database with no demo data.

`sonod seed` (one shared password and TOTP secret for every account) refuses to run outside dev mode; the
administrator's commands add unions with their rules and signing key, their officers and portal keys, one by one or
a whole upazila from a CSV file, and everything they do is audited.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sonod import audit, db
from sonod.catalogue import CATALOGUE
from sonod.domain import Role
from sonod.migrate import upgrade
from sonod.security import verify_password
from sonod.settings import ROOT
from tests.stack import citizen
from tests.test_settings import production
from tests.unions_kit import audit_rows, cli, database

SAMPLE = ROOT / "docs" / "upazila-sample.csv"
UNION = ["--code", "359101", "--name-bn", "পাটগাতী", "--name-en", "Patgati", "--upazila-bn", "টুঙ্গিপাড়া",
         "--upazila-en", "Tungipara", "--district-bn", "গোপালগঞ্জ", "--district-en", "Gopalganj"]


@pytest.fixture
def fresh(empty_database_url) -> str:
    upgrade(empty_database_url)
    return empty_database_url


def count(url: str, model) -> int:
    with database(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def printed(output: str, label: str) -> list[str]:
    return [line.split()[-1] for line in output.splitlines() if line.startswith(label)]


def test_seed_refuses_outside_dev_mode_and_names_the_commands(fresh):
    from infra.cli import app

    r = CliRunner().invoke(app, ["seed"], env={**production(database_url=fresh)})
    assert r.exit_code == 1, r.output
    for command in ("sonod admin add-union", "sonod officers create", "sonod portal-keys create",
                    "sonod admin import-upazila"):
        assert command in r.output
    assert count(fresh, db.Union) == count(fresh, db.User) == 0


def test_add_union_takes_the_catalogues_rules_with_overrides_and_gets_a_signing_key(fresh):
    r = cli(fresh, "admin", "add-union", "patgati", *UNION, "--fee", "trade_licence.licence_fee=700",
            "--deadline", "warish=10", "--chain", "citizenship=secretary,chairman")
    assert r.exit_code == 0, r.output
    with database(fresh) as session:
        union = session.get(db.Union, "patgati")
        assert (union.upazila_slug, union.district_en) == ("tungipara", "Gopalganj")
        rules = {r.certificate_type: r for r in session.scalars(select(db.UnionRule))}
        assert set(rules) == {t.code for t in CATALOGUE}
        assert [line["amount"] for line in rules["trade_licence"].fee_lines] == [700, 100, 90]
        assert rules["warish"].deadline_days == 10 and rules["citizenship"].chain == ["secretary", "chairman"]
        assert session.scalar(select(db.SigningKey.kid).where(db.SigningKey.union_slug == "patgati"))
    assert [e.action for e in audit_rows(fresh, "patgati")] == ["union.create"]


@pytest.mark.parametrize("args, says", [
    (["--fee", "trade_licence.nothing=5"], "--fee trade_licence.nothing"),
    (["--fee", "trade_licence.licence_fee=-5"], "--fee trade_licence.licence_fee"),
    (["--deadline", "unicorn=3"], "--deadline unicorn"),
    (["--chain", "warish=ward_member,mayor"], "--chain warish"),
])
def test_add_union_refuses_bad_overrides_with_exit_2(fresh, args, says):
    r = cli(fresh, "admin", "add-union", "patgati", *UNION, *args)
    assert r.exit_code == 2 and says in r.output, r.output
    assert count(fresh, db.Union) == 0


def test_an_officer_takes_a_given_password(fresh):
    assert cli(fresh, "admin", "add-union", "patgati", *UNION).exit_code == 0
    from infra.cli import app

    r = CliRunner().invoke(app, ["officers", "create", "secretary.patgati", "--role", "secretary", "--union",
                                 "patgati", "--password-stdin"], input="a-long-given-password\n",
                           env={"SONOD_DATABASE_URL": fresh, "SONOD_DEV_MODE": "true"})
    assert r.exit_code == 0, r.output
    assert "password:" not in r.output and printed(r.output, "totp:")[0].startswith("otpauth://totp/")
    with database(fresh) as session:
        user = session.scalar(select(db.User).where(db.User.username == "secretary.patgati"))
        assert verify_password(user.password_hash, "a-long-given-password")


def test_the_sample_csv_imports_a_whole_upazila(fresh):
    r = cli(fresh, "admin", "import-upazila", str(SAMPLE))
    assert r.exit_code == 0, r.output
    lines = [line for line in SAMPLE.read_text().splitlines()[1:] if line.strip()]
    officers = [line for line in lines if line.split(",")[7].strip()]
    assert count(fresh, db.User) == len(officers)
    assert count(fresh, db.Union) == len({line.split(",")[4] for line in lines if line.split(",")[4]})
    with database(fresh) as session:
        users = session.scalars(select(db.User)).all()
        assert all(user.username in r.output for user in users)
        assert all((user.totp_secret is not None) == Role(user.role).needs_totp for user in users)
        assert len(printed(r.output, "totp:")) == len([user for user in users if user.totp_secret])
    assert "upazila.import" in [e.action for e in audit_rows(fresh, audit.DEPLOYMENT)]


def test_a_bad_csv_row_is_named_by_line_and_column_and_nothing_is_imported(fresh, tmp_path):
    rows = SAMPLE.read_text().splitlines()
    bad = rows[2].split(",")
    bad[8] = "mayor"
    csv = tmp_path / "bad.csv"
    csv.write_text("\n".join([*rows[:2], ",".join(bad), *rows[3:]]) + "\n")
    r = cli(fresh, "admin", "import-upazila", str(csv))
    assert r.exit_code == 2, r.output
    assert "line 3, column role" in r.output and "mayor" in r.output
    assert count(fresh, db.Union) == count(fresh, db.User) == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_a_portal_key_made_by_the_cli_submits_an_application(fresh, settings, temporal_env):
    import httpx

    from api.main import create_app

    assert cli(fresh, "admin", "add-union", "patgati", *UNION).exit_code == 0
    made = cli(fresh, "portal-keys", "create", "union-portal")
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    own = settings.model_copy(update={"database_url": fresh, "task_queue": f"boot-{uuid.uuid4().hex[:8]}",
                                      "temporal_address": temporal_env.client.service_client.config.target_host})
    app = create_app(own)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sonod.test") as http:
        r = await http.post("/api/v1/applications", json=citizen("paikkandi") | {"union": "patgati"},
                            headers={"X-API-Key": key, "Idempotency-Key": "boot-1"})
    assert r.status_code == 202, r.text


def test_each_union_has_a_code_of_its_own_which_the_administrator_sets(fresh):
    assert cli(fresh, "admin", "add-union", "patgati", *UNION).exit_code == 0
    other = [v if v != "patgati" else "dumuria" for v in UNION]
    taken = cli(fresh, "admin", "add-union", "dumuria", *other)
    assert taken.exit_code == 2 and "359101 is the code of the union patgati" in taken.output
    assert cli(fresh, "admin", "union-code", "patgati", "35x").exit_code == 2
    r = cli(fresh, "admin", "union-code", "patgati", "35910199")
    assert r.exit_code == 0 and "359101 -> 35910199" in r.output
    with database(fresh) as session:
        assert session.get(db.Union, "patgati").code == "35910199"
