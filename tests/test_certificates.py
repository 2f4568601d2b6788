"""Issue #4, certificates that cannot be forged: every type issued on the real stack and verified from its printed
QR; tampering, key rotation, revocation and the offline verifier (the /verify page: test_verify_page.py).

Each test works in a union of its own (`crt-…`, made with the demo accounts and Paikkandi's rules), so that rotating
a key or revoking a certificate never touches another test's work. The applicants are real people of the synthetic
NID registry.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import zlib
from datetime import UTC, date, datetime
from pathlib import Path

import cbor2
import pytest
from sqlalchemy import select

from activities.templates.samples import DECEASED, warish_heirs
from sonod import db
from sonod.bengali import format_date_bn
from sonod.catalogue import CATALOGUE
from sonod.db import make_engine, make_session_factory
from sonod.domain import Status
from sonod.keys import KeyStore
from sonod.signing import (
    C_NAME_BN,
    C_NO,
    HDR_ALG,
    HDR_KID,
    CertificateClaims,
    new_signing_key,
    qr_text,
    revocation_hash,
    sign_payload,
)
from tests.certificates_kit import (
    Issued,
    application,
    claims_with,
    cose_of,
    download,
    issue,
    own_union,
    payload_of,
    revoke,
    run,
    sonod_env,
    verify,
    with_payload,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

SONOD = Path(sys.executable).parent / "sonod"


# --- helpers ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sessions(settings):
    engine = make_engine(settings.db_url)
    yield make_session_factory(engine)
    engine.dispose()


# --- every type of the catalogue ----------------------------------------------------------------------------------


async def test_every_certificate_type_is_issued_printed_and_verifies_from_its_qr(stack, settings, tmp_path):
    union = await own_union(settings, "crt-types")
    at_once = asyncio.Semaphore(10)  # a busy union's morning, not 39 at one instant on a CI machine's 2 cores

    async def one(i: int, code: str):
        async with at_once:
            return await issue(stack, settings, tmp_path, union, i, code)

    issued = await asyncio.gather(*(one(i, kind.code) for i, kind in enumerate(CATALOGUE)))
    assert len(issued) == len(CATALOGUE) >= 36

    verdicts = await asyncio.gather(*(verify(stack, c.qr) for c in issued))
    for kind, c, verdict in zip(CATALOGUE, issued, verdicts, strict=True):
        assert c.person["name_bn"] in c.text, kind.code
        assert c.certificate_no in c.text, kind.code
        assert c.qr.startswith(f"{settings.public_url}/verify?c="), kind.code
        assert verdict["status"] == "valid", (kind.code, verdict)
        shown = verdict["certificate"]
        assert (shown["certificate_no"], shown["certificate_type"], shown["union"]) == (c.certificate_no, kind.code,
                                                                                        union)
        assert shown["name_bn"] == c.person["name_bn"] and shown["name_en"] == c.person["name_en"]
        assert c.person["nid"] not in json.dumps(verdict)
        # the date the QR vouches for is the date printed on the paper (Bangladesh's, not UTC's)
        assert f"তারিখ: {format_date_bn(date.fromisoformat(shown['issued_on']))}" in c.text, kind.code


# --- forgeries and garbage ----------------------------------------------------------------------------------------


FORGERY_UNION = "crt-forgery"
FORGED_NO = f"{FORGERY_UNION.upper()}-2026-999999"


def forged_claims(certificate_no: str) -> CertificateClaims:
    return CertificateClaims(certificate_no=certificate_no, certificate_type="citizenship", union=FORGERY_UNION,
                             name_bn="মোঃ জাল ব্যক্তি", name_en="Md. Forger", issued_on=date.today(),
                             content_hash=bytes(16))


@pytest.fixture(scope="module")
async def genuine(stack, settings, tmp_path_factory) -> Issued:
    union = await own_union(settings, FORGERY_UNION)
    return await issue(stack, settings, tmp_path_factory.mktemp("genuine"), union, 12)


async def test_the_genuine_certificate_verifies(stack, genuine):
    assert (await verify(stack, genuine.qr))["status"] == "valid"


@pytest.mark.parametrize("where", [0, 1, 2, 7, 0.25, 0.5, 0.75, -3, -2, -1])
async def test_a_flipped_character_anywhere_in_the_payload_makes_it_invalid(stack, genuine, where):
    payload = genuine.payload
    i = int(where * len(payload)) if isinstance(where, float) else where % len(payload)
    for replacement in ("A", "Q", "7"):
        if payload[i] != replacement:
            tampered = payload[:i] + replacement + payload[i + 1:]
            verdict = await verify(stack, with_payload(genuine, tampered))
            assert verdict["status"] == "invalid" and verdict["certificate"] is None, (i, verdict)


TAMPERINGS = {
    "holder's name": lambda p: claims_with(p, C_NAME_BN, "মোঃ জাল ব্যক্তি"),
    "certificate number": lambda p: claims_with(p, C_NO, FORGED_NO),
    "signature": lambda p: [p[0], p[1], p[2], bytes([p[3][0] ^ 1]) + p[3][1:]],
    "kid": lambda p: _header_with(p, HDR_KID, b"paikkandi-2026-000000"),
    "algorithm": lambda p: _header_with(p, HDR_ALG, -7),
    "signature dropped": lambda p: [p[0], p[1], p[2], b""],
    "claims swapped for an empty map": lambda p: [p[0], p[1], cbor2.dumps({}), p[3]],
}



def _header_with(parts: list, label, value) -> list:
    header = cbor2.loads(parts[0])
    header[label] = value
    return [cbor2.dumps(header), parts[1], parts[2], parts[3]]


@pytest.mark.parametrize("region", list(TAMPERINGS))
async def test_a_re_encoded_payload_with_an_edited_region_is_invalid(stack, genuine, region):
    forged = payload_of(TAMPERINGS[region](cose_of(genuine.payload)))
    verdict = await verify(stack, with_payload(genuine, forged))
    assert verdict["status"] == "invalid" and verdict["certificate"] is None, verdict


async def test_a_certificate_signed_with_an_unknown_key_is_invalid(stack, genuine):
    stranger = new_signing_key(FORGERY_UNION, datetime.now(UTC))
    claims = forged_claims(genuine.certificate_no)
    forged = sign_payload(claims, stranger.private_raw, stranger.kid, datetime.now(UTC))
    verdict = await verify(stack, with_payload(genuine, forged))
    assert verdict["status"] == "invalid" and "unknown signing key" in verdict["reason"], verdict


async def test_an_attacker_key_under_the_unions_kid_is_invalid(stack, genuine):
    kid = cbor2.loads(cose_of(genuine.payload)[0])[HDR_KID].decode()
    stranger = new_signing_key(FORGERY_UNION, datetime.now(UTC))
    claims = forged_claims(genuine.certificate_no)
    forged = sign_payload(claims, stranger.private_raw, kid, datetime.now(UTC))
    verdict = await verify(stack, with_payload(genuine, forged))
    assert verdict["status"] == "invalid" and "signature does not match" in verdict["reason"], verdict


async def test_a_genuinely_signed_certificate_missing_from_the_registry_is_invalid(stack, settings, sessions, genuine):
    """Defence in depth: even the union's own key cannot vouch for a number the registry never issued."""
    kid, private = await asyncio.to_thread(KeyStore(sessions, settings.master_key).signing_key, FORGERY_UNION,
                                           datetime.now(UTC))
    claims = forged_claims(FORGED_NO)
    forged = qr_text(f"{settings.public_url}/verify", sign_payload(claims, private, kid, datetime.now(UTC)))
    verdict = await verify(stack, forged)
    assert verdict["status"] == "invalid" and "registry" in verdict["reason"], verdict


