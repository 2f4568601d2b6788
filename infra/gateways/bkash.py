"""bKash tokenized checkout (v1.2.0-beta): token/grant, create, the payer's page, the return to callbackURL
with `?paymentID=&status=`, execute, payment/status and payment/refund (with an amount: a refund; without: the
refund's status). No IPN: bKash's webhooks are configured in its merchant portal, not per payment.

statusCode 0000 and 2117 (execute called before) are bKash's; the other refusal codes are this simulator's.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from infra.gateways.core import Simulator, Txn, get_sim, new_ref, page, payer_page, public_base, with_query
from sonod.bengali import DHAKA

BASE = "/bkash/v1.2.0-beta/tokenized/checkout"
STATUS = {"initiated": "Initiated", "approved": "Initiated", "paid": "Completed", "refunded": "Completed",
          "cancelled": "Cancelled", "failed": "Failed"}
router = APIRouter(tags=["bkash"])
Sim = Annotated[Simulator, Depends(get_sim)]


def refusal(code: str, message: str) -> JSONResponse:
    return JSONResponse({"statusCode": code, "statusMessage": message})


def caller(sim: Simulator, authorization: str | None, app_key: str | None) -> str | None:
    """The app key of a call whose token it was granted to."""
    owner = sim.tokens.get(authorization or "")
    return owner if owner is not None and owner == app_key else None


def unauthorized() -> JSONResponse:
    return JSONResponse({"message": "Unauthorized"}, 401)


@router.post(f"{BASE}/token/grant")
async def grant(body: dict[str, Any], sim: Sim, username: Annotated[str | None, Header()] = None,
                password: Annotated[str | None, Header()] = None) -> JSONResponse:
    account = sim.merchants.bkash.get(str(body.get("app_key")))
    if account is None or account != (username, password, body.get("app_secret")):
        return unauthorized()
    token = secrets.token_urlsafe(32)
    sim.tokens[token] = str(body["app_key"])
    return JSONResponse({"statusCode": "0000", "statusMessage": "Successful", "id_token": token,
                         "token_type": "Bearer", "expires_in": 3600, "refresh_token": secrets.token_urlsafe(16)})


@router.post(f"{BASE}/create")
async def create(body: dict[str, Any], request: Request, sim: Sim,
                 authorization: Annotated[str | None, Header()] = None,
                 x_app_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    merchant = caller(sim, authorization, x_app_key)
    if merchant is None:
        return unauthorized()
    try:
        amount = Decimal(str(body.get("amount")))
    except InvalidOperation:
        return refusal("2007", "Invalid amount")
    if body.get("mode") != "0011" or body.get("intent") != "sale" or body.get("currency") != "BDT":
        return refusal("2008", "Invalid mode, intent or currency")
    if not body.get("merchantInvoiceNumber") or not body.get("callbackURL") or not body.get("payerReference"):
        return refusal("2065", "Mandatory field missing")
    if amount <= 0:
        return refusal("2007", "Invalid amount")
    txn = sim.add(Txn("bkash", merchant, str(body["merchantInvoiceNumber"]), new_ref("TR0011", 8), amount,
                      return_url=str(body["callbackURL"]), extra={"payerReference": body["payerReference"]}))
    url = f"{public_base(request)}/bkash/pay/{txn.ref}"
    return JSONResponse({
        "statusCode": "0000", "statusMessage": "Successful", "paymentID": txn.ref, "bkashURL": url,
        "callbackURL": txn.return_url, "successCallbackURL": with_query(txn.return_url, status="success"),
        "failureCallbackURL": with_query(txn.return_url, status="failure"),
        "cancelledCallbackURL": with_query(txn.return_url, status="cancel"), "amount": f"{amount:.2f}",
        "intent": "sale", "currency": "BDT", "paymentCreateTime": txn.created.isoformat(),
        "transactionStatus": "Initiated", "merchantInvoiceNumber": txn.order_id,
    })


@router.get("/bkash/pay/{ref}")
async def payer(ref: str, sim: Sim) -> Response:
    txn = sim.find("bkash", ref)
    return payer_page(txn, f"/bkash/pay/{ref}", "bKash") if txn else page("bKash", "<p>Unknown payment.</p>", 404)


@router.post("/bkash/pay/{ref}")
async def choose(ref: str, choice: Annotated[str, Form()], sim: Sim) -> Response:
    txn = sim.find("bkash", ref)
    return await sim.choose(txn, choice == "pay") if txn else page("bKash", "<p>Unknown payment.</p>", 404)


def payment(txn: Txn) -> dict[str, Any]:
    return {"statusCode": "0000", "statusMessage": "Successful", "paymentID": txn.ref, "mode": "0011",
            "payerReference": txn.extra["payerReference"], "paymentCreateTime": txn.created.isoformat(),
            "amount": f"{txn.reported_amount:.2f}", "currency": "BDT", "intent": "sale",
            "merchantInvoice": txn.order_id, "transactionStatus": STATUS[txn.state],
            "verificationStatus": "Complete", **({"trxID": txn.gateway_txn} if txn.paid_at else {})}


async def owned(body: dict[str, Any], sim: Simulator, authorization: str | None,
                app_key: str | None) -> Txn | JSONResponse:
    merchant = caller(sim, authorization, app_key)
    if merchant is None:
        return unauthorized()
    txn = sim.find("bkash", str(body.get("paymentID")), merchant)
    return txn if txn is not None else refusal("2056", "Invalid Payment ID")


@router.post(f"{BASE}/execute")
async def execute(body: dict[str, Any], sim: Sim, authorization: Annotated[str | None, Header()] = None,
                  x_app_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    txn = await owned(body, sim, authorization, x_app_key)
    if isinstance(txn, JSONResponse):
        return txn
    if txn.state in ("paid", "refunded"):
        return refusal("2117", "Payment execution already been called before")
    if txn.state != "approved":
        return refusal("2056", "Invalid Payment State")
    txn.state = "paid"
    return JSONResponse({**payment(txn), "merchantInvoiceNumber": txn.order_id, "customerMsisdn": "017XXXXXX00",
                         "paymentExecuteTime": dt.datetime.now(DHAKA).isoformat()})


@router.post(f"{BASE}/payment/status")
async def status(body: dict[str, Any], sim: Sim, authorization: Annotated[str | None, Header()] = None,
                 x_app_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    txn = await owned(body, sim, authorization, x_app_key)
    return txn if isinstance(txn, JSONResponse) else JSONResponse(payment(txn))


@router.post(f"{BASE}/payment/refund")
async def refund(body: dict[str, Any], sim: Sim, authorization: Annotated[str | None, Header()] = None,
                 x_app_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    txn = await owned(body, sim, authorization, x_app_key)
    if isinstance(txn, JSONResponse):
        return txn
    if body.get("trxID") != txn.gateway_txn or txn.state not in ("paid", "refunded"):
        return refusal("2071", "Invalid trxID or payment not completed")
    if "amount" not in body:  # the refund status query
        return JSONResponse(txn.refunds[-1]) if txn.refunds else refusal("2072", "No refund found")
    try:
        amount = Decimal(str(body["amount"]))
    except InvalidOperation:
        return refusal("2007", "Invalid amount")
    if amount <= 0 or txn.refunded + amount > txn.reported_amount:
        return refusal("2073", "Refund amount exceeds the payment")
    done = {"statusCode": "0000", "statusMessage": "Successful", "originalTrxID": txn.gateway_txn,
            "refundTrxID": new_ref("R", 5), "transactionStatus": "Completed", "amount": f"{amount:.2f}",
            "currency": "BDT", "charge": "0.00", "completedTime": dt.datetime.now(DHAKA).isoformat()}
    txn.refunds.append(done)
    if txn.refunded >= txn.reported_amount:
        txn.state = "refunded"
    return JSONResponse(done)


class Outcome:
    def ipn(self, txn: Txn) -> None:
        return None

    def back(self, txn: Txn) -> Response:
        status = {"approved": "success", "failed": "failure"}.get(txn.state, "cancel")
        return RedirectResponse(with_query(txn.return_url, paymentID=txn.ref, status=status,
                                           signature=secrets.token_hex(8), apiVersion="1.2.0-beta"), 303)
