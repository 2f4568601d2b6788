"""Every citizen hears about every step, in Bengali (issue 15): an SMS when the application reaches each office
of its chain, and when its fee is paid, besides the ones before (submitted, payment due, issued...)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from sonod import db
from sonod.domain import Role, Status
from tests.stack import people, warish_details
from tests.unions_kit import Gateway, person, union_for

pytestmark = pytest.mark.asyncio(loop_scope="session")

TRADE = {"business_name_bn": "মায়ের দোয়া স্টোর", "business_type_bn": "মুদি দোকান",
         "business_address_bn": "বাজার রোড", "fiscal_year": "2025-2026", "holding_tax_receipt_no": "HT-2025-0042"}


@pytest.fixture
async def union(request, settings, stack) -> str:
    return await union_for(request, settings.db_url, "sms")


def told(url: str, application_id: str, mobile: str) -> dict[str, str]:
    """The applicant's SMS of this application: event (the key's middle) -> text."""
    engine = db.make_engine(url)
    try:
        with db.make_session_factory(engine)() as session:
            rows = session.execute(select(db.OutboxMessage.idempotency_key, db.OutboxMessage.body).where(
                db.OutboxMessage.application_id == application_id, db.OutboxMessage.channel == "sms",
                db.OutboxMessage.recipient == mobile)).all()
    finally:
        engine.dispose()
    return {key.split(":")[2]: body for key, body in rows}


async def test_the_applicant_hears_of_each_office_of_the_chain_in_bengali(stack, settings, union):
    index = 12
    body = person(index, union=union, certificate_type="warish", details=warish_details())
    application_id = await stack.submitted(body)
    await stack.through_chain(application_id, union, [Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN],
                              people("paikkandi")[index]["ward_no"])
    texts = await asyncio.to_thread(told, settings.db_url, application_id, body["contact"]["mobile"])
    assert {"submitted", "with_ward_member", "with_secretary", "with_chairman", "issued"} <= set(texts), texts
    assert "ওয়ার্ড সদস্যের" in texts["with_ward_member"] and "সচিবের" in texts["with_secretary"]
    assert "চেয়ারম্যানের" in texts["with_chairman"] and application_id in texts["with_chairman"]
    assert not [t for t in texts.values() if "_" in t.replace(application_id, "")], texts  # no template name


async def test_the_applicant_hears_that_the_fee_was_paid(stack, settings, union):
    body = person(15, union=union, certificate_type="trade_licence", details=TRADE)
    application_id = await stack.submitted(body)
    await stack.wait_for(application_id, Status.AWAITING_PAYMENT)
    assert (await Gateway(stack.http).confirm(application_id, 690)).status_code == 200
    await stack.wait_for(application_id, Status.AWAITING_VERIFICATION)
    texts = await asyncio.to_thread(told, settings.db_url, application_id, body["contact"]["mobile"])
    assert "৬৯০" in texts["paid"] and "পরিশোধ" in texts["paid"], texts
