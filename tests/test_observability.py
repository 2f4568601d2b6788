"""Issue #7: metrics (the API's /metrics, the worker's /metrics with the SDK's own) and structured logs that say
which application they are about but never whose."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from sonod.db import make_engine, make_session_factory
from sonod.domain import Status
from sonod.logs import JsonFormatter, TextFormatter
from sonod.temporal import connect
from tests.stack import citizen, free_port, people
from workers.main import build_worker, telemetry

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "gopinathpur"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def samples(text: str, name: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples if s.name == name]


async def eventually(probe, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (answer := await probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still {answer!r} after {timeout}s")
        await asyncio.sleep(0.2)
    return answer


async def attempts(temporal_env, app_id: str) -> int:
    description = await temporal_env.client.get_workflow_handle(app_id).describe()
    return max((p.attempt for p in description.raw_description.pending_activities), default=0)


# --- metrics ------------------------------------------------------------------------------------------------------


async def test_the_api_counts_requests_by_route_template_and_applications_by_status(stack):
    app_id = await stack.submitted(citizen(UNION, 1))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    r = await stack.http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    requests = samples(r.text, "sonod_http_requests_total")
    route = "/api/v1/applications/{application_id}"
    assert any(s.labels == {"method": "GET", "route": route, "status": "200"} and s.value >= 1 for s in requests)
    assert any(s.labels["route"] == "/api/v1/applications" and s.labels["status"] == "202" for s in requests)
    assert not [s for s in requests if app_id in s.labels["route"]]
    assert samples(r.text, "sonod_http_request_duration_seconds_count")
    by_status = {s.labels["status"]: s.value for s in samples(r.text, "sonod_applications")}
    assert by_status.get("awaiting_decision", 0) >= 1
    assert samples(r.text, "sonod_applications_overdue")


async def test_issuing_observes_time_to_issue_gateway_latency_and_notifications(stack):
    def observed():
        return (sample("sonod_time_to_issue_seconds_count", certificate_type="citizenship"),
                sample("sonod_nid_gateway_request_duration_seconds_count", outcome="match"),
                sample("sonod_notifications_total", template="issued", channel="sms"),
                sample("sonod_notifications_total", template="awaiting_chairman", channel="inbox"))
    before = observed()
    app_id = await stack.submitted(citizen(UNION, 2))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await stack.decide(f"chairman.{UNION}", app_id)).status_code == 200
    await stack.wait_for(app_id, Status.ISSUED)

    async def counted():  # the receipt's SMS goes out just after the status turns to issued
        return all(a >= b + 1 for a, b in zip(observed(), before, strict=True))
    await eventually(counted, timeout=15)


async def test_gateway_errors_are_counted_by_kind(stack, porichoy, temporal_env):
    before = sample("sonod_nid_gateway_errors_total", kind="http_503")
    porichoy.faults(down=True)
    try:
        app_id = await stack.submitted(citizen(UNION, 3))
        await eventually(lambda: _at_least(temporal_env, app_id, 2))
    finally:
        porichoy.reset()
    assert sample("sonod_nid_gateway_errors_total", kind="http_503") >= before + 1
    await stack.wait_for(app_id, Status.AWAITING_DECISION, timeout=60)


async def _at_least(temporal_env, app_id: str, n: int) -> bool:
    return await attempts(temporal_env, app_id) >= n


async def test_the_worker_serves_the_sdks_metrics_with_sonods_and_a_health_check(stack, settings):
    worker_settings = settings.model_copy(update={"worker_metrics_port": free_port(),
                                                  "task_queue": f"metrics-{uuid.uuid4().hex[:6]}"})
    runtime, server = telemetry(worker_settings)
    base = f"http://127.0.0.1:{worker_settings.worker_metrics_port}"
    engine = make_engine(settings.db_url)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            assert (await http.get("/healthz")).status_code == 503  # not polling yet
            client = await connect(worker_settings, runtime=runtime)
            async with httpx.AsyncClient() as gateway, \
                    build_worker(client, worker_settings, make_session_factory(engine), gateway):
                server.ready.set()
                assert (await http.get("/healthz")).status_code == 200

                async def scraped():
                    text = (await http.get("/metrics")).text
                    return text if "\ntemporal_" in text else None
                text = await eventually(scraped)
            assert "sonod_http_requests_total" in text and "sonod_time_to_issue_seconds" in text
            assert (await http.get("/nothing")).status_code == 404
    finally:
        server.shutdown()
        engine.dispose()


# --- logs ---------------------------------------------------------------------------------------------------------


async def test_a_workflows_logs_name_the_application_but_never_the_nid_or_the_name(stack, porichoy, temporal_env,
                                                                                    caplog):
    caplog.set_level(logging.DEBUG)
    person = people(UNION)[4]
    porichoy.faults(down=True)  # failures are logged with their tracebacks
    try:
        app_id = await stack.submitted(citizen(UNION, 4))
        await eventually(lambda: _at_least(temporal_env, app_id, 2))
    finally:
        porichoy.reset()
    await stack.wait_for(app_id, Status.AWAITING_DECISION, timeout=60)
    assert (await stack.decide(f"chairman.{UNION}", app_id)).status_code == 200
    await stack.wait_for(app_id, Status.ISSUED)
    refused = await stack.submitted(citizen(UNION, 5, applicant={"name_en": "Somebody Else"}))
    await stack.wait_for(refused, Status.NID_FAILED)

    json_lines = [JsonFormatter().format(r) for r in caplog.records]
    text_lines = [TextFormatter().format(r) for r in caplog.records]
    logged = "\n".join(json_lines + text_lines)
    for key in ("nid", "name_en", "name_bn", "father_name_bn", "mother_name_bn"):
        assert person[key] not in logged, key
    assert people(UNION)[5]["nid"] not in logged
    about = [json.loads(line) for line in json_lines]
    gateway = [e for e in about if e.get("application_id") == app_id and e.get("activity") == "NidGateway.verify"]
    assert any(e["level"] == "warning" and "exc" in e for e in gateway), "the failed attempts are logged"
    assert any(e.get("outcome") == "match" for e in gateway)


async def test_the_formatter_masks_long_numbers_and_keeps_the_context():
    record = logging.LogRecord("sonod.test", logging.INFO, __file__, 1, "checked %s for %s", ("1990123456789",
                               "০১৭১১০০০০০০"), None)
    record.temporal_activity = {"workflow_id": "A250701-0000ABCD", "activity_type": "NidGateway.verify",
                                "attempt": 3, "workflow_run_id": "r"}
    record.mobile = "+8801711000000"
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "checked [number] for [number]" and line["mobile"] == "[number]"
    assert (line["application_id"], line["activity"], line["attempt"]) == ("A250701-0000ABCD", "NidGateway.verify", 3)
