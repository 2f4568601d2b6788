"""Issue #7: the deployment files parse and hang together (Docker is not needed: nothing is built or run).

Every SONOD_ variable they set must be a real setting, the images must be pinned, the probes must ask /healthz,
and the Kubernetes objects must point at each other by the right names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sonod.settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "infra" / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
K8S = sorted((DEPLOY / "k8s").glob("*.yaml"))
SETTINGS = {f"SONOD_{name.upper()}" for name in Settings.model_fields}


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def k8s_objects() -> list[dict]:
    return [d for path in K8S for d in documents(path)]


def by_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in k8s_objects() if d["kind"] == kind}


def pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":")
    return bool(name) and tag not in ("", "latest") and "/" not in tag


@pytest.mark.parametrize("path", [COMPOSE, *K8S], ids=lambda p: p.name)
def test_every_file_is_valid_yaml(path):
    assert documents(path)


def test_every_sonod_variable_named_anywhere_is_a_real_setting():
    named = set()
    for path in [COMPOSE, *K8S, DEPLOY / "Dockerfile", DEPLOY / "secrets.env.example"]:
        named |= set(re.findall(r"\bSONOD_[A-Z0-9_]+\b", path.read_text()))
    named -= {"SONOD_VERSION", "SONOD_DB_PASSWORD"}  # compose's own interpolation variables
    assert named and named <= SETTINGS, sorted(named - SETTINGS)


# --- compose ------------------------------------------------------------------------------------------------------


def test_compose_runs_temporal_on_postgresql_with_its_ui_and_sonods_processes():
    services = documents(COMPOSE)[0]["services"]
    assert {"temporal", "temporal-db", "temporal-schema", "temporal-ui", "sonod-db", "sonod-api",
            "sonod-worker", "sonod-migrate"} <= set(services)
    temporal = services["temporal"]["environment"]
    assert temporal["DB"] == "postgres12" and temporal["POSTGRES_SEEDS"] == "temporal-db"
    assert temporal["VISIBILITY_DBNAME"] == "temporal_visibility"  # SQL visibility, no Elasticsearch
    for name, service in services.items():
        assert pinned(service["image"]), (name, service["image"])
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/api/v1/codec")


@pytest.mark.parametrize("name,command,port", [("sonod-api", "api", 8000), ("sonod-worker", "worker", 9464)])
def test_compose_builds_sonod_from_the_dockerfile_and_checks_healthz(name, command, port):
    service = documents(COMPOSE)[0]["services"][name]
    assert service["build"]["dockerfile"] == "infra/deploy/Dockerfile"
    assert (COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == \
        (DEPLOY / "Dockerfile").resolve()
    assert service["command"] == [command]
    env = service["environment"]
    assert all(k.startswith("SONOD_") for k in env)
    assert env["SONOD_DEV_MODE"] == "false" and env["SONOD_DATABASE_URL"].startswith("postgresql://")
    assert env["SONOD_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert f"127.0.0.1:{port}/healthz" in " ".join(service["healthcheck"]["test"])
    assert "secrets.env" in str(service["env_file"])


def test_the_dockerfile_runs_the_sonod_command_as_a_user():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", text, re.M)
    assert re.search(r'^ENTRYPOINT \[.*"sonod"\]', text, re.M) and re.search(r"^USER \d+", text, re.M)
    for package in ("sonod", "workflows", "activities", "api", "workers", "infra"):
        assert f"COPY {package} ./{package}" in text


# --- Kubernetes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,args,port", [("sonod-api", ["api"], 8000), ("sonod-worker", ["worker"], 9464)])
def test_the_deployments_read_config_and_secrets_and_probe_healthz(name, args, port):
    deployment = by_kind("Deployment")[name]
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    [container] = pod["spec"]["containers"]
    assert pinned(container["image"]) and container["args"] == args
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port in ports.values()
    refs = [next(iter(r.values()))["name"] for r in container["envFrom"]]
    assert refs == ["sonod-config", "sonod-secrets"]
    assert "sonod-config" in by_kind("ConfigMap")
    assert all(e["name"].startswith("SONOD_") for e in container.get("env", []))
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/healthz" and ports.get(get["port"], get["port"]) == port
    assert container["resources"]["requests"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"]]
    assert set(claims) <= set(by_kind("PersistentVolumeClaim"))


def test_the_configmap_holds_only_sonod_settings_and_no_secret():
    data = by_kind("ConfigMap")["sonod-config"]["data"]
    assert set(data) <= SETTINGS
    assert data["SONOD_DEV_MODE"] == "false" and data["SONOD_WORKER_METRICS_PORT"] != "0"
    secret = {"SONOD_SECRET_KEY", "SONOD_MASTER_KEY", "SONOD_PAYLOAD_KEY", "SONOD_PAYMENT_SECRET",
              "SONOD_PORICHOY_API_KEY", "SONOD_DATABASE_URL", "SONOD_DEMO_PASSWORD"}
    assert not set(data) & secret


def test_every_deployment_has_an_hpa_and_every_service_selects_pods():
    deployments = by_kind("Deployment")
    hpas = by_kind("HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == set(deployments)
    for hpa in hpas.values():
        assert hpa["apiVersion"] == "autoscaling/v2" and hpa["spec"]["minReplicas"] >= 2
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments.values()]
    for name, service in by_kind("Service").items():
        selector = service["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pod_labels), name
    namespaces = {d["metadata"].get("namespace") for d in k8s_objects() if d["kind"] != "Namespace"}
    assert namespaces == set(by_kind("Namespace"))
