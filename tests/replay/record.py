"""Regenerate tests/replay/histories/*.json: run every path of CertificateApplication on a live stack of its own
(a Temporal dev server, the Porichoy simulator, a worker and the API on a scratch SQLite database) and save each
workflow's history as Temporal's JSON.

    .venv/bin/python -m tests.replay.record              # every path
    .venv/bin/python -m tests.replay.record issued_citizenship rejected

Record after a change to the workflow only when the change is meant to be replay-compatible *and* new paths need
covering: the saved histories are the promise that today's code can still run yesterday's applications. Payloads
are sealed with the dev payload key (Settings' default), which tests/replay/test_replay.py uses to replay them, and
bound to their workflow's id (sonod/codec.py): each history is saved as `<path>@<workflow id>.json`, so that the
replay runs it under the id it was sealed for.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn

HERE = Path(__file__).resolve().parent
HISTORIES = HERE / "histories"
TRADE = {"business_name_bn": "মায়ের দোয়া স্টোর", "business_type_bn": "মুদি দোকান",
         "business_address_bn": "বাজার রোড", "fiscal_year": "2025-2026", "holding_tax_receipt_no": "HT-2025-0042"}


# --- the paths ---------------------------------------------------------------------------------------------------
# Each takes the API helper and a context, and returns the ID of an application that has ended (or, for the
# operator's path, one that has been escalated, resent and then issued).


async def issued_citizenship(api, ctx) -> str:
    from tests.stack import citizen

    app_id = await api.submitted(citizen("paikkandi", 0))
    await api.wait_for(app_id, ctx.Status.AWAITING_DECISION)
    await ok(api.decide("chairman.paikkandi", app_id))
    await api.wait_for(app_id, ctx.Status.ISSUED)
    return app_id


async def issued_warish(api, ctx) -> str:
    from tests.stack import citizen, people, warish_details

    union, index = "kajulia", 1
    app_id = await api.submitted(citizen(union, index, "warish", details=warish_details()))
    await api.through_chain(app_id, union, [ctx.Role.WARD_MEMBER, ctx.Role.SECRETARY, ctx.Role.CHAIRMAN],
                            people(union)[index]["ward_no"])
    return app_id


async def issued_with_brn(api, ctx) -> str:
    """A minor applies with a birth registration number (`applicant.brn`): the birth registry's check, then issued."""
    from tests.stack import citizen, people

    minor = next(p for p in people("paikkandi", adults=False) if p["id_type"] == "brn")
    applicant = {"brn": minor["nid"], **{k: minor[k] for k in ("date_of_birth", "name_bn", "name_en")}}
    app_id = await api.submitted(citizen("paikkandi", 0) | {"applicant": applicant})
    await api.wait_for(app_id, ctx.Status.AWAITING_DECISION)
    await ok(api.decide("chairman.paikkandi", app_id))
    await api.wait_for(app_id, ctx.Status.ISSUED)
    return app_id


async def nid_failed(api, ctx) -> str:
    """The NID record does not match, and the applicant does not correct it within the (shortened) window."""
    from tests.stack import citizen
    from tests.unions_kit import set_timing

    await asyncio.to_thread(set_timing, ctx.settings.db_url, "gobra", correction_expiry=timedelta(seconds=2))
    app_id = await api.submitted(citizen("gobra", 0, applicant={"name_en": "Somebody Else"}))
    await ctx.client.get_workflow_handle(app_id).result()
    return app_id


async def nid_corrected(api, ctx) -> str:
    """The NID record does not match; the portal that submitted corrects the name, and the application goes on."""
    from tests.stack import PORTAL_KEY, citizen

    body = citizen("borashi", 0)
    app_id = await api.submitted(body | {"applicant": body["applicant"] | {"name_en": "Somebody Else"}})
    await api.wait_for(app_id, ctx.Status.NID_FAILED)
    await ok(api.http.post(f"/api/v1/applications/{app_id}/amend", json={"applicant": body["applicant"]},
                           headers={"X-API-Key": PORTAL_KEY}))
    await api.wait_for(app_id, ctx.Status.AWAITING_DECISION)
    await ok(api.decide("chairman.borashi", app_id))
    await api.wait_for(app_id, ctx.Status.ISSUED)
    return app_id


async def rejected(api, ctx) -> str:
    from tests.stack import citizen

    app_id = await api.submitted(citizen("urfi", 0))
    await api.wait_for(app_id, ctx.Status.AWAITING_DECISION)
    await ok(api.decide("chairman.urfi", app_id, "reject", "not a resident of this union"))
    await api.wait_for(app_id, ctx.Status.REJECTED)
    return app_id


async def cancelled(api, ctx) -> str:
    from tests.stack import PORTAL_KEY, citizen

    app_id = await api.submitted(citizen("nizra", 0))
    await api.wait_for(app_id, ctx.Status.AWAITING_DECISION)
    await ok(api.http.post(f"/api/v1/applications/{app_id}/cancel", json={"reason": "applied twice"},
                           headers={"X-API-Key": PORTAL_KEY}))
    await api.wait_for(app_id, ctx.Status.CANCELLED)
    return app_id


