"""The union portal as an installable app, over HTTP (issue 17): its manifest and worker per union, never at a host's
root; the citizen's certificate (PDF and QR) behind the tracking check, its limiter and the audit log; the portal's
form sent twice with one key making one application; pages gzipped, API v1 not. In a browser: tests/ui/test_app.py.
"""

from __future__ import annotations

import asyncio
import copy
import re

import httpx
import pytest
from sqlalchemy import select

from api.pages import app as citizen_app
from api.pages.desk import qr_svg
from api.services import applications
from sonod import db
from sonod.domain import Role
from tests.app_kit import BASE, MOBILE, UNION, app_issued, app_union, union_applications  # noqa: F401 - fixtures
from tests.unions_kit import database, person


@pytest.fixture
def tries():
    """The tracking limiter's windows as they were: these tests' wrong tries do not count against other tests."""
    saved = copy.deepcopy((applications.ADDRESS_TRIES._hits, applications.WRONG_TRIES._hits))
    yield
    applications.ADDRESS_TRIES._hits, applications.WRONG_TRIES._hits = saved


async def browser_form(browser: httpx.AsyncClient, path: str) -> tuple[str, str]:
    """The page's CSRF token and the form's Idempotency-Key, with the browser's cookie set."""
    page = await browser.get(path)
    assert page.status_code == 200, page.text
    idem = re.search(r'name="idem" value="([^"]+)"', page.text)
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1), idem.group(1) if idem else ""


async def tracked_post(browser: httpx.AsyncClient, what: str, application_id: str, mobile: str) -> httpx.Response:
    csrf, _ = await browser_form(browser, f"{BASE}/track")
    return await browser.post(f"{BASE}/track/{what}", data={"csrf": csrf, "application_id": application_id,
                                                            "mobile": mobile})


def audited(url: str, action: str, target: str) -> list[db.AuditEntry]:
    with database(url) as session:
        return list(session.scalars(select(db.AuditEntry).where(db.AuditEntry.action == action,
                                                                db.AuditEntry.target == target)))


async def test_each_union_has_its_manifest_and_a_worker_scoped_to_its_own_path(app_union, stack):  # noqa: F811
    manifest = await stack.http.get(f"{BASE}/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    m = manifest.json()
    assert m["scope"] == m["start_url"] == m["id"] == f"{BASE}/"
    assert m["lang"] == "bn" and m["display"] == "standalone" and "ইউনিয়ন পরিষদ" in m["name"]
    assert {i["sizes"] for i in m["icons"]} == {"any", "192x192", "512x512"}
    for icon in m["icons"]:
        assert (await stack.http.get(icon["src"])).status_code == 200
    worker = await stack.http.get(f"{BASE}/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    for code in ("citizenship", "warish"):
        assert f'"{BASE}/apply/{code}"' in worker.text  # every form kept for use without a network
    kept = (await stack.http.get(f"{BASE}/offline-pages")).json()  # what the worker keeps, in one answer
    assert {f"{BASE}/", f"{BASE}/track", f"{BASE}/kept", f"{BASE}/apply/warish"} <= set(kept)
    assert f'action="{BASE}/apply/warish"' in kept[f"{BASE}/apply/warish"]
    home = await stack.http.get(f"{BASE}/")
    assert f'href="{BASE}/manifest.webmanifest"' in home.text and f'data-base="{BASE}"' in home.text


async def test_no_manifest_nor_worker_at_a_hosts_root(app_union, stack):  # noqa: F811
    for path in ("/manifest.webmanifest", "/sw.js", "/kept"):
        assert (await stack.http.get(path)).status_code == 404, path
    on_the_unions_host = await stack.http.get("/", headers={"Host": f"{UNION}.sonod.localhost"})
    assert on_the_unions_host.status_code == 200 and "manifest" not in on_the_unions_host.text
    assert (await stack.http.get("/sw.js", headers={"Host": f"{UNION}.sonod.localhost"})).status_code == 404


async def test_the_citizen_takes_the_qr_and_the_pdf_behind_the_tracking_check_and_each_is_audited(
        app_issued, stack, settings):  # noqa: F811
    number, application_id = app_issued["certificate_no"], app_issued["application_id"]
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=10) as browser:
        qr = await tracked_post(browser, "qr", application_id, MOBILE)
        pdf = await tracked_post(browser, "pdf", application_id, MOBILE)
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    with database(settings.db_url) as session:
        assert qr.text == qr_svg(session.get(db.Certificate, number).qr_text)  # the registry's own QR
    [entry] = await asyncio.to_thread(audited, settings.db_url, "certificate.qr_to_citizen", number)
    assert (entry.actor, entry.role, entry.union_slug) == ("citizen", Role.CITIZEN.value, UNION)
    assert len(await asyncio.to_thread(audited, settings.db_url, "certificate.pdf_to_citizen", number)) == 1


async def test_no_one_else_gets_the_qr_and_wrong_tries_meet_the_limiter(
        app_issued, stack, settings, tries):  # noqa: F811
    application_id, number = app_issued["application_id"], app_issued["certificate_no"]
    before = await asyncio.to_thread(audited, settings.db_url, "certificate.qr_to_citizen", number)
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=10) as browser:
        for n in range(10):
            wrong = await tracked_post(browser, "qr", application_id, f"0171{n:07d}")
            assert wrong.status_code == 404 and "<svg" not in wrong.text, (n, wrong.status_code)
        assert (await tracked_post(browser, "qr", application_id, MOBILE)).status_code == 429
        assert (await tracked_post(browser, "pdf", application_id, MOBILE)).status_code == 429
        other_union = await browser.post("/unions/paikkandi/track/qr", data={
            "csrf": (await browser_form(browser, "/unions/paikkandi/track"))[0],
            "application_id": application_id, "mobile": MOBILE})
        assert other_union.status_code in (404, 429) and "<svg" not in other_union.text
    after = await asyncio.to_thread(audited, settings.db_url, "certificate.qr_to_citizen", number)
    assert len(after) == len(before)  # a refusal hands nothing out


