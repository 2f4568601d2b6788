"""After escalation the acting chairman finds the application in his own queue and decides it there: the dashboard
reads who may decide from the workflow's published answer (issue 12)."""

from __future__ import annotations

import re

from sonod.domain import Status
from tests.stack import citizen
from tests.ui.conftest import wait_for_status
from tests.unions_kit import union_for


async def test_the_acting_chairman_decides_an_escalated_application_from_his_queue(stack, visitors, settings, request):
    union = await union_for(request, settings.db_url, "ui-acting")
    application_id = await stack.submitted(citizen("paikkandi", 8) | {"union": union})
    await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{union}")

    acting = await visitors()
    await acting.login(f"acting.{union}")
    assert application_id not in await acting.page.inner_text("main")  # the chairman's, until escalation

    r = await stack.http.post(f"/api/v1/applications/{application_id}/escalate", json={"reason": "chairman abroad"},
                              headers=await stack.as_officer("operator"))
    assert r.status_code == 200, r.text

    await acting.go("/dashboard/")
    await acting.page.get_by_role("link", name=re.compile(application_id)).click()
    await acting.page.wait_for_url(re.compile(application_id))
    assert await acting.page.locator("#not-mine").count() == 0
    await acting.check("dashboard-detail-acting")
    await acting.page.get_by_role("button", name="অনুমোদন করুন").click()
    await acting.page.wait_for_url(re.compile(r"done=decided"))
    await wait_for_status(stack, application_id, Status.ISSUED, officer=f"chairman.{union}")
