"""Issue 16, part 2: the trade licence lives from fiscal year to fiscal year (July to June).

The fee comes from the business category under the Model Tax Schedule, 2013 (the union's table over the defaults),
with the signboard tax, VAT at 15 % and the arrears of years left unrenewed. A renewal keeps the licence number, is
issued for the next year and supersedes last year's certificate. A licence is valid to 30 June of its year, signed:
unrenewed, it verifies expired. The union's register shows each licence's state and exports as CSV; in June each
holder is told by SMS, once a year, that renewal is due.
"""

from __future__ import annotations

import datetime as dt
import uuid

import cbor2
import pytest
from sqlalchemy import select

from api.pages.common import TOKEN_COOKIE
from api.services import licences as register
from sonod import db
from sonod.bengali import DHAKA
from sonod.db import make_engine, make_session_factory
from sonod.domain import Role, Status
from sonod.keys import KeyStore
from sonod.licences import (
    LicenceState,
    between,
    ends_at,
    fee_lines,
    fiscal_year_of,
    renewal_year,
    state_of,
    vat,
)
from sonod.signing import verify_qr_text
from tests.certificates_kit import (
    PORTAL,
    REGISTRY_UNION,
    Issued,
    application,
    cose_of,
    download,
    own_union,
    pay,
    verify,
)
from tests.stack import people
from tests.unions_kit import acli, database
from workflows.licences import REMINDER_SCHEDULE, LicenceRenewalReminders, ensure_reminder_schedule
from workflows.messages import RenewalReminders

EXP = 4  # the CWT claim `exp`
RULE = [{"code": "licence_fee", "name_bn": "লাইসেন্স ফি", "name_en": "Licence fee", "amount": 500},
        {"code": "signboard_tax", "name_bn": "সাইনবোর্ড কর", "name_en": "Signboard tax", "amount": 100},
        {"code": "vat", "name_bn": "ভ্যাট (১৫%)", "name_en": "VAT (15%)", "amount": 90}]
THIS_YEAR = fiscal_year_of(dt.datetime.now(DHAKA).date())
LAST_YEAR, YEAR_BEFORE = (str(int(THIS_YEAR[:4]) - n) + "-" + str(int(THIS_YEAR[:4]) - n + 1) for n in (1, 2))


def shop(year: str = THIS_YEAR, category: str | None = "retail", **more) -> dict:
    return {"business_name_bn": "মায়ের দোয়া স্টোর", "business_type_bn": "মুদি দোকান", "business_category": category,
            "business_address_bn": "বাজার রোড", "fiscal_year": year, "holding_tax_receipt_no": f"HT-{year}-0042",
            **more}


def amounts(lines: list[dict]) -> dict[str, int]:
    return {line["code"]: line["amount"] for line in lines}


# --- the fee, the year, the state ------------------------------------------------------------------------------------

def test_the_licence_fee_comes_from_the_category_with_signboard_tax_and_vat():
    assert amounts(fee_lines(RULE, "retail", None, [])) == {"licence_fee": 300, "signboard_tax": 100, "vat": 60}
    assert amounts(fee_lines(RULE, "industry", None, [])) == {"licence_fee": 5000, "signboard_tax": 100, "vat": 765}
    assert fee_lines(RULE, "retail", None, [])[0]["name_bn"].startswith("লাইসেন্স ফি (মুদি")


def test_a_unions_own_table_overrides_the_schedules_default():
    assert amounts(fee_lines(RULE, "retail", {"retail": 450}, [])) == {"licence_fee": 450, "signboard_tax": 100,
                                                                       "vat": 83}  # 82.5, half a taka up
    assert amounts(fee_lines(RULE, "trader", {"retail": 450}, []))["licence_fee"] == 500


def test_without_a_category_the_unions_licence_fee_line_stands():
    assert amounts(fee_lines(RULE, None, None, [])) == {"licence_fee": 500, "signboard_tax": 100, "vat": 90}


def test_vat_is_fifteen_percent_rounded_half_a_taka_up():
    assert [vat(n) for n in (0, 100, 429, 430, 433, 699)] == [0, 15, 64, 65, 65, 105]  # 64.35, 64.5, 64.95, 104.85