async def returned_amended(api, ctx) -> str:
    from tests.stack import PORTAL_KEY, citizen

    union = "karpara"
    app_id = await api.submitted(citizen(union, 0, details={"purpose": "passport"}))
    await api.wait_for(app_id, ctx.Status.AWAITING_DECISION)
    await ok(api.decide(f"chairman.{union}", app_id, "return", "write the purpose in full"))
    await api.wait_for(app_id, ctx.Status.RETURNED)
    await ok(api.http.post(f"/api/v1/applications/{app_id}/amend",
                           json={"details": {"purpose": "a passport application"}}, headers={"X-API-Key": PORTAL_KEY}))
    await api.wait_for(app_id, ctx.Status.AWAITING_DECISION)
    await ok(api.decide(f"chairman.{union}", app_id))
    await api.wait_for(app_id, ctx.Status.ISSUED)
    return app_id


async def paid_trade_licence(api, ctx) -> str:
    import json

    from sonod.security import hmac_sha256_hex
    from tests.stack import citizen

    union = "latifpur"
    app_id = await api.submitted(citizen(union, 0, "trade_licence", details=TRADE))
    app = await api.wait_for(app_id, ctx.Status.AWAITING_PAYMENT)
    raw = json.dumps({"application_id": app_id, "amount": app["fee"]["amount"], "currency": "BDT",
                      "transaction_id": f"TX-{uuid.uuid4().hex[:8]}"}).encode()
    await ok(api.http.post("/api/v1/payments/callback", content=raw, headers={
        "Content-Type": "application/json", "X-Signature": hmac_sha256_hex(ctx.settings.payment_secret, raw)}))
    return await licensed(api, ctx, union, app_id)


async def licensed(api, ctx, union: str, app_id: str) -> str:
    """A trade licence whose fee is paid: the secretary verifies, the chairman approves, it is issued."""
    await api.wait_for(app_id, ctx.Status.AWAITING_VERIFICATION)
    await ok(api.decide(f"secretary.{union}", app_id))
    await api.wait_for(app_id, ctx.Status.AWAITING_DECISION)
    await ok(api.decide(f"chairman.{union}", app_id))
    await api.wait_for(app_id, ctx.Status.ISSUED)
    return app_id


async def overdue_escalated_resent(api, ctx) -> str:
    """Timers and the operator's updates: past the deadline at once, escalated and resent by `sonod ops`,
    then decided by the acting chairman."""
    from infra import ops
    from workflows.application import CertificateApplication

    union = "haridaspur"
    app_id = await ctx.start_directly(union, 0, deadline_days=0)
    handle = ctx.client.get_workflow_handle(app_id)
    for _ in range(200):
        if (await handle.query(CertificateApplication.view)).overdue:
            break
        await asyncio.sleep(0.1)
    await ops.reassign(ctx.client, app_id, "ops:record", "the chairman is away")
    await ops.resend(ctx.client, app_id, "ops:record", "the acting chairman asked")
    await ok(api.decide(f"acting.{union}", app_id))
    await api.wait_for(app_id, ctx.Status.ISSUED)
    return app_id


async def paid_at_gateway(api, ctx) -> str:
    """A union taking its fees through ekPay: the order opened, paid at the gateway's page, its IPN a nudge, the
    status call the proof (workflows/payment.py)."""
    from tests.payments.conversation_kit import pay_at_gateway

    union = await ctx.on_gateway("ulpur", "ekpay")
    app_id = await api.submitted(citizen_on(union, 0))
    await api.wait_for(app_id, ctx.Status.AWAITING_PAYMENT)
    await pay_at_gateway(await ctx.pay_url(api, app_id))
    return await licensed(api, ctx, union, app_id)


async def gateway_order_expired(api, ctx) -> str:
    """A union taking its fees through bKash: the gateway asked every second, then once more at the fee's expiry,
    and the order closed unpaid."""
    union = await ctx.on_gateway("satpar", "bkash", payment_expiry=timedelta(seconds=4),
                                 payment_poll=timedelta(seconds=1))
    app_id = await api.submitted(citizen_on(union, 0))
    await api.wait_for(app_id, ctx.Status.CANCELLED, timeout=30)
    return app_id


def citizen_on(union: str, index: int) -> dict:
    from tests.stack import citizen

    return citizen(union, index, "trade_licence", details=TRADE)


PATHS = {f.__name__: f for f in (issued_citizenship, issued_warish, issued_with_brn, nid_failed, nid_corrected,
                                 rejected, cancelled, returned_amended, paid_trade_licence, overdue_escalated_resent,
                                 paid_at_gateway, gateway_order_expired)}


