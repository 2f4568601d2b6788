"""Issue 12, item 4: whatever the certificate will print is shown to the deciding officer before approval, and the
applicant's claims that the NID record does not back are marked as claims, on the officer's page and on the paper.

A portal may send applicant fields beyond the declared ones (`Applicant` allows extras). Before, a spouse the NID
record lacks went onto the signed certificate unmarked, and no officer saw it before signing.
"""

from __future__ import annotations

import re

import pytest

from sonod.domain import Status
from tests.certificates_kit import REGISTRY_UNION, application, download, own_union
from tests.stack import people

pytestmark = pytest.mark.asyncio(loop_scope="session")

PERSON = 5  # of the registry's applicants: no spouse in the NID record
SPOUSE = "রহিমা খাতুন"
NOT_PRINTED = "মনা মিয়া"  # a nickname: no certificate prints one
CLAIM_NOTE = "আবেদনকারীর দাবি"


@pytest.fixture(scope="module")
async def awaiting(stack, settings) -> tuple[str, str]:
    """(union, application id) of an application with a claimed spouse, waiting for the chairman."""
    assert people(REGISTRY_UNION)[PERSON]["spouse_name_bn"] is None
    union = await own_union(settings, "prn-claims")
    body = application(union, PERSON)
    body["applicant"] |= {"spouse_name_bn": SPOUSE, "nickname_bn": NOT_PRINTED}
    app_id = await stack.submitted(body)
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    return union, app_id


async def detail_page(stack, union: str, app_id: str) -> str:
    token = await stack.login(f"chairman.{union}")
    r = await stack.http.get(f"/dashboard/applications/{app_id}", cookies={"sonod_session": token})
    assert r.status_code == 200, r.text
    return r.text


def printed_row(page: str, field: str) -> tuple[str, str]:
    """(source, the row's HTML) of the printed list's row of `field`."""
    found = re.search(rf'<tr[^>]*data-field="{field}"[^>]*data-source="(\w+)"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no printed row for {field}"
    return found.group(1), found.group(2)


async def test_a_claim_the_nid_record_lacks_is_shown_to_the_officer_as_a_claim_before_the_buttons(stack, awaiting):
    page = await detail_page(stack, *awaiting)
    source, row = printed_row(page, "spouse_name_bn")
    assert source == "claim"
    assert SPOUSE in row and CLAIM_NOTE in row
    assert page.index(SPOUSE) < page.index('name="decision" value="approve"')


async def test_a_field_the_nid_record_backs_is_shown_as_nid(stack, awaiting):
    page = await detail_page(stack, *awaiting)
    source, row = printed_row(page, "father_name_bn")
    assert source == "nid"
    assert people(REGISTRY_UNION)[PERSON]["father_name_bn"] in row and CLAIM_NOTE not in row


async def test_a_field_no_certificate_prints_is_not_in_the_printed_list(stack, awaiting):
    page = await detail_page(stack, *awaiting)
    assert 'data-field="nickname_bn"' not in page and NOT_PRINTED not in page


async def test_the_certificate_prints_the_claim_marked_and_no_other_applicant_field(stack, awaiting, tmp_path):
    union, app_id = awaiting
    assert (await stack.decide(f"chairman.{union}", app_id)).status_code == 200
    app = await stack.wait_for(app_id, Status.ISSUED)
    issued = await download(stack, tmp_path, app["certificate_no"])
    text = " ".join(issued.text.replace("\u200a", "").split()).replace("\xa0", " ")  # hair spaces split scripts
    assert SPOUSE in text
    assert f"{SPOUSE}*" in text and f"* {CLAIM_NOTE}" in text, text
    assert NOT_PRINTED not in text