async def test_the_portal_form_sent_twice_with_its_key_makes_one_application(app_union, stack):  # noqa: F811
    body = person(37, union=UNION)["applicant"]
    before = await union_applications(stack)
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as browser:
        csrf, idem = await browser_form(browser, f"{BASE}/apply/citizenship")
        form = {"csrf": csrf, "idem": idem, "contact.mobile": "01712000420"} | {
            f"applicant.{k}": str(v) for k, v in body.items()}
        first = await browser.post(f"{BASE}/apply/citizenship", data=form)
        again = await browser.post(f"{BASE}/apply/citizenship", data=form)
    assert first.status_code == again.status_code == 303, first.text
    assert first.headers["location"] == again.headers["location"]
    application_id = first.headers["location"].rsplit("/", 1)[1]
    assert await union_applications(stack, waiting_for=application_id) - before == {application_id}


async def test_pages_are_gzipped_for_phones_and_api_v1_is_not(app_union, stack):  # noqa: F811
    gz = {"Accept-Encoding": "gzip"}
    for path in (f"{BASE}/apply/warish", "/static/sonod.css", "/static/app.js", f"{BASE}/sw.js",
                 f"{BASE}/offline-pages"):
        r = await stack.http.get(path, headers=gz)
        assert r.headers.get("content-encoding") == "gzip", path
    r = await stack.http.get("/api/v1/certificate-types", headers=gz)
    assert r.status_code == 200 and "content-encoding" not in r.headers


def test_the_workers_version_follows_the_unions_forms():
    """A form changed in the catalogue makes a new worker, which fetches the pages it keeps again."""
    citizenship = {"code": "citizenship", "fields": {"properties": {}}}
    assert citizen_app._version([citizenship]) == citizen_app._version([citizenship])
    assert citizen_app._version([citizenship]) != citizen_app._version([citizenship | {"fields": {"x": 1}}])


async def test_the_kept_pages_carry_each_browsers_own_csrf_token(app_union, stack, tries):  # noqa: F811
    """The pages are rendered once and shared; the token in their forms is still each browser's, and works."""
    tokens = []
    for _ in range(2):
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as browser:
            pages = (await browser.get(f"{BASE}/offline-pages")).json()
            token = re.search(r'name="csrf" value="([^"]+)"', pages[f"{BASE}/track"]).group(1)
            assert token in pages[f"{BASE}/apply/citizenship"]
            tracked = await browser.post(f"{BASE}/track", data={"csrf": token, "application_id": "A1", "mobile": "0"})
            assert tracked.status_code == 404, tracked.status_code  # past the CSRF check: no such application
            tokens.append(token)
    assert tokens[0] != tokens[1]