GARBAGE = {
    "empty": "",
    "blank": "   \n\t ",
    "a word": "hello",
    "bengali": "সনদটি বৈধ",
    "nul bytes": "\x00\x00\x00",
    "the bare page": "http://127.0.0.1:8000/verify",
    "an empty c": "http://127.0.0.1:8000/verify?c=",
    "two c": "http://127.0.0.1:8000/verify?c=AAAA&c=BBBB",
    "lowercase": "http://127.0.0.1:8000/verify?c=" + "abcdefgh" * 20,
    "not base32": "http://127.0.0.1:8000/verify?c=" + "01890189" * 20,
    "base32 of nothing": "http://127.0.0.1:8000/verify?c=" + "A" * 400,
    "a zip bomb": "http://127.0.0.1:8000/verify?c="
                  + base64.b32encode(zlib.compress(b"\x00" * 2_000_000, 9)).decode().rstrip("="),
    "json": '{"qr": "x"}',
    "4096 base32": "Q" * 4096,
    "4097 base32": "Q" * 4097,
    "8000 characters": "A" * 8000,
}


@pytest.mark.parametrize("name", list(GARBAGE))
async def test_garbage_is_invalid_never_an_error(stack, name):
    verdict = await verify(stack, GARBAGE[name])
    assert verdict["status"] == "invalid" and verdict["certificate"] is None and verdict["reason"], verdict


