"""Applications with a birth registration number (`applicant.brn`) on the real stack (Temporal dev server, worker,
API, the simulator's partner protocol and birth registry): they reach the chairman's decision, exactly one number is
given, and the number is in no search attribute, workflow ID or log line."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date

import pytest

from sonod.domain import Status
from sonod.nid import is_minor
from tests.stack import citizen
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
