"""Corrections after issue (issue 16): a new application names the certificate it corrects; once it is issued, the
old certificate (and its English one) is revoked as "superseded by <new number>", and verifying the old one points
to the new."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import Role, Status
from tests.certificates_kit import PORTAL, application, download, own_union, revoke, verify
from tests.stack import people

REGISTRY_UNION = "raghunathpur"


async def issued(stack, union: str, index: int, **extra) -> dict:
    app_id = await stack.submitted(application(union, index) | extra)
    return await stack.through_chain(app_id, union, [Role.CHAIRMAN], people(REGISTRY_UNION)[index]["ward_no"])


async def verified(stack, qr: str, status: str, timeout: float = 15) -> dict:
    """The verify answer once it says `status`: a revocation made by the worker reaches the API's memory within its
    refresh interval."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await verify(stack, qr)
        if answer["status"] == status or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.2)


async def test_an_issued_correction_supersedes_the_old_certificate_and_verify_points_to_it(stack, settings, tmp_path):
    union = await own_union(settings, "corr-supersede")
    old = await issued(stack, union, 21, language="both")
    old_no = old["certificate_no"]
    bengali, english = await download(stack, tmp_path, old_no), await download(stack, tmp_path, f"{old_no}-EN")

    new = await issued(stack, union, 21, corrects=old_no)
    new_no = new["certificate_no"]
    assert new_no != old_no
    for qr, number in ((bengali.qr, old_no), (english.qr, f"{old_no}-EN")):
        answer = await verified(stack, qr, "revoked")
        assert answer["status"] == "revoked", answer
        assert answer["certificate"]["certificate_no"] == number
        assert answer["certificate"]["superseded_by"] == new_no
        assert f"superseded by {new_no}" in answer["reason"]
    page = await stack.http.get(f"/verify?{bengali.qr.split('?', 1)[1]}")  # the page the QR opens
    assert 'id="superseded"' in page.text and new_no in page.text
    meta = (await stack.http.get(f"/api/v1/certificates/{old_no}", headers=PORTAL)).json()
    assert meta["status"] == "revoked" and meta["superseded_by"] == new_no
    assert (await verify(stack, (await download(stack, tmp_path, new_no)).qr))["status"] == "valid"
    engine = make_engine(settings.db_url)
    try:
        with make_session_factory(engine)() as session:
            actions = session.scalars(select(db.AuditEntry.action).where(db.AuditEntry.target == old_no)).all()
    finally:
        engine.dispose()
    assert actions.count("certificate.supersede") == 1


async def test_a_correction_of_what_the_union_did_not_issue_to_this_applicant_is_refused(stack, settings):
    union = await own_union(settings, "corr-refused")
    other_union = await own_union(settings, "corr-elsewhere")
    mine = (await issued(stack, union, 22))["certificate_no"]
    theirs = (await issued(stack, other_union, 22))["certificate_no"]
    someone_elses = (await issued(stack, union, 23))["certificate_no"]
    revoked = (await issued(stack, union, 24))["certificate_no"]
    assert (await revoke(stack, f"chairman.{union}", revoked)).status_code == 200

    cases = {
        f"{union.upper()}-2026-999999": "has issued no certificate",
        theirs: "has issued no certificate",
        someone_elses: "another person",
        revoked: "was revoked",
    }
    for number, words in cases.items():
        index = 24 if number == revoked else 22
        r = await stack.submit(application(union, index) | {"corrects": number})
        assert r.status_code == 422, (number, r.text)
        assert r.json()["detail"][0]["loc"] == ["body", "corrects"] and words in r.json()["detail"][0]["msg"]
    other_type = application(union, 22, "character") | {"corrects": mine}
    r = await stack.submit(other_type)
    assert r.status_code == 422 and "not a character one" in r.json()["detail"][0]["msg"], r.text
    first = await stack.submit(application(union, 22) | {"corrects": mine.lower()})
    assert first.status_code == 202, first.text
    await stack.wait_for(first.json()["application_id"], Status.AWAITING_DECISION)  # in the read model
    second = await stack.submit(application(union, 22) | {"corrects": mine})
    assert second.status_code == 422 and "under way" in second.json()["detail"][0]["msg"], second.text
