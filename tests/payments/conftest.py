"""The payment gateways simulator and a merchant that records IPNs and returns, both served by uvicorn on
loopback; the adapters under test speak real HTTP to them, with a short timeout of their own."""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from activities.payments import bkash, ekpay, nagad, sslcommerz
from activities.payments.gateway import ORDER_PARAM, PROVIDERS, CreatedPayment, Gateway, PaymentOrder, gateway_for
from infra.gateways.app import create_app
from infra.gateways.core import KEYS, OTHER, OTHER_NAGAD
from sonod.settings import Settings
from tests.payments.conversation_kit import gateway_sim, gateways_process, paying  # noqa: F401 (test_conversation's)

TIMEOUT_S = 10.0  # the adapters' client: generous, so that a loaded machine is not mistaken for a slow gateway


def serve(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


@dataclass
class Merchant:
    """sonod's side of the conversation, reduced to a recorder of what the gateways send it."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)

    def of(self, kind: str, provider: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["kind"] == kind and r["provider"] == provider]


def merchant_app(merchant: Merchant) -> FastAPI:
    app = FastAPI()

    @app.api_route("/{kind}/{provider}", methods=["GET", "POST"])
    async def record(kind: str, provider: str, request: Request) -> JSONResponse:
        merchant.received.append({"kind": kind, "provider": provider, "method": request.method,
                                  "query": dict(request.query_params), "headers": dict(request.headers),
                                  "body": await request.body()})
        return JSONResponse({"ack_code": "ack", "ack_msg": "received"})

    return app


@dataclass
class World:
    settings: Settings
    sim_url: str
    merchant: Merchant
    http: httpx.AsyncClient

    def gateway(self, provider: str) -> Gateway:
        return gateway_for(provider, self.settings, self.http)

    def other(self, provider: str) -> Gateway:
        """The same gateway, as another merchant of it."""
        url = self.settings.gateway_url(provider)
        if provider == "ekpay":
            return ekpay.EkPay(self.http, url, OTHER, "other-ekpay-key", "127.0.0.1")
        if provider == "bkash":
            return bkash.BKash(self.http, url, OTHER, "other-password", "other-app-key", "other-app-secret")
        if provider == "sslcommerz":
            return sslcommerz.SslCommerz(self.http, url, OTHER, "other-store-password")
        seal = nagad.Seal(nagad.private_key(KEYS / "nagad-other-merchant-demo.pem"),
                          nagad.public_key(KEYS / "nagad-gateway-demo.pub.pem"))
        return nagad.Nagad(self.http, url, OTHER_NAGAD, "01700000002", seal)

    def order(self, provider: str, amount: int = 150, order_id: str | None = None) -> PaymentOrder:
        application = "A261206-" + secrets.token_hex(4).upper()
        order_id = order_id or f"{application}-P1"
        return PaymentOrder(
            order_id=order_id, application_id=application, union="paikkandi", amount=amount,
            customer_mobile="01711000000",
            return_url=f"{self.merchant.url}/return/{provider}?{ORDER_PARAM}={order_id}",
            ipn_url=f"{self.merchant.url}/ipn/{provider}", expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=7))

    async def faults(self, **switches: Any) -> None:
        async with httpx.AsyncClient(base_url=self.sim_url) as sim:
            (await sim.post("/_sim/faults", json=switches)).raise_for_status()

    async def report(self, provider: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.sim_url) as sim:
            return (await sim.get("/_sim/transactions", params={"provider": provider})).json()

    async def pay(self, created: CreatedPayment, choice: str = "pay") -> dict[str, Any]:
        """The payer: opens the redirect, presses Pay (or Cancel), and is sent back to sonod; the return."""
        async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
            shown = await browser.get(created.redirect_url)
            assert shown.status_code == 200, shown.text
            action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', shown.text)[1])
            answer = await browser.post(str(shown.url.join(action)), data={"choice": choice})
            before = len(self.merchant.received)
            if answer.status_code == 303:  # redirected back to return_url
                await browser.get(answer.headers["location"])
            else:  # SSLCommerz posts the browser back with a form
                assert answer.status_code == 200, answer.text
                back = html.unescape(re.search(r'<form method="post" action="([^"]+)"', answer.text)[1])
                fields = {html.unescape(k): html.unescape(v)
                          for k, v in re.findall(r'name="([^"]*)" value="([^"]*)"', answer.text)}
                await browser.post(back, data=fields)
            returned = [r for r in self.merchant.received[before:] if r["kind"] == "return"]
            assert len(returned) == 1
            return returned[0]


@pytest.fixture(scope="module")
def world_servers() -> Iterator[tuple[str, Merchant]]:
    merchant = Merchant()
    m_server, m_thread, merchant.url = serve(merchant_app(merchant))
    settings = Settings()
    sim_server, sim_thread, sim_url = serve(create_app(settings))
    yield sim_url, merchant
    for server, thread in ((sim_server, sim_thread), (m_server, m_thread)):
        server.should_exit = True
        thread.join(10)


@pytest.fixture
async def world(world_servers) -> Any:
    sim_url, merchant = world_servers
    settings = Settings(gateways_url=sim_url)
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
        world = World(settings, sim_url, merchant, http)
        yield world
        async with httpx.AsyncClient(base_url=sim_url) as sim:
            await sim.post("/_sim/reset")


@pytest.fixture(params=PROVIDERS)
def provider(request) -> str:
    return request.param