async def test_a_truncated_payload_is_invalid(stack, genuine):
    for keep in (1, 8, len(genuine.payload) // 2, len(genuine.payload) - 8, len(genuine.payload) - 1):
        verdict = await verify(stack, with_payload(genuine, genuine.payload[:keep]))
        assert verdict["status"] == "invalid", (keep, verdict)
    verdict = await verify(stack, with_payload(genuine, genuine.payload + "AAAAAAAA"))
    assert verdict["status"] == "invalid", verdict


@pytest.mark.parametrize("body", [{"qr": "A" * 8001}, {"qr": "A" * 1_000_000}, {}, {"qr": 42}, {"qr": None}, []])
async def test_an_over_long_or_malformed_body_is_refused_with_422(stack, body):
    r = await stack.http.post("/api/v1/verify", json=body)
    assert r.status_code == 422, r.text


async def test_the_verify_page_answers_garbage_with_a_page_never_an_error(stack):
    for name, text in GARBAGE.items():
        r = await stack.http.get("/verify", params={"qr": text})
        if "\x00" in text:  # a NUL in a query is refused before any page reads it
            assert r.status_code == 422, (name, r.status_code)
            continue
        assert r.status_code == 200, (name, r.status_code)
        if text.strip():
            assert "বৈধ নয়" in r.text, name
    assert (await stack.http.get("/verify", params={"c": "A" * 9000})).status_code == 422


# --- key rotation -------------------------------------------------------------------------------------------------


async def jwks_of(stack) -> dict[str, dict]:
    r = await stack.http.get("/.well-known/jwks.json")
    assert r.status_code == 200
    return {key["kid"]: key for key in r.json()["keys"]}


def kid_of(issued: Issued) -> str:
    return cbor2.loads(cose_of(issued.payload)[0])[HDR_KID].decode()


async def test_after_sonod_keys_rotate_old_certificates_verify_and_new_ones_carry_the_new_kid(stack, settings,
                                                                                            tmp_path):
    union = await own_union(settings, "crt-rotate")
    before = await issue(stack, settings, tmp_path, union, 0)
    old_kid = kid_of(before)

    _, out = await run(SONOD, "keys", "rotate", union, env=sonod_env(settings))
    assert old_kid in out

    after = await issue(stack, settings, tmp_path, union, 1)
    new_kid = kid_of(after)
    assert new_kid != old_kid and new_kid.startswith(f"{union}-") and new_kid in out
    assert (await verify(stack, before.qr))["status"] == "valid"
    assert (await verify(stack, after.qr))["certificate"]["kid"] == new_kid

    keys = await jwks_of(stack)
    assert keys[old_kid]["exp"] >= keys[old_kid]["nbf"] and keys[old_kid]["union"] == union
    assert "exp" not in keys[new_kid] and keys[new_kid]["nbf"] >= keys[old_kid]["exp"]
    assert [kid for kid, key in keys.items() if key["union"] == union and "exp" not in key] == [new_kid]


async def test_rotating_an_unknown_union_fails_with_one_line(settings):
    code, _ = await run(SONOD, "keys", "rotate", "atlantis", env=sonod_env(settings), check=False)
    assert code != 0


async def pending_attempt(temporal_env, application_id: str) -> int:
    description = await temporal_env.client.get_workflow_handle(application_id).describe()
    return max((a.attempt for a in description.raw_description.pending_activities), default=0)


async def test_a_signing_retried_after_a_rotation_still_verifies(stack, settings, sessions, temporal_env, tmp_path):
    """The workflow fixes the issue time before signing; a retry after a rotation signs with the new key, which
    must not make the certificate look signed before that key existed."""
    union = await own_union(settings, "crt-retry")
    blocker = settings.pdf_dir / union  # a file where the union's PDF folder goes: storing fails, the activity retries
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    try:
        app_id = await stack.submitted(application(union, 15))
        await stack.wait_for(app_id, Status.AWAITING_DECISION)
        assert (await stack.decide(f"chairman.{union}", app_id)).status_code == 200
        await stack.wait_for(app_id, Status.ISSUING)
        for _ in range(200):  # two failed attempts: a whole second has passed since the workflow's issue time
            if await pending_attempt(temporal_env, app_id) >= 3:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the issuer was never retried")
        old_kid, new_kid = await asyncio.to_thread(KeyStore(sessions, settings.master_key).rotate, union,
                                                   db.utcnow())
    finally:
        blocker.unlink()
    app = await stack.wait_for(app_id, Status.ISSUED, timeout=60)
    issued = await download(stack, tmp_path, app["certificate_no"])
    verdict = await verify(stack, issued.qr)
    assert verdict["status"] == "valid", verdict
    assert verdict["certificate"]["kid"] == new_kid != old_kid


# --- revocation ---------------------------------------------------------------------------------------------------



async def test_a_revoked_certificate_verifies_as_revoked_with_the_reason(stack, settings, sessions, tmp_path):
    union = await own_union(settings, "crt-revoke")
    c = await issue(stack, settings, tmp_path, union, 16)
    reason = "issued on a forged death certificate"

    r = await revoke(stack, f"chairman.{union}", c.certificate_no, reason)
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text

    verdict = await verify(stack, c.qr)
    assert verdict["status"] == "revoked" and reason in verdict["reason"], verdict
    assert verdict["certificate"]["certificate_no"] == c.certificate_no

    listing = (await stack.http.get("/api/v1/revocations")).json()
    assert revocation_hash(c.certificate_no) in listing["hashes"]
    assert c.certificate_no not in json.dumps(listing)

    def revocations_logged() -> list[db.AuditEntry]:
        with sessions() as session:
            return session.scalars(select(db.AuditEntry).where(db.AuditEntry.union_slug == union,
                                                               db.AuditEntry.action == "certificate.revoke")).all()

    entries = await asyncio.to_thread(revocations_logged)  # the API serves on this loop: never block it
    assert [(e.target, e.actor, e.detail["reason"]) for e in entries] == [
        (c.certificate_no, f"chairman.{union}", reason)]

    again = await revoke(stack, f"chairman.{union}", c.certificate_no)
    assert again.status_code == 409, again.text


async def test_only_the_chairman_revokes(stack, settings, tmp_path):
    union = await own_union(settings, "crt-revoke")
    c = await issue(stack, settings, tmp_path, union, 17)
    assert (await revoke(stack, f"secretary.{union}", c.certificate_no)).status_code == 403
    assert (await revoke(stack, "chairman.paikkandi", c.certificate_no)).status_code == 403
    assert (await verify(stack, c.qr))["status"] == "valid"


# --- sonod verify, the offline verifier ---------------------------------------------------------------------------


async def sonod_verify(stack, settings, cache: Path, *args: str | Path) -> tuple[int, dict]:
    """`sonod verify` with its lists in `cache`, the root pinned beside it by `sonod keys root`."""
    root = cache.parent / "root.jwk"
    if not root.exists():
        await run(SONOD, "keys", "root", "--out", root, env=sonod_env(settings))
    code, out = await run(SONOD, "verify", *args, "--json", "--cache", cache, "--root", root,
                          "--server", str(stack.http.base_url), env=sonod_env(settings), check=False)
    return code, json.loads(out) if out.strip() else {}


async def test_sonod_verify_checks_a_pdf_offline_after_one_sync_and_sees_a_revocation_online(stack, settings,
                                                                                          tmp_path):
    union = await own_union(settings, "crt-offline")
    c = await issue(stack, settings, tmp_path, union, 18)
    trust_list = tmp_path / "trust"

    code, answer = await sonod_verify(stack, settings, trust_list, c.pdf, "--offline")
    assert code == 3 and not trust_list.exists()  # nothing cached yet: no verdict is possible

    code, answer = await sonod_verify(stack, settings, trust_list, c.pdf, "--online")
    assert (code, answer["status"], answer["mode"]) == (0, "valid", "online"), answer
    year = c.certificate_no.split("-")[-2]
    assert (trust_list / "trust-list.jws").exists() and (trust_list / "status" / f"{union}-{year}.jws").exists()

    code, answer = await sonod_verify(stack, settings, trust_list, c.pdf, "--offline")
    assert (code, answer["status"], answer["mode"]) == (0, "valid", "offline"), answer
    assert answer["certificate"]["certificate_no"] == c.certificate_no
    assert answer["certificate"]["name_bn"] == c.person["name_bn"]

    code, answer = await sonod_verify(stack, settings, trust_list, with_payload(c, c.payload[:-4] + "AAAA"),
                                      "--offline")
    assert (code, answer["status"]) == (1, "invalid"), answer

    assert (await revoke(stack, f"chairman.{union}", c.certificate_no)).status_code == 200
    code, answer = await sonod_verify(stack, settings, trust_list, c.pdf, "--online")
    assert (code, answer["status"]) == (2, "revoked"), answer
    code, answer = await sonod_verify(stack, settings, trust_list, c.qr, "--offline")  # the sync was cached
    assert (code, answer["status"]) == (2, "revoked"), answer


async def test_sonod_verify_finds_the_qr_on_the_last_page_of_a_long_warish(stack, settings, tmp_path):
    union = await own_union(settings, "crt-warish")
    c = await issue(stack, settings, tmp_path, union, 22, "warish", {"deceased": DECEASED, "heirs": warish_heirs(30)})
    _, info = await run("pdfinfo", c.pdf)
    assert int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))) >= 2
    code, answer = await sonod_verify(stack, settings, tmp_path / "trust", c.pdf, "--online")
    assert (code, answer["status"]) == (0, "valid"), answer
    assert answer["certificate"]["certificate_no"] == c.certificate_no
