"""Who may act on an application is the workflow's word, published once, and applicant-side verbs belong to the
applicant's side alone. Each test is an attack (or a slip) that worked before."""

from __future__ import annotations

import re

from temporalio.client import WorkflowExecutionStatus

from api.pages.common import TOKEN_COOKIE
from sonod.domain import Role, Status
from tests.stack import citizen, people, warish_details
from tests.unions_kit import union_for, wait_for


async def test_a_repeated_submission_after_the_application_ended_never_starts_it_again(stack, temporal_env):
    body = citizen("borashi", 0)
    key = "forever-1"
    first = await stack.submit(body, key=key)
    application_id = first.json()["application_id"]
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    r = await stack.http.post(f"/api/v1/applications/{application_id}/cancel", json={"reason": "changed my mind"},
                              headers={"X-API-Key": "demo-portal-key"})
    assert r.status_code == 200, r.text
    await stack.wait_for(application_id, Status.CANCELLED)
    await temporal_env.client.get_workflow_handle(application_id).result()
    ended = await temporal_env.client.get_workflow_handle(application_id).describe()

    again = await stack.submit(body, key=key)
    assert again.status_code == 202, again.text
    assert again.json() == first.json() | {"status": Status.CANCELLED}
    latest = await temporal_env.client.get_workflow_handle(application_id).describe()
    assert (latest.run_id, latest.status) == (ended.run_id, WorkflowExecutionStatus.COMPLETED)


async def test_application_numbers_carry_64_random_bits(stack):
    application_id = await stack.submitted(citizen("borashi", 1))
    assert re.fullmatch(r"A\d{6}-[0-9A-F]{16}", application_id)


async def test_a_udc_operator_cannot_cancel_an_application_a_portal_submitted(stack):
    application_id = await stack.submitted(citizen("borashi", 2))
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    r = await stack.http.post(f"/api/v1/applications/{application_id}/cancel", json={"reason": "not mine"},
                              headers=await stack.as_officer("udc.borashi"))
    assert r.status_code == 403, r.text
    assert (await stack.get(application_id))["status"] == Status.AWAITING_DECISION


