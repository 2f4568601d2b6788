"""The payment gateways simulator's application: the four protocols, the fault switches and the report."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from infra.gateways import bkash, ekpay, nagad, sslcommerz
from infra.gateways.core import GatewayFaults, GatewayFaultsPatch, Simulator, demo_merchants, get_sim, page
from sonod.settings import Settings

log = logging.getLogger(__name__)
Sim = Annotated[Simulator, Depends(get_sim)]


def create_app(settings: Settings, seed: int = 0) -> FastAPI:
    """`settings`: sonod's Settings, whose demo merchant credentials the simulated gateways accept."""
    sim = Simulator(demo_merchants(settings), seed=seed)
    sim.outcomes = {"ekpay": ekpay.Outcome(), "bkash": bkash.Outcome(), "sslcommerz": sslcommerz.Outcome(sim),
                    "nagad": nagad.Outcome()}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await sim.http.aclose()

    app = FastAPI(title="sonod payment gateways simulator", lifespan=lifespan)
    app.state.sim = sim
    app.middleware("http")(sim.faulty)
    for module in (ekpay, bkash, sslcommerz, nagad):
        app.include_router(module.router)

    @app.get("/healthz")
    async def healthz(sim: Sim) -> dict[str, Any]:
        return {"status": "ok", "transactions": len(sim.txns)}

    @app.get("/", include_in_schema=False)
    async def index(sim: Sim) -> HTMLResponse:
        rows = "".join(f"<li>{t.provider} {t.order_id}: {t.state}</li>" for t in list(sim.txns.values())[-20:])
        return page("Payment gateways simulator",
                    "<p>ekPay, bKash, SSLCommerz and Nagad for sonod's demo and tests. "
                    '<a href="/_sim/transactions">transactions</a>, <a href="/_sim/faults">faults</a>, '
                    f'<a href="/docs">API</a>.</p><ul>{rows}</ul>')

    @app.get("/_sim/transactions")
    async def transactions(sim: Sim, provider: str | None = None) -> list[dict[str, Any]]:
        """The transaction report: every payment, its state, refunds and IPN deliveries."""
        return [t.report() for t in sim.txns.values() if provider in (None, t.provider)]

    @app.get("/_sim/faults")
    async def read_faults(sim: Sim) -> GatewayFaults:
        return sim.faults

    @app.post("/_sim/faults")
    async def set_faults(patch: GatewayFaultsPatch, sim: Sim) -> GatewayFaults:
        sim.faults = sim.faults.model_copy(update=patch.model_dump(exclude_none=True))
        log.warning("gateway faults now %s", sim.faults.model_dump())
        return sim.faults

    @app.post("/_sim/tokens/expire")
    async def expire_tokens(sim: Sim) -> dict[str, int]:
        """Every bKash token handed out stops working (as at its expires_in): the next call answers 401."""
        expired = len(sim.tokens)
        sim.tokens.clear()
        return {"expired": expired}

    @app.post("/_sim/reset")
    async def reset(sim: Sim) -> GatewayFaults:
        """Clears the faults (not the transactions) and reseeds the error RNG."""
        sim.reset()
        return sim.faults

    return app
