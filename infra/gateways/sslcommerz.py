"""SSLCommerz v4: the session API, the payer's page (GatewayPageURL), a form IPN to ipn_url, the browser posted
back to success_url/fail_url/cancel_url, the order validation API (val_id), the transaction query by tran_id,
and refunds (initiate with bank_tran_id; status with refund_ref_id) on merchantTransIDvalidationAPI.php.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response

from infra.gateways.core import Simulator, Txn, auto_post, get_sim, new_ref, page, payer_page, public_base

BASE = "/sslcommerz"
STATUS = {"paid": "VALID", "refunded": "VALID", "failed": "FAILED", "cancelled": "CANCELLED"}
REQUIRED = ("tran_id", "total_amount", "currency", "success_url", "fail_url", "cancel_url", "cus_name",
            "cus_email", "cus_add1", "cus_city", "cus_country", "cus_phone", "product_name", "product_category",
            "product_profile", "shipping_method")
router = APIRouter(tags=["sslcommerz"])
Sim = Annotated[Simulator, Depends(get_sim)]


def store(sim: Simulator, store_id: object, password: object) -> str | None:
    """The store whose credentials these are."""
    ok = isinstance(store_id, str) and password and sim.merchants.sslcommerz.get(store_id) == password
    return str(store_id) if ok else None


@router.post(f"{BASE}/gwprocess/v4/api.php")
async def session(request: Request, sim: Sim) -> JSONResponse:
    form = dict(await request.form())
    merchant = store(sim, form.get("store_id"), form.get("store_passwd"))
    if merchant is None:
        return JSONResponse({"status": "FAILED", "failedreason": "Store Credential Error Or Store is De-active"})
    missing = [f for f in REQUIRED if not form.get(f)]
    if missing:
        return JSONResponse({"status": "FAILED", "failedreason": f"Missing: {', '.join(missing)}"})
    try:
        amount = Decimal(str(form["total_amount"]))
    except InvalidOperation:
        amount = Decimal(0)
    if not Decimal(10) <= amount <= Decimal(500000) or form["currency"] != "BDT":
        return JSONResponse({"status": "FAILED", "failedreason": "Invalid total_amount or currency"})
    txn = sim.add(Txn("sslcommerz", merchant, str(form["tran_id"]), new_ref("", 16), amount,
                      return_url=str(form["success_url"]), ipn_url=str(form.get("ipn_url") or "") or None,
                      extra={"form": {k: str(v) for k, v in form.items() if k != "store_passwd"}}))
    url = f"{public_base(request)}{BASE}/gwprocess/v4/gw.php?Q=pay&SESSIONKEY={txn.ref}"
    return JSONResponse({"status": "SUCCESS", "failedreason": "", "sessionkey": txn.ref,
                         "GatewayPageURL": url, "redirectGatewayURL": url, "storeBanner": "", "storeLogo": ""})


@router.get(f"{BASE}/gwprocess/v4/gw.php")
async def payer(SESSIONKEY: str, sim: Sim) -> Response:
    txn = sim.find("sslcommerz", SESSIONKEY)
    if txn is None:
        return page("SSLCommerz", "<p>Unknown session.</p>", 404)
    return payer_page(txn, f"{BASE}/pay/{txn.ref}", "SSLCommerz")


@router.post(f"{BASE}/pay/{{ref}}")
async def choose(ref: str, choice: Annotated[str, Form()], sim: Sim) -> Response:
    txn = sim.find("sslcommerz", ref)
    if txn is None:
        return page("SSLCommerz", "<p>Unknown session.</p>", 404)
    if choice == "pay" and txn.state == "initiated":
        txn.extra["val_id"] = new_ref("", 12)
    return await sim.choose(txn, choice == "pay")


def element(txn: Txn) -> dict[str, Any]:
    paid = txn.paid_at is not None
    validated = txn.extra.get("validated", False)
    status = "VALIDATED" if validated and txn.state in ("paid", "refunded") else STATUS.get(txn.state, "PENDING")
    return {
        "status": status, "tran_date": (txn.paid_at or txn.created).strftime("%Y-%m-%d %H:%M:%S"),
        "tran_id": txn.order_id, "val_id": txn.extra.get("val_id", ""),
        "amount": f"{txn.reported_amount:.2f}", "store_amount": f"{txn.reported_amount * Decimal('0.975'):.2f}",
        "currency": "BDT", "bank_tran_id": txn.gateway_txn if paid else "", "card_type": "BKASH-BKash",
        "card_no": "", "card_issuer": "BKash Mobile Banking", "card_brand": "MOBILEBANKING",
        "card_issuer_country": "Bangladesh", "card_issuer_country_code": "BD", "currency_type": "BDT",
        "currency_amount": f"{txn.reported_amount:.2f}", "currency_rate": "1.0000", "base_fair": "0.00",
        "value_a": txn.extra["form"].get("value_a", ""), "value_b": txn.extra["form"].get("value_b", ""),
        "value_c": "", "value_d": "", "risk_level": str(txn.risk_level),
        "risk_title": "Safe" if txn.risk_level == 0 else "Risky",
    }


@router.get(f"{BASE}/validator/api/validationserverAPI.php")
async def validate(val_id: str, store_id: str, store_passwd: str, sim: Sim) -> JSONResponse:
    merchant = store(sim, store_id, store_passwd)
    if merchant is None:
        return JSONResponse({"status": "INVALID_REQUEST"})
    txn = next((t for t in sim.txns.values() if t.provider == "sslcommerz" and t.merchant == merchant
                and t.extra.get("val_id") == val_id and t.state in ("paid", "refunded")), None)
    if txn is None:
        return JSONResponse({"status": "INVALID_TRANSACTION"})
    answer = {**element(txn), "APIConnect": "DONE", "validated_on": "", "gw_version": "4.0"}
    txn.extra["validated"] = True
    return JSONResponse(answer)


@router.get(f"{BASE}/validator/api/merchantTransIDvalidationAPI.php")
async def transactions(request: Request, sim: Sim) -> JSONResponse:
    """The transaction query (tran_id), a refund (bank_tran_id and refund_amount) or its status (refund_ref_id)."""
    q = request.query_params
    merchant = store(sim, q.get("store_id"), q.get("store_passwd"))
    if merchant is None:
        return JSONResponse({"APIConnect": "INVALID_REQUEST"})
    if q.get("bank_tran_id"):
        return refund(sim, merchant, dict(q))
    if q.get("refund_ref_id"):
        found = [r for t in sim.txns.values() if t.merchant == merchant for r in t.refunds
                 if r.get("refund_ref_id") == q["refund_ref_id"]]
        return JSONResponse({"APIConnect": "DONE", **found[0], "status": "refunded"} if found
                            else {"APIConnect": "DONE", "status": "failed", "errorReason": "Unknown refund_ref_id"})
    txns = [t for t in sim.of_order("sslcommerz", merchant, q.get("tran_id", "")) if t.state != "initiated"]
    return JSONResponse({"APIConnect": "DONE", "no_of_trans_found": len(txns), "element": [element(t) for t in txns]})


def refund(sim: Simulator, merchant: str, q: dict[str, str]) -> JSONResponse:
    txn = next((t for t in sim.txns.values() if t.provider == "sslcommerz" and t.merchant == merchant
                and t.paid_at is not None and t.gateway_txn == q["bank_tran_id"]), None)
    if txn is None:
        return JSONResponse({"APIConnect": "DONE", "status": "failed", "errorReason": "Unknown bank_tran_id"})
    earlier = [r for r in txn.refunds if r["refund_trans_id"] == q.get("refund_trans_id")]
    if earlier:  # the same refund asked again
        return JSONResponse(earlier[0])
    try:
        amount = Decimal(q.get("refund_amount", ""))
    except InvalidOperation:
        amount = Decimal(0)
    if amount <= 0 or txn.refunded + amount > txn.reported_amount or not q.get("refund_remarks"):
        return JSONResponse({"APIConnect": "DONE", "status": "failed", "errorReason": "Invalid refund_amount"})
    done = {"APIConnect": "DONE", "bank_tran_id": txn.gateway_txn, "trans_id": txn.order_id,
            "refund_ref_id": new_ref("", 8), "refund_trans_id": q.get("refund_trans_id", ""),
            "amount": f"{amount:.2f}", "status": "success", "errorReason": ""}
    txn.refunds.append(done)
    if txn.refunded >= txn.reported_amount:
        txn.state = "refunded"
    return JSONResponse(done)


def signed(fields: dict[str, Any], password: str) -> dict[str, Any]:
    """verify_sign and verify_key as SSLCommerz adds them (sonod does not rely on them: it asks the API)."""
    data = {**fields, "store_passwd": hashlib.md5(password.encode()).hexdigest()}
    text = "&".join(f"{k}={data[k]}" for k in sorted(data))
    return {**fields, "verify_sign": hashlib.md5(text.encode()).hexdigest(), "verify_key": ",".join(sorted(fields))}


class Outcome:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def fields(self, txn: Txn) -> dict[str, Any]:
        return signed({**element(txn), "store_id": txn.merchant}, self.sim.merchants.sslcommerz[txn.merchant])

    def ipn(self, txn: Txn) -> tuple[str, dict[str, Any], bool] | None:
        return (txn.ipn_url, self.fields(txn), False) if txn.ipn_url else None

    def back(self, txn: Txn) -> Response:
        form = txn.extra["form"]
        url = {"paid": form["success_url"], "cancelled": form["cancel_url"]}.get(txn.state, form["fail_url"])
        return auto_post(url, self.fields(txn))
