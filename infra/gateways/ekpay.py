"""ekPay's protocol: merchant-api (a secure token), the payer's page at `?sToken=&trnsID=`, a JSON IPN to
ipn_info.ipn_uri, the return to s_uri/f_uri/c_uri with `?transId=`, and get-status.

msg_code 1020 (paid), 1021 (failed) and 1022 (cancelled) are ekPay's; 1024 (pending) and 4001/4004 (refusals)
are this simulator's own. ekPay has no refund API.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import JSONResponse, RedirectResponse, Response

from infra.gateways.core import Simulator, Txn, get_sim, new_ref, page, payer_page, with_query

BASE = "/ekpay/ekpaypg/v1"
CODES = {"paid": ("1020", "Transaction completed successfully"), "failed": ("1021", "Transaction failed"),
         "cancelled": ("1022", "Transaction cancelled by the customer")}
PENDING = ("1024", "Transaction pending")
router = APIRouter(tags=["ekpay"])
Sim = Annotated[Simulator, Depends(get_sim)]


def refusal(code: str, detail: str) -> JSONResponse:
    return JSONResponse({"secure_token": None, "msg_code": code, "msg_det": detail})


@router.post(f"{BASE}/merchant-api")
async def merchant_api(body: dict[str, Any], sim: Sim) -> JSONResponse:
    mer, trns = body.get("mer_info") or {}, body.get("trns_info") or {}
    if sim.merchants.ekpay.get(str(mer.get("mer_reg_id"))) != mer.get("mer_pas_key") or not mer.get("mer_pas_key"):
        return refusal("4001", "Invalid merchant credentials")
    feed, ipn = body.get("feed_uri") or {}, body.get("ipn_info") or {}
    try:
        amount = Decimal(str(trns.get("trnx_amt")))
    except InvalidOperation:
        return refusal("4004", "Invalid trnx_amt")
    if not trns.get("trnx_id") or amount <= 0 or trns.get("trnx_currency") != "BDT" or not feed.get("s_uri"):
        return refusal("4004", "Missing or invalid trns_info / feed_uri")
    earlier = sim.of_order("ekpay", mer["mer_reg_id"], str(trns["trnx_id"]))
    if earlier:  # the same trnx_id again: the same token if nothing changed, else a refusal
        if earlier[0].amount == amount:
            return JSONResponse({"secure_token": earlier[0].ref, "msg_code": "1000", "msg_det": "Success"})
        return refusal("4004", "Duplicate trnx_id")
    txn = sim.add(Txn("ekpay", mer["mer_reg_id"], str(trns["trnx_id"]), new_ref("ST", 24), amount,
                      return_url=str(feed["s_uri"]), ipn_url=ipn.get("ipn_uri") or None,
                      extra={"feed": feed, "cust_info": body.get("cust_info") or {}, "trns_info": trns}))
    return JSONResponse({"secure_token": txn.ref, "msg_code": "1000", "msg_det": "Success"})


@router.get(BASE)
async def payer(sToken: str, sim: Sim) -> Response:
    txn = sim.find("ekpay", sToken)
    if txn is None:
        return page("ekPay", "<p>Unknown or expired secure token.</p>", 404)
    return payer_page(txn, f"/ekpay/pay/{txn.ref}", "ekPay")


@router.post("/ekpay/pay/{ref}")
async def choose(ref: str, choice: Annotated[str, Form()], sim: Sim) -> Response:
    txn = sim.find("ekpay", ref)
    if txn is None:
        return page("ekPay", "<p>Unknown payment.</p>", 404)
    return await sim.choose(txn, choice == "pay")


@router.post(f"{BASE}/get-status")
async def get_status(body: dict[str, Any], sim: Sim) -> JSONResponse:
    """ekPay's status call: the transaction of this merchant, trnx_id and day (GMT+6), in the IPN's shape."""
    found = [t for t in sim.of_order("ekpay", str(body.get("username")), str(body.get("trnx_id")))
             if str(t.created.date()) == str(body.get("trans_date"))]
    if not found:
        return JSONResponse({"msg_code": "4004", "msg_det": "No transaction found"})
    return JSONResponse(message(found[0]))


def message(txn: Txn) -> dict[str, Any]:
    code, detail = CODES.get(txn.state, PENDING)
    amount = f"{txn.reported_amount:.2f}"
    return {
        "msg_code": code, "msg_det": detail, "req_timestamp": txn.created.strftime("%Y-%m-%d %H:%M:%S GMT+6"),
        "basic_Info": {"mer_reg_id": txn.merchant, "ipn_info": "IPN", "redirect_to": txn.return_url,
                       "dgtl_sign": "simulated", "ord_desc": txn.extra["trns_info"].get("ord_det", "")},
        "cust_info": txn.extra["cust_info"], "scroll_no": txn.gateway_txn[-8:],
        "trnx_info": {"trnx_amt": amount, "trnx_id": txn.gateway_txn, "mer_trnx_id": txn.order_id, "curr": "BDT",
                      "pi_trnx_id": "PI" + txn.gateway_txn, "pi_charge": "0.00", "ekpay_charge": "0.00",
                      "pi_discount": "0.00", "discount": "0.00", "promo_discount": "0.00",
                      "total_ser_chrg": "0.00", "total_pabl_amt": amount},
        "pi_det_info": {"pay_timestamp": (txn.paid_at or txn.created).strftime("%Y-%m-%d %H:%M:%S"),
                        "pi_name": "bKash", "pi_type": "MFS", "pi_number": "017XXXXXX00", "pi_gateway": "bKash"},
    }


class Outcome:
    def ipn(self, txn: Txn) -> tuple[str, dict[str, Any], bool] | None:
        return (txn.ipn_url, message(txn), True) if txn.ipn_url else None

    def back(self, txn: Txn) -> Response:
        feed = txn.extra["feed"]
        url = {"paid": feed.get("s_uri"), "failed": feed.get("f_uri")}.get(txn.state, feed.get("c_uri"))
        return RedirectResponse(with_query(str(url or txn.return_url), transId=txn.order_id), 303)
