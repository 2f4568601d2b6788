"""ekPay, the government's payment gateway: a secure token, the payer's visit, an IPN, and get-status as proof.

Our order_id is ekPay's `trnx_id` (`mer_trnx_id` in its answers); its own number is `trnx_info.trnx_id`.
ekPay publishes no refund API: refunds go through its merchant portal, and `refund` says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx

from activities.payments.gateway import (
    CreatedPayment,
    GatewayRefused,
    GatewayStatus,
    Notification,
    PaymentOrder,
    PaymentState,
    Provider,
    Refund,
)
from activities.payments.transport import brief, call, decimal, form_or_json, notification, taka
from sonod.bengali import DHAKA

if TYPE_CHECKING:
    from sonod.settings import Settings

STATES: dict[str, PaymentState] = {"1020": "paid", "1021": "failed", "1022": "cancelled"}


class EkPay:
    name: Provider = "ekpay"

    def __init__(self, http: httpx.AsyncClient, base_url: str, merchant_id: str, password: str,
                 mac_addr: str) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self.merchant_id, self.password, self.mac_addr = merchant_id, password, mac_addr

    async def create(self, order: PaymentOrder) -> CreatedPayment:
        now = dt.datetime.now(DHAKA)
        body = {
            "mer_info": {"mer_reg_id": self.merchant_id, "mer_pas_key": self.password},
            "req_timestamp": now.strftime("%Y-%m-%d %H:%M:%S") + " GMT+6",
            "feed_uri": {"s_uri": order.return_url, "f_uri": order.return_url, "c_uri": order.return_url},
            "cust_info": {"cust_id": order.application_id, "cust_name": f"Applicant {order.application_id}",
                          "cust_mobo_no": order.customer_mobile or "", "cust_email": "",
                          "cust_mail_addr": order.union},
            "trns_info": {"trnx_id": order.order_id, "trnx_amt": taka(order.amount),
                          "trnx_currency": order.currency, "ord_id": order.order_id,
                          "ord_det": f"sonod {order.union} {order.application_id}"},
            "ipn_info": {"ipn_channel": "1", "ipn_email": "", "ipn_uri": order.ipn_url},
            "mac_addr": self.mac_addr,
        }
        answer = await call(self.http, self.name, "POST", f"{self.base_url}/merchant-api", json=body)
        token = answer.get("secure_token")
        if not isinstance(token, str) or not token:
            raise GatewayRefused(f"ekpay gave no secure_token: {brief(answer)}")
        redirect = str(httpx.URL(self.base_url, params={"sToken": token, "trnsID": order.order_id}))
        # get-status needs the day the transaction was opened (GMT+6): the reference carries it
        return CreatedPayment(provider="ekpay", order_id=order.order_id, provider_ref=f"{now.date()}/{token}",
                              redirect_url=redirect)

    async def status(self, order_id: str, provider_ref: str) -> GatewayStatus:
        try:
            opened = dt.date.fromisoformat(provider_ref.split("/", 1)[0])
        except ValueError:
            raise GatewayRefused("an ekpay provider_ref starts with the transaction's date") from None
        for day in (opened, opened - dt.timedelta(days=1)):  # a create retried past midnight: the day before
            answer = await call(self.http, self.name, "POST", f"{self.base_url}/get-status",
                                json={"username": self.merchant_id, "trnx_id": order_id, "trans_date": str(day)})
            info = answer.get("trnx_info")
            if isinstance(info, dict):
                break
        else:
            raise GatewayRefused(f"ekpay knows no transaction {order_id} of {opened} or the day before")
        if str(info.get("mer_trnx_id")) != order_id:
            raise GatewayRefused(f"ekpay answered for another transaction than {order_id}")
        basic = answer.get("basic_Info")
        basic = basic if isinstance(basic, dict) else {}
        return GatewayStatus(
            provider="ekpay", order_id=order_id, provider_ref=provider_ref,
            state=STATES.get(str(answer.get("msg_code")), "pending"),
            amount=decimal(info.get("trnx_amt"), self.name), currency=str(info.get("curr") or "BDT"),
            merchant_ok=str(basic.get("mer_reg_id", self.merchant_id)) == self.merchant_id,
            transaction_id=str(info["trnx_id"]) if info.get("trnx_id") else None, raw=answer,
        )

    def parse_notification(self, method: str, query: Mapping[str, str], headers: Mapping[str, str],
                           body: bytes) -> Notification:
        """The IPN (JSON, trnx_info.mer_trnx_id) or the payer's return (?transId= or ?trnsID=)."""
        if method.upper() == "POST" and body:
            info = form_or_json(headers, body).get("trnx_info")
            order_id = info.get("mer_trnx_id") if isinstance(info, dict) else None
        else:
            order_id = query.get("transId") or query.get("trnsID") or query.get("trnx_id")
        return notification(self.name, order_id)

    async def refund(self, status: GatewayStatus, amount: int, reason: str) -> Refund:
        return Refund(provider="ekpay", order_id=status.order_id, refunded=False,
                      raw={"reason": "ekPay has no refund API: refund through ekPay's merchant portal"})


def adapter(settings: Settings, http: httpx.AsyncClient) -> EkPay:
    return EkPay(http, settings.gateway_url("ekpay"), settings.ekpay_merchant_id, settings.ekpay_password,
                 settings.ekpay_mac_addr)
