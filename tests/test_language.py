"""English certificates (issue 16): the applicant asks for Bengali, English or both; the English certificate is one
of its own (page, number `<number>-EN`, signed QR, PDF, row), verified as any certificate is, online and offline, and
revoked with its Bengali one."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from sonod.domain import Role, Status
from sonod.offline import number_parts
from tests.certificates_kit import PORTAL, application, download, own_union, revoke, verify
from tests.stack import people

REGISTRY_UNION = "raghunathpur"


async def issued(stack, settings, slug: str, index: int, language: str, certificate_type: str = "citizenship",
                 chain: tuple[Role, ...] = (Role.CHAIRMAN,)) -> dict:
    union = await own_union(settings, slug)
    body = application(union, index, certificate_type) | {"language": language}
    app_id = await stack.submitted(body)
    return await stack.through_chain(app_id, union, list(chain), people(REGISTRY_UNION)[index]["ward_no"])


async def test_both_gives_an_english_certificate_of_its_own_whose_qr_verifies(stack, settings, tmp_path):
    app = await issued(stack, settings, "lang-both", 11, "both")
    number = app["certificate_no"]
    meta = (await stack.http.get(f"/api/v1/certificates/{number}", headers=PORTAL)).json()
    assert meta["language"] == "bn" and meta["english_no"] == f"{number}-EN"
    english_meta = (await stack.http.get(f"/api/v1/certificates/{number}-EN", headers=PORTAL)).json()
    assert english_meta["language"] == "en" and english_meta["application_id"] == app["application_id"]

    bengali, english = await download(stack, tmp_path, number), await download(stack, tmp_path, f"{number}-EN")
    assert "নাগরিকত্ব সনদ" in bengali.text and "This is to certify" not in bengali.text
    assert "This is to certify" in english.text and f"{number}-EN" in english.text
    assert english.qr != bengali.qr
    for qr, no in ((bengali.qr, number), (english.qr, f"{number}-EN")):
        answer = await verify(stack, qr)
        assert answer["status"] == "valid", answer
        assert answer["certificate"]["certificate_no"] == no
    assert number_parts(f"{number}-EN") == number_parts(number)  # the offline verifier reads its status bit


async def test_bengali_alone_has_no_english_certificate(stack, settings, tmp_path):
    app = await issued(stack, settings, "lang-bn", 12, "bn")
    meta = (await stack.http.get(f"/api/v1/certificates/{app['certificate_no']}", headers=PORTAL)).json()
    assert meta["english_no"] is None
    r = await stack.http.get(f"/api/v1/certificates/{app['certificate_no']}-EN/pdf", headers=PORTAL)
    assert r.status_code == 404


async def test_revoking_the_bengali_certificate_revokes_its_english_one(stack, settings, tmp_path):
    app = await issued(stack, settings, "lang-revoke", 13, "en")
    number = app["certificate_no"]
    english = await download(stack, tmp_path, f"{number}-EN")
    assert (await verify(stack, english.qr))["status"] == "valid"
    r = await revoke(stack, "chairman.lang-revoke", number)
    assert r.status_code == 200, r.text
    answer = await verify(stack, english.qr)
    assert answer["status"] == "revoked" and answer["certificate"]["certificate_no"] == f"{number}-EN"
    pdf = await stack.http.get(f"/api/v1/certificates/{number}-EN/pdf", headers=PORTAL)
    assert pdf.status_code == 410


async def test_an_unknown_language_is_refused_naming_the_field(stack, settings):
    union = await own_union(settings, "lang-bad")
    r = await stack.submit(application(union, 14) | {"language": "fr"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "language"]


@pytest.mark.parametrize("language", ["en", "both"])
async def test_the_warish_english_certificate_carries_its_table(stack, settings, tmp_path, language):
    app = await issued(stack, settings, f"lang-warish-{language}", 15 + (language == "both"), language, "warish",
                       (Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN))
    english = await download(stack, tmp_path, f"{app['certificate_no']}-EN")
    assert "Heir" in english.text or "heir" in english.text
    assert (await verify(stack, english.qr))["status"] == "valid"
    assert app["status"] == Status.ISSUED.value


async def as_chairman(stack, union: str, app_id: str, status: Status) -> dict:
    """The application once in `status`, as its union's chairman reads it (the portal key did not submit it)."""
    deadline = time.monotonic() + 30
    while (app := (await stack.http.get(f"/api/v1/applications/{app_id}",
                                        headers=await stack.as_officer(f"chairman.{union}"))).json())["status"] \
            != status.value and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return app


async def test_the_portal_form_asks_the_language_and_the_track_page_hands_out_the_english_pdf(stack, settings):
    union = await own_union(settings, "lang-portal")
    person = people(REGISTRY_UNION)[17]
    mobile = "01712000517"
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as browser:
        path = f"/unions/{union}/apply/citizenship"
        page = await browser.get(path)
        assert 'name="language"' in page.text and 'name="corrects"' in page.text
        hidden = {name: re.search(rf'name="{name}" value="([^"]+)"', page.text).group(1) for name in ("csrf", "idem")}
        form = hidden | {"contact.mobile": mobile, "language": "both"} | {
            f"applicant.{k}": person[k] for k in ("nid", "date_of_birth", "name_bn", "name_en")}
        posted = await browser.post(path, data=form)
        assert posted.status_code == 303, posted.text
        app_id = posted.headers["location"].rsplit("/", 1)[1]
        app = await as_chairman(stack, union, app_id, Status.AWAITING_DECISION)
        assert (await stack.decide(f"chairman.{union}", app_id)).status_code == 200
        app = await as_chairman(stack, union, app_id, Status.ISSUED)
        track = await browser.get(f"/unions/{union}/track")
        csrf = re.search(r'name="csrf" value="([^"]+)"', track.text).group(1)
        tracked = {"csrf": csrf, "application_id": app_id, "mobile": mobile}
        page = await browser.post(f"/unions/{union}/track", data=tracked)
        assert 'id="english-pdf"' in page.text
        english = await browser.post(f"/unions/{union}/track/pdf", data=tracked | {"language": "en"})
        bengali = await browser.post(f"/unions/{union}/track/pdf", data=tracked)
    assert english.status_code == 200 and english.content.startswith(b"%PDF-")
    assert f'{app["certificate_no"]}-EN.pdf' in english.headers["content-disposition"]
    assert f'{app["certificate_no"]}.pdf' in bengali.headers["content-disposition"]
