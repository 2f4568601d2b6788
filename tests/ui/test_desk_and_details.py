"""Issue 18 in a real browser: the UDC desk's receipt carries the tracking address and a QR code that a citizen's
phone opens; the desk needs the mobile number and finds an operator's own applications by number, name or mobile;
a heir's row can be removed (with and without JavaScript); a too-long field says its limit; and the site has an
icon. Screenshots under artifacts/screenshots/ (desk-receipt-qr-*, desk-search-*, portal-heirs-*, ...)."""

from __future__ import annotations

import re
import subprocess

from sonod.bengali import to_bn_digits
from sonod.domain import Status
from tests.stack import ZBARIMG, people
from tests.ui.conftest import wait_for_status
from tests.ui.test_tracked import no_js  # noqa: F401  (a fixture)
from tests.ui.test_web import fill_applicant

UNION = "kajulia"  # no other browser test files in this union
OTHER_UNION = "karpara"
MOBILE = "01911223344"
SUBMIT = "আবেদন জমা দিন"


def _person(index: int) -> dict:
    return people(UNION)[index]


async def _file_at_the_desk(udc, person: dict, mobile: str | None) -> None:
    await udc.go("/desk/new/citizenship")
    await fill_applicant(udc.page, person, mobile or "")
    await udc.page.get_by_label("কী কাজে প্রয়োজন").fill("চাকরির আবেদন")
    await udc.page.get_by_role("button", name=SUBMIT).click()
    await udc.page.wait_for_load_state()


async def test_the_desk_receipt_carries_a_tracking_qr_that_opens_the_citizens_track_page(stack, visitors, settings,
                                                                                      tmp_path):
    udc = await visitors()
    await udc.login(f"udc.{UNION}")
    person = _person(1)

    # the mobile number is required at the desk: the receipt's tracking needs it
    await _file_at_the_desk(udc, person, None)
    mobile = udc.page.locator("#f-contact-mobile")
    assert await mobile.evaluate("el => el.validity.valueMissing")  # the browser asks for it before sending
    assert "/desk/receipt/" not in udc.page.url
    await mobile.fill(MOBILE)
    await udc.page.get_by_role("button", name=SUBMIT).click()
    await udc.page.wait_for_url(re.compile(r"/desk/receipt/"))
    application_id = (await udc.page.inner_text("#application-no")).strip()
    await wait_for_status(stack, application_id, Status.AWAITING_DECISION, officer=f"chairman.{UNION}")
    await udc.page.reload()

    # the receipt: the tracking address, written out and as a QR code
    path = f"/unions/{UNION}/track?id={application_id}"
    address = settings.public_url.rstrip("/") + path
    assert address in await udc.page.inner_text("#track-address")
    assert "৩৪৪" in await udc.page.inner_text("main")  # the mobile number's last digits, to say which one
    qr = udc.page.locator("#track-qr")
    await qr.screenshot(path=str(tmp_path / "qr.png"))
    scanned = subprocess.run([*ZBARIMG, str(tmp_path / "qr.png")], capture_output=True,
                             text=True).stdout.strip()
    assert scanned == address
    await udc.check("desk-receipt-qr")

    # printed: no menus or buttons, the QR code kept
    await udc.page.emulate_media(media="print")
    assert not await udc.page.locator("header.top").is_visible()
    assert not await udc.page.get_by_role("button", name="প্রিন্ট করুন").is_visible()
    assert await qr.is_visible()
    await udc.page.screenshot(path=str(tmp_path / "printed.png"), full_page=True)
    await udc.page.emulate_media(media="screen")

    # the citizen's phone opens the scanned address (on this test server), types the mobile number and sees it
    citizen = await visitors()
    await citizen.go(scanned.removeprefix(settings.public_url.rstrip("/")))
    assert await citizen.page.locator("input[name=application_id]").input_value() == application_id
    await citizen.page.locator("input[name=mobile]").fill(MOBILE)
    await citizen.page.locator("input[name=mobile]").press("Enter")
    await citizen.page.wait_for_load_state()
    assert "চেয়ারম্যানের অনুমোদনের অপেক্ষায়" in await citizen.page.inner_text("main")


async def test_the_desk_finds_its_own_applications_by_number_name_or_mobile(stack, visitors):
    udc = await visitors()
    await udc.login(f"udc.{UNION}")
    person = _person(2)
    await _file_at_the_desk(udc, person, "01822334455")
    await udc.page.wait_for_url(re.compile(r"/desk/receipt/"))
    application_id = (await udc.page.inner_text("#application-no")).strip()
    await _file_at_the_desk(udc, _person(3), "01733445566")  # another, that the searches must leave out
    await udc.page.wait_for_url(re.compile(r"/desk/receipt/"))
    other_id = (await udc.page.inner_text("#application-no")).strip()

    await udc.go("/desk/")
    search = udc.page.get_by_label("খুঁজুন: আবেদন নম্বর, নাম বা মোবাইল")
    for query in (application_id.lower(), person["name_bn"].split()[-1], person["name_en"].split()[-1].upper(),
                  to_bn_digits("01822334455")):
        await search.fill(query)
        await search.press("Enter")
        await udc.page.wait_for_load_state()
        found = await udc.page.inner_text("main")
        assert application_id in found and other_id not in found, query
    await udc.check("desk-search")

    await search.fill("01999999999")
    await search.press("Enter")
    await udc.page.wait_for_load_state()
    assert application_id not in await udc.page.inner_text("main")

    # another union's operator: what this one filed is not theirs to find
    other = await visitors()
    await other.login(f"udc.{OTHER_UNION}")
    await other.go(f"/desk/?q={application_id}")
    assert application_id not in await other.page.inner_text("main")


