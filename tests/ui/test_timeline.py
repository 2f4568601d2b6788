"""The timeline says who did what, in which office, when, and why, in the page's language, with no internal names;
a revocation is on it (issue 18)."""

from __future__ import annotations

from sonod.domain import Status
from tests.stack import citizen, people, warish_details
from tests.ui.conftest import wait_for_status
from tests.ui.test_tracked import MOBILE, track
from tests.unions_kit import database

UNION = "sahapur"
INTERNAL = ("sonod", "outbox", "porichoy", "portal:", "ward_member", "chairman.", "secretary.")


def name_of(settings, username: str) -> str:
    from sqlalchemy import select

    from sonod import db

    with database(settings.db_url) as session:
        return session.scalar(select(db.User.name_bn).where(db.User.username == username))


async def test_the_timeline_names_each_officer_their_decision_and_reason(stack, visitors, settings):
    index = 9
    ward = people(UNION)[index]["ward_no"]
    body = citizen(UNION, index, "warish", details=warish_details(), contact={"mobile": MOBILE})
    application_id = await stack.submitted(body)
    await stack.wait_for(application_id, Status.AWAITING_RECOMMENDATION)
    assert (await stack.decide(f"ward{ward}.{UNION}", application_id, "approve", "পরিবারকে চিনি")).status_code == 200
    await stack.wait_for(application_id, Status.AWAITING_VERIFICATION)
    assert (await stack.decide(f"secretary.{UNION}", application_id, "approve", "কাগজ ঠিক আছে")).status_code == 200
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    assert (await stack.decide(f"chairman.{UNION}", application_id)).status_code == 200
    issued = await wait_for_status(stack, application_id, Status.ISSUED, officer=f"chairman.{UNION}")
    r = await stack.http.post(f"/api/v1/certificates/{issued['certificate_no']}/revoke",
                              json={"reason": "ভুল ওয়ারিশ তালিকা"}, headers=await stack.as_officer(f"chairman.{UNION}"))
    assert r.status_code == 200, r.text

    secretary = await visitors()
    await secretary.login(f"secretary.{UNION}")
    await secretary.go(f"/dashboard/applications/{application_id}")
    timeline = await secretary.page.inner_text("ol.timeline")
    for username, office, did in ((f"ward{ward}.{UNION}", "ইউপি সদস্য", "সুপারিশ করেছেন"),
                                  (f"secretary.{UNION}", "সচিব", "যাচাই করেছেন"),
                                  (f"chairman.{UNION}", "চেয়ারম্যান", "অনুমোদন করেছেন")):
        line = next(li for li in timeline.splitlines() if did in li)
        assert name_of(settings, username) in line and office in line, line
    assert "পরিবারকে চিনি" in timeline and "কাগজ ঠিক আছে" in timeline
    assert "সনদ বাতিল করেছেন" in timeline and "ভুল ওয়ারিশ তালিকা" in timeline
    assert "বার্তা পাঠানো হয়েছে" in timeline  # officers see the messages sent
    assert not [w for w in INTERNAL if w in timeline], timeline
    await secretary.check("dashboard-timeline")

    applicant = await visitors()
    await track(applicant, application_id)
    seen = await applicant.page.inner_text("ol.timeline")
    assert "যাচাই করেছেন" in seen and "কাগজ ঠিক আছে" in seen and "সনদ বাতিল করেছেন" in seen
    assert "বার্তা পাঠানো হয়েছে" not in seen and not [w for w in INTERNAL if w in seen], seen
    await applicant.check("portal-track-timeline")
