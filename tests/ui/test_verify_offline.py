"""Issue 17: the /verify page as an installable app that verifies with no network.

Opened once online, the page's service worker (scope /verify) keeps the page and its code, and the page keeps the
trust list and the status lists. Then, with the browser offline (`context.set_offline(True)`), QRs given in the
address (as a phone's camera app opens them, or the page's own scan does) and through the paste field get the
answers the server gives online, with the age of the lists. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import base64
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.keys import KeyStore
from sonod.signing import CertificateClaims, _sig_structure, content_hash, qr_text, sign_payload
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, SHOTS, Visitor, playwright_api
from tests.ui.test_verify_scan import FAKE_CAMERA, qr_picture, write_y4m
from tests.unions_kit import add_union

UNION = "ui-offline"
WIDTH = 412
FORGED = "the signature does not match: the certificate was altered or not issued by sonod"


def issue(settings, seq: int, *, revoked: bool = False, valid_days: int | None = None) -> str:
    """The QR text of certificate `UI-OFFLINE-<year>-<seq>`, signed with the union's key and in the registry."""
    engine = make_engine(settings.db_url)
    try:
        sessions = make_session_factory(engine)
        now = db.utcnow()
        no = f"{UNION.upper()}-{now.year}-{seq:06d}"
        digest = content_hash({"certificate_no": no})
        kid, private = KeyStore(sessions, settings.master_key).signing_key(UNION, now)
        claims = CertificateClaims(certificate_no=no, certificate_type="citizenship", union=UNION,
                                   name_bn="মোছাম্মৎ ফাতেমা খাতুন", name_en="Mosammat Fatema Khatun",
                                   issued_on=now.date(), content_hash=digest,
                                   valid_until=None if valid_days is None else now + timedelta(days=valid_days))
        qr = qr_text(f"{settings.public_url}/verify", sign_payload(claims, private, kid, now))
        with sessions.begin() as session:
            if session.get(db.Certificate, no) is None:
                session.add(db.Certificate(certificate_no=no, application_id=f"uioff-{no}", union_slug=UNION,
                                           year=now.year, seq=seq, certificate_type="citizenship", issued_at=now,
                                           kid=kid, qr_text=qr, content_hash=digest.hex(),
                                           pdf_path=f"{UNION}/{no}.pdf"))
            if revoked:
                session.execute(update(db.Certificate).where(db.Certificate.certificate_no == no)
                                .values(revoked_at=now, revoked_by=f"chairman.{UNION}", revoke_reason="test"))
        return qr
    finally:
        engine.dispose()


def forge(qr: str) -> str:
    """The QR with its holder's name changed and its signature kept, well compressed and encoded."""
    url, payload = qr.split("?c=", 1)
    cose = zlib.decompress(base64.b32decode(payload + "=" * (-len(payload) % 8)))
    cose = cose.replace(b"Mosammat", b"Mosammet")
    return f"{url}?c={base64.b32encode(zlib.compress(cose, 9)).decode().rstrip('=')}"


@pytest.fixture(scope="module")
async def qrs(stack, settings) -> dict[str, str]:
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    good = await asyncio.to_thread(issue, settings, 1)
    gone = await asyncio.to_thread(issue, settings, 2, revoked=True)
    over = await asyncio.to_thread(issue, settings, 3, valid_days=-1)
    deadline = time.monotonic() + 15  # the API's verifier sees a revocation made elsewhere within seconds
    while (await stack.http.post("/api/v1/verify", json={"qr": gone})).json()["status"] != "revoked":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    await asyncio.to_thread(issue, settings, 4)  # revoked later, while the phone is offline
    forged = forge(good)
    assert (await stack.http.post("/api/v1/verify", json={"qr": forged})).json()["reason"] == FORGED
    return {"valid": good, "revoked": gone, "expired": over, "invalid": forged}


async def online_answer(page, base_url: str, qr: str) -> str:
    await page.goto(f"{base_url}/verify?c={qr.split('?c=', 1)[1]}")
    return await page.eval_on_selector(".verdict", "e => [...e.classList].find(c => c !== 'verdict')")


@asynccontextmanager
async def phone(browser, **options) -> AsyncIterator:
    """A phone's browser at WIDTH px: waits up to 15 s, closed afterwards."""
    context = await browser.new_context(viewport={"width": WIDTH, "height": 900}, **options)
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        await context.close()