HEIRS = ["মোছাঃ রহিমা বেগম", "মোঃ সাকিব হাসান", "সুমাইয়া আক্তার"]


async def test_a_heirs_row_is_removed_with_its_button(stack, visitors):
    citizen = await visitors()
    await citizen.go(f"/unions/{UNION}/apply/warish")
    for row, name in enumerate(HEIRS):
        await citizen.page.locator(f"#f-details-heirs-{row}-name_bn").fill(name)
    rows = citizen.page.locator("[data-table] [data-row]")
    before = await rows.count()
    assert not await rows.nth(0).get_by_label("এই সারি বাদ দিন").is_visible()  # the no-JS box gives way to a button
    await rows.nth(1).get_by_role("button", name="এই সারি বাদ দিন").click()
    assert await rows.count() == before - 1
    # the rows after it move up, names and numbers with them
    assert await citizen.page.locator("#f-details-heirs-1-name_bn").input_value() == HEIRS[2]
    assert await citizen.page.locator("#f-details-heirs-0-name_bn").input_value() == HEIRS[0]
    assert "২" in await rows.nth(1).locator("legend").inner_text()
    await citizen.check("portal-heirs-removed")


async def test_without_javascript_a_ticked_heirs_row_is_left_out(stack, no_js):  # noqa: F811
    await no_js.go(f"/unions/{UNION}/apply/warish")
    await fill_applicant(no_js.page, _person(5), MOBILE)
    await no_js.page.locator("#f-details-deceased-name_bn").fill("মোঃ আব্দুল করিম")
    await no_js.page.locator("#f-details-deceased-date_of_death").fill("2024-03-02")
    await no_js.page.locator("#f-details-deceased-death_registration_no").fill("123")  # wrong: the form comes back
    for row, name in enumerate(HEIRS):
        await no_js.page.locator(f"#f-details-heirs-{row}-name_bn").fill(name)
        await no_js.page.locator(f"#f-details-heirs-{row}-relation").select_option("son")
    await no_js.page.locator("[data-row]").nth(1).get_by_label("এই সারি বাদ দিন").check()
    await no_js.page.get_by_role("button", name=SUBMIT).click()
    await no_js.page.wait_for_selector("#form-errors")
    assert await no_js.page.locator("#f-details-heirs-0-name_bn").input_value() == HEIRS[0]
    assert await no_js.page.locator("#f-details-heirs-1-name_bn").input_value() == HEIRS[2]
    assert await no_js.page.locator("#f-details-heirs-2-name_bn").input_value() == ""
    await no_js.check("portal-heirs-removed-nojs")


async def test_a_too_long_field_says_its_limit(stack, visitors):
    citizen = await visitors()
    await citizen.go(f"/unions/{UNION}/apply/citizenship")
    await fill_applicant(citizen.page, _person(4), MOBILE)
    name = citizen.page.locator("#f-applicant-name_bn")
    await name.evaluate("el => el.removeAttribute('maxlength')")  # as a browser that ignores it
    await name.fill("ক" * 121)
    await citizen.page.get_by_label("কী কাজে প্রয়োজন").fill("চাকরির আবেদন")
    await citizen.page.get_by_role("button", name=SUBMIT).click()
    await citizen.page.wait_for_selector("#form-errors")
    error = await citizen.page.locator("#f-applicant-name_bn-err").inner_text()
    assert "১২০" in error and not re.search(r"[0-9]", error), error
    await citizen.check("portal-too-long")

    await citizen.go(f"/unions/{UNION}/apply/citizenship?lang=en")
    await fill_applicant(citizen.page, _person(4), MOBILE)
    await name.evaluate("el => el.removeAttribute('maxlength')")
    await name.fill("ক" * 121)
    await citizen.page.locator("#f-details-purpose").fill("job")
    await citizen.page.get_by_role("button", name="Submit the application").click()
    await citizen.page.wait_for_selector("#form-errors")
    assert "120" in await citizen.page.locator("#f-applicant-name_bn-err").inner_text()


async def test_the_site_has_an_icon(stack, visitors):
    citizen = await visitors()
    await citizen.go(f"/unions/{UNION}/")
    href = await citizen.page.locator("link[rel=icon]").get_attribute("href")
    icon = await citizen.page.request.get(citizen.base_url + href)
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in await icon.body()
    legacy = await citizen.page.request.get(citizen.base_url + "/favicon.ico")
    assert legacy.status == 200 and legacy.headers["content-type"].startswith("image/")
