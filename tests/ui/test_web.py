"""The web UI in a real browser against the live stack: a warish certificate from the citizen portal through the
ward member, the secretary and the chairman to the citizen's download, and its revocation; the UDC desk; and the
pages' accessibility, size and looks (screenshots under artifacts/screenshots/)."""

from __future__ import annotations

import re

from sonod.domain import Status
from tests.stack import people
from tests.ui.conftest import wait_for_status

UNION = "gopinathpur"  # no other test applies in this union, so its queues hold only what these tests make
MOBILE = "01712345678"


def _applicant(index: int = 0) -> dict:
    return people(UNION)[index]


async def fill_applicant(page, person: dict, mobile: str = MOBILE) -> None:
    await page.locator("#f-applicant-nid").fill(person["nid"])
    await page.locator("#f-applicant-date_of_birth").fill(person["date_of_birth"])
    await page.locator("#f-applicant-name_bn").fill(person["name_bn"])
    await page.locator("#f-applicant-name_en").fill(person["name_en"])
    await page.locator("#f-applicant-father_name_bn").fill(person["father_name_bn"])
    await page.locator("#f-applicant-mother_name_bn").fill(person["mother_name_bn"])
    await page.locator("#f-applicant-ward_no").fill(str(person["ward_no"]))
    await page.locator("#f-contact-mobile").fill(mobile)