def test_arrears_are_the_unrenewed_years_fees_and_bear_vat():
    lines = fee_lines(RULE, "retail", None, ["2024-2025", "2025-2026"])
    assert amounts(lines) == {"licence_fee": 300, "signboard_tax": 100, "arrears": 800, "vat": 180}
    arrears = next(line for line in lines if line["code"] == "arrears")
    assert arrears["name_en"] == "Arrears (2024-2025, 2025-2026)" and "২০২৪-২০২৫" in arrears["name_bn"]
    assert sum(line["amount"] for line in lines) == 1380


def test_the_unions_other_lines_are_kept_and_not_taxed():
    assert amounts(fee_lines([*RULE, {"code": "form", "name_bn": "ফরম", "name_en": "Form", "amount": 20}], "retail",
                             None, [])) == {"licence_fee": 300, "signboard_tax": 100, "vat": 60, "form": 20}


def test_the_fiscal_year_runs_july_to_june():
    assert fiscal_year_of(dt.date(2026, 6, 30)) == "2025-2026"
    assert fiscal_year_of(dt.date(2026, 7, 1)) == "2026-2027"
    assert ends_at("2026-2027") == dt.datetime(2027, 7, 1, tzinfo=DHAKA)
    assert between("2023-2024", "2026-2027") == ["2024-2025", "2025-2026"]
    assert renewal_year("2026-2027", dt.date(2027, 6, 10)) == "2027-2028"  # renewed in June, for the next year
    assert renewal_year("2023-2024", dt.date(2026, 12, 6)) == "2026-2027"  # lapsed: for this year, arrears before


def test_a_licence_is_current_then_due_in_june_then_expired_after_30_june():
    assert state_of("2026-2027", dt.date(2027, 5, 31)) is LicenceState.CURRENT
    assert state_of("2026-2027", dt.date(2027, 6, 1)) is LicenceState.DUE
    assert state_of("2026-2027", dt.date(2027, 6, 30)) is LicenceState.DUE
    assert state_of("2026-2027", dt.date(2027, 7, 1)) is LicenceState.EXPIRED
    assert state_of("2027-2028", dt.date(2027, 6, 10)) is LicenceState.CURRENT  # renewed early
    assert state_of("2026-2027", dt.date(2027, 1, 1), revoked=True) is LicenceState.REVOKED


