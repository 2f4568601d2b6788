"""A stack that takes fees through the gateways' simulator (infra/gateways) over HTTP: its own worker and API on
the session's Temporal server and database, with SONOD_PUBLIC_URL its own address, so that the simulator's IPNs and
the payer's returns reach it. Fixtures for tests/payments/test_conversation.py (imported there)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sonod import db
from sonod.domain import Status
from tests import stack
from tests.stack import Api, free_port
from tests.unions_kit import database, person, set_timing, union_for

TRADE = {"business_name_bn": "মায়ের দোয়া স্টোর", "business_type_bn": "মুদি দোকান",
         "business_address_bn": "বাজার রোড", "fiscal_year": "2025-2026", "holding_tax_receipt_no": "HT-2025-0042"}


class Simulator(stack.Simulator):
    """The payment gateways' simulator (infra/gateways)."""

    module = "infra.gateways"

    def transaction(self, order_id: str) -> dict:
        report = httpx.get(f"{self.url}/_sim/transactions", timeout=5).json()
        rows = report if isinstance(report, list) else report["transactions"]
        return next(t for t in rows if t["order_id"] == order_id)



def orders(url: str, application_id: str) -> list[db.PaymentOrder]:
    with database(url) as session:
        rows = session.scalars(select(db.PaymentOrder).where(db.PaymentOrder.application_id == application_id)
                               .order_by(db.PaymentOrder.created_at)).all()
        session.expunge_all()
        return list(rows)


@dataclass
class Paying:
    """The API helper, the settings its worker and API run with, the simulator and the Temporal client."""

    api: Api
    settings: Any
    sim: Simulator
    client: Any

    async def union(self, request, provider: str, *, expiry: float = 3600, poll: float = 3600) -> str:
        """A fresh union taking its fees through `provider`, with its own fee expiry and poll interval (seconds)."""
        slug = await union_for(request, self.settings.db_url, provider[:5])

        def configure() -> None:
            set_timing(self.settings.db_url, slug, payment_expiry=timedelta(seconds=expiry),
                       payment_poll=timedelta(seconds=poll))
            with database(self.settings.db_url) as session:
                session.get(db.Union, slug).payment_provider = provider
        await asyncio.to_thread(configure)
        return slug

    async def awaiting_payment(self, union: str, index: int = 0) -> tuple[str, db.PaymentOrder]:
        """A trade licence applied for in `union`, once its order is open at the gateway."""
        body = person(index, union=union, certificate_type="trade_licence", details=TRADE)
        application_id = await self.api.submitted(body)
        await self.api.wait_for(application_id, Status.AWAITING_PAYMENT)
        return application_id, await self.order_of(application_id, lambda o: o.redirect_url is not None)

    async def order_of(self, application_id: str, until=lambda order: True, timeout: float = 30) -> db.PaymentOrder:
        """The application's latest order, once `until` holds of it."""
        deadline = time.monotonic() + timeout
        while True:
            found = await asyncio.to_thread(orders, self.settings.db_url, application_id)
            if found and until(found[-1]):
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"{application_id}'s order: {found and vars(found[-1])}")
            await asyncio.sleep(0.1)

    async def pay(self, order: db.PaymentOrder, choice: str = "pay") -> str:
        assert order.redirect_url
        return await pay_at_gateway(order.redirect_url, choice)


async def pay_at_gateway(redirect_url: str, choice: str = "pay") -> str:
    """The payer at the gateway's page chooses, and does not follow the gateway back: where the browser would go
    next (the return's address, or an auto-posting form's page)."""
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(redirect_url)
        assert page.status_code == 200, page.text
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert action, page.text
        chose = await browser.post(httpx.URL(redirect_url).join(action.group(1)), data={"choice": choice})
        assert chose.status_code in (200, 302, 303), chose.text
        return chose.headers.get("location") or chose.text


@pytest.fixture(scope="session")
def gateways_process():
    sim = Simulator(free_port())
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
async def paying(settings, temporal_env, gateways_process):
    """Its own worker and API, whose address is SONOD_PUBLIC_URL, with the simulator's gateways."""
    from tests.conftest import running

    port = free_port()
    ours = settings.model_copy(update={
        "public_url": f"http://127.0.0.1:{port}", "gateways_url": gateways_process.url,
        "task_queue": f"sonod-pay-{uuid.uuid4().hex[:8]}",
        "temporal_address": temporal_env.client.service_client.config.target_host})
    async with running(ours, temporal_env.client, port) as api:
        yield Paying(api, ours, gateways_process, temporal_env.client)


@pytest.fixture
def gateway_sim(gateways_process):
    """The simulator, its fault switches off before and after the test."""
    gateways_process.reset()
    yield gateways_process
    gateways_process.reset()