async def test_a_warish_certificate_goes_from_the_portal_through_three_officers_to_the_citizen(stack, visitors):
    person = _applicant(0)
    citizen = await visitors()
    page = citizen.page

    # the union's portal: choose warish
    await citizen.go("/")
    await citizen.check("portal-unions")
    await citizen.go(f"/unions/{UNION}/")
    await citizen.check("portal-home")
    await page.get_by_role("link", name="ওয়ারিশ সনদ").click()
    await page.wait_for_url(re.compile(r"/apply/warish$"))
    assert "বিনা মূল্যে" in await page.inner_text(".facts")  # the fee
    assert "৭ দিনের মধ্যে" in await page.inner_text(".facts")  # the promised deadline

    # the form: applicant, deceased, heirs (one row added with the add-row button)
    await fill_applicant(page, person)
    await page.locator("#f-details-deceased-name_bn").fill("মোঃ আব্দুল করিম")
    await page.locator("#f-details-deceased-date_of_death").fill("2024-03-02")
    await page.locator("#f-details-deceased-death_registration_no").fill("20240000000000123")
    heirs = [("মোছাঃ রহিমা বেগম", "wife"), ("মোঃ সাকিব হাসান", "son"), ("সুমাইয়া আক্তার", "daughter"),
             ("মোঃ রাকিব হাসান", "son")]
    await page.get_by_role("button", name="আরেকজন যোগ করুন").click()
    for row, (name, relation) in enumerate(heirs):
        await page.locator(f"#f-details-heirs-{row}-name_bn").fill(name)
        await page.locator(f"#f-details-heirs-{row}-relation").select_option(relation)
    await citizen.check("portal-apply-warish")
    await page.get_by_role("button", name="আবেদন জমা দিন").click()

    # the application number
    await page.wait_for_url(re.compile(r"/applied/"))
    application_id = (await page.inner_text("#application-no")).strip()
    assert re.fullmatch(r"A\d{6}-[0-9A-F]{16}", application_id)
    await citizen.check("portal-applied")
    app = await wait_for_status(stack, application_id, Status.AWAITING_RECOMMENDATION,
                                officer=f"secretary.{UNION}")
    assert app["certificate_type"] == "warish"

    # the secretary, too early: no buttons, only who decides now
    secretary = await visitors()
    await secretary.login(f"secretary.{UNION}")
    await secretary.go(f"/dashboard/applications/{application_id}")
    assert await secretary.page.locator("#not-mine").count() == 1
    assert await secretary.page.get_by_role("button", name="যাচাই সম্পন্ন").count() == 0

    # the member of another ward: the workflow's published answer (Awaiting) names the NID record's ward, so the
    # page offers no button, only who decides now (the workflow itself refuses that member: tests/security)
    other_ward = await visitors()
    await other_ward.login(f"ward{person['ward_no'] % 9 + 1}.{UNION}")
    assert application_id not in await other_ward.page.inner_text("main")  # not in that member's queue
    await other_ward.go(f"/dashboard/applications/{application_id}")
    assert await other_ward.page.locator("#not-mine").count() == 1
    assert await other_ward.page.get_by_role("button", name="সুপারিশ করুন").count() == 0

    # the ward member: the queue holds it; the detail sets the claims beside the NID record; recommend
    ward = await visitors()
    await ward.login(f"ward{person['ward_no']}.{UNION}")
    await ward.page.get_by_role("link", name=re.compile(application_id)).click()
    await ward.page.wait_for_url(re.compile(application_id))
    assert await ward.page.locator("img.photo").count() == 1
    assert await ward.page.locator("tr.differs").count() == 0  # a true applicant: the record agrees
    await ward.check("dashboard-detail")
    await ward.page.get_by_role("button", name="সুপারিশ করুন").click()
    await ward.page.wait_for_url(re.compile(r"done=decided"))
    assert "সচিবের যাচাইয়ের অপেক্ষায়" in await ward.page.inner_text("#status")

    # the secretary verifies (TOTP log-in); the queue shows it first
    await secretary.go("/dashboard/")
    await secretary.check("dashboard-queue")
    await secretary.page.get_by_role("link", name=re.compile(application_id)).click()
    stale = await secretary.context.new_page()  # the same application open in a second tab
    await stale.goto(secretary.page.url)
    await secretary.page.get_by_role("button", name="যাচাই সম্পন্ন").click()
    await secretary.page.wait_for_url(re.compile(r"done=decided"))
    assert "চেয়ারম্যানের অনুমোদনের অপেক্ষায়" in await secretary.page.inner_text("#status")
    await stale.get_by_role("button", name="যাচাই সম্পন্ন").click()  # decided already: 409, said plainly
    assert "সচিব পদের সিদ্ধান্তের অপেক্ষায় নেই" in await stale.inner_text("#problem")

    # the chairman approves (TOTP log-in)
    chairman = await visitors()
    await chairman.login(f"chairman.{UNION}")
    await chairman.go(f"/dashboard/applications/{application_id}")
    await chairman.page.get_by_role("button", name="অনুমোদন করুন").click()
    await chairman.page.wait_for_url(re.compile(r"done=decided"))
    issued = await wait_for_status(stack, application_id, Status.ISSUED, officer=f"chairman.{UNION}")

    # the citizen tracks it by number and mobile, and downloads the PDF
    await citizen.go(f"/unions/{UNION}/track?id={application_id}")
    await page.get_by_label("মোবাইল নম্বর").fill(MOBILE)
    await page.get_by_role("button", name="অবস্থা দেখুন", exact=True).click()
    assert "সনদ ইস্যু হয়েছে" in await page.inner_text("#status")
    await citizen.check("portal-track-issued")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="সনদ ডাউনলোড করুন (PDF)").click()
    download = await download_info.value
    assert download.suggested_filename == f"{issued['certificate_no']}.pdf"
    assert (await download.path()).read_bytes().startswith(b"%PDF")

    # the chairman revokes it; the dashboard and the citizen's tracking both say so
    await chairman.go(f"/dashboard/applications/{application_id}")
    await chairman.page.get_by_label("বাতিলের কারণ").fill("ভুল তথ্যের ভিত্তিতে ইস্যু করা হয়েছিল")
    await chairman.page.get_by_role("button", name="সনদ বাতিল করুন").click()
    confirm = await chairman.page.inner_text("#confirm-revoke")  # what follows is said before it happens
    assert "ফেরানো যাবে না" in confirm and "এসএমএস" in confirm and "ভুল তথ্যের ভিত্তিতে" in confirm
    await chairman.check("dashboard-confirm-revoke")
    await chairman.page.get_by_role("button", name="হ্যাঁ, বাতিল করুন").click()
    await chairman.page.wait_for_url(re.compile(r"done=revoked_ok"))
    assert "সনদটি বাতিল করা হয়েছে" in await chairman.page.inner_text("#revoked")
    await chairman.check("dashboard-detail-revoked")
    await chairman.go("/dashboard/figures")
    await chairman.check("dashboard-figures")
    await chairman.go("/dashboard/applications")
    await chairman.check("dashboard-applications")

    await citizen.go(f"/unions/{UNION}/track?id={application_id}")
    await page.get_by_label("মোবাইল নম্বর").fill(MOBILE)
    await page.get_by_role("button", name="অবস্থা দেখুন", exact=True).click()
    assert "সনদটি বাতিল করা হয়েছে" in await page.inner_text("#revoked")
    assert await page.get_by_role("button", name="সনদ ডাউনলোড করুন (PDF)").count() == 0


async def test_tracking_needs_the_mobile_number_given_with_the_application(stack, visitors):
    citizen = await visitors()
    application_id = await _apply_citizenship(citizen, _applicant(1))
    await citizen.go(f"/unions/{UNION}/track?id={application_id}")
    await citizen.page.get_by_label("মোবাইল নম্বর").fill("01800000000")
    await citizen.page.get_by_role("button", name="অবস্থা দেখুন", exact=True).click()
    assert "কোনো আবেদন পাওয়া যায়নি" in await citizen.page.inner_text("main")
    assert await citizen.page.locator("#status").count() == 0


async def test_the_officer_sees_where_the_claims_differ_from_the_nid_record(stack, visitors):
    person = _applicant(3) | {"father_name_bn": "অন্য একজন"}  # the NID check matches name and date of birth only
    citizen = await visitors()
    application_id = await _apply_citizenship(citizen, person)
    await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")
    chairman = await visitors()
    await chairman.login(f"chairman.{UNION}")
    await chairman.go(f"/dashboard/applications/{application_id}")
    differs = chairman.page.locator("tr.differs")
    assert await differs.count() == 1
    assert "অন্য একজন" in await differs.inner_text() and "মিলছে না" in await differs.inner_text()
    assert await differs.locator("mark").count() == 1

    # and decides with the keyboard alone: the reason, then Tab to the approve button, then Enter
    await chairman.page.locator("#reason").focus()
    await chairman.page.keyboard.type("পিতার নাম ভুল বানানে লেখা; এনআইডি অনুযায়ী ঠিক আছে")
    await chairman.page.keyboard.press("Tab")
    assert await chairman.page.evaluate("document.activeElement.textContent") == "অনুমোদন করুন"
    await chairman.page.keyboard.press("Enter")
    await chairman.page.wait_for_url(re.compile(r"done=decided"))


