"""The production layout never publishes Temporal's frontend, nor a Web UI that can write, to the network: only
sonod's own containers reach the frontend, and an operator reaches the (read-only) UI through a tunnel to loopback
(docs/SECURITY.md)."""

from __future__ import annotations

from tests.test_deploy import COMPOSE, documents


def published(service: dict) -> list[str]:
    return [str(p) for p in service.get("ports", [])]


def test_temporals_frontend_is_not_published():
    services = documents(COMPOSE)[0]["services"]
    assert published(services["temporal"]) == []


def test_the_temporal_web_ui_listens_on_loopback_only_and_cannot_write():
    ui = documents(COMPOSE)[0]["services"]["temporal-ui"]
    assert published(ui) and all(p.startswith("127.0.0.1:") for p in published(ui))
    assert ui["environment"]["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"


def test_no_database_is_published():
    services = documents(COMPOSE)[0]["services"]
    assert published(services["temporal-db"]) == [] and published(services["sonod-db"]) == []
