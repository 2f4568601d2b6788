"""Issue #8, verification from memory (api/verification.py): what `POST /api/v1/verify` and the `/verify` page keep
of the registry must never make them say valid for a revoked certificate.

- A revocation made through this API process shows at once: in the next answer, whatever the refresher does.
- One made by another process shows within the refresher's interval, and never later than `max_age_s`, even when
  the refresher cannot read the database.
- Key rotations made elsewhere reach memory in the same way; a key ID that was unknown is looked up again after.

The app runs in-process (its lifespan, an ASGI transport); "another process" is another engine on the same
database. The certificates are signed with their union's key and put in the registry as the issuer leaves them.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from api.main import create_app
from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.keys import KeyStore
from sonod.settings import Settings
from sonod.signing import CertificateClaims, content_hash, new_signing_key, qr_text, seal_private_key, sign_payload
from tests.stack import Api
from tests.unions_kit import add_union

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "vfy-memory"
PUBLIC_URL = "http://127.0.0.1:8000"
MASTER_KEY = Settings().master_key
SEQ = itertools.count(1)


@pytest.fixture(scope="module")
def elsewhere(database_url):
    """Sessions of another process on the same database."""
    add_union(database_url, UNION)
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
async def app(database_url, elsewhere, tmp_path_factory, stack, settings):
    """An API process of its own, on the test stack's Temporal and worker (a revocation is a workflow)."""
    app = create_app(Settings(database_url=database_url, var_dir=tmp_path_factory.mktemp("var"),
                              public_url=PUBLIC_URL, master_key=MASTER_KEY, temporal_address=settings.temporal_address,
                              task_queue=settings.task_queue))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def verifier(app):
    """The app's verifier, its refresher's settings put back after the test."""
    verifier = app.state.verifier
    saved = verifier.refresh_s, verifier.max_age_s
    yield verifier
    verifier.refresh_s, verifier.max_age_s = saved
    verifier.__dict__.pop("refresh", None)  # the class's own again