async def test_a_mistake_in_the_form_is_shown_beside_its_field(stack, visitors):
    citizen = await visitors()
    await citizen.go(f"/unions/{UNION}/apply/warish")
    await fill_applicant(citizen.page, _applicant(4))
    await citizen.page.locator("#f-details-deceased-name_bn").fill("মোঃ আব্দুল করিম")
    await citizen.page.locator("#f-details-deceased-date_of_death").fill("2024-03-02")
    await citizen.page.locator("#f-details-deceased-death_registration_no").fill("123")  # not 17 digits
    await citizen.page.locator("#f-details-heirs-0-name_bn").fill("মোছাঃ রহিমা বেগম")
    await citizen.page.locator("#f-details-heirs-0-relation").select_option("wife")
    response_code = []
    citizen.page.on("response", lambda r: response_code.append(r.status) if r.request.method == "POST" else None)
    await citizen.page.get_by_role("button", name="আবেদন জমা দিন").click()
    await citizen.page.wait_for_selector("#form-errors")
    assert response_code == [422]
    field = citizen.page.locator("#f-details-deceased-death_registration_no")
    assert await field.get_attribute("aria-invalid") == "true"
    assert await field.input_value() == "123"  # what was typed stays
    assert await citizen.page.locator("#f-details-heirs-0-name_bn").input_value() == "মোছাঃ রহিমা বেগম"
    await citizen.check("portal-apply-errors")


async def test_the_udc_desk_applies_for_a_citizen_and_lists_its_own_submissions(stack, visitors):
    udc = await visitors()
    await udc.login(f"udc.{UNION}")
    assert udc.page.url.endswith("/desk/")
    await udc.page.get_by_role("link", name="নতুন আবেদন", exact=True).click()
    await udc.check("desk-new")
    await udc.page.get_by_role("link", name="নাগরিকত্ব সনদ").click()
    await fill_applicant(udc.page, _applicant(2))
    await udc.page.get_by_label("কী কাজে প্রয়োজন").fill("চাকরির আবেদন")
    await udc.check("desk-apply-citizenship")
    await udc.page.get_by_role("button", name="আবেদন জমা দিন").click()
    await udc.page.wait_for_url(re.compile(r"/desk/receipt/"))
    application_id = (await udc.page.inner_text("#application-no")).strip()
    await udc.check("desk-receipt")
    await udc.go("/desk/")
    assert application_id in await udc.page.inner_text("main")
    await udc.check("desk-home")
    app = await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")
    assert app["certificate_type"] == "citizenship"


async def test_the_portal_is_in_english_one_click_away(stack, visitors):
    citizen = await visitors()
    await citizen.go(f"/unions/{UNION}/")
    await citizen.page.get_by_role("link", name="English").click()
    assert await citizen.page.get_attribute("html", "lang") == "en"
    assert "Which certificate do you need?" in await citizen.page.inner_text("h1")
    await citizen.go(f"/unions/{UNION}/apply/warish")  # the choice is remembered
    assert "Date of death" in await citizen.page.inner_text("form")
    await citizen.check("portal-apply-warish-en")


async def test_a_form_without_its_csrf_token_is_refused(stack, base_url):
    r = await stack.http.post(f"/unions/{UNION}/track", data={"application_id": "A1", "mobile": MOBILE})
    assert r.status_code == 403
    r = await stack.http.post("/dashboard/login", data={"username": f"ward1.{UNION}", "password": "sonod-demo"})
    assert r.status_code == 403 and "sonod_session" not in r.headers.get("set-cookie", "")


async def test_the_login_page_and_a_wrong_password(stack, visitors):
    officer = await visitors()
    await officer.go("/dashboard/")  # not logged in: sent to the log-in form
    assert "/dashboard/login" in officer.page.url
    await officer.check("dashboard-login")
    await officer.page.get_by_label("ব্যবহারকারীর নাম").fill(f"ward2.{UNION}")
    await officer.page.get_by_label("পাসওয়ার্ড").fill("not-the-password")
    await officer.page.get_by_role("button", name="লগ ইন").click()
    assert "ভুল" in await officer.page.inner_text("[role=alert]")


async def _apply_citizenship(visitor, person: dict) -> str:
    await visitor.go(f"/unions/{UNION}/apply/citizenship")
    await fill_applicant(visitor.page, person)
    await visitor.page.get_by_role("button", name="আবেদন জমা দিন").click()
    await visitor.page.wait_for_url(re.compile(r"/applied/"))
    return (await visitor.page.inner_text("#application-no")).strip()
