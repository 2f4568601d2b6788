"""Issue #5 on the real stack: officers' log-in (TOTP, lock-out, log-out, disabled accounts), delegation by date
range, portal keys rotated by the CLI, and the audit trail of officers' actions.

Each test works in a union of its own (`ofc-*`), so that ending sessions or delegating never touches another test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import update

from sonod import db
from sonod.domain import Status
from tests.stack import PASSWORD, TOTP_SECRET
from tests.unions_kit import (
    acli,
    add_portal,
    add_union,
    audit_rows,
    bearer,
    database,
    person,
    portal,
    token,
    union_for,
    wait_for,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

DHAKA = dt.timezone(dt.timedelta(hours=6))


@pytest.fixture
async def union(request, settings, stack) -> str:
    """A fresh union for this test, named after it."""
    return await union_for(request, settings.db_url, "ofc")


async def login(stack, username: str, password: str = PASSWORD, totp: str | None = None):
    form = {"username": username, "password": password} | ({"totp": totp} if totp is not None else {})
    return await stack.http.post("/api/v1/auth/token", data=form)


async def me(stack, access_token: str):
    return await stack.http.get("/api/v1/auth/me", headers=bearer(access_token))


async def awaiting_decision(stack, union: str, index: int = 0, caller: dict | None = None) -> str:
    """An application submitted by the demo portal, or by an officer (`caller`: their headers)."""
    r = await stack.http.post("/api/v1/applications", json=person(index, union=union), headers=caller or portal())
    assert r.status_code == 202, r.text
    app_id = r.json()["application_id"]
    await wait_for(stack.http, app_id, Status.AWAITING_DECISION, headers=caller or portal())
    return app_id


# --- log-in ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["chairman", "secretary", "acting"])
async def test_roles_with_two_factors_need_the_right_totp_code(stack, union, who):
    username = f"{who}.{union}"
    missing = await login(stack, username)
    assert missing.status_code == 401 and "totp" in missing.json()["detail"]
    wrong_code = f"{(int(pyotp.TOTP(TOTP_SECRET).now()) + 1) % 1_000_000:06d}"
    assert (await login(stack, username, totp=wrong_code)).status_code == 401
    assert (await login(stack, username, "wrong-password", pyotp.TOTP(TOTP_SECRET).now())).status_code == 401
    assert (await login(stack, username, totp=pyotp.TOTP(TOTP_SECRET).now())).status_code == 200


async def test_a_missing_totp_code_says_nothing_of_the_password(stack, union):
    right = await login(stack, f"chairman.{union}")
    wrong = await login(stack, f"chairman.{union}", "not-the-password")
    assert right.status_code == wrong.status_code == 401 and right.json() == wrong.json()


async def test_an_administrator_needs_totp_too(stack):
    assert (await login(stack, "admin.gopalganj-sadar")).status_code == 401
    assert (await login(stack, "admin.gopalganj-sadar", totp=pyotp.TOTP(TOTP_SECRET).now())).status_code == 200


async def test_five_failed_log_ins_lock_the_account_for_the_configured_minutes(stack, settings, union):
    username = f"ward1.{union}"
    for _ in range(settings.login_max_failures):
        assert (await login(stack, username, "guess")).status_code == 401
    before = db.utcnow()
    locked = await login(stack, username)
    assert locked.status_code == 423, locked.text
    locked_until = await asyncio.to_thread(pass_the_lock_out, settings.db_url, username, before)
    minutes = (locked_until - before).total_seconds() / 60
    assert settings.login_lockout_minutes - 1 < minutes <= settings.login_lockout_minutes
    assert (await login(stack, username)).status_code == 200
    actions = [e.action for e in await asyncio.to_thread(audit_rows, settings.db_url, union) if e.target == username]
    assert actions == ["auth.login_failed"] * 4 + ["auth.locked", "auth.refused", "auth.login"]


def pass_the_lock_out(url: str, username: str, now: dt.datetime) -> dt.datetime:
    """As if the lock-out's minutes had passed for log-ins from this machine (the lock is on the account and this
    address, api/limits.py); returns when the lock-out was to end."""
    with database(url) as session:
        pair = session.get(db.LoginThrottle, ("pair", f"{username}|127.0.0.1"))
        locked_until, pair.locked_until = pair.locked_until, now - dt.timedelta(seconds=1)
        pair.window_start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # its window long over
        return locked_until


def edit(url: str, statement) -> None:
    with database(url) as session:
        session.execute(statement)


async def test_four_failures_then_a_success_do_not_lock(stack, union):
    username = f"ward2.{union}"
    for _ in range(4):
        assert (await login(stack, username, "guess")).status_code == 401
    assert (await login(stack, username)).status_code == 200
    for _ in range(4):
        assert (await login(stack, username, "guess")).status_code == 401
    assert (await login(stack, username)).status_code == 200


async def test_logout_ends_every_session_of_the_officer(stack, union):
    first, second = await token(stack.http, f"udc.{union}"), await token(stack.http, f"udc.{union}")
    other = await token(stack.http, f"ward3.{union}")
    assert (await me(stack, first)).status_code == (await me(stack, second)).status_code == 200
    assert (await stack.http.post("/api/v1/auth/logout", headers=bearer(second))).status_code == 204
    assert (await me(stack, first)).status_code == 401
    assert (await me(stack, second)).status_code == 401
    assert (await me(stack, other)).status_code == 200
    assert (await me(stack, await token(stack.http, f"udc.{union}"))).status_code == 200


async def test_a_disabled_officers_token_is_refused(stack, settings, union):
    access = await token(stack.http, f"ward4.{union}")
    await asyncio.to_thread(edit, settings.db_url,
                            update(db.User).where(db.User.username == f"ward4.{union}").values(active=False))
    r = await me(stack, access)
    assert r.status_code == 401 and "disabled" in r.json()["detail"]
    assert (await login(stack, f"ward4.{union}")).status_code == 401


async def test_the_cli_disables_an_officer_and_ends_their_sessions(stack, settings, union):
    access = await token(stack.http, f"secretary.{union}")
    app_id = await awaiting_decision(stack, union)
    r = await acli(settings.db_url, "officers", "disable", f"secretary.{union}")
    assert r.exit_code == 0 and "ended 1 session(s)" in r.output, r.output
    assert (await me(stack, access)).status_code == 401
    cancel = await stack.http.post(f"/api/v1/applications/{app_id}/cancel", headers=bearer(access),
                                   json={"reason": "after being disabled"})
    assert cancel.status_code == 401
    assert (await login(stack, f"secretary.{union}", totp=pyotp.TOTP(TOTP_SECRET).now())).status_code == 401


async def test_an_officer_created_by_the_cli_logs_in_with_what_it_printed(stack, settings, union):
    r = await acli(settings.db_url, "officers", "create", f"chairman2.{union}", "--role", "chairman",
                   "--union", union)
    assert r.exit_code == 0, r.output
    password = re.search(r"^password: (\S+)$", r.output, re.MULTILINE).group(1)
    secret = parse_qs(urlparse(re.search(r"^totp: (\S+)$", r.output, re.MULTILINE).group(1)).query)["secret"][0]
    assert (await login(stack, f"chairman2.{union}", password, pyotp.TOTP(TOTP_SECRET).now())).status_code == 401
    ok = await login(stack, f"chairman2.{union}", password, pyotp.TOTP(secret).now())
    assert ok.status_code == 200, ok.text
    profile = (await me(stack, ok.json()["access_token"])).json()
    assert (profile["role"], profile["union"]) == ("chairman", union)


# --- portal keys -----------------------------------------------------------------------------------------------


async def test_a_rotated_portal_key_stops_working_and_the_new_one_works(stack, settings, union):
    await asyncio.to_thread(add_portal, settings.db_url, "ofc-portal", "ofc-portal-old-key")
    assert (await stack.http.post("/api/v1/applications", json=person(1, union=union),
                                  headers=portal("ofc-portal-old-key"))).status_code == 202
    r = await acli(settings.db_url, "portal-keys", "rotate", "ofc-portal")
    assert r.exit_code == 0, r.output
    new_key = r.output.strip().splitlines()[-1]
    old = await stack.http.post("/api/v1/applications", json=person(2, union=union),
                                headers=portal("ofc-portal-old-key"))
    assert old.status_code == 401, old.text
    assert (await stack.http.post("/api/v1/applications", json=person(2, union=union),
                                  headers=portal(new_key))).status_code == 202


# --- delegation by date range ----------------------------------------------------------------------------------


def days_from_today(start: int, end: int) -> tuple[str, str]:
    today = dt.datetime.now(DHAKA).date()
    return (f"{today + dt.timedelta(days=start):%Y-%m-%d}", f"{today + dt.timedelta(days=end):%Y-%m-%d}")


async def delegate(settings, username: str, union: str, start: int, end: int) -> None:
    first, last = days_from_today(start, end)
    r = await acli(settings.db_url, "officers", "delegate", username, "--as", "chairman", "--union", union,
                   "--from", first, "--to", last)
    assert r.exit_code == 0, r.output


async def test_the_acting_chairman_decides_only_within_the_delegations_dates(stack, settings, union):
    acting = f"acting.{union}"
    app_id = await awaiting_decision(stack, union)
    assert (await stack.decide(acting, app_id)).status_code == 403  # no delegation
    await delegate(settings, acting, union, -10, -1)                  # ended yesterday
    await delegate(settings, acting, union, 1, 5)                     # starts tomorrow
    r = await stack.decide(acting, app_id)
    assert r.status_code == 403, r.text
    await delegate(settings, acting, union, 0, 0)                     # today only
    r = await stack.decide(acting, app_id)
    assert r.status_code == 200, r.text
    await stack.wait_for(app_id, Status.ISSUED)


async def test_a_delegated_acting_chairman_revokes_and_the_escalation_is_not_needed(stack, settings, union):
    app_id = await awaiting_decision(stack, union)
    await delegate(settings, f"acting.{union}", union, -1, 1)
    assert (await stack.decide(f"acting.{union}", app_id)).status_code == 200
    app = await stack.wait_for(app_id, Status.ISSUED)
    assert not any(e["note"].startswith("escalated") for e in app["events"])
    r = await stack.http.post(f"/api/v1/certificates/{app['certificate_no']}/revoke", json={"reason": "duplicate"},
                              headers=await stack.as_officer(f"acting.{union}"))
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text


async def test_a_delegation_holds_only_in_its_own_union(stack, settings, union):
    """The upazila's administrator, delegated in one union, is no chairman in the others."""
    elsewhere = f"{union}-b"
    await asyncio.to_thread(add_union, settings.db_url, elsewhere)
    await delegate(settings, "admin.gopalganj-sadar", union, -1, 1)
    app_id = await awaiting_decision(stack, elsewhere)
    assert (await stack.decide("admin.gopalganj-sadar", app_id)).status_code == 403
    here = await awaiting_decision(stack, union)
    assert (await stack.decide("admin.gopalganj-sadar", here)).status_code == 200