async def controlled(page) -> None:
    """Wait until the service worker controls the page (the page's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + 15
    while not await page.evaluate("navigator.serviceWorker.controller !== null"):
        assert time.monotonic() < deadline, "the service worker never took control of the page"
        await asyncio.sleep(0.1)


async def offline_answer(page) -> str:
    await page.wait_for_selector("#offline-result[data-status]")
    return await page.get_attribute("#offline-result", "data-status")


async def test_offline_the_verify_app_answers_as_online_with_the_age_of_its_lists(browser, base_url, qrs):
    async with phone(browser, locale="bn-BD") as context:
        page = await context.new_page()
        await page.goto(f"{base_url}/verify")
        await page.wait_for_selector("html[data-lists=kept]", state="attached")
        await controlled(page)
        assert await page.is_visible("#offline-lists")  # the age of the lists, said online too

        online = {kind: await online_answer(page, base_url, qr) for kind, qr in qrs.items()}
        assert online == {kind: kind for kind in qrs}

        await context.set_offline(True)
        for kind, qr in qrs.items():
            await page.goto(f"{base_url}/verify?c={qr.split('?c=', 1)[1]}")
            assert await offline_answer(page) == online[kind], kind
            age = await page.inner_text("#offline-result #offline-lists")
            assert "0 h 00 min" in age or "0 h 01 min" in age, age
            if kind == "valid":
                await page.screenshot(path=str(SHOTS / f"verify-offline-valid-{WIDTH}.png"), full_page=True)
                await Visitor(context, page, base_url, {}).check("verify-offline")  # axe, size, 412 and 1280 px
                await page.set_viewport_size({"width": WIDTH, "height": 900})
                text = await page.inner_text("#offline-result")
                assert "Mosammat Fatema Khatun" in text and f"{UNION.upper()}-" in text
            if kind == "invalid":
                assert FORGED in await page.inner_text("#offline-result")  # the server's reason, word for word

        await page.goto(f"{base_url}/verify")  # the kept page; the QR's text pasted into its form
        await page.fill("#qr", qrs["revoked"])
        await page.click("form button[type=submit]")
        assert await offline_answer(page) == "revoked"
        await page.screenshot(path=str(SHOTS / f"verify-offline-revoked-{WIDTH}.png"), full_page=True)


async def test_the_worker_is_scoped_to_verify_only(browser, base_url, qrs):
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(f"{base_url}/verify")
        scope = await asyncio.wait_for(page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)"), 15)
        assert scope == f"{base_url}/verify"
        await context.set_offline(True)
        with pytest.raises(playwright_api.Error):  # nothing outside /verify is kept
            await page.goto(f"{base_url}/")
    finally:
        await context.close()


async def test_offline_the_camera_scan_verifies_on_the_phone(base_url, qrs, tmp_path):
    """Chromium's fake camera shows the revoked certificate's QR; the scan (jsQR, kept by the worker) opens the kept
    page, which verifies it with no network."""
    video = write_y4m(qr_picture(qrs["revoked"]), tmp_path / "qr.y4m")
    args = [*CHROMIUM_ARGS, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}"]
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = await browser.new_context(viewport={"width": WIDTH, "height": 900}, permissions=["camera"])
            context.set_default_timeout(15_000)
            page = await context.new_page()
            await page.goto(f"{base_url}/verify")
            await page.wait_for_selector("html[data-lists=kept]", state="attached")
            await controlled(page)
            await context.set_offline(True)
            await page.click("#scan-start")
            assert await offline_answer(page) == "revoked"
            assert "?c=" in page.url
        finally:
            await browser.close()


async def test_when_the_network_returns_the_lists_are_refreshed(browser, base_url, settings, qrs):
    async with phone(browser) as context:
        page = await context.new_page()
        await page.goto(f"{base_url}/verify")
        await page.wait_for_selector("html[data-refreshed]", state="attached")
        await controlled(page)
        later = await asyncio.to_thread(issue, settings, 4)
        fetched: list[str] = []
        context.on("request", lambda request: fetched.append(request.url))
        for _ in range(2):  # QR after QR online: the lists just kept are not downloaded again
            await page.goto(f"{base_url}/verify?c={later.split('?c=', 1)[1]}")
            await page.wait_for_load_state("networkidle")
        assert not [url for url in fetched if "sonod-trust-list" in url or "status-lists" in url], fetched
        await context.set_offline(True)
        await page.goto(f"{base_url}/verify?c={later.split('?c=', 1)[1]}")
        assert await offline_answer(page) == "valid"

        await asyncio.to_thread(issue, settings, 4, revoked=True)  # the union revokes it meanwhile
        before = await page.get_attribute("html", "data-refreshed")
        await context.set_offline(False)  # the browser says `online`: the page fetches the lists again
        deadline = time.monotonic() + 15
        while await page.get_attribute("html", "data-refreshed") == before:
            assert time.monotonic() < deadline, "the lists were not refreshed when the network returned"
            await asyncio.sleep(0.2)
        await context.set_offline(True)
        await page.goto(f"{base_url}/verify?c={later.split('?c=', 1)[1]}")
        assert await offline_answer(page) == "revoked"


async def test_offline_lists_older_than_three_days_are_said_to_be_old(browser, base_url, qrs):
    async with phone(browser) as context:
        page = await context.new_page()
        await page.goto(f"{base_url}/verify")
        await page.wait_for_selector("html[data-lists=kept]", state="attached")
        await controlled(page)
        await context.set_offline(True)
        await page.clock.install(time=datetime.now(UTC) + timedelta(days=4))  # the phone, four days later
        await page.goto(f"{base_url}/verify?c={qrs['valid'].split('?c=', 1)[1]}")
        assert await offline_answer(page) == "valid"
        assert "4 d 0 h" in await page.inner_text("#offline-result #offline-lists")
        assert await page.is_visible("#offline-stale")
        await page.screenshot(path=str(SHOTS / f"verify-offline-stale-{WIDTH}.png"), full_page=True)


# --- the browser's checks are sonod.signing's, reason for reason -----------------------------------------------


def crafted(settings, *, alg: int = -8, kid: str | None = None, iss: str = UNION, iat: int | None = None,
            drop: object = None, trailing: bytes = b"") -> str:
    """A QR signed with the union's real key, with one thing wrong."""
    engine = make_engine(settings.db_url)
    try:
        kid_now, private = KeyStore(make_session_factory(engine), settings.master_key).signing_key(UNION, db.utcnow())
    finally:
        engine.dispose()
    claims = {1: iss, 6: int(time.time()) if iat is None else iat, -1: f"{UNION.upper()}-2026-000099",
              -2: "citizenship", -3: UNION, -4: "নাম", -5: "Name", -6: 20000, "h": bytes(16)}
    claims.pop(drop, None)
    protected, body = cbor2.dumps({1: alg, 4: (kid or kid_now).encode()}), cbor2.dumps(claims)
    signature = Ed25519PrivateKey.from_private_bytes(private).sign(_sig_structure(protected, body))
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, body, signature]))
    return base64.b32encode(zlib.compress(cose, 9) + trailing).decode().rstrip("=")


