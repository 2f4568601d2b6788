"""Applications with a birth registration number (`applicant.brn`) on the real stack (Temporal dev server, worker,
API, the simulator's partner protocol and birth registry): they reach the chairman's decision, exactly one number is
given, and the number is in no search attribute, workflow ID or log line."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import date

import httpx
import pytest

from sonod.domain import Status
from sonod.nid import is_minor
from tests.stack import PORTAL_KEY, citizen
from tests.unions_kit import add_union

UNION = "brnunion"  # a union of these tests' own


@pytest.fixture(scope="module")
async def union(settings):
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    return UNION


def minors() -> list[dict]:
    from tests.stack import people

    return [p for p in people(adults=False)
            if p["id_type"] == "brn" and is_minor(date.fromisoformat(p["date_of_birth"]), date.today())]


def with_brn(p: dict, **applicant) -> dict:
    base = citizen("paikkandi")
    base["union"] = UNION
    base["applicant"] = {"brn": p["nid"], "date_of_birth": p["date_of_birth"], "name_bn": p["name_bn"],
                         "name_en": p["name_en"]} | applicant
    return base


def refused_field(response) -> list:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["detail"]]


async def test_an_application_with_a_birth_registration_number_awaits_the_decision(stack, union, temporal_env,
                                                                                   caplog):
    caplog.set_level(logging.DEBUG)
    minor = minors()[0]
    app_id = await stack.submitted(with_brn(minor))
    app = await stack.wait_for(app_id, Status.AWAITING_DECISION, Status.NID_FAILED)
    assert app["status"] == "awaiting_decision", app["events"]
    assert minor["nid"] not in app_id
    description = await temporal_env.client.get_workflow_handle(app_id).describe()
    assert minor["nid"] not in str(description.search_attributes)
    assert minor["name_en"] not in str(description.search_attributes)
    assert not re.search(minor["nid"][-10:], caplog.text)


async def test_a_minors_17_digit_number_given_as_nid_is_checked_as_a_birth_registration_number(stack, union):
    minor = minors()[1]
    body = with_brn(minor)
    body["applicant"] = {"nid": minor["nid"]} | {k: v for k, v in body["applicant"].items() if k != "brn"}
    app = await stack.wait_for(await stack.submitted(body), Status.AWAITING_DECISION, Status.NID_FAILED)
    assert app["status"] == "awaiting_decision", app["events"]


async def test_a_birth_registration_number_with_another_name_fails_the_check(stack, union):
    minor = minors()[2]
    body = with_brn(minor, name_bn="অন্য কেউ", name_en="Someone Else")
    app = await stack.wait_for(await stack.submitted(body), Status.NID_FAILED, Status.AWAITING_DECISION)
    assert app["status"] == "nid_failed"


async def test_a_birth_registration_number_corrected_after_a_mismatch_goes_on(stack, union):
    minor = minors()[4]
    body = with_brn(minor, name_en="Someone Else", name_bn="অন্য কেউ")
    app_id = await stack.submitted(body)
    await stack.wait_for(app_id, Status.NID_FAILED)
    corrected = with_brn(minor)["applicant"]
    r = await stack.http.post(f"/api/v1/applications/{app_id}/amend", json={"applicant": corrected},
                              headers={"X-API-Key": PORTAL_KEY})
    assert r.status_code < 300, r.text
    await stack.wait_for(app_id, Status.AWAITING_DECISION)  # the read model may say nid_failed a moment longer


async def test_an_adult_with_an_nid_still_awaits_the_decision_over_the_partner_protocol(stack, union):
    body = citizen("paikkandi", 3)
    body["union"] = UNION
    app = await stack.wait_for(await stack.submitted(body), Status.AWAITING_DECISION, Status.NID_FAILED)
    assert app["status"] == "awaiting_decision", app["events"]


async def test_both_numbers_are_refused_naming_brn(stack, union):
    minor = minors()[0]
    r = await stack.submit(with_brn(minor, nid="1234567890"))
    assert ["body", "applicant", "brn"] in refused_field(r)


async def test_no_number_is_refused_naming_nid(stack, union):
    body = with_brn(minors()[0])
    del body["applicant"]["brn"]
    assert ["body", "applicant", "nid"] in refused_field(await stack.submit(body))


@pytest.mark.parametrize("brn", ["12345", "১২৩৪৫৬৭৮৯০১২৩৪৫৬৭", "abcdefghijklmnopq"])
async def test_a_malformed_birth_registration_number_is_refused_naming_brn(stack, union, brn):
    assert ["body", "applicant", "brn"] in refused_field(await stack.submit(with_brn(minors()[0], brn=brn)))


async def browser_form(browser, path: str) -> dict[str, str]:
    page = await browser.get(path)
    assert page.status_code == 200, page.text
    fields = {name: re.search(rf'name="{name}" value="([^"]+)"', page.text) for name in ("csrf", "idem")}
    return {name: m.group(1) for name, m in fields.items() if m}


async def test_the_portal_form_takes_a_birth_registration_number_in_its_own_field(stack, union):
    minor = minors()[3]
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as browser:
        path = f"/unions/{UNION}/apply/citizenship"
        page = (await browser.get(path)).text
        assert 'name="applicant.brn"' in page and "জন্ম নিবন্ধন নম্বর (শুধু এনআইডি না থাকলে)" in page
        form = await browser_form(browser, path) | {"contact.mobile": "01712000421", "applicant.brn": minor["nid"]}
        form |= {f"applicant.{k}": minor[k] for k in ("date_of_birth", "name_bn", "name_en")}
        posted = await browser.post(path, data=form)
        assert posted.status_code == 303, posted.text
        app_id = posted.headers["location"].rsplit("/", 1)[1]
    chairman = await stack.as_officer(f"chairman.{UNION}")
    deadline = time.monotonic() + 30
    while (app := (await stack.http.get(f"/api/v1/applications/{app_id}", headers=chairman)).json())["status"] in (
            "submitted", "verifying_nid") and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert app["status"] == "awaiting_decision", app


async def test_the_portal_form_without_a_number_says_so_in_bengali(stack, union):
    minor = minors()[0]
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as browser:
        path = f"/unions/{UNION}/apply/citizenship"
        form = await browser_form(browser, path) | {"contact.mobile": "01712000422"} | {
            f"applicant.{k}": minor[k] for k in ("date_of_birth", "name_bn", "name_en")}
        answer = await browser.post(path, data=form)
    assert "এনআইডি দিন, না থাকলে জন্ম নিবন্ধন নম্বর দিন" in answer.text
