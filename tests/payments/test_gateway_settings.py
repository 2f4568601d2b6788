"""The gateways' settings: the simulator in dev mode; outside it, a contracted gateway needs its own URL and
secrets, and one that is not contracted needs nothing."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from sonod.settings import PAYMENT_DEV_SECRETS, Settings
from tests.test_settings import production as production_of_test_settings

REAL = {"bkash_url": "https://tokenized.pay.bka.sh/v1.2.0-beta/tokenized/checkout", "bkash_password": "real-password",
        "bkash_app_secret": "real-app-secret"}


def production(**overrides: str) -> dict[str, str]:
    """test_settings' production environment, plus what a concurrent change may require (ignored if unknown)."""
    return production_of_test_settings(**{"tsa_url": "https://tsa.example.org", **overrides})


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.upper().startswith("SONOD_"):
            monkeypatch.delenv(name)


def settings_of(monkeypatch, values: dict[str, str]) -> Settings:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_dev_mode_offers_every_gateway_at_the_simulator():
    settings = Settings(gateways_url="http://127.0.0.1:8591")

    assert settings.enabled_payment_providers == list(PAYMENT_DEV_SECRETS)
    assert settings.gateway_url("bkash") == "http://127.0.0.1:8591/bkash/v1.2.0-beta/tokenized/checkout"


def test_production_without_contracted_gateways_needs_no_gateway_secrets(monkeypatch):
    settings = settings_of(monkeypatch, production())

    assert settings.enabled_payment_providers == []


def test_production_refuses_a_contracted_gateways_demo_secrets_and_the_simulators_url(monkeypatch):
    with pytest.raises(ValidationError) as refused:
        settings_of(monkeypatch, production(payment_providers="bkash"))

    named = str(refused.value)
    assert all(n in named for n in ("SONOD_BKASH_PASSWORD", "SONOD_BKASH_APP_SECRET", "SONOD_BKASH_URL"))
    assert "SONOD_EKPAY" not in named and "SONOD_NAGAD" not in named


def test_production_accepts_a_contracted_gateway_with_its_own_url_and_secrets(monkeypatch):
    settings = settings_of(monkeypatch, production(payment_providers="bkash", **REAL))

    assert settings.enabled_payment_providers == ["bkash"]
    assert settings.gateway_url("bkash") == REAL["bkash_url"]


def test_an_unknown_gateway_is_refused_by_name(monkeypatch):
    with pytest.raises(ValidationError, match="paypal"):
        settings_of(monkeypatch, {"SONOD_PAYMENT_PROVIDERS": "bkash,paypal"})
