"""The SMS providers and routes as the settings describe them (docs/INTEGRATIONS.md, "SMS")."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import sessionmaker

from activities.delivery import SmsSink
from activities.sms.dispatch import Backoff, SmsDispatcher
from activities.sms.providers import BulkSmsBd, FileProvider, HttpTemplate, SmsProvider, SslWireless, Template
from sonod.settings import Settings


def providers(settings: Settings, http: httpx.Client) -> dict[str, SmsProvider]:
    timeout = settings.sms_timeout_s
    found: dict[str, SmsProvider] = {
        "sslwireless": SslWireless(http, settings.sslwireless_url, settings.sslwireless_api_token,
                                   settings.sslwireless_sid, timeout),
        "bulksmsbd": BulkSmsBd(http, settings.bulksmsbd_url, settings.bulksmsbd_api_key, settings.bulksmsbd_senderid,
                               timeout),
        "file": FileProvider(SmsSink(settings.sms_sink or settings.var_dir / "sms.jsonl")),
    }
    if settings.sms_http_url:
        found["http"] = HttpTemplate(http, Template(
            url=settings.sms_http_url, method=settings.sms_http_method, body=settings.sms_http_body,
            content_type=settings.sms_http_content_type, headers=tuple(settings.sms_http_headers.items()),
            success=tuple(settings.sms_http_success.items()), id_field=settings.sms_http_id_field), timeout)
    return found


def dispatcher(settings: Settings, sessions: sessionmaker, http: httpx.Client) -> SmsDispatcher:
    known = providers(settings, http)
    if any("http" in route for route in settings.sms_routes.values()) and "http" not in known:
        raise ValueError("SONOD_SMS_ROUTES names the http provider: set SONOD_SMS_HTTP_URL")
    return SmsDispatcher(sessions, known, settings.sms_routes,
                         Backoff(settings.sms_max_attempts, settings.sms_retry_base_s, settings.sms_retry_max_s))