async def test_an_administrator_without_delegation_does_not_revoke(stack, union):
    app_id = await awaiting_decision(stack, union)
    assert (await stack.decide(f"chairman.{union}", app_id)).status_code == 200
    cert = (await stack.wait_for(app_id, Status.ISSUED))["certificate_no"]
    r = await stack.http.post(f"/api/v1/certificates/{cert}/revoke", json={"reason": "duplicate"},
                              headers=await stack.as_officer("admin.gopalganj-sadar"))
    assert r.status_code == 403, r.text


# --- the audit trail -------------------------------------------------------------------------------------------


async def test_officers_actions_are_in_the_unions_hash_chain_with_who_what_when_and_ip(stack, settings, union):
    started = db.utcnow()
    chairman = await token(stack.http, f"chairman.{union}", totp_secret=TOTP_SECRET)
    decided = await awaiting_decision(stack, union, 0)
    r = await stack.http.post(f"/api/v1/applications/{decided}/decision", headers=bearer(chairman),
                              json={"decision": "approve", "reason": "papers in order"})
    assert r.status_code == 200, r.text
    cert = (await stack.wait_for(decided, Status.ISSUED))["certificate_no"]
    r = await stack.http.post(f"/api/v1/certificates/{cert}/revoke", headers=bearer(chairman),
                              json={"reason": "issued in error"})
    assert r.status_code == 200, r.text
    udc = await token(stack.http, f"udc.{union}")
    cancelled = await awaiting_decision(stack, union, 1, bearer(udc))  # the applicant's side cancels its own
    r = await stack.http.post(f"/api/v1/applications/{cancelled}/cancel", headers=bearer(udc),
                              json={"reason": "the applicant withdrew"})
    assert r.status_code == 200, r.text
    assert (await stack.http.post("/api/v1/auth/logout", headers=bearer(udc))).status_code == 204

    rows = await asyncio.to_thread(audit_rows, settings.db_url, union)
    got = [(e.actor, e.role, e.action, e.target) for e in rows]
    assert got == [
        (f"chairman.{union}", "chairman", "auth.login", f"chairman.{union}"),
        (f"chairman.{union}", "chairman", "decision.approve", decided),
        ("sonod", "operator", "certificate.issue", decided),  # the workflow's own
        (f"chairman.{union}", "chairman", "certificate.revoke", cert),
        (f"udc.{union}", "udc", "auth.login", f"udc.{union}"),
        (f"udc.{union}", "udc", "application.cancel", cancelled),
        (f"udc.{union}", "udc", "auth.logout", f"udc.{union}"),
    ]
    assert all(started <= e.at <= db.utcnow() for e in rows)
    assert all(e.ip == ("127.0.0.1" if e.actor != "sonod" else None) for e in rows), [(e.actor, e.ip) for e in rows]
    assert {k: rows[1].detail[k] for k in ("reason", "step")} == {"reason": "papers in order", "step": "chairman"}
    assert [e.seq for e in rows] == list(range(1, len(rows) + 1))
    verified = await acli(settings.db_url, "audit", "verify", union)
    assert verified.exit_code == 0 and f"intact: {len(rows)} entries" in verified.output, verified.output


