"""Issue 16 in a real browser: the forms of the declared certificate types are generated from their schemas, tables
included. A citizen fills a land-inheritance form (the heirs' and the plots' tables) in the portal and a UDC
operator a financial-hardship form (the family members' table) at the desk; both are submitted and the application
holds every row. Screenshots under artifacts/screenshots/ (portal-land-inheritance-*, desk-financial-hardship-*)."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from sonod import db
from sonod.db import make_engine
from sonod.domain import Status
from tests.stack import people
from tests.ui.conftest import wait_for_status
from tests.ui.test_web import fill_applicant

UNION = "durgapur"  # no other browser test applies in this union
MOBILE = "01711998877"
SUBMIT = "আবেদন জমা দিন"
HEIRS = [("মোছাঃ সালমা খাতুন", "wife"), ("মোঃ রাকিব হাসান", "son")]
PLOTS = [("চরপাড়া", "37", "২১৫", "১০৪৫", "নাল", "33"), ("চরপাড়া", "37", "২১৫", "১০৪৬", "ভিটা", "7.5")]
MEMBERS = [("মোছাঃ জোহরা বেগম", "mother", "1970-02-11"), ("মোঃ সাকিব হাসান", "brother", "2010-09-30")]


async def fill_rows(page, table: str, columns: tuple[str, ...], rows) -> None:
    for r, row in enumerate(rows):
        for column, value in zip(columns, row, strict=True):
            field = page.locator(f"#f-details-{table}-{r}-{column}")
            if await field.evaluate("el => el.tagName") == "SELECT":
                await field.select_option(value)
            else:
                await field.fill(value)


async def stored_details(settings, application_id: str) -> dict:
    """The application's `details` as the database holds them."""
    def read() -> dict:
        engine = make_engine(settings.db_url)
        try:
            with engine.connect() as c:
                return c.execute(select(db.Application.details).where(db.Application.id == application_id)).scalar_one()
        finally:
            engine.dispose()
    return await asyncio.to_thread(read)


async def submit(page, done: str) -> str:
    """Send the form and read the application's number from the page it lands on (else fail with the form's
    errors)."""
    async with page.expect_navigation():
        await page.get_by_role("button", name=SUBMIT).click()
    if not re.search(done, page.url):
        errors = await page.locator("#form-errors").all_inner_texts()
        raise AssertionError(f"not sent: {errors}")
    return (await page.inner_text("#application-no")).strip()


async def test_a_citizen_fills_and_submits_a_form_with_the_heirs_and_the_plots_tables(stack, visitors, settings):
    citizen = await visitors()
    page = citizen.page
    await citizen.go(f"/unions/{UNION}/")
    listed = await page.inner_text("main")  # the catalogue's order: the twelve most asked for first
    assert listed.index("নাগরিকত্ব সনদ") < listed.index("ট্রেড লাইসেন্স") < listed.index("উত্তরাধিকারী সনদ")
    await page.get_by_role("link", name="জমি উত্তরাধিকার সনদ").click()
    await page.wait_for_url(re.compile(r"/apply/land_inheritance$"))
    legends = await page.locator("fieldset.table > legend").all_inner_texts()
    assert [legend.rstrip(" *") for legend in legends] == ["উত্তরাধিকারীগণ", "জমির তফসিল"]
    assert "দাগ নং" in await page.inner_text("main")  # the plots' columns, labelled from the catalogue's data
    await fill_applicant(page, people(UNION)[0], MOBILE)
    await page.locator("#f-details-deceased-name_bn").fill("মোঃ হাবিবুর রহমান")
    await page.locator("#f-details-deceased-date_of_death").fill("2025-07-14")
    await page.locator("#f-details-deceased-death_registration_no").fill("20253517100054321")
    await fill_rows(page, "plots", ("mouza_bn", "jl_no", "khatian_no", "dag_no", "land_class_bn", "area_decimal"),
                    PLOTS)
    await fill_rows(page, "heirs", ("name_bn", "relation"), HEIRS)  # (a number typed last, a click did not send)
    await citizen.check("portal-land-inheritance-form")
    application_id = await submit(page, "/applied/")
    await wait_for_status(stack, application_id, Status.AWAITING_RECOMMENDATION, officer=f"chairman.{UNION}")
    details = await stored_details(settings, application_id)
    assert [(h["name_bn"], h["relation"]) for h in details["heirs"]] == HEIRS
    assert [(p["dag_no"], p["area_decimal"]) for p in details["plots"]] == [("১০৪৫", 33.0), ("১০৪৬", 7.5)]
    await citizen.check("portal-land-inheritance-applied")


async def test_the_desk_fills_and_submits_a_form_with_the_family_members_table(stack, visitors, settings):
    udc = await visitors()
    await udc.login(f"udc.{UNION}")
    await udc.go("/desk/new/financial_hardship")
    page = udc.page
    assert "পরিবারের সদস্যগণ" in await page.inner_text("main")
    await fill_applicant(page, people(UNION)[1], MOBILE)
    await page.locator("#f-details-annual_income").fill("48000")
    await fill_rows(page, "members", ("name_bn", "relation", "date_of_birth"), MEMBERS)
    await udc.check("desk-financial-hardship-form")
    application_id = await submit(page, "/desk/receipt/")
    await wait_for_status(stack, application_id, Status.AWAITING_RECOMMENDATION, officer=f"chairman.{UNION}")
    details = await stored_details(settings, application_id)
    assert details["annual_income"] == 48000
    assert [(m["name_bn"], m["relation"], m["date_of_birth"]) for m in details["members"]] == MEMBERS
