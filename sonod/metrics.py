"""sonod's own Prometheus metrics, shared by the API and the worker (prometheus-client's default registry).

- API: requests and latency by route (`api/operations.py`), applications by status read from the read model on
  each scrape (`ApplicationsCollector`).
- Worker: time from submission to issue (the issuer activity), the NID gateway's latency and errors (the NID
  activity), notifications by template and channel (the outbox activity). `serve_worker_metrics` serves them on
  SONOD_WORKER_METRICS_PORT together with the Temporal SDK's own metrics (schedule-to-start latency, task slots,
  poll and RPC counters...), which the SDK's Rust core exports on a loopback port of its own.

Labels stay low-cardinality: certificate type, status, template, channel; never a union, an application or a person.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("sonod.metrics")

HTTP_REQUESTS = Counter("sonod_http_requests_total", "HTTP requests answered by the API.",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("sonod_http_request_duration_seconds", "Time to answer an HTTP request, by route.",
                         ["method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
TIME_TO_ISSUE = Histogram(
    "sonod_time_to_issue_seconds", "From submission to the signed certificate, observed when the issuer completes.",
    ["certificate_type"],
    buckets=(60, 600, 3600, 4 * 3600, 86400, 2 * 86400, 3 * 86400, 5 * 86400, 7 * 86400, 14 * 86400, 30 * 86400))
GATEWAY_LATENCY = Histogram("sonod_nid_gateway_request_duration_seconds", "Porichoy's answer time, by outcome.",
                            ["outcome"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15))
GATEWAY_ERRORS = Counter("sonod_nid_gateway_errors_total",
                         "NID checks that failed for the gateway's sake (and will be retried), by kind.", ["kind"])
PAYMENT_GATEWAY_LATENCY = Histogram(
    "sonod_payment_gateway_request_duration_seconds",
    "A payment gateway's answer time, by provider and outcome (ok, refused, error: to be retried).",
    ["provider", "outcome"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
NOTIFICATIONS = Counter("sonod_notifications_total",
                        "Notifications sent by the outbox, by template (reminders, escalations...) and channel.",
                        ["template", "channel"])


def template_family(template: str) -> str:
    """`reminder_chairman` stays itself; only the known vocabulary becomes a label value."""
    known = ("submitted", "payment_due", "nid_failed", "returned", "rejected", "cancelled", "issued", "escalated",
             "overdue")
    if template in known or template.startswith(("awaiting_", "reminder_")):
        return template
    return "other"


class ApplicationsCollector:
    """`sonod_applications{status}` and `sonod_applications_overdue`, counted in the read model on each scrape."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions

    def collect(self):
        from sqlalchemy import func, select

        from sonod import db

        by_status = GaugeMetricFamily("sonod_applications", "Applications in the read model, by status.",
                                      labels=["status"])
        overdue = GaugeMetricFamily("sonod_applications_overdue", "Open applications marked overdue.")
        try:
            with self.sessions() as session:
                rows = session.execute(select(db.Application.status, func.count())
                                       .group_by(db.Application.status)).all()
                late = session.scalar(select(func.count()).select_from(db.Application)
                                      .where(db.Application.overdue.is_(True)))
        except Exception:  # a scrape must answer even when the database does not
            log.warning("could not count applications for /metrics", exc_info=True)
            return
        for status, count in rows:
            by_status.add_metric([str(status)], count)
        overdue.add_metric([], late or 0)
        yield by_status
        yield overdue


# ---------------------------------------------------------------------------------------------------------------
# the worker's endpoint


class _WorkerMetrics(BaseHTTPRequestHandler):
    sdk_url: str | None = None
    ready = threading.Event()

    def do_GET(self) -> None:  # http.server's naming
        path = self.path.split("?")[0]
        if path == "/healthz":
            ok = self.ready.is_set()
            self._answer(200 if ok else 503, b"ok\n" if ok else b"starting\n", "text/plain")
            return
        if path != "/metrics":
            self._answer(404, b"not found\n", "text/plain")
            return
        body = generate_latest(REGISTRY)
        if self.sdk_url:
            try:
                with urllib.request.urlopen(self.sdk_url, timeout=2) as sdk:
                    body += sdk.read()
            except OSError as e:
                body += f"# the Temporal SDK's metrics are unavailable: {e}\n".encode()
        self._answer(200, body, CONTENT_TYPE_LATEST)

    def _answer(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:  # scrapes are not news
        pass


def serve_worker_metrics(host: str, port: int, sdk_address: str | None) -> ThreadingHTTPServer:
    """`/metrics` (sonod's and the SDK's) and `/healthz` (200 once the worker polls) on a daemon thread."""
    handler = type("WorkerMetrics", (_WorkerMetrics,), {
        "sdk_url": f"http://{sdk_address}/metrics" if sdk_address else None, "ready": threading.Event()})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="sonod-worker-metrics", daemon=True).start()
    server.ready = handler.ready  # type: ignore[attr-defined]
    return server