async def test_audit_verify_on_the_live_database_finds_an_edited_decision(stack, settings, union):
    app_id = await awaiting_decision(stack, union)
    assert (await stack.decide(f"chairman.{union}", app_id, "reject", "not a resident")).status_code == 200
    assert (await acli(settings.db_url, "audit", "verify", union)).exit_code == 0
    await asyncio.to_thread(edit, settings.db_url, update(db.AuditEntry).where(
        db.AuditEntry.union_slug == union, db.AuditEntry.action == "decision.reject").values(action="decision.approve"))
    r = await acli(settings.db_url, "audit", "verify", union)
    assert r.exit_code == 1 and "was edited" in r.output, r.output


@pytest.mark.parametrize("dev_mode", [False, True])
async def test_outside_dev_mode_a_totp_code_works_once(stack, settings, union, dev_mode):
    """Outside dev mode a replayed code is refused, even a right one within its 30 s; the demo allows reuse."""
    from api.errors import Unauthorized
    from api.services import sessions as log_ins

    real = settings.model_copy(update={"dev_mode": dev_mode})
    engine = db.make_engine(settings.db_url)
    sessions = db.make_session_factory(engine)
    code = pyotp.TOTP(TOTP_SECRET).now()

    def log_in(totp: str) -> bool:
        with sessions() as session:
            try:
                log_ins.log_in(session, real, f"chairman.{union}", PASSWORD, totp, "192.0.2.7")
            except Unauthorized:
                session.commit()
                return False
            session.commit()
            return True

    assert await asyncio.to_thread(log_in, code)
    assert await asyncio.to_thread(log_in, code) is dev_mode
    # the next step's code (one step of clock drift is allowed) still works once
    later = pyotp.TOTP(TOTP_SECRET).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    assert await asyncio.to_thread(log_in, later)
    assert await asyncio.to_thread(log_in, code) is dev_mode  # an older step after a newer one: refused too
    engine.dispose()
