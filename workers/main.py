"""The worker: which workflows and activities run on the `sonod` task queue, with their real clients."""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy.orm import sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.brn import birth_registry
from activities.copies import Copies
from activities.delivery import MailDir, SmtpMailer
from activities.issuer import Issuer
from activities.licences import LicenceRegister
from activities.outbox import Outbox
from activities.pades import sealer_for
from activities.payments.orders import Payments
from activities.porichoy import nid_gateway
from activities.printing import Printing
from activities.receipt import ReceiptRenderer, Receipts
from activities.registry import Projector, Registry
from activities.render import CertificateRenderer
from activities.sms import config as sms_config
from activities.sms.dispatch import SmsDispatcher
from sonod.db import make_engine, make_session_factory
from sonod.keys import KeyStore
from sonod.logs import configure_logging
from sonod.settings import Settings
from sonod.temporal import connect, ensure_search_attributes
from workflows.application import CertificateApplication
from workflows.copies import CertificateCopy
from workflows.licences import LicenceRenewalReminders, ensure_reminder_schedule
from workflows.payment import PaymentNotification
from workflows.printing import PrintBatch
from workflows.receipt import MoneyReceipt
from workflows.revocation import CertificateRevocation
from workflows.search_attributes import ALL_KEYS

log = logging.getLogger("sonod.worker")
# The activities' threads share one pool. It keeps 10 connections open: with the engine's default 5, an overflow
# connection was opened and closed about once an application under load (bench/pipeline.py). At most 20 at once,
# as before on PostgreSQL.
POOL_SIZE, POOL_OVERFLOW = 10, 10


def build_activities(settings: Settings, sessions: sessionmaker, http: httpx.AsyncClient,
                     sms: SmsDispatcher | None = None) -> list:
    sms = sms or sms_config.dispatcher(settings, sessions, httpx.Client())
    mail = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from) if settings.smtp_host \
        else MailDir(settings.var_dir / "mail")
    outbox = Outbox(sessions, sms, mail)
    projector = Projector(sessions, outbox)  # the read model, written with its notices by whichever activity acts
    registry = Registry(sessions, settings, projector)
    gateway, births = nid_gateway(settings, http, projector), birth_registry(settings, http, projector)
    renderer = CertificateRenderer()
    issuer = Issuer(sessions, KeyStore(sessions, settings.master_key), renderer, settings.pdf_dir,
                    f"{settings.public_url.rstrip('/')}/verify", sealer=sealer_for(settings, sessions),
                    projector=projector)
    receipts = Receipts(sessions, ReceiptRenderer(renderer.fonts), settings.pdf_dir)
    copies = Copies(sessions, renderer.fonts, settings.pdf_dir, timedelta(days=settings.payment_expiry_days))
    licences = LicenceRegister(sessions, outbox)
    payments = Payments(sessions, settings, http)
    printing = Printing(sessions, renderer, settings.pdf_dir)
    return [*payments.activities(), printing.select, printing.render, printing.finish,
            registry.admit, registry.project, registry.allocate_number, registry.revoke, gateway.verify, births.verify,
            issuer.issue, receipts.issue, outbox.notify, licences.remind, copies.admit, copies.make]


# Imported once for every workflow rather than again in each workflow's sandbox: sonod's deterministic modules (the
# workflows and what they import from sonod) and pydantic. A citizenship's first task cost 40 ms of CPU in the
# sandbox, 21 ms so (bench/sandbox.py). Their determinism stays guarded: tests/replay/ replays every saved history
# under the full sandbox.
PASSED_THROUGH = ("workflows", "sonod", "pydantic", "pydantic_core", "annotated_types")


def worker_options(settings: Settings) -> dict:
    """How `sonod worker` runs its workflows and activities (sandbox, slots, threads, cache), whatever it runs: the
    benchmarks' own workers (bench/reference.py) take the same."""
    return dict(
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)),
        activity_executor=ThreadPoolExecutor(max_workers=settings.max_concurrent_activities),
        max_concurrent_activities=settings.max_concurrent_activities,
        max_cached_workflows=settings.workflow_cache_size,
    )


def build_worker(client: Client, settings: Settings, sessions: sessionmaker, http: httpx.AsyncClient,
                 task_queue: str | None = None, sms: SmsDispatcher | None = None, **options) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[CertificateApplication, CertificateRevocation, PaymentNotification, MoneyReceipt, PrintBatch,
                   LicenceRenewalReminders, CertificateCopy],
        activities=build_activities(settings, sessions, http, sms),
        **worker_options(settings) | options,
    )


def telemetry(settings: Settings):
    """With SONOD_WORKER_METRICS_PORT: a Temporal runtime exporting the SDK's metrics on a loopback port, and the
    worker's /metrics (sonod's and the SDK's together) and /healthz on that port. (None, None) when it is 0."""
    if not settings.worker_metrics_port:
        return None, None
    import socket

    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    from sonod.metrics import serve_worker_metrics

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        sdk_address = f"127.0.0.1:{s.getsockname()[1]}"
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=sdk_address,
                                                                         durations_as_seconds=True)))
    server = serve_worker_metrics(settings.worker_metrics_host, settings.worker_metrics_port, sdk_address)
    log.info("worker metrics on http://%s:%s/metrics", settings.worker_metrics_host, settings.worker_metrics_port)
    return runtime, server


async def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_format, settings.log_level)
    runtime, metrics = telemetry(settings)
    client = await connect(settings, runtime=runtime)
    added = await ensure_search_attributes(client, ALL_KEYS)
    if added:
        log.info("registered search attributes %s", ", ".join(added))
    if await ensure_reminder_schedule(client, settings.task_queue):
        log.info("scheduled the trade licences' renewal reminders (1 June)")
    engine = make_engine(settings.db_url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    sessions = make_session_factory(engine)
    sms_http = httpx.Client()  # synchronous: the outbox runs in the activities' threads
    sms = sms_config.dispatcher(settings, sessions, sms_http)
    async with httpx.AsyncClient(timeout=settings.porichoy_timeout_s) as http:
        worker = build_worker(client, settings, sessions, http, sms=sms)
        retrying = asyncio.create_task(sms.retry_forever(settings.sms_retry_poll_s))  # SMS retries and held ones
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with worker:
            log.info("worker polling task queue %s", settings.task_queue)
            if metrics is not None:
                metrics.ready.set()
            await stop.wait()
        retrying.cancel()
    await asyncio.to_thread(sms_http.close)
    engine.dispose()
    if metrics is not None:
        metrics.shutdown()
