"""What the four simulated gateways share: merchants, transactions, fault switches, the payer's page, the IPNs
and the transaction report. Each protocol lives in its own module (ekpay, bkash, sslcommerz, nagad).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import Field

from activities.payments.nagad import Seal, private_key, public_key
from infra.porichoy.app import Faults, FaultsPatch
from sonod.bengali import DHAKA
from sonod.settings import ROOT, Settings

log = logging.getLogger(__name__)
KEYS = Path(__file__).resolve().parent / "keys"
OTHER = "other-merchant"  # a second merchant of every gateway, for the tests
OTHER_NAGAD = "689900000000002"


class GatewayFaults(Faults):
    duplicate_ipn: bool = False  # every IPN (ekPay, SSLCommerz) is sent twice
    wrong_amount: bool = False  # the gateway records and reports one taka less than the order
    risk_level: int = Field(0, ge=0, le=1)  # SSLCommerz's fraud flag on the payments made from now on
    decline: bool = False  # Pay is declined (the payer's wallet or bank says no): the payment fails


class GatewayFaultsPatch(FaultsPatch):
    duplicate_ipn: bool | None = None
    wrong_amount: bool | None = None
    risk_level: int | None = Field(None, ge=0, le=1)
    decline: bool | None = None


@dataclass
class Merchants:
    """Who may call each gateway; sonod's demo merchant (from settings) and OTHER."""

    ekpay: dict[str, str]  # mer_reg_id -> mer_pas_key
    bkash: dict[str, tuple[str, str, str]]  # app_key -> (username, password, app_secret)
    sslcommerz: dict[str, str]  # store_id -> store_passwd
    nagad: dict[str, rsa.RSAPublicKey]  # merchant id -> its public key
    nagad_gateway: rsa.RSAPrivateKey

    def nagad_seal(self, merchant: str) -> Seal:
        return Seal(self.nagad_gateway, self.nagad[merchant])


def demo_merchants(settings: Settings) -> Merchants:
    return Merchants(
        ekpay={settings.ekpay_merchant_id: settings.ekpay_password, OTHER: "other-ekpay-key"},
        bkash={settings.bkash_app_key: (settings.bkash_username, settings.bkash_password, settings.bkash_app_secret),
               "other-app-key": (OTHER, "other-password", "other-app-secret")},
        sslcommerz={settings.sslcommerz_store_id: settings.sslcommerz_store_password, OTHER: "other-store-password"},
        nagad={settings.nagad_merchant_id: private_key(ROOT / settings.nagad_merchant_key_file).public_key(),
               OTHER_NAGAD: public_key(KEYS / "nagad-other-merchant-demo.pub.pem")},
        nagad_gateway=private_key(KEYS / "nagad-gateway-demo.pem"),
    )


@dataclass
class Txn:
    provider: str
    merchant: str
    order_id: str
    ref: str  # the gateway's reference: secure_token, paymentID, sessionkey, paymentReferenceId
    amount: Decimal
    return_url: str
    ipn_url: str | None = None
    currency: str = "BDT"
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(DHAKA))
    state: str = "initiated"  # initiated, approved (bKash: not executed yet), paid, failed, cancelled, refunded
    paid_amount: Decimal | None = None
    paid_at: dt.datetime | None = None
    risk_level: int = 0
    gateway_txn: str = field(default_factory=lambda: "T" + secrets.token_hex(6).upper())
    refunds: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    deliveries: list[int] = field(default_factory=list)  # the HTTP status of each IPN sent

    @property
    def reported_amount(self) -> Decimal:
        return self.paid_amount if self.paid_amount is not None else self.amount

    @property
    def refunded(self) -> Decimal:
        return sum((Decimal(r["amount"]) for r in self.refunds), Decimal(0))

    def report(self) -> dict[str, Any]:
        return {"provider": self.provider, "merchant": self.merchant, "order_id": self.order_id, "ref": self.ref,
                "amount": str(self.amount), "reported_amount": str(self.reported_amount), "state": self.state,
                "risk_level": self.risk_level, "gateway_txn": self.gateway_txn, "created": self.created.isoformat(),
                "refunds": self.refunds, "ipn_deliveries": self.deliveries}


class Outcome(Protocol):
    """What a protocol does once the payer chose: the IPN it sends, and where the browser goes."""

    def ipn(self, txn: Txn) -> tuple[str, dict[str, Any], bool] | None: ...  # (url, fields, as JSON?)

    def back(self, txn: Txn) -> Response: ...


