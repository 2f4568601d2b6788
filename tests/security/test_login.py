"""Issue 12, item 5: a log-in that holds under attack.

Counters are atomic, so that parallel guesses stay within the limit; the client's address is the one a trusted
proxy forwards and no other; failures lock an (account, address) pair, so that a stranger who knows a username
cannot keep its owner out; a wrongly typed code or signature is a 401, never a 500; operators and the upazila
administrator need TOTP; and every attempt is in the audit log, the deployment's chain for accounts of no union.

Each test speaks from addresses of its own (documentation ranges, through the test stack's address as a trusted
proxy), so that no test spends another's allowance.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import json

import pyotp
import pytest
from sqlalchemy import select, update
from starlette.requests import Request

from api.deps import client_ip
from sonod import audit, db
from sonod.security import hmac_sha256_hex
from sonod.seed import seed
from sonod.settings import Settings
from tests.stack import PASSWORD, TOTP_SECRET
from tests.unions_kit import audit_rows, database, union_for

pytestmark = pytest.mark.asyncio(loop_scope="session")

_hosts = itertools.count(1)


def new_address() -> str:
    """An address no other test uses (TEST-NET-3, then 2001:db8::/32 past it)."""
    n = next(_hosts)
    return f"203.0.113.{n}" if n < 255 else f"2001:db8:{n:x}::1"


@pytest.fixture
def behind_proxy(settings, monkeypatch):
    """The test client (127.0.0.1) acts as the deployment's reverse proxy."""
    monkeypatch.setattr(settings, "trusted_proxies", [ipaddress.ip_network("127.0.0.1/32")])


@pytest.fixture
async def union(request, settings, stack) -> str:
    return await union_for(request, settings.db_url, "lgn")


async def login(stack, username: str, password: str = PASSWORD, totp: str | None = None, *,
                address: str | None = None):
    form = {"username": username, "password": password} | ({"totp": totp} if totp is not None else {})
    headers = {"X-Forwarded-For": address} if address else {}
    return await stack.http.post("/api/v1/auth/token", data=form, headers=headers)


def code() -> str:
    return pyotp.TOTP(TOTP_SECRET).now()


def wrong_code() -> str:
    return f"{(int(code()) + 1) % 1_000_000:06d}"


async def audited(settings, chain: str, target: str) -> list[tuple[str, str | None]]:
    rows = await asyncio.to_thread(audit_rows, settings.db_url, chain)
    return [(e.action, e.ip) for e in rows if e.target == target]


# --- atomic counters -------------------------------------------------------------------------------------------


async def test_parallel_wrong_guesses_stay_within_the_limit(stack, settings, union, behind_proxy):
    address, guesses = new_address(), 4 * settings.login_max_failures
    answers = await asyncio.gather(*(login(stack, f"ward3.{union}", f"guess-{n}", address=address)
                                     for n in range(guesses)))
    statuses = sorted(a.status_code for a in answers)
    # each guess takes a place before its password is checked: the first ones are checked (401), the rest wait
    assert statuses == [401] * settings.login_max_failures + [423] * (guesses - settings.login_max_failures), statuses
    assert (await login(stack, f"ward3.{union}", address=address)).status_code == 423


# --- the client's address --------------------------------------------------------------------------------------


