"""The SMS gateway simulator: speaks SSL Wireless' API v3 and BulkSMSBD's, records every message, posts delivery
reports to sonod, and has fault switches (`python -m infra.smsgw`, `sonod smsgw`). And how `sonod dev` uses it."""

from __future__ import annotations

import json
import os

from sonod.settings import Settings


def demo_settings(settings: Settings, url: str) -> dict[str, object]:
    """`sonod dev`'s changes: the simulator's URL follows its port, and in dev mode, unless SONOD_SMS_ROUTES is set,
    every union sends through it (SSL Wireless first, BulkSMSBD as the fallback)."""
    update: dict[str, object] = {} if "SONOD_SMSGW_URL" in os.environ else {"smsgw_url": url}
    if settings.dev_mode and "SONOD_SMS_ROUTES" not in os.environ:
        sim = str(update.get("smsgw_url", settings.smsgw_url))
        update |= {"sms_routes": {"*": ["sslwireless", "bulksmsbd"]}, "sslwireless_url": sim, "bulksmsbd_url": sim}
    return update


def child_env(settings: Settings) -> dict[str, str]:
    return {"SONOD_SMS_ROUTES": json.dumps(settings.sms_routes), "SONOD_SSLWIRELESS_URL": settings.sslwireless_url,
            "SONOD_BULKSMSBD_URL": settings.bulksmsbd_url, "SONOD_SMSGW_URL": settings.smsgw_url}


def uses_smsgw(settings: Settings) -> bool:
    """In dev mode, when a provider's URL is the simulator's (the demo's routes): `sonod dev` starts it then."""
    return settings.dev_mode and settings.smsgw_url.rstrip("/") in (settings.sslwireless_url.rstrip("/"),
                                                                   settings.bulksmsbd_url.rstrip("/"))