CASES = {
    "another algorithm": {"alg": -7},
    "an unknown key": {"kid": "nobody-2026-000000"},
    "another issuer": {"iss": "paikkandi"},
    "signed in the future": {"iat": int(time.time()) + 86400},
    "signed before its key": {"iat": 1_000_000},
    "a claim missing": {"drop": -4},
    "no content hash": {"drop": "h"},
}


async def test_offline_the_reasons_are_those_of_the_server(browser, base_url, settings, stack, qrs):
    context = await browser.new_context()
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        await page.goto(f"{base_url}/verify")
        await page.wait_for_selector("html[data-lists=kept]", state="attached")
        await controlled(page)
        payloads = {name: await asyncio.to_thread(crafted, settings, **case) for name, case in CASES.items()}
        payloads["garbage"] = "hello"
        payloads["non-canonical base32"] = qrs["valid"].split("?c=", 1)[1][:-1] + "7"
        online = {name: (await stack.http.post("/api/v1/verify", json={"qr": text})).json()
                  for name, text in payloads.items()}
        await context.set_offline(True)
        for name, text in payloads.items():
            await page.goto(f"{base_url}/verify?{urlencode({'qr': text})}")
            assert await offline_answer(page) == online[name]["status"] == "invalid", name
            reason = await page.inner_text("#offline-result [data-slot=reason]")
            assert reason == online[name]["reason"], name
        trailing = await asyncio.to_thread(crafted, settings, trailing=b"\0")  # zlib words differ, verdicts do not
        await page.goto(f"{base_url}/verify?c={trailing}")
        assert await offline_answer(page) == "invalid"
    finally:
        await context.close()


async def test_chromium_finds_the_verify_page_installable(base_url, qrs, tmp_path):
    """Chromium's own installability check (DevTools' Page.getInstallabilityErrors), in a profile that is not
    incognito (Playwright's contexts are)."""
    async with playwright_api.async_playwright() as p:
        context = await p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                             args=CHROMIUM_ARGS)
        try:
            page = await context.new_page()
            await page.goto(f"{base_url}/verify")
            await controlled(page)
            cdp = await context.new_cdp_session(page)
            assert (await cdp.send("Page.getInstallabilityErrors"))["installabilityErrors"] == []
            manifest = await cdp.send("Page.getAppManifest")
            assert manifest["errors"] == [] and manifest["manifest"]["scope"] == f"{base_url}/verify"
        finally:
            await context.close()