async def test_the_udc_operator_who_filed_an_application_may_cancel_it(stack):
    headers = await stack.as_officer("udc.borashi")
    r = await stack.http.post("/api/v1/applications", json=citizen("borashi", 3), headers=headers)
    assert r.status_code == 202, r.text
    application_id = r.json()["application_id"]
    await wait_for(stack.http, application_id, Status.AWAITING_DECISION, headers=headers)
    r = await stack.http.post(f"/api/v1/applications/{application_id}/cancel", json={"reason": "filed twice"},
                              headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == Status.CANCELLED


async def returned_warish(stack, union: str, index: int) -> tuple[str, int]:
    person = people(union)[index]
    application_id = await stack.submitted(citizen(union, index, "warish", details=warish_details()))
    await stack.wait_for(application_id, Status.AWAITING_RECOMMENDATION)
    assert (await stack.decide(f"ward{person['ward_no']}.{union}", application_id)).status_code == 200
    await stack.wait_for(application_id, Status.AWAITING_VERIFICATION)
    r = await stack.decide(f"secretary.{union}", application_id, "return", "the heirs' table is incomplete")
    assert r.status_code == 200, r.text
    await stack.wait_for(application_id, Status.RETURNED)
    return application_id, person["ward_no"]


async def test_a_secretary_cannot_rewrite_the_heirs_of_an_application_he_did_not_file(stack):
    application_id, _ = await returned_warish(stack, "borashi", 4)
    heirs = warish_details() | {"heirs": [{"name_bn": "মোঃ জাল ওয়ারিশ", "relation": "son"}]}
    r = await stack.http.post(f"/api/v1/applications/{application_id}/amend", json={"details": heirs},
                              headers=await stack.as_officer("secretary.borashi"))
    assert r.status_code == 403, r.text
    assert (await stack.get(application_id))["status"] == Status.RETURNED


async def test_the_portal_that_submitted_corrects_a_returned_application(stack):
    application_id, _ = await returned_warish(stack, "borashi", 5)
    r = await stack.http.post(f"/api/v1/applications/{application_id}/amend", json={"details": warish_details()},
                              headers={"X-API-Key": "demo-portal-key"})
    assert r.status_code == 200, r.text
    await stack.wait_for(application_id, Status.AWAITING_RECOMMENDATION)


async def test_an_officer_who_corrected_an_application_does_not_decide_it(stack):
    """A secretary files at the counter; after a return he corrects it: someone else must verify the correction."""
    union = "borashi"
    person = people(union)[6]
    headers = await stack.as_officer(f"secretary.{union}")
    r = await stack.http.post("/api/v1/applications", headers=headers,
                              json=citizen(union, 6, "warish", details=warish_details()))
    assert r.status_code == 202, r.text
    application_id = r.json()["application_id"]
    await wait_for(stack.http, application_id, Status.AWAITING_RECOMMENDATION, headers=headers)
    r = await stack.decide(f"ward{person['ward_no']}.{union}", application_id, "return", "add the second wife")
    assert r.status_code == 200, r.text
    await wait_for(stack.http, application_id, Status.RETURNED, headers=headers)
    r = await stack.http.post(f"/api/v1/applications/{application_id}/amend", json={"details": warish_details()},
                              headers=headers)
    assert r.status_code == 200, r.text
    await wait_for(stack.http, application_id, Status.AWAITING_RECOMMENDATION, headers=headers)
    assert (await stack.decide(f"ward{person['ward_no']}.{union}", application_id)).status_code == 200
    await wait_for(stack.http, application_id, Status.AWAITING_VERIFICATION, headers=headers)
    assert (await stack.decide(f"secretary.{union}", application_id)).status_code == 403


async def test_the_ward_member_is_the_one_of_the_nid_records_ward_not_of_the_claimed_one(stack):
    union = "borashi"
    person = people(union)[7]
    claimed = person["ward_no"] % 9 + 1
    body = citizen(union, 7, "warish", details=warish_details(), applicant={"ward_no": claimed})
    application_id = await stack.submitted(body)
    app = await stack.wait_for(application_id, Status.AWAITING_RECOMMENDATION)
    assert app["awaiting"]["ward_no"] == person["ward_no"]
    assert (await stack.decide(f"ward{claimed}.{union}", application_id)).status_code == 403
    assert (await stack.decide(f"ward{person['ward_no']}.{union}", application_id)).status_code == 200


async def queue_of(stack, username: str) -> str:
    r = await stack.http.get("/dashboard/", cookies={TOKEN_COOKIE: await stack.login(username)})
    assert r.status_code == 200, r.text
    return r.text


async def test_the_acting_chairman_finds_an_escalated_application_in_his_queue_and_decides_it(stack, settings,
                                                                                             request):
    union = await union_for(request, settings.db_url, "acting")
    application_id = await stack.submitted(citizen("paikkandi", 0) | {"union": union})
    app = await stack.wait_for(application_id, Status.AWAITING_DECISION)
    assert app["awaiting"]["deciders"] == [Role.CHAIRMAN]
    assert application_id not in await queue_of(stack, f"acting.{union}")

    r = await stack.http.post(f"/api/v1/applications/{application_id}/escalate", json={"reason": "chairman abroad"},
                              headers=await stack.as_officer("operator"))
    assert r.status_code == 200, r.text
    app = await stack.get(application_id)
    assert set(app["awaiting"]["deciders"]) == {Role.CHAIRMAN, Role.ACTING_CHAIRMAN, Role.ADMINISTRATOR}
    assert application_id in await queue_of(stack, f"acting.{union}")
    assert (await stack.decide(f"acting.{union}", application_id)).status_code == 200
    await stack.wait_for(application_id, Status.ISSUED)
