"""What a citizen does with a tracked application, in a real browser against the live stack: cancel it, correct it
after an officer sent it back, pay its fee through the simulated gateway (dev mode); and the officers' queue counting
its deadlines down live. Screenshots under artifacts/screenshots/ (portal-track-*, portal-cancel-*, portal-amend*)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from api.pages import gateway
from sonod.domain import Status
from tests.stack import citizen as citizen_body
from tests.stack import people
from tests.ui.conftest import Visitor, wait_for_status
from tests.ui.test_web import fill_applicant

UNION = "sahapur"  # not the union of test_web.py, so that neither sees the other's queue
MOBILE = "01812345678"
ASCII_DIGITS = re.compile(r"[0-9]")


def _person(index: int) -> dict:
    return people(UNION)[index]


@dataclass
class NoScriptVisitor(Visitor):
    """A citizen whose browser runs no JavaScript: the core flows must work without it. axe-core cannot run in such a
    page, so `check` looks at a copy of it in a page that runs scripts, all but sonod.js."""

    copy: Visitor | None = None

    async def check(self, name: str) -> None:
        html = await self.page.content()
        await self.copy.go("/healthz")  # this site's origin, so that the copy's /static/ links resolve
        await self.copy.page.set_content(html)
        await self.copy.check(name)


@pytest.fixture
async def no_js(browser, base_url, page_report):
    contexts = [await browser.new_context(viewport={"width": 1280, "height": 800}, locale="bn-BD", **options)
                for options in ({"java_script_enabled": False}, {})]
    for context in contexts:
        context.set_default_timeout(15_000)
    await contexts[1].route("**/sonod.js", lambda route: route.abort())
    copy = Visitor(contexts[1], await contexts[1].new_page(), base_url, page_report)
    yield NoScriptVisitor(contexts[0], await contexts[0].new_page(), base_url, page_report, copy=copy)
    for context in contexts:
        await context.close()


async def apply_in_portal(visitor, person: dict, code: str = "citizenship", details: dict | None = None) -> str:
    await visitor.go(f"/unions/{UNION}/apply/{code}")
    await fill_applicant(visitor.page, person, MOBILE)
    for field, value in (details or {}).items():
        await visitor.page.locator(f"#f-details-{field}").fill(value)
    await visitor.page.get_by_role("button", name="আবেদন জমা দিন").click()
    await visitor.page.wait_for_url(re.compile(r"/applied/"))
    return (await visitor.page.inner_text("#application-no")).strip()


async def track(visitor, application_id: str, mobile: str = MOBILE) -> None:
    await visitor.go(f"/unions/{UNION}/track?id={application_id}")
    await visitor.page.get_by_label("মোবাইল নম্বর").fill(mobile)
    await visitor.page.get_by_role("button", name="অবস্থা দেখুন", exact=True).click()
    await visitor.page.wait_for_selector("#status")


def post_codes(page) -> list[int]:
    """The status of every POST the page sends from now on."""
    codes: list[int] = []
    page.on("response", lambda r: codes.append(r.status) if r.request.method == "POST" else None)
    return codes


async def test_a_citizen_cancels_an_open_application_after_confirming_with_a_reason(stack, no_js):
    citizen, page = no_js, no_js.page
    application_id = await apply_in_portal(citizen, _person(0))
    await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")
    await track(citizen, application_id)
    await page.get_by_role("button", name="আবেদন বাতিল করুন").click()

    # a confirmation first; "no" goes back and nothing changes
    assert await page.inner_text("h1") == "আবেদনটি বাতিল করবেন?"
    await citizen.check("portal-cancel-confirm")
    await page.get_by_role("button", name="না, আবেদনটি থাকুক").click()
    assert "চেয়ারম্যানের অনুমোদনের অপেক্ষায়" in await page.inner_text("#status")
    await page.get_by_role("button", name="আবেদন বাতিল করুন").click()

    # blanks are no reason: 422, said beside the field
    codes = post_codes(page)
    await page.get_by_label("কেন বাতিল করছেন?").fill("   ")
    await page.get_by_role("button", name="হ্যাঁ, আবেদন বাতিল করুন").click()
    await page.wait_for_selector("#form-errors")
    assert codes == [422]
    assert await page.locator("#reason").get_attribute("aria-invalid") == "true"
    assert "এই ঘরটি পূরণ করুন" in await page.inner_text("#reason-err")
    await citizen.check("portal-cancel-no-reason")

    await page.get_by_label("কেন বাতিল করছেন?").fill("অন্য ইউনিয়ন থেকে সনদ নিয়েছি")
    await page.get_by_role("button", name="হ্যাঁ, আবেদন বাতিল করুন").click()
    await page.wait_for_selector("#done")
    assert "আপনার আবেদনটি বাতিল করা হয়েছে" in await page.inner_text("#done")
    assert "বাতিল" in await page.inner_text("#status")
    assert await page.get_by_role("button", name="আবেদন বাতিল করুন").count() == 0  # nothing left to cancel
    await citizen.check("portal-track-cancelled")
    app = await wait_for_status(stack, application_id, Status.CANCELLED, officer=f"chairman.{UNION}")
    assert {"status": "cancelled", "note": "অন্য ইউনিয়ন থেকে সনদ নিয়েছি"} in [
        {k: e[k] for k in ("status", "note")} for e in app["events"]]


async def test_every_action_needs_the_application_number_and_the_mobile_number(stack, visitors):
    citizen = await visitors()
    application_id = await apply_in_portal(citizen, _person(1))
    await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")
    await track(citizen, application_id)
    csrf = await citizen.page.locator("input[name=csrf]").first.input_value()
    for action in ("/track/cancel", "/track/cancel/confirm", "/track/amend", "/track/amend/send", "/track/pay",
                   "/track/pdf"):
        r = await citizen.context.request.post(f"{citizen.base_url}/unions/{UNION}{action}", form={
            "csrf": csrf, "application_id": application_id, "mobile": "01900000000", "reason": "x"})
        assert r.status == 404, (action, r.status)
        assert "কোনো আবেদন পাওয়া যায়নি" in await r.text()
    r = await citizen.context.request.post(f"{citizen.base_url}/unions/{UNION}/track/cancel/confirm", form={
        "application_id": application_id, "mobile": MOBILE, "reason": "x"})  # no CSRF token
    assert r.status == 403
    await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")


async def test_a_returned_application_is_corrected_by_the_citizen_and_comes_back_to_the_officer(stack, visitors):
    person = _person(2)
    citizen = await visitors()
    page = citizen.page
    application_id = await apply_in_portal(citizen, person | {"father_name_bn": "ভুল নাম"})
    await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")

    # the chairman sends it back with a reason
    chairman = await visitors()
    await chairman.login(f"chairman.{UNION}")
    await chairman.go(f"/dashboard/applications/{application_id}")
    assert await chairman.page.locator("tr.differs").count() == 1
    reason = "পিতার নাম এনআইডির সাথে মেলেনি; ঠিক করে আবার পাঠান"
    await chairman.page.get_by_label("কারণ").fill(reason)
    await chairman.page.get_by_role("button", name="সংশোধনে ফেরত").click()
    await chairman.page.wait_for_url(re.compile(r"done=decided"))
    await wait_for_status(stack, application_id, Status.RETURNED, officer=f"chairman.{UNION}")

    # the citizen sees why, and opens the form filled in with what the application holds
    await track(citizen, application_id)
    assert "সংশোধনের জন্য ফেরত" in await page.inner_text("#status")
    assert reason in await page.inner_text("#returned")
    await citizen.check("portal-track-returned")
    await page.get_by_role("button", name="আবেদন সংশোধন করুন").click()
    assert await page.locator("#f-applicant-father_name_bn").input_value() == "ভুল নাম"
    assert await page.locator("#f-applicant-nid").input_value() == person["nid"]
    assert await page.locator("#f-contact-mobile").input_value() == MOBILE
    assert reason in await page.inner_text("#returned")
    await citizen.check("portal-amend")

    # a mistake in the correction: 422 beside the field, in Bengali, what was typed kept
    codes = post_codes(page)
    await page.locator("#f-applicant-father_name_bn").fill(person["father_name_bn"])
    await page.locator("#f-applicant-nid").fill("12345")
    await page.get_by_role("button", name="সংশোধিত আবেদন জমা দিন").click()
    await page.wait_for_selector("#form-errors")
    assert codes == [422]
    assert await page.locator("#f-applicant-nid").get_attribute("aria-invalid") == "true"
    assert "এনআইডি ১০, ১৩ বা ১৭ অঙ্কের হয়" in await page.inner_text("#f-applicant-nid-err")
    assert await page.locator("#f-applicant-father_name_bn").input_value() == person["father_name_bn"]
    await citizen.check("portal-amend-errors")

    await page.locator("#f-applicant-nid").fill(person["nid"])
    await page.get_by_role("button", name="সংশোধিত আবেদন জমা দিন").click()
    await page.wait_for_selector("#done")
    assert "সংশোধিত আবেদন জমা হয়েছে" in await page.inner_text("#done")
    await citizen.check("portal-track-amended")

    # back with the chairman, now matching the NID record
    app = await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")
    assert app["round"] == 1
    await chairman.go("/dashboard/")
    await chairman.page.get_by_role("link", name=re.compile(application_id)).click()
    await chairman.page.wait_for_url(re.compile(application_id))
    assert await chairman.page.locator("tr.differs").count() == 0
    assert await chairman.page.get_by_role("button", name="অনুমোদন করুন").count() == 1


TRADE = {"business_name_bn": "রহিম স্টোর", "business_type_bn": "মুদি দোকান", "business_address_bn": "সাহাপুর বাজার",
         "fiscal_year": "2025-2026", "holding_tax_receipt_no": "HT-2025-0042"}


async def test_a_trade_licence_fee_is_paid_through_the_simulated_gateway_and_goes_on_to_the_secretary(
        stack, settings, visitors):
    citizen = await visitors()
    page = citizen.page
    application_id = await apply_in_portal(citizen, _person(3), "trade_licence", TRADE)
    await wait_for_status(stack, application_id, Status.AWAITING_PAYMENT, officer=f"secretary.{UNION}")

    await track(citizen, application_id)
    payment = await page.inner_text("#payment")
    assert "৳ ৬৯০" in payment and application_id in payment and "পেমেন্ট গেটওয়েতে" in payment
    assert "পরীক্ষামূলক পেমেন্ট গেটওয়ে (শুধু ডেমো)" in await page.inner_text("#simulated-gateway")
    await citizen.check("portal-track-payment")
    await page.get_by_role("button", name="পরীক্ষামূলক গেটওয়েতে ৳ ৬৯০ পরিশোধ").click()
    await page.wait_for_selector("#done")
    assert "ফি পরিশোধ হয়েছে" in await page.inner_text("#done")
    assert "সচিবের যাচাইয়ের অপেক্ষায়" in await page.inner_text("#status")
    assert "পরিশোধিত" in await page.inner_text("#fee")
    assert await page.locator("#payment").count() == 0
    await citizen.check("portal-track-paid")

    # the gateway calls back again, as gateways do: harmless
    body, headers = gateway.signed_callback(settings, application_id, 690)
    again = await stack.http.post(gateway.CALLBACK, content=body, headers=headers)
    assert again.status_code == 200, again.text
    app = await wait_for_status(stack, application_id, Status.AWAITING_VERIFICATION, officer=f"secretary.{UNION}")
    assert app["fee"] == {"amount": 690, "currency": "BDT", "paid": True}

    secretary = await visitors()
    await secretary.login(f"secretary.{UNION}")
    assert application_id in await secretary.page.inner_text("main")


async def test_outside_dev_mode_the_track_page_gives_only_the_payment_instructions(stack, settings, visitors):
    body = citizen_body(UNION, 4, "trade_licence", details=TRADE, contact={"mobile": MOBILE})
    application_id = await stack.submitted(body)
    await wait_for_status(stack, application_id, Status.AWAITING_PAYMENT, officer=f"secretary.{UNION}")
    citizen = await visitors()
    settings.dev_mode = False  # the app serves this very settings object
    try:
        await track(citizen, application_id)
        assert "৳ ৬৯০" in await citizen.page.inner_text("#payment")
        assert await citizen.page.locator("#simulated-gateway").count() == 0
        csrf = await citizen.page.locator("input[name=csrf]").first.input_value()
        r = await citizen.context.request.post(f"{citizen.base_url}/unions/{UNION}/track/pay", form={
            "csrf": csrf, "application_id": application_id, "mobile": MOBILE})
        assert r.status == 404
    finally:
        settings.dev_mode = True
    await wait_for_status(stack, application_id, Status.AWAITING_PAYMENT, officer=f"secretary.{UNION}")


async def test_a_refusal_of_the_workflow_reads_in_bengali_on_a_bengali_page_and_in_english_on_an_english_one(
        stack, visitors):
    application_id = await stack.submitted(citizen_body(UNION, 5, contact={"mobile": MOBILE}))
    await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")
    bengali, english = await visitors(), await visitors()
    await english.go(f"/unions/{UNION}/?lang=en")
    for citizen, open_it, cancel in ((bengali, track, "আবেদন বাতিল করুন"),
                                     (english, _track_en, "Cancel the application")):
        await open_it(citizen, application_id)
        await citizen.page.get_by_role("button", name=cancel).click()
        await citizen.page.locator("#reason").fill("stale")

    # the chairman decides while both confirmation pages are open
    assert (await stack.decide(f"chairman.{UNION}", application_id, "reject", "not a resident")).status_code == 200
    await wait_for_status(stack, application_id, Status.REJECTED, officer=f"chairman.{UNION}")

    codes = post_codes(bengali.page)
    await bengali.page.get_by_role("button", name="হ্যাঁ, আবেদন বাতিল করুন").click()
    await bengali.page.wait_for_selector("#problem")
    assert codes == [409]
    problem = await bengali.page.inner_text("#problem")
    assert "আবেদনটি" in problem and not re.search(r"[A-Za-z]", problem), problem
    await bengali.check("portal-cancel-refused")

    await english.page.get_by_role("button", name="Yes, cancel the application").click()
    await english.page.wait_for_selector("#problem")
    problem = await english.page.inner_text("#problem")
    assert re.search(r"can no longer be cancelled|has finished", problem), problem


async def _track_en(visitor, application_id: str) -> None:
    await visitor.go(f"/unions/{UNION}/track?id={application_id}")
    await visitor.page.get_by_label("Mobile number").fill(MOBILE)
    await visitor.page.get_by_role("button", name="Track", exact=True).click()
    await visitor.page.wait_for_selector("#status")


async def test_the_queue_counts_deadlines_down_live_in_bengali_digits(stack, visitors):
    application_id = await stack.submitted(citizen_body(UNION, 6, contact={"mobile": MOBILE}))
    await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")
    chairman = await visitors()
    page = chairman.page
    await page.clock.install()
    await chairman.login(f"chairman.{UNION}")

    # without JavaScript: the server's words, days and hours
    raw = await (await chairman.context.request.get(f"{chairman.base_url}/dashboard/")).text()
    row = raw[raw.index(application_id):]
    assert re.search(r"<span data-left>বাকি ২ দিন ২৩ ঘণ্টা</span>", row[:1500]), row[:1500]

    # with it: minutes too, ticking, in Bengali digits
    due = page.locator("li", has_text=application_id).locator(".due")
    first = await due.inner_text()
    assert re.fullmatch(r"বাকি ২ দিন ২৩ ঘণ্টা [০-৯]+ মিনিট", first), first
    await chairman.check("dashboard-queue-countdown")
    await page.clock.fast_forward("02:00:00")
    later = await due.inner_text()
    assert later != first and re.fullmatch(r"বাকি ২ দিন ২১ ঘণ্টা [০-৯]+ মিনিট", later), later
    assert not ASCII_DIGITS.search(later)

    # past the deadline: overdue, marked late
    await page.clock.fast_forward(72 * 3600 * 1000)
    late = await due.inner_text()
    assert re.fullmatch(r"⚠ [০-৯]+ ঘণ্টা( [০-৯]+ মিনিট)? পেরিয়ে গেছে", late), late
    assert "late" in await due.get_attribute("class")
    assert "late" in await page.locator("li", has_text=application_id).get_attribute("class")
    await chairman.check("dashboard-queue-overdue")

    # a new page counts on the server's clock, not on the phone's (still 74 hours ahead), and in English here
    await chairman.go("/dashboard/?lang=en")
    english = await page.locator("li", has_text=application_id).locator(".due").inner_text()
    assert re.fullmatch(r"2 d 23 h \d+ min left", english), english
