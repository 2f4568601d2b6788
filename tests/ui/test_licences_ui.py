"""The trade licence register and its renewal in a real browser: the secretary sees the union's licences with their
state, and the desk renews one from its row, the form filled in from last year but for this year's holding tax
receipt. Screenshots under artifacts/screenshots/ (dashboard-licences-*, desk-licence-renewal-*)."""

from __future__ import annotations

from sonod.domain import Status
from tests.certificates_kit import own_union
from tests.test_licences import LAST_YEAR, THIS_YEAR, issued, shop
from tests.ui.conftest import wait_for_status


async def test_the_desk_renews_a_licence_from_the_register(stack, settings, visitors, tmp_path):
    union = await own_union(settings, "lic-ui")
    _, licence = await issued(stack, settings, tmp_path, union, 35, shop(LAST_YEAR, "trader"))
    number = f"{union.upper()}-TL-00001"

    secretary = await visitors()
    await secretary.login(f"secretary.{union}")
    await secretary.go("/dashboard/licences")
    row = secretary.page.locator("#licences tbody tr", has_text=number)
    assert await row.get_attribute("data-state") == "expired"
    assert licence.certificate_no in await row.inner_text()
    await secretary.check("dashboard-licences")

    await row.get_by_role("link", name="নবায়ন").click()
    await secretary.page.wait_for_load_state()
    page = secretary.page
    assert await page.locator("[name='details.renews']").input_value() == number
    assert await page.locator("[name='details.fiscal_year']").input_value() == THIS_YEAR
    assert await page.locator("[name='details.business_name_bn']").input_value() == "মায়ের দোয়া স্টোর"
    assert await page.locator("[name='details.holding_tax_receipt_no']").input_value() == ""
    await secretary.check("desk-licence-renewal")
    await page.locator("[name='details.holding_tax_receipt_no']").fill(f"HT-{THIS_YEAR}-0101")
    await page.locator("form.app-form button[type=submit]").last.click()
    await page.wait_for_url("**/desk/receipt/*")
    application_id = page.url.rsplit("/", 1)[1]
    app = await wait_for_status(stack, application_id, Status.AWAITING_PAYMENT, officer=f"secretary.{union}")
    assert app["fee"]["amount"] == 690  # the trader's 500, signboard 100, VAT 90: renewed the next year, no arrears
