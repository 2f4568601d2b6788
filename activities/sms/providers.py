"""The SMS providers' adapters, each speaking its provider's own protocol with an injected httpx client and its own
timeout: SSL Wireless (API v3), BulkSMSBD, a generic HTTP template for the rest, and the file sink for offline dev.

`send` answers the provider's reference for the message, or raises SmsRefused (a refusal, an error, a timeout).
"""

from __future__ import annotations

import hashlib
import json
import re
import string
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from activities.delivery import SmsSink

SSL_SEND_PATH = "/api/v3/send-sms"
SSL_DUPLICATE_CSMS_ID = 4023  # "Duplicate CSMS ID": the provider already has this message
BULKSMSBD_SEND_PATH = "/api/smsapi"
BULKSMSBD_ACCEPTED = 202


@dataclass(frozen=True)
class SmsOut:
    to: str  # as sonod keeps it: 01XXXXXXXXX
    text: str
    key: str  # the outbox's idempotency key

    @property
    def ref(self) -> str:
        """Ours, 20 alphanumeric characters, the same on every attempt: SSL Wireless' csms_id, the template's $ref."""
        return "S" + hashlib.sha256(self.key.encode()).hexdigest()[:19]

    @property
    def msisdn(self) -> str:
        return "88" + self.to if self.to.startswith("01") else self.to.lstrip("+")


class SmsRefused(Exception):
    """The provider did not take the message; the text says why (no number, no text: safe to log)."""


class SmsProvider(Protocol):
    name: str

    def send(self, message: SmsOut) -> str: ...


def _said(answer: dict[str, Any], field: str) -> str:
    """A provider's own words, short, with any long run of digits (a number it echoes) left out."""
    return re.sub(r"\d{6,}", "…", str(answer.get(field, "")))[:120]


def _call(http: httpx.Client, name: str, timeout: float, method: str, url: str, **kw: Any) -> httpx.Response:
    try:
        return http.request(method, url, timeout=timeout, **kw)
    except httpx.TimeoutException:
        raise SmsRefused(f"{name}: no answer within {timeout:g} s") from None
    except httpx.HTTPError as e:
        raise SmsRefused(f"{name}: {type(e).__name__}") from None


def _json(name: str, response: httpx.Response) -> dict[str, Any]:
    if not response.is_success:
        raise SmsRefused(f"{name}: HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SmsRefused(f"{name}: HTTP {response.status_code}, not a JSON object")
    return body


class SslWireless:
    """POST /api/v3/send-sms {api_token, sid, msisdn, sms, csms_id}; taken when status is SUCCESS (or the csms_id is
    a duplicate: an earlier attempt got through)."""

    name = "sslwireless"

    def __init__(self, http: httpx.Client, url: str, api_token: str, sid: str, timeout: float) -> None:
        self.http, self.url, self.api_token, self.sid, self.timeout = http, url.rstrip("/"), api_token, sid, timeout

    def send(self, message: SmsOut) -> str:
        body = {"api_token": self.api_token, "sid": self.sid, "msisdn": message.msisdn, "sms": message.text,
                "csms_id": message.ref}
        answer = _json(self.name, _call(self.http, self.name, self.timeout, "POST", self.url + SSL_SEND_PATH,
                                        json=body, headers={"Accept": "application/json"}))
        code = answer.get("status_code")
        if (answer.get("status") == "SUCCESS" and code == 200) or code == SSL_DUPLICATE_CSMS_ID:
            return message.ref
        raise SmsRefused(f"{self.name}: {code} {_said(answer, 'error_message')}")


class BulkSmsBd:
    """POST /api/smsapi with api_key, type, number, senderid, message; taken when response_code is 202. It knows no
    reference of ours, so a retry after a lost answer may send twice: the outbox sends a message once it is sent."""

    name = "bulksmsbd"

    def __init__(self, http: httpx.Client, url: str, api_key: str, senderid: str, timeout: float) -> None:
        self.http, self.url, self.timeout = http, url.rstrip("/"), timeout
        self.api_key, self.senderid = api_key, senderid

    def send(self, message: SmsOut) -> str:
        form = {"api_key": self.api_key, "type": "text", "number": message.msisdn, "senderid": self.senderid,
                "message": message.text}
        answer = _json(self.name, _call(self.http, self.name, self.timeout, "POST", self.url + BULKSMSBD_SEND_PATH,
                                        data=form))
        if answer.get("response_code") == BULKSMSBD_ACCEPTED:
            return str(answer.get("message_id") or message.ref)
        raise SmsRefused(f"{self.name}: {answer.get('response_code')} {_said(answer, 'error_message')}")


@dataclass(frozen=True)
class Template:
    """A provider described by settings: `$to` (01...), `$msisdn` (8801...), `$text` and `$ref` in the URL (quoted)
    and the body (JSON-escaped or form-encoded after `content_type`); taken on a 2xx whose JSON has every pair of
    `success` at its top level; `id_field` names the provider's reference in it (else ours)."""

    url: str
    method: str = "POST"
    body: str = ""
    content_type: str = "json"  # json or form
    headers: tuple[tuple[str, str], ...] = ()
    success: tuple[tuple[str, Any], ...] = ()
    id_field: str = ""


class HttpTemplate:
    name = "http"

    def __init__(self, http: httpx.Client, template: Template, timeout: float) -> None:
        self.http, self.template, self.timeout = http, template, timeout
        for setting, text in (("SONOD_SMS_HTTP_URL", template.url), ("SONOD_SMS_HTTP_BODY", template.body)):
            try:
                string.Template(text).substitute(to="", msisdn="", text="", ref="")
            except (KeyError, ValueError) as e:
                raise ValueError(f"{setting}: only $to, $msisdn, $text and $ref may be used ($$ is a $): {e}") from None

    def send(self, message: SmsOut) -> str:
        t = self.template
        values = {"to": message.to, "msisdn": message.msisdn, "text": message.text, "ref": message.ref}
        url = string.Template(t.url).substitute({k: urllib.parse.quote(v, safe="") for k, v in values.items()})
        kw: dict[str, Any] = {"headers": dict(t.headers)}
        if t.body:
            escape = (lambda v: json.dumps(v, ensure_ascii=False)[1:-1]) if t.content_type == "json" \
                else (lambda v: urllib.parse.quote_plus(v))
            kw["content"] = string.Template(t.body).substitute({k: escape(v) for k, v in values.items()}).encode()
            kw["headers"].setdefault("Content-Type", "application/json" if t.content_type == "json"
                                     else "application/x-www-form-urlencoded")
        response = _call(self.http, self.name, self.timeout, t.method, url, **kw)
        if not t.success and not t.id_field:
            if not response.is_success:
                raise SmsRefused(f"{self.name}: HTTP {response.status_code}")
            return message.ref
        answer = _json(self.name, response)
        wrong = [k for k, v in t.success if answer.get(k) != v]
        if wrong:
            raise SmsRefused(f"{self.name}: " + ", ".join(f"{k}={_said(answer, k)[:40]}" for k in wrong))
        return str(answer.get(t.id_field) or message.ref) if t.id_field else message.ref


class FileProvider:
    """Offline dev: the JSON-lines sink (activities/delivery.SmsSink)."""

    name = "file"

    def __init__(self, sink: SmsSink) -> None:
        self.sink = sink

    def send(self, message: SmsOut) -> str:
        self.sink.send(message.to, message.text, message.key)
        return message.ref