def request_from(peer: str, forwarded: str | None, trusted: list[str]) -> Request:
    class App:
        class state:
            settings = type("S", (), {"trusted_proxies": [ipaddress.ip_network(t) for t in trusted]})()

    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers, "app": App})


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "seen"), [
    ("198.51.100.7", "203.0.113.9", [], "198.51.100.7"),                      # no proxy configured
    ("198.51.100.7", "203.0.113.9", ["10.0.0.0/8"], "198.51.100.7"),         # the peer is not the proxy
    ("10.0.0.1", "203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
    ("10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2", ["10.0.0.0/8"], "203.0.113.9"),  # right-most untrusted hop
    ("10.0.0.1", "203.0.113.9,10.0.0.3 , 10.0.0.2", ["10.0.0.0/8"], "203.0.113.9"),
    ("10.0.0.1", "10.0.0.3, 10.0.0.2", ["10.0.0.0/8"], "10.0.0.3"),           # all proxies: the first
    ("10.0.0.1", "", ["10.0.0.0/8"], "10.0.0.1"),
    ("10.0.0.1", "not-an-address, 203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
    ("10.0.0.1", "203.0.113.9, garbage", ["10.0.0.0/8"], "10.0.0.1"),       # the proxy's own hop is unreadable
    ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
])
async def test_client_ip_believes_only_trusted_proxies(peer, forwarded, trusted, seen):
    assert client_ip(request_from(peer, forwarded, trusted)) == seen


async def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(stack, settings, union):
    assert settings.trusted_proxies == []
    assert (await login(stack, f"udc.{union}", "guess", address="198.51.100.66")).status_code == 401
    assert (await login(stack, f"udc.{union}", address="198.51.100.66")).status_code == 200
    assert await audited(settings, union, f"udc.{union}") == [("auth.login_failed", "127.0.0.1"),
                                                               ("auth.login", "127.0.0.1")]


async def test_a_forwarded_address_from_a_trusted_proxy_is_used(stack, settings, union, behind_proxy):
    client = new_address()
    assert (await login(stack, f"udc.{union}", address=f"198.51.100.1, {client}")).status_code == 200
    assert await audited(settings, union, f"udc.{union}") == [("auth.login", client)]


# --- per account and per address -------------------------------------------------------------------------------


async def test_a_strangers_failures_from_other_addresses_do_not_lock_the_owner_out(stack, settings, union,
                                                                                    behind_proxy):
    owner, username = new_address(), f"ward4.{union}"
    strangers = [new_address() for _ in range(-(-settings.login_account_max_failures
                                                // settings.login_max_failures))]
    for stranger in strangers:
        for _ in range(settings.login_max_failures):
            assert (await login(stack, username, "guess", address=stranger)).status_code == 401
        locked = await login(stack, username, address=stranger)
        assert locked.status_code == 423 and "this address" in locked.json()["detail"]
    # the account has seen its ceiling of failures: an address that failed once waits, the owner's does not
    once = new_address()
    assert (await login(stack, username, "guess", address=once)).status_code == 401
    slowed = await login(stack, username, address=once)
    assert slowed.status_code == 429 and "this address" in slowed.json()["detail"]
    assert (await login(stack, username, address=owner)).status_code == 200


async def test_one_address_guessing_across_accounts_meets_a_ceiling(stack, settings, union, behind_proxy,
                                                                      monkeypatch):
    monkeypatch.setattr(settings, "login_address_max_failures", 6)
    address, usernames = new_address(), [f"ward{n}.{union}" for n in range(1, 10)]
    for username in usernames[:6]:
        assert (await login(stack, username, "guess", address=address)).status_code == 401
    refused = await login(stack, usernames[6], address=address)  # the right password, but from there
    assert refused.status_code == 429 and "address" in refused.json()["detail"]
    assert (await login(stack, usernames[6], address=new_address())).status_code == 200


# --- wrongly typed codes and signatures ------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["१२३४५६", "é12345", "12345\u200b6", "1" * 40, "12 34", "      ", "12-34-56"])
async def test_a_wrongly_typed_code_with_the_right_password_is_a_wrong_code(stack, union, behind_proxy, typed):
    address = new_address()
    wrong = await login(stack, f"secretary.{union}", totp=wrong_code(), address=address)
    typo = await login(stack, f"secretary.{union}", totp=typed, address=address)
    assert typo.status_code == wrong.status_code == 401 and typo.json() == wrong.json()


async def test_the_right_code_in_bengali_digits_or_with_a_space_is_accepted(stack, union, behind_proxy):
    right = code()
    bengali = right.translate(str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"))
    assert (await login(stack, f"secretary.{union}", totp=bengali, address=new_address())).status_code == 200
    spaced = f" {right[:3]} {right[3:]} "
    assert (await login(stack, f"secretary.{union}", totp=spaced, address=new_address())).status_code == 200


@pytest.mark.parametrize("signature", ["é" * 64, "\xff" * 64, "zz" * 32, "ab" * 300])
async def test_a_malformed_payment_signature_is_401(stack, signature):
    body = json.dumps({"application_id": "A000000-00000000", "amount": 100, "currency": "BDT",
                       "transaction_id": "t-1"}).encode()
    r = await stack.http.post("/api/v1/payments/callback", content=body, headers={
        "Content-Type": "application/json", "X-Signature": signature.encode("latin-1")})
    assert r.status_code == 401, r.text
    right = await stack.http.post("/api/v1/payments/callback", content=body, headers={
        "Content-Type": "application/json", "X-Signature": hmac_sha256_hex("not-the-secret", body)})
    assert right.status_code == 401 and right.json() == r.json()


# --- two factors for the deployment's and the upazila's officers -----------------------------------------------


@pytest.mark.parametrize("username", ["operator", "uno.gopalganj-sadar"])
async def test_operators_and_the_upazila_administrator_need_totp(stack, behind_proxy, username):
    address = new_address()
    missing = await login(stack, username, address=address)
    assert missing.status_code == 401 and "totp" in missing.json()["detail"]
    assert (await login(stack, username, totp=wrong_code(), address=address)).status_code == 401
    assert (await login(stack, username, totp=code(), address=address)).status_code == 200


def seed_again_after_totp_was_needed(url: str) -> list[str | None]:
    """The demo database as it was before issue 12 (no TOTP for these two), seeded again: their secrets."""
    names = ["operator", "udc.paikkandi", "uno.gopalganj-sadar"]
    with database(url) as session:
        session.execute(update(db.User).where(db.User.username.in_(names)).values(totp_secret=None))
    with database(url) as session:
        seed(session, Settings(database_url=url))
    with database(url) as session:
        return list(session.scalars(select(db.User.totp_secret).where(db.User.username.in_(names))
                                    .order_by(db.User.username)))


async def test_seeding_again_enrols_demo_officers_seeded_before_they_needed_totp(database_url):
    assert await asyncio.to_thread(seed_again_after_totp_was_needed, database_url) == [TOTP_SECRET, None, TOTP_SECRET]


# --- the audit log ---------------------------------------------------------------------------------------------


async def test_log_ins_of_accounts_of_no_union_are_in_the_deployments_chain(stack, settings, behind_proxy):
    address = new_address()
    assert (await login(stack, "operator", "guess", code(), address=address)).status_code == 401
    assert (await login(stack, "operator", totp=code(), address=address)).status_code == 200
    assert (await audited(settings, audit.DEPLOYMENT, "operator"))[-2:] == [("auth.login_failed", address),
                                                                            ("auth.login", address)]


async def test_an_unknown_username_is_audited_in_the_deployments_chain(stack, settings, behind_proxy):
    address, unknown = new_address(), f"nobody-{next(_hosts)}." + "x" * 80
    assert (await login(stack, unknown[:80], "guess", address=address)).status_code == 401
    assert await audited(settings, audit.DEPLOYMENT, unknown[:80]) == [("auth.login_failed", address)]


async def test_failures_locks_and_refusals_are_audited(stack, settings, union, behind_proxy):
    address, username = new_address(), f"ward5.{union}"
    for _ in range(settings.login_max_failures):
        await login(stack, username, "guess", address=address)
    assert (await login(stack, username, address=address)).status_code == 423
    actions = [action for action, _ in await audited(settings, union, username)]
    assert actions == ["auth.login_failed"] * (settings.login_max_failures - 1) + ["auth.locked", "auth.refused"]
