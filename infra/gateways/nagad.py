"""Nagad hosted checkout: check-out/initialize and check-out/complete with sealed sensitiveData (RSA to the
gateway's key, SHA256withRSA by the merchant's), the payer's page, the return to merchantCallbackURL with
`?merchant=&order_id=&payment_ref_id=&status=`, verify/payment, and purchase/cancel (a refund, sealed).
No IPN: Nagad tells the merchant through the payer's return only.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from infra.gateways.core import Simulator, Txn, get_sim, new_ref, page, payer_page, public_base, with_query
from sonod.bengali import DHAKA

BASE = "/nagad/remote-payment-gateway-1.0/api/dfs"
STATUS = {"paid": "Success", "cancelled": "Aborted", "failed": "Failed", "refunded": "Refunded"}
router = APIRouter(tags=["nagad"])
Sim = Annotated[Simulator, Depends(get_sim)]


def refusal(reason: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"reason": reason, "message": message}, status)


def unsealed(sim: Simulator, merchant: str, body: dict[str, Any]) -> dict[str, Any] | JSONResponse:
    if merchant not in sim.merchants.nagad:
        return refusal("InvalidMerchant", "Unknown merchant")
    try:
        return sim.merchants.nagad_seal(merchant).open(body)
    except ValueError:
        return refusal("InvalidSignature", "sensitiveData or signature is not valid")


@router.post(f"{BASE}/check-out/initialize/{{merchant_id}}/{{order_id}}")
async def initialize(merchant_id: str, order_id: str, body: dict[str, Any], sim: Sim) -> JSONResponse:
    data = unsealed(sim, merchant_id, body)
    if isinstance(data, JSONResponse):
        return data
    if data.get("merchantId") != merchant_id or data.get("orderId") != order_id or not data.get("challenge"):
        return refusal("InvalidRequest", "sensitiveData does not match the path")
    if any(t.state != "initiated" for t in sim.of_order("nagad", merchant_id, order_id)):
        return refusal("DuplicateOrderId", "Order id already used")
    txn = sim.add(Txn("nagad", merchant_id, order_id, new_ref("MDI", 12), Decimal(0), return_url="",
                      extra={"challenge": secrets.token_hex(20)}))
    now = dt.datetime.now(DHAKA).strftime("%Y%m%d%H%M%S")
    return JSONResponse(sim.merchants.nagad_seal(merchant_id).close(
        {"paymentReferenceId": txn.ref, "challenge": txn.extra["challenge"], "acceptDateTime": now}))


@router.post(f"{BASE}/check-out/complete/{{ref}}")
async def complete(ref: str, body: dict[str, Any], request: Request, sim: Sim) -> JSONResponse:
    txn = sim.find("nagad", ref)
    if txn is None:
        return refusal("InvalidPaymentRefId", "Unknown paymentReferenceId", 404)
    data = unsealed(sim, txn.merchant, body)
    if isinstance(data, JSONResponse):
        return data
    try:
        amount = Decimal(str(data.get("amount")))
    except InvalidOperation:
        amount = Decimal(0)
    if (data.get("challenge") != txn.extra["challenge"] or data.get("orderId") != txn.order_id
            or data.get("currencyCode") != "050" or amount <= 0 or not body.get("merchantCallbackURL")):
        return refusal("InvalidRequest", "challenge, orderId, currencyCode, amount or merchantCallbackURL")
    if txn.amount and txn.amount != amount:
        return refusal("InvalidRequest", "the amount differs from the first complete")
    txn.amount, txn.return_url = amount, str(body["merchantCallbackURL"])
    txn.extra["additional"] = body.get("additionalMerchantInfo")
    return JSONResponse({"status": "Success", "callBackUrl": f"{public_base(request)}/nagad/pay/{ref}"})


@router.get("/nagad/pay/{ref}")
async def payer(ref: str, sim: Sim) -> Response:
    txn = sim.find("nagad", ref)
    if txn is None or not txn.return_url:
        return page("Nagad", "<p>Unknown payment.</p>", 404)
    return payer_page(txn, f"/nagad/pay/{ref}", "Nagad")


@router.post("/nagad/pay/{ref}")
async def choose(ref: str, choice: Annotated[str, Form()], sim: Sim) -> Response:
    txn = sim.find("nagad", ref)
    if txn is None or not txn.return_url:
        return page("Nagad", "<p>Unknown payment.</p>", 404)
    return await sim.choose(txn, choice == "pay")


@router.get(f"{BASE}/verify/payment/{{ref}}")
async def verify(ref: str, sim: Sim) -> JSONResponse:
    txn = sim.find("nagad", ref)
    if txn is None:
        return refusal("InvalidPaymentRefId", "Unknown paymentReferenceId", 404)
    paid = txn.paid_at.strftime("%Y%m%d%H%M%S") if txn.paid_at else None
    return JSONResponse({
        "merchantId": txn.merchant, "orderId": txn.order_id, "paymentRefId": txn.ref,
        "amount": f"{txn.reported_amount:.2f}", "clientMobileNo": "017XXXXXX00" if paid else None,
        "merchantMobileNo": "017XXXXXX01", "orderDateTime": txn.created.strftime("%Y%m%d%H%M%S"),
        "issuerPaymentDateTime": paid, "issuerPaymentRefNo": txn.gateway_txn if paid else None,
        "additionalMerchantInfo": txn.extra.get("additional"), "status": STATUS.get(txn.state, "Initiated"),
        "statusCode": "000" if txn.state in ("paid", "refunded") else "001",
        "cancelIssuerDateTime": None, "cancelIssuerRefNo": txn.refunds[-1]["cancelTrxId"] if txn.refunds else None,
    })


@router.post(f"{BASE}/purchase/cancel")
async def cancel(paymentRefId: str, body: dict[str, Any], sim: Sim) -> JSONResponse:
    txn = sim.find("nagad", paymentRefId)
    if txn is None:
        return refusal("InvalidPaymentRefId", "Unknown paymentReferenceId", 404)
    data = unsealed(sim, txn.merchant, body)
    if isinstance(data, JSONResponse):
        return data
    seal = sim.merchants.nagad_seal(txn.merchant)
    earlier = [r for r in txn.refunds if r["referenceNo"] == data.get("referenceNo")]
    if earlier:  # the same refund asked again
        return JSONResponse(seal.close(earlier[0]))
    try:
        amount = Decimal(str(data.get("cancelAmount")))
    except InvalidOperation:
        amount = Decimal(0)
    if txn.paid_at is None or amount <= 0 or txn.refunded + amount > txn.reported_amount:
        return JSONResponse(seal.close({"cancelStatus": "Failed", "reason": "Invalid cancelAmount or payment"}))
    done = {"cancelStatus": "Success", "cancelTrxId": new_ref("C", 6), "amount": f"{amount:.2f}",
            "cancelAmount": f"{amount:.2f}", "originalAmount": f"{txn.reported_amount:.2f}",
            "paymentRefId": txn.ref, "referenceNo": data.get("referenceNo")}
    txn.refunds.append(done)
    if txn.refunded >= txn.reported_amount:
        txn.state = "refunded"
    return JSONResponse(seal.close(done))


class Outcome:
    def ipn(self, txn: Txn) -> None:
        return None

    def back(self, txn: Txn) -> Response:
        paid = txn.state == "paid"
        return RedirectResponse(with_query(
            txn.return_url, merchant=txn.merchant, order_id=txn.order_id, payment_ref_id=txn.ref,
            status=STATUS.get(txn.state, "Aborted"), status_code="00_0000_000" if paid else "00_1000_001",
            message="Successful Transaction" if paid else "Aborted by the customer",
            payment_dt=(txn.paid_at or txn.created).strftime("%Y%m%d%H%M%S"),
            issuer_payment_ref=txn.gateway_txn if paid else ""), 303)