@pytest.fixture(scope="module")
async def api(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http:
        yield Api(http)


def issue(sessions, signed_at: datetime | None = None, kid_and_key: tuple[str, bytes] | None = None) -> tuple[str, str]:
    """(certificate number, QR text) of a certificate of UNION, signed and in the registry."""
    no = f"{UNION.upper()}-2026-{next(SEQ):06d}"
    digest = content_hash({"certificate_no": no})
    kid, private = kid_and_key or KeyStore(sessions, MASTER_KEY).signing_key(UNION, db.utcnow())
    claims = CertificateClaims(certificate_no=no, certificate_type="citizenship", union=UNION, name_bn="মোঃ করিম",
                               name_en="Md. Karim", issued_on=db.utcnow().date(), content_hash=digest)
    qr = qr_text(f"{PUBLIC_URL}/verify", sign_payload(claims, private, kid, signed_at or db.utcnow()))
    with sessions.begin() as session:
        session.add(db.Certificate(certificate_no=no, application_id=f"vfy-{no}", union_slug=UNION, year=2026,
                                   seq=int(no[-6:]), certificate_type="citizenship", issued_at=db.utcnow(), kid=kid,
                                   qr_text=qr, content_hash=digest.hex(), submitted_by="portal:demo-portal",
                                   pdf_path=f"{UNION}/{no}.pdf"))  # issued: the PDF is never read here
    return no, qr


def revoke_elsewhere(sessions, certificate_no: str, reason: str = "revoked by another replica") -> None:
    with sessions.begin() as session:
        session.execute(update(db.Certificate).where(db.Certificate.certificate_no == certificate_no)
                        .values(revoked_at=db.utcnow(), revoked_by=f"chairman.{UNION}", revoke_reason=reason))


async def status(api: Api, qr: str) -> str:
    r = await api.http.post("/api/v1/verify", json={"qr": qr})
    assert r.status_code == 200, r.text
    return r.json()["status"]


async def revoke(api: Api, certificate_no: str, reason: str = "issued on a forged document") -> None:
    r = await api.http.post(f"/api/v1/certificates/{certificate_no}/revoke", json={"reason": reason},
                            headers=await api.as_officer(f"chairman.{UNION}"))
    assert r.status_code == 200, r.text


def refresher_reads_nothing(verifier) -> None:
    """From now on the refresher reads nothing, and memory never counts as stale: only this process's commits can
    tell the verifier of a revocation."""

    def pretend() -> None:
        verifier.synced = time.monotonic()

    verifier.refresh = pretend
    verifier.max_age_s = 3600
    pretend()


def refresher_fails(verifier) -> None:
    def fail() -> None:
        raise ConnectionError("the database is away")

    verifier.refresh = fail


# --- revocations through this process --------------------------------------------------------------------------


async def test_a_revocation_through_the_api_shows_in_the_very_next_answer(api, elsewhere, verifier):
    no, qr = await asyncio.to_thread(issue, elsewhere)
    assert await status(api, qr) == "valid"  # now in memory
    refresher_reads_nothing(verifier)

    await revoke(api, no, "issued on a forged document")

    r = await api.http.post("/api/v1/verify", json={"qr": qr})
    answer = r.json()
    assert answer["status"] == "revoked" and answer["reason"] == "revoked by the union: issued on a forged document"
    assert answer["certificate"]["revoke_reason"] == "issued on a forged document"
    page = await api.http.get("/verify", params={"c": qr.split("?c=", 1)[1]})
    assert "verdict revoked" in page.text and "verdict valid" not in page.text


async def test_no_answer_that_starts_after_the_revoke_returns_says_valid(api, elsewhere, verifier):
    no, qr = await asyncio.to_thread(issue, elsewhere)
    assert await status(api, qr) == "valid"
    await api.as_officer(f"chairman.{UNION}")  # logged in beforehand: the revoke is one request
    refresher_reads_nothing(verifier)
    revoked_at: list[float] = []
    late_valid: list[float] = []

    async def verifying() -> None:
        while not revoked_at or time.monotonic() - revoked_at[0] < 0.5:
            started = time.monotonic()
            if await status(api, qr) == "valid" and revoked_at and started > revoked_at[0]:
                late_valid.append(started - revoked_at[0])
            await asyncio.sleep(0)  # an answer from memory never waits: let the revoke's request move too

    async def revoking() -> None:
        await asyncio.sleep(0.2)
        await revoke(api, no)
        revoked_at.append(time.monotonic())

    await asyncio.gather(*(verifying() for _ in range(4)), revoking())
    assert late_valid == []


async def test_any_commit_of_a_revocation_in_this_process_shows_at_once_and_a_rollback_does_not(app, api, elsewhere,
                                                                                                 verifier):
    """The dashboard's revoke, or any other code, commits through the app's sessions: the hook sees them all."""
    kept, kept_qr = await asyncio.to_thread(issue, elsewhere)
    undone, undone_qr = await asyncio.to_thread(issue, elsewhere)
    assert [await status(api, kept_qr), await status(api, undone_qr)] == ["valid", "valid"]
    refresher_reads_nothing(verifier)

    def revoke_in_app_sessions(certificate_no: str, commit: bool) -> None:
        with app.state.sessions() as session:
            row = session.get(db.Certificate, certificate_no)
            row.revoked_at, row.revoke_reason = db.utcnow(), "through the dashboard"
            session.flush()
            session.commit() if commit else session.rollback()

    await asyncio.to_thread(revoke_in_app_sessions, undone, False)
    await asyncio.to_thread(revoke_in_app_sessions, kept, True)

    assert await status(api, kept_qr) == "revoked"
    assert await status(api, undone_qr) == "valid"


# --- revocations by other processes ----------------------------------------------------------------------------


async def test_a_revocation_made_elsewhere_shows_within_the_refresh_interval(api, elsewhere, verifier):
    verifier.refresh_s = 0.2
    await asyncio.sleep(2.5)  # the refresher's current sleep (REFRESH_S) ends: from now on it runs every 0.2 s
    no, qr = await asyncio.to_thread(issue, elsewhere)
    assert await status(api, qr) == "valid"

    await asyncio.to_thread(revoke_elsewhere, elsewhere, no)
    revoked = time.monotonic()
    while await status(api, qr) != "revoked":
        assert time.monotonic() - revoked < verifier.refresh_s + 2.0, "the refresher never brought the revocation"
        await asyncio.sleep(0.02)


async def test_when_the_refresher_cannot_read_the_database_answers_read_the_registry(api, elsewhere, verifier):
    no, qr = await asyncio.to_thread(issue, elsewhere)
    assert await status(api, qr) == "valid"
    refresher_fails(verifier)
    verifier.max_age_s = 0.3
    await asyncio.to_thread(revoke_elsewhere, elsewhere, no)

    deadline = time.monotonic() + verifier.max_age_s + 0.05
    while time.monotonic() < deadline:  # memory may still answer for max_age_s, no longer
        await asyncio.sleep(0.05)
    assert verifier.stale()
    assert await status(api, qr) == "revoked"


async def test_the_answers_read_from_the_registry_and_from_memory_are_the_same_bytes(api, elsewhere, verifier):
    no, qr = await asyncio.to_thread(issue, elsewhere)

    async def both() -> list[bytes]:
        answers = []
        for max_age in (0.0, 3600.0):  # 0: stale, so the answer reads its row; then from memory
            verifier.max_age_s = max_age
            answers.append((await api.http.post("/api/v1/verify", json={"qr": qr})).content)
        return answers

    valid = await both()
    await revoke(api, no, "the holder died")  # memory has it from this process's commit, the registry from its row
    revoked = await both()
    assert valid[0] == valid[1] and revoked[0] == revoked[1]
    assert list(json.loads(valid[1])) == ["status", "certificate", "reason"]
    assert list(json.loads(revoked[1])["certificate"])[-3:] == ["kid", "revoked_at", "revoke_reason"]


# --- keys ------------------------------------------------------------------------------------------------------


async def test_a_key_unknown_at_first_verifies_once_it_is_in_the_database(api, elsewhere, verifier):
    """A key ID found nowhere is remembered as unknown, but only until the keys change."""
    verifier.refresh_s = 0.2
    now = db.utcnow().replace(microsecond=0) - timedelta(seconds=5)
    key = new_signing_key(UNION, now)
    _no, qr = await asyncio.to_thread(issue, elsewhere, now + timedelta(seconds=1), (key.kid, key.private_raw))
    assert await status(api, qr) == "invalid"  # "unknown signing key"

    def add_key() -> None:
        with elsewhere.begin() as session:
            session.add(db.SigningKey(kid=key.kid, union_slug=UNION, public_key=key.public_raw, not_before=now,
                                      not_after=now + timedelta(seconds=2),  # never the union's current key
                                      sealed_private_key=seal_private_key(key.private_raw, base64.b64decode(MASTER_KEY),
                                                                          key.kid)))

    await asyncio.to_thread(add_key)
    added = time.monotonic()
    while await status(api, qr) != "valid":
        assert time.monotonic() - added < verifier.refresh_s + 2.5, "the new key never reached the verifier"
        await asyncio.sleep(0.05)


async def test_a_rotation_elsewhere_retires_the_old_key_in_memory(api, elsewhere, verifier):
    verifier.refresh_s = 0.2
    old_kid, old_private = await asyncio.to_thread(KeyStore(elsewhere, MASTER_KEY).signing_key, UNION, db.utcnow())
    await asyncio.to_thread(issue, elsewhere)
    retired, _ = await asyncio.to_thread(KeyStore(elsewhere, MASTER_KEY).rotate, UNION, db.utcnow())
    assert retired == old_kid
    await asyncio.sleep(0.2 + 2.0)  # one refresh
    late = datetime.now(UTC) + timedelta(seconds=2)  # what the old key would sign after its retirement
    _, qr = await asyncio.to_thread(issue, elsewhere, late, (old_kid, old_private))
    r = (await api.http.post("/api/v1/verify", json={"qr": qr})).json()
    assert r["status"] == "invalid" and "retired" in r["reason"], r
