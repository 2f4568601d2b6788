"""A citizen whose NID check failed is told, in Bengali, what to check and where to get help, in the same words
whatever did not match, and corrects the application under the same number (issue 18)."""

from __future__ import annotations

import re

from sonod.domain import Status
from tests.stack import citizen as citizen_body
from tests.ui.test_tracked import MOBILE, track

UNION = "sahapur"


async def test_a_citizen_corrects_an_nid_mismatch_and_the_application_goes_on(stack, visitors):
    body = citizen_body(UNION, 7, contact={"mobile": MOBILE})
    given = body["applicant"]
    application_id = await stack.submitted(body | {"applicant": given | {"name_en": "Somebody Else"}})
    await stack.wait_for(application_id, Status.NID_FAILED)

    citizen = await visitors()
    await track(citizen, application_id)
    note = await citizen.page.inner_text("#returned")
    assert "তথ্য জাতীয় পরিচয়পত্রের তথ্যের সাথে মেলেনি" in note and "ইউনিয়ন ডিজিটাল সেন্টার" in note
    assert "নাম" in note and "name does not match" not in await citizen.page.content()  # no field is singled out
    await citizen.check("portal-track-nid-failed")

    await citizen.page.get_by_role("button", name="আবেদন সংশোধন করুন").click()
    await citizen.page.wait_for_selector("#f-applicant-name_en")
    assert "তথ্য জাতীয় পরিচয়পত্রের তথ্যের সাথে মেলেনি" in await citizen.page.inner_text("#returned")
    await citizen.page.locator("#f-applicant-name_en").fill(given["name_en"])
    await citizen.page.get_by_role("button", name="সংশোধিত আবেদন জমা দিন").click()
    await citizen.page.wait_for_selector("#done")
    app = await stack.wait_for(application_id, Status.AWAITING_DECISION)
    assert app["application_id"] == application_id and app["round"] == 1
    assert re.search(r"আবেদন", await citizen.page.inner_text("#done"))