# --- through the stack -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sessions(settings):
    engine = make_engine(settings.db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
async def union(settings) -> str:
    return await own_union(settings, "lic-yearly")


async def issued(stack, settings, tmp, union: str, index: int, details: dict) -> tuple[dict, Issued]:
    """A trade licence applied for by the registry's person `index`, its fee paid, through the chain, downloaded."""
    app_id = await stack.submitted(application(union, index, "trade_licence", details))
    app = await stack.wait_for(app_id, Status.AWAITING_PAYMENT)
    await pay(stack, settings, app_id, app["fee"]["amount"])
    app = await stack.through_chain(app_id, union, [Role.SECRETARY, Role.CHAIRMAN], 1)
    return app, await download(stack, tmp, app["certificate_no"], people(REGISTRY_UNION)[index])


async def licence_of(stack, union: str, licence_no: str) -> dict:
    r = await stack.http.get("/api/v1/licences", params={"union": union, "limit": 200},
                             headers=await stack.as_officer(f"secretary.{union}"))
    assert r.status_code == 200, r.text
    return next(item for item in r.json()["items"] if item["licence_no"] == licence_no)


@pytest.fixture(scope="module")
async def first(stack, settings, union, tmp_path_factory) -> tuple[dict, Issued]:
    """This year's new licence of a retail shop."""
    return await issued(stack, settings, tmp_path_factory.mktemp("first"), union, 30, shop())


async def test_a_new_licence_is_charged_its_categorys_fee_and_prints_its_licence_number(stack, union, first):
    app, licence = first
    assert app["fee"]["amount"] == 460  # 300 + 100 + 60
    number = f"{union.upper()}-TL-00001"
    assert number in licence.text and "লাইসেন্স নং" in licence.text
    assert number != licence.certificate_no
    row = await licence_of(stack, union, number)
    assert (row["certificate_no"], row["fiscal_year"], row["state"]) == (licence.certificate_no, THIS_YEAR,
                                                                         state_of(THIS_YEAR, dt.date.today()).value)
    assert row["valid_until"] == f"{THIS_YEAR[5:]}-06-30"


async def test_a_licence_signs_its_validity_to_the_end_of_its_fiscal_year(settings, sessions, first):
    _, licence = first
    claims = cbor2.loads(cose_of(licence.payload)[2])
    assert dt.datetime.fromtimestamp(claims[EXP], DHAKA) == ends_at(THIS_YEAR)  # midnight after 30 June, not 365 days
    keys = KeyStore(sessions, settings.master_key).lookup
    before = verify_qr_text(licence.qr, keys, now=ends_at(THIS_YEAR) - dt.timedelta(seconds=1))
    after = verify_qr_text(licence.qr, keys, now=ends_at(THIS_YEAR))
    assert before.valid and not before.expired
    assert after.valid and after.expired  # 1 July: genuine, but expired


async def test_an_unrenewed_licence_of_a_past_year_verifies_expired(stack, settings, union, tmp_path):
    _, licence = await issued(stack, settings, tmp_path, union, 31, shop(LAST_YEAR, "trader"))
    answer = await verify(stack, licence.qr)
    assert answer["status"] == "expired", answer
    assert answer["certificate"]["valid_until"] == ends_at(LAST_YEAR).isoformat()
    r = await stack.http.get("/verify", params={"c": licence.payload})
    assert 'class="verdict expired"' in r.text


async def test_the_renewal_keeps_the_number_charges_the_arrears_and_supersedes_last_years(stack, settings, union,
                                                                                           tmp_path):
    _, old = await issued(stack, settings, tmp_path, union, 32, shop(YEAR_BEFORE, "trader"))
    number = (await licence_of_certificate(stack, union, old.certificate_no))["licence_no"]
    r = await stack.http.get(f"/api/v1/licences/{number}/renewal", params={"union": union},
                             headers=await stack.as_officer(f"udc.{union}"))
    assert r.status_code == 200, r.text
    body = r.json()
    details = body["details"]
    assert (details["renews"], details["fiscal_year"], details["holding_tax_receipt_no"]) == (number, THIS_YEAR, None)
    assert details["business_name_bn"] == "মায়ের দোয়া স্টোর" and details["business_category"] == "trader"
    assert body["applicant"]["nid"] == people(REGISTRY_UNION)[32]["nid"]
    assert amounts(body["fee"]["lines"]) == {"licence_fee": 500, "signboard_tax": 100, "arrears": 600, "vat": 180}

    unfilled = await stack.submit(application_of(body))
    assert unfilled.status_code == 422 and "holding_tax_receipt_no" in unfilled.text  # this year's receipt is new
    body["details"]["holding_tax_receipt_no"] = f"HT-{THIS_YEAR}-0099"
    app_id = await stack.submitted(application_of(body))
    app = await stack.wait_for(app_id, Status.AWAITING_PAYMENT)
    assert app["fee"]["amount"] == body["fee"]["amount"] == 1380
    await pay(stack, settings, app_id, 1380)
    app = await stack.through_chain(app_id, union, [Role.SECRETARY, Role.CHAIRMAN], 1)
    new = await download(stack, tmp_path, app["certificate_no"])

    assert new.certificate_no != old.certificate_no and number in new.text
    row = await licence_of(stack, union, number)
    assert (row["certificate_no"], row["fiscal_year"]) == (new.certificate_no, THIS_YEAR)
    answer = await verify(stack, old.qr)
    assert answer["status"] == "revoked", answer
    assert answer["certificate"]["revoke_reason"] == f"superseded by {new.certificate_no}"
    assert answer["certificate"]["superseded_by"] == new.certificate_no  # verify points to the renewal
    assert (await verify(stack, new.qr))["status"] == "valid"

    again = await stack.submit(application_of(body))
    assert again.status_code == 422 and "fiscal_year" in again.text  # renewed for this year already


def application_of(renewal: dict) -> dict:
    return {k: renewal[k] for k in ("union", "certificate_type", "applicant", "contact", "details")}


async def licence_of_certificate(stack, union: str, certificate_no: str) -> dict:
    r = await stack.http.get("/api/v1/licences", params={"union": union, "limit": 200},
                             headers=await stack.as_officer(f"chairman.{union}"))
    return next(item for item in r.json()["items"] if item["certificate_no"] == certificate_no)


async def test_a_renewal_must_name_a_licence_of_the_union(stack, union):
    r = await stack.submit(application(union, 33, "trade_licence", shop(renews=f"{union.upper()}-TL-09999")))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "renews", r.text
    r = await stack.submit(application(union, 33, "trade_licence", shop(licence_no="MINE-TL-00001")))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "licence_no", r.text
    r = await stack.submit(application(union, 33, "trade_licence", shop("2026-2028")))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "fiscal_year", r.text


async def test_a_union_sets_its_own_fees_by_category_and_publishes_them(stack, settings):
    union = await own_union(settings, "lic-fees")
    r = await acli(settings.db_url, "catalogue", "licence-fees", "--union", union, "--fee", "retail=450")
    assert r.exit_code == 0, r.output
    assert "retail           450 (the union's)" in r.output and "trader           500  " in r.output
    assert (await acli(settings.db_url, "catalogue", "licence-fees", "--union", union, "--fee", "shop=1")).exit_code
    fees = (await stack.http.get("/api/v1/licences/fees", params={"union": union})).json()
    assert {f["code"]: (f["fee"], f["unions_own"]) for f in fees}["retail"] == (450, True)
    app_id = await stack.submitted(application(union, 36, "trade_licence", shop()))
    app = await stack.wait_for(app_id, Status.AWAITING_PAYMENT)
    assert app["fee"]["amount"] == 450 + 100 + 83  # VAT 82.5, half a taka up
    with database(settings.db_url) as session:
        assert session.scalar(select(db.AuditEntry.id).where(db.AuditEntry.union_slug == union,
                                                             db.AuditEntry.action == "catalogue.licence_fees"))


# --- the register ----------------------------------------------------------------------------------------------------

async def test_the_register_filters_by_state_and_pages(stack, settings, union, first, tmp_path):
    await issued(stack, settings, tmp_path, union, 34, shop(LAST_YEAR, None))
    officer = await stack.as_officer(f"secretary.{union}")
    today = dt.datetime.now(DHAKA).date()
    for state in LicenceState:
        r = await stack.http.get("/api/v1/licences", params={"union": union, "state": state.value, "limit": 200},
                                 headers=officer)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert all(item["state"] == state.value for item in items), items
        wanted = [item for item in (await everything(stack, union, officer)) if item["state"] == state.value]
        assert [i["licence_no"] for i in items] == [i["licence_no"] for i in wanted]
    expired = await stack.http.get("/api/v1/licences", params={"union": union, "state": "expired"}, headers=officer)
    assert expired.json()["items"] and all(i["fiscal_year"] < THIS_YEAR for i in expired.json()["items"])
    assert state_of(THIS_YEAR, today) is not LicenceState.EXPIRED

    pages, cursor = [], None
    while True:
        r = await stack.http.get("/api/v1/licences", params={"union": union, "limit": 1, "cursor": cursor or ""},
                                 headers=officer)
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    listed = await everything(stack, union, officer)
    assert [p[0]["licence_no"] for p in pages if p] == [i["licence_no"] for i in listed] and len(listed) >= 3


async def everything(stack, union: str, officer: dict) -> list[dict]:
    r = await stack.http.get("/api/v1/licences", params={"union": union, "limit": 200}, headers=officer)
    return r.json()["items"]


async def test_in_june_this_years_licences_are_due(settings, sessions, union, first):
    june = dt.date(int(THIS_YEAR[5:]), 6, 10)
    with sessions() as session:
        due = register.page(session, union, LicenceState.DUE, 200, None, on=june).items
        current = register.page(session, union, LicenceState.CURRENT, 200, None, on=june).items
        after = register.page(session, union, LicenceState.EXPIRED, 200, None, on=june + dt.timedelta(days=21)).items
    assert first[1].certificate_no in [i.certificate_no for i in due]
    assert first[1].certificate_no not in [i.certificate_no for i in current]
    assert first[1].certificate_no in [i.certificate_no for i in after]


async def test_the_register_exports_as_csv_audited_for_the_unions_officers_only(stack, settings, union, first):
    r = await stack.http.get("/api/v1/licences.csv", params={"union": union},
                             headers=await stack.as_officer(f"chairman.{union}"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("licence_no,state,fiscal_year,valid_until,certificate_no")
    assert any(first[1].certificate_no in line and "মায়ের দোয়া স্টোর" in line for line in lines[1:])
    with database(settings.db_url) as session:
        assert session.scalar(select(db.AuditEntry.id).where(db.AuditEntry.union_slug == union,
                                                             db.AuditEntry.action == "licences.export"))
    other = await stack.http.get("/api/v1/licences.csv", params={"union": union},
                                 headers=await stack.as_officer("secretary.paikkandi"))
    assert other.status_code == 403
    portal = await stack.http.get("/api/v1/licences", params={"union": union}, headers=PORTAL)
    assert portal.status_code == 403


# --- June's reminder -------------------------------------------------------------------------------------------------

async def test_junes_reminder_tells_each_holder_once_a_year(stack, settings, temporal_env, union, first):
    client = temporal_env.client
    for _ in range(2):  # the schedule's run, and a second run (by hand, or a catch-up): one SMS all the same
        await client.execute_workflow(LicenceRenewalReminders.run, RenewalReminders(fiscal_year=THIS_YEAR),
                                      id=f"lic-remind-{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue)
    with database(settings.db_url) as session:
        current = session.scalar(select(db.Licence).where(db.Licence.certificate_no == first[1].certificate_no))
        sent = session.scalars(select(db.OutboxMessage).where(
            db.OutboxMessage.application_id == current.application_id,
            db.OutboxMessage.idempotency_key.contains("licence_due"))).all()
    assert len(sent) == 1, [m.idempotency_key for m in sent]
    assert sent[0].channel == "sms" and current.licence_no in sent[0].body and "নবায়ন" in sent[0].body
    assert f":licence_due:{THIS_YEAR}:" in sent[0].idempotency_key


async def test_the_reminder_is_a_schedule_on_the_first_of_june(settings, temporal_env):
    client = temporal_env.client
    assert await ensure_reminder_schedule(client, settings.task_queue) is True
    assert await ensure_reminder_schedule(client, settings.task_queue) is False  # the worker starts again
    handle = client.get_schedule_handle(REMINDER_SCHEDULE)
    try:
        described = await handle.describe()
        [calendar] = described.schedule.spec.calendars
        assert (calendar.month[0].start, calendar.day_of_month[0].start, calendar.hour[0].start) == (6, 1, 4)
        assert described.schedule.action.workflow == LicenceRenewalReminders.__name__
        assert described.schedule.action.task_queue == settings.task_queue
    finally:
        await handle.delete()


# --- the pages -------------------------------------------------------------------------------------------------------

async def test_the_dashboard_lists_the_register_and_the_desk_opens_a_renewal_filled_in(stack, union, first):
    number = f"{union.upper()}-TL-00001"
    secretary = {TOKEN_COOKIE: await stack.login(f"secretary.{union}")}
    r = await stack.http.get("/dashboard/licences", cookies=secretary)
    assert r.status_code == 200, r.text
    assert number in r.text and first[1].certificate_no in r.text and f'href="/desk/renew/{number}"' in r.text
    r = await stack.http.get("/dashboard/licences", params={"state": "expired"}, cookies=secretary)
    assert number not in r.text  # this year's licence is not expired
    csv_page = await stack.http.get("/dashboard/licences.csv", cookies=secretary)
    assert csv_page.status_code == 200 and number in csv_page.text

    r = await stack.http.get(f"/desk/renew/{number}", cookies={TOKEN_COOKIE: await stack.login(f"udc.{union}")})
    assert r.status_code == 200, r.text
    assert 'action="/desk/new/trade_licence"' in r.text
    assert f'value="{number}"' in r.text and f'value="{renewal_year(THIS_YEAR, dt.date.today())}"' in r.text
    assert 'value="মায়ের দোয়া স্টোর"' in r.text
