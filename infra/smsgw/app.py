"""The SMS gateway simulator (FastAPI). Nothing here logs a number or a text.

- `POST /api/v3/send-sms`: SSL Wireless (JSON api_token, sid, msisdn, sms, csms_id; a repeated csms_id is refused
  with 4023 and not sent again);
- `GET|POST /api/smsapi`: BulkSMSBD (api_key, type, number, senderid, message; 202 when taken);
- `/_sim/messages` what was taken, `/_sim/faults` per protocol, `/_sim/reset`; after each message taken, a delivery
  report to sonod's `/api/v1/sms/{provider}/dlr` when a DLR base URL is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import re
import secrets
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from activities.sms.segments import segments
from sonod.sms import dlr_url

log = logging.getLogger(__name__)

PROTOCOLS = ("sslwireless", "bulksmsbd")
MSISDN = re.compile(r"^8801[3-9]\d{8}$")
CSMS_ID = re.compile(r"^[A-Za-z0-9]{1,20}$")
MAX_LATENCY_MS = 120_000


class Faults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    down: bool = False  # 503
    refuse: bool = False  # the protocol's own refusal (SSL Wireless 4001, BulkSMSBD 1007)
    latency_ms: int = Field(0, ge=0, le=MAX_LATENCY_MS)
    dlr: str = Field("delivered", pattern="^(delivered|failed|none)$")


class FaultsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    down: bool | None = None
    refuse: bool | None = None
    latency_ms: int | None = Field(None, ge=0, le=MAX_LATENCY_MS)
    dlr: str | None = Field(None, pattern="^(delivered|failed|none)$")


class FaultsPatch(BaseModel):
    """Only the protocols and fields given change."""

    model_config = ConfigDict(extra="forbid")

    sslwireless: FaultsChange | None = None
    bulksmsbd: FaultsChange | None = None


class Simulator:
    def __init__(self, credentials: dict[str, str], dlr_base: str = "", dlr_secret: str = "") -> None:
        self.credentials, self.dlr_base, self.dlr_secret = credentials, dlr_base, dlr_secret
        self.reports: set[asyncio.Task] = set()
        self.reset()

    def reset(self) -> None:
        self.faults = {p: Faults() for p in PROTOCOLS}
        self.messages: list[dict[str, Any]] = []
        self.refs: set[str] = set()
        self.ids = itertools.count(1001)

    def key_ok(self, protocol: str, given: object) -> bool:
        return isinstance(given, str) and secrets.compare_digest(given.encode(), self.credentials[protocol].encode())

    async def before(self, protocol: str) -> JSONResponse | None:
        faults = self.faults[protocol]
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.down:
            return JSONResponse({"detail": f"{protocol} is unavailable (simulated)"}, status_code=503)
        return None

    def take(self, protocol: str, ref: str, msisdn: str, text: str) -> dict[str, Any]:
        counted = segments(text)
        message = {"protocol": protocol, "ref": ref, "msisdn": msisdn, "text": text, "encoding": counted.encoding,
                   "segments": counted.count, "at": dt.datetime.now(dt.UTC).isoformat(), "dlr": None}
        self.messages.append(message)
        if self.dlr_base and self.faults[protocol].dlr != "none":
            task = asyncio.create_task(self.report(protocol, message, self.faults[protocol].dlr))
            self.reports.add(task)
            task.add_done_callback(self.reports.discard)
        return message

    async def report(self, protocol: str, message: dict[str, Any], outcome: str) -> None:
        await asyncio.sleep(0.05)
        ref_field = "csms_id" if protocol == "sslwireless" else "message_id"
        status = "DELIVERED" if outcome == "delivered" else "UNDELIVERED"
        body = {ref_field: message["ref"], "msisdn": message["msisdn"], "status": status,
                "done_at": dt.datetime.now(dt.UTC).isoformat()}
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                for wait in (0, 1, 5):  # as providers do: a report not taken is sent again
                    await asyncio.sleep(wait)
                    answer = await http.post(dlr_url(self.dlr_base, self.dlr_secret, protocol), json=body)
                    if answer.status_code < 400 or answer.status_code == 401:
                        break
            message["dlr"] = answer.status_code
        except httpx.HTTPError as e:
            message["dlr"] = type(e).__name__
            log.warning("delivery report not taken: %s", type(e).__name__)


def get_sim(request: Request) -> Simulator:
    return request.app.state.sim


Sim = Annotated[Simulator, Depends(get_sim)]
router = APIRouter()


def _ssl_answer(code: int, error: str) -> JSONResponse:
    return JSONResponse({"status": "FAILED", "status_code": code, "error_message": error, "smsinfo": []})


@router.post("/api/v3/send-sms")
async def ssl_send(request: Request, sim: Sim) -> JSONResponse:
    raw = await request.body()  # before the simulated latency: a caller that hangs up meanwhile is not an error
    if (down := await sim.before("sslwireless")) is not None:
        return down
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not all(isinstance(body.get(f), str) and body.get(f)
                                             for f in ("api_token", "sid", "msisdn", "sms", "csms_id")):
        return _ssl_answer(4022, "Required parameter missing")
    if not sim.key_ok("sslwireless", body["api_token"]) or sim.faults["sslwireless"].refuse:
        return _ssl_answer(4001, "Unauthorized")
    if not CSMS_ID.match(body["csms_id"]):
        return _ssl_answer(4020, "Invalid CSMS ID")
    if not MSISDN.match(body["msisdn"]):
        return _ssl_answer(4025, f"Invalid MSISDN {body['msisdn'][:20]}")  # echoed, as some gateways do
    if body["csms_id"] in sim.refs:
        return _ssl_answer(4023, "Duplicate CSMS ID")
    sim.refs.add(body["csms_id"])
    message = sim.take("sslwireless", body["csms_id"], body["msisdn"], body["sms"])
    info = {"sms_status": "SUCCESS", "status_message": "Success", "msisdn": body["msisdn"],
            "sms_type": "UNICODE" if message["encoding"] == "ucs2" else "EN", "sms_body": body["sms"],
            "csms_id": body["csms_id"], "reference_id": f"SIM{next(sim.ids)}"}
    return JSONResponse({"status": "SUCCESS", "status_code": 200, "error_message": "", "smsinfo": [info]})


@router.api_route("/api/smsapi", methods=["GET", "POST"])
async def bulksmsbd_send(request: Request, sim: Sim) -> JSONResponse:
    form = dict(await request.form()) if request.method == "POST" else {}
    if (down := await sim.before("bulksmsbd")) is not None:
        return down
    fields: dict[str, Any] = dict(request.query_params) | form
    if not all(isinstance(fields.get(f), str) and fields.get(f)
               for f in ("api_key", "type", "number", "senderid", "message")):
        return JSONResponse({"response_code": 1003, "error_message": "Please provide all required fields"})
    if not sim.key_ok("bulksmsbd", fields["api_key"]):
        return JSONResponse({"response_code": 1011, "error_message": "User Id not found"})
    if sim.faults["bulksmsbd"].refuse:
        return JSONResponse({"response_code": 1007, "error_message": "Balance Insufficient"})
    if not MSISDN.match(fields["number"]):
        return JSONResponse({"response_code": 1001, "error_message": "Invalid Number"})
    message_id = str(next(sim.ids))
    sim.take("bulksmsbd", message_id, fields["number"], fields["message"])
    return JSONResponse({"response_code": 202, "message_id": int(message_id),
                         "success_message": "SMS Submitted Successfully", "error_message": ""})


@router.get("/healthz")
async def healthz(sim: Sim) -> dict[str, Any]:
    return {"status": "ok", "messages": len(sim.messages)}


@router.get("/_sim/messages")
async def messages(sim: Sim, protocol: str | None = None) -> list[dict[str, Any]]:
    return [m for m in sim.messages if protocol in (None, m["protocol"])]


@router.get("/_sim/faults")
async def read_faults(sim: Sim) -> dict[str, Faults]:
    return sim.faults


@router.post("/_sim/faults")
async def set_faults(patch: FaultsPatch, sim: Sim) -> dict[str, Faults]:
    for protocol in PROTOCOLS:
        change = getattr(patch, protocol)
        if change is not None:
            sim.faults[protocol] = sim.faults[protocol].model_copy(update=change.model_dump(exclude_none=True))
    log.warning("smsgw faults now %s", {p: f.model_dump() for p, f in sim.faults.items()})
    return sim.faults


@router.post("/_sim/reset")
async def reset(sim: Sim) -> dict[str, Faults]:
    """Clears the faults and the messages."""
    sim.reset()
    return sim.faults


def create_app(credentials: dict[str, str], dlr_base: str = "", dlr_secret: str = "") -> FastAPI:
    app = FastAPI(title="SMS gateway simulator", description="SSL Wireless and BulkSMSBD, for development")
    app.state.sim = Simulator(credentials, dlr_base, dlr_secret)
    app.include_router(router)
    return app