async def ok(request) -> None:
    r = await request
    if r.status_code >= 300:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")


# --- the stack ---------------------------------------------------------------------------------------------------


class Context:
    def __init__(self, settings, client, sessions) -> None:
        from sonod.domain import Role, Status

        self.settings, self.client, self.sessions = settings, client, sessions
        self.Role, self.Status = Role, Status

    async def start_directly(self, union: str, index: int, **timing) -> str:
        """An application started as the API starts it, with the union's clock set to `timing` (and escalation a
        month away) in the scratch database, where the workflow reads it when it admits the application."""
        from sonod.domain import Role
        from tests.stack import citizen
        from tests.unions_kit import set_timing, start, submissions
        from workflows.messages import Actor

        def build():
            set_timing(self.settings.db_url, union, escalate_after=timedelta(days=30), **timing)
            return submissions(self.settings.db_url, [citizen(union, index)],
                               Actor(username="portal:demo-portal", role=Role.PORTAL))[0]
        submission = await asyncio.to_thread(build)
        await start(self.client, self.settings.task_queue, submission)
        return submission.application_id

    async def on_gateway(self, union: str, provider: str, **timing) -> str:
        """The union takes its fees through `provider` (the gateways' simulator), on its own clock."""
        from sonod import db
        from tests.unions_kit import database, set_timing

        def configure() -> None:
            set_timing(self.settings.db_url, union, **timing)
            with database(self.settings.db_url) as session:
                session.get(db.Union, union).payment_provider = provider
        await asyncio.to_thread(configure)
        return union

    async def pay_url(self, api, app_id: str) -> str:
        for _ in range(300):
            if url := (await api.get(app_id)).get("pay_url"):
                return url
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{app_id} has no order at its gateway")


async def record(names: list[str]) -> None:
    from temporalio.testing import WorkflowEnvironment

    from api.main import create_app
    from sonod.codec import data_converter
    from sonod.db import make_engine, make_session_factory
    from sonod.migrate import upgrade
    from sonod.seed import seed
    from sonod.settings import Settings
    from tests.conftest import SQLITE_PRAGMAS
    from tests.payments.conversation_kit import Simulator
    from tests.stack import TEMPORAL_BIN, Api, Porichoy, free_port
    from workers.main import build_worker
    from workflows.search_attributes import ALL_KEYS

    with tempfile.TemporaryDirectory(prefix="sonod-record-") as tmp:
        url = f"sqlite:///{tmp}/record.db"
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions() as session, session.begin():
            seed(session, Settings(database_url=url))
        porichoy = Porichoy(free_port())
        settings = Settings(database_url=url, var_dir=Path(tmp), porichoy_url=porichoy.url, task_queue="record")
        env = await WorkflowEnvironment.start_local(
            data_converter=data_converter(settings), search_attributes=ALL_KEYS,
            dev_server_existing_path=str(TEMPORAL_BIN), dev_server_extra_args=SQLITE_PRAGMAS)
        settings.temporal_address = env.client.service_client.config.target_host
        port = free_port()
        gateways = Simulator(free_port())  # its IPNs and the payer's returns come to this API
        settings.public_url, settings.gateways_url = f"http://127.0.0.1:{port}", gateways.url
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                               log_level="warning"))
        try:
            async with httpx.AsyncClient(timeout=10) as gateway_http, \
                    build_worker(env.client, settings, sessions, gateway_http):
                serving = asyncio.create_task(server.serve())
                while not server.started:
                    await asyncio.sleep(0.05)
                try:
                    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                        api, ctx = Api(http), Context(settings, env.client, sessions)
                        HISTORIES.mkdir(parents=True, exist_ok=True)
                        for name in names:
                            app_id = await PATHS[name](api, ctx)
                            history = await env.client.get_workflow_handle(app_id).fetch_history()
                            for old in saved(name):
                                old.unlink()
                            (HISTORIES / f"{name}@{app_id}.json").write_text(history.to_json() + "\n")
                            print(f"{name}: {app_id}, {len(history.events)} events")
                finally:
                    server.should_exit = True
                    await serving
        finally:
            await env.shutdown()
            porichoy.stop()
            gateways.stop()
            engine.dispose()


def saved(name: str) -> list[Path]:
    """The saved history files of a path (one, normally)."""
    return sorted(HISTORIES.glob(f"{name}@*.json"))


def path_and_workflow_id(history: Path) -> tuple[str, str]:
    """`issued_citizenship@A261206-….json` -> ("issued_citizenship", "A261206-…")."""
    name, _, workflow_id = history.stem.partition("@")
    return name, workflow_id


def main(argv: list[str]) -> int:
    names = argv or list(PATHS)
    unknown = [n for n in names if n not in PATHS]
    if unknown:
        print(f"unknown path(s) {', '.join(unknown)}; known: {', '.join(PATHS)}", file=sys.stderr)
        return 2
    asyncio.run(record(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