class Simulator:
    def __init__(self, merchants: Merchants, seed: int = 0) -> None:
        self.merchants, self.seed = merchants, seed
        self.txns: dict[str, Txn] = {}  # by ref
        self.tokens: dict[str, str] = {}  # bKash's id_token -> app_key
        self.outcomes: dict[str, Outcome] = {}
        self.http = httpx.AsyncClient(timeout=5.0)
        self.reset()

    def reset(self) -> None:
        self.faults = GatewayFaults()
        self.rng = random.Random(self.seed)

    def add(self, txn: Txn) -> Txn:
        self.txns[txn.ref] = txn
        return txn

    def find(self, provider: str, ref: str, merchant: str | None = None) -> Txn | None:
        txn = self.txns.get(ref)
        if txn is None or txn.provider != provider or (merchant is not None and txn.merchant != merchant):
            return None
        return txn

    def of_order(self, provider: str, merchant: str, order_id: str) -> list[Txn]:
        return [t for t in self.txns.values()
                if (t.provider, t.merchant, t.order_id) == (provider, merchant, order_id)]

    async def choose(self, txn: Txn, pay: bool) -> Response:
        """The payer's choice: the payment is made (or cancelled), the IPN sent, the browser sent back."""
        if txn.state != "initiated":
            return page("Already done", f"<p>This payment is {html.escape(txn.state)}.</p>", 409)
        if pay and self.faults.decline:
            txn.state = "failed"
        elif pay:
            txn.state = "approved" if txn.provider == "bkash" else "paid"
            txn.paid_amount = txn.amount - 1 if self.faults.wrong_amount else txn.amount
            txn.risk_level, txn.paid_at = self.faults.risk_level, dt.datetime.now(DHAKA)
        else:
            txn.state = "cancelled"
        outcome = self.outcomes[txn.provider]
        ipn = outcome.ipn(txn)
        if ipn is not None:
            for _ in range(2 if self.faults.duplicate_ipn else 1):
                await self.notify(txn, *ipn)
        return outcome.back(txn)

    async def notify(self, txn: Txn, url: str, fields: dict[str, Any], as_json: bool) -> None:
        try:
            answer = await (self.http.post(url, json=fields) if as_json else self.http.post(url, data=fields))
            txn.deliveries.append(answer.status_code)
        except httpx.HTTPError as e:
            log.warning("IPN to the merchant failed: %s", type(e).__name__)
            txn.deliveries.append(0)

    async def faulty(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """The fault switches, on the gateways' APIs (not the payer's page, nor /_sim)."""
        path = request.url.path
        payer = "/pay/" in path or (request.method == "GET" and path.endswith(("/ekpaypg/v1", "/gw.php")))
        if payer or path.startswith(("/_sim", "/healthz")):
            return await call_next(request)
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        if self.faults.down:
            return JSONResponse({"detail": "the gateway is unavailable (simulated)"}, 503, {"Retry-After": "1"})
        if self.rng.random() < self.faults.error_rate:
            return JSONResponse({"detail": "internal error (simulated)"}, 500)
        return await call_next(request)


def get_sim(request: Request) -> Simulator:
    sim: Simulator = request.app.state.sim
    return sim


def new_ref(prefix: str, size: int = 10) -> str:
    return prefix + secrets.token_hex(size).upper()


def public_base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def with_query(url: str, **params: str) -> str:
    return str(httpx.URL(url).copy_merge_params(params))


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}'
        'button{font-size:1.1rem;padding:.5rem 1.5rem;margin-right:1rem}</style></head>'
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>", status)


def payer_page(txn: Txn, action: str, brand: str) -> HTMLResponse:
    """The page the payer's browser is sent to: the amount, the order, Pay and Cancel."""
    if txn.state != "initiated":
        return page(brand, f"<p>This payment is {html.escape(txn.state)}.</p>", 409)
    body = (f"<p>Simulated {html.escape(brand)} payment (no real money).</p>"
            f"<p>Order <b>{html.escape(txn.order_id)}</b>: <b>{txn.amount:.2f} {html.escape(txn.currency)}</b></p>"
            f'<form method="post" action="{html.escape(action)}">'
            '<button name="choice" value="pay" id="pay">Pay</button>'
            '<button name="choice" value="cancel" id="cancel">Cancel</button></form>')
    return page(brand, body)


def auto_post(url: str, fields: dict[str, Any]) -> HTMLResponse:
    """A form the browser posts by itself: how SSLCommerz sends the payer back."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">'
                     for k, v in fields.items())
    return HTMLResponse(f'<!doctype html><html><body onload="document.forms[0].submit()">'
                        f'<form method="post" action="{html.escape(url)}">{inputs}'
                        '<noscript><button>Continue</button></noscript></form></body></html>')
