"""A backlog of open applications waiting on their officers, with reminders firing (issue #14).

    .venv/bin/python bench/backlog.py [--quick] [--sizes 10000,50000,100000] [--cache 2000] [--window S]
                                      [--in-flight W] [--min-interval S] [--min-rate R] [--interval-factor F]

What runs. For each size, a stack of its own (bench/harness.py's `Stack`, in a temp dir, torn down after): the
Temporal dev server, the Porichoy simulator, `sonod worker` (with SONOD_WORKFLOW_CACHE_SIZE=`--cache`, smaller
than the backlog, and SONOD_WORKER_METRICS_PORT set, so that the SDK's sticky-cache counters can be read) and
`sonod api` (idle), on SQLite, or on SONOD_DATABASE_URL when set. The stack runs with Python's bytecode cache
on, as the image does (see bench/api.py).

The build. N citizenship applications (round the 21 unions and the registry's people, bench/harness.py's
`applications`) are started through the real workflow as the API starts them, without HTTP:
`applications.submission` builds the input from the request body (a portal's actor), then
`client.start_workflow(CertificateApplication.run, ...)` with the application number as workflow id, the
API's id policies and `submitted_attributes`. Each is admitted, checks its NID against the simulator, is told
and notified, and waits for its chairman (`awaiting_decision`, read from the read model every 0.25 s). At most
`--in-flight` (100) are between their start and that wait at once, so the build runs at the stack's capacity,
which it measures (applications/s, and the CPU of each process an application).

The reminders. The interval is SONOD_REMINDER_INTERVAL_HOURS (sonod/settings.py), which each application reads
at its admission (`activities.registry.rules_for`) and keeps. A calibration first: the first N/20 applications
(200 at least) are built with the deployment's interval (a day: none of them reminds during the bench), and
give the build rate of this machine now (the second half of them, past the worker's warm-up). The worker then
restarts with the interval I = `--interval-factor` (1.15) x (the rest of N) / that rate (`--min-interval` at
least), and builds the rest: so each application's first reminder comes I after it began to wait, the reminders
start a little after the end of the build at about the build's own rate, oldest application first: those long
gone from the worker's sticky cache, which holds the `--cache` most recently run. (A reminder may cost more than
an application's build: should reminders start before the build ends, on a machine whose load grows, they take
its capacity, slow it further, and are counted in its CPU; a factor below 1 does that.) Once every application
waits, the bench waits for the first reminder, then measures a window of `--window` seconds (30; 60 without
`--quick`):
- reminders fired: the outbox's rows whose idempotency key is a reminder's (`...:reminder-<time>:...`), one a
  reminder whatever its recipients;
- CPU per reminder: the CPU seconds of every process of the stack (the worker, the Temporal server, the API,
  the simulator), from /proc, over the window, divided by the reminders fired in it (and the worker's and the
  server's apart);
- the sticky cache: the SDK's `temporal_sticky_cache_hit` and `temporal_sticky_cache_miss` counters over the
  window (the worker's /metrics), as a hit rate and as misses a reminder: near 1, every reminder replayed its
  workflow's whole history (a reminder is a timer's workflow task, which misses, and the notice's activity's,
  which then hits);
- the worker's resident memory (VmRSS, /proc) sampled every 2 s from its restart: printed when it had taken C/2,
  C (the cache size), 2C and all of its applications to their wait, and the most over the window: flat beyond
  the cache size means the RSS at N is that at 2C;
- the dev server's SQLite database (temporal.db with its -wal and -shm files) after the build and the window.

`--quick` is one size, 10,000, and a 30 s window; its time is the stack's start, the build (10,000 / the build
rate: the limit), and the wait for the first reminder (about a sixth of the build). The machine is shared: the
load average, and the share of the CPUs used by processes not of this stack over the window, are printed too.

Prints a table, then ONE JSON object on the last line.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from pathlib import Path as _Path

    sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import harness

QUICK_SIZES, SIZES = [10_000], [10_000, 50_000, 100_000]
REMINDER_KEY = "%:reminder-%"


@dataclass
class Size:
    """What one backlog size measured."""

    n: int
    cache: int
    interval_s: float
    built: int = 0
    build_s: float = 0.0
    build_failures: list[str] = field(default_factory=list)
    calibration: int = 0  # the first applications, built before the worker restarts with the reminder interval
    calibration_per_s: float = 0.0
    wait_s: float = 0.0  # from the end of the build to the first reminder
    window_s: float = 0.0
    reminders: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds over the window, by process
    others_s: float = 0.0  # CPU seconds of processes not of the stack over the window
    machine_s: float = 0.0
    sticky: dict[str, float] = field(default_factory=dict)  # the SDK's sticky-cache counters over the window
    rss: list[tuple[float, int, float]] = field(default_factory=list)  # (time, open applications, MiB)
    db_built_mb: float = 0.0
    db_end_mb: float = 0.0
    build_cpu: dict[str, float] = field(default_factory=dict)

    @property
    def build_per_s(self) -> float:
        """After the calibration: the applications that began to wait, a second."""
        return (self.built - self.calibration) / self.build_s if self.build_s else 0.0

    def cpu_ms_per_reminder(self, *names: str) -> float:
        spent = sum(v for k, v in self.cpu.items() if not names or k in names)
        return spent * 1000 / self.reminders if self.reminders else float("nan")

    @property
    def hit_rate(self) -> float:
        hit, miss = self.sticky.get("hit", 0.0), self.sticky.get("miss", 0.0)
        return hit / (hit + miss) if hit + miss else float("nan")

    def rss_at(self, open_apps: int) -> float:
        """The worker's RSS when it had first taken this many applications to their wait."""
        for _, n, mb in self.rss:
            if n >= open_apps:
                return mb
        return float("nan")


class ReadModel(harness.ReadModel):
    """The statuses of the applications being built, and the reminders in the outbox."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.last_id = 0
        self.reminders: set[str] = set()

    def count_reminders(self) -> int:
        """Reminders queued so far: the outbox's new rows with a reminder's key, one a reminder however many
        officers it went to (the key is `<application>:r<round>:reminder-<time>:<channel>:<recipient>`)."""
        from sqlalchemy import select

        from sonod import db

        with self.engine.connect() as conn:
            rows = conn.execute(select(db.OutboxMessage.id, db.OutboxMessage.idempotency_key)
                                .where(db.OutboxMessage.id > self.last_id,
                                       db.OutboxMessage.idempotency_key.like(REMINDER_KEY))
                                .order_by(db.OutboxMessage.id)).all()
        for row in rows:
            self.reminders.add(row.idempotency_key.rsplit(":", 2)[0])
            self.last_id = row.id
        return len(self.reminders)


def worker_metrics(port: int) -> dict[str, float]:
    """The worker's /metrics: sonod's and the SDK's counters."""
    import urllib.request

    from bench.harness import prometheus_values

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return prometheus_values(r.read().decode())


def sticky(metrics: dict[str, float]) -> dict[str, float]:
    """The SDK's sticky-cache counters (`temporal_sticky_cache_hit`, `_miss`, `_total_forced_eviction`; the
    `_total` suffix or not, whatever labels), and its size gauge."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = key.partition("{")[0].removesuffix("_total")
        for kind in ("hit", "miss", "forced_eviction", "size"):
            if name.startswith("temporal_sticky_cache") and name.endswith(kind):
                out[kind] = out.get(kind, 0.0) + value
    return out


def db_size_mb(var: Path) -> float:
    return sum(p.stat().st_size for p in var.glob("temporal.db*")) / 2**20


class Builder:
    """Starts applications as `applications.submit` does, at most `in_flight` of them not yet waiting."""

    def __init__(self, client, settings, sessions, model: ReadModel, in_flight: int) -> None:
        self.client, self.settings, self.sessions, self.model = client, settings, sessions, model
        self.in_flight = in_flight
        self.waiting = 0
        self.times: list[float] = []  # when each began to wait (as seen by the driver)
        self.failures: list[str] = []

    def inputs(self, items: list) -> list:
        from api.schemas import ApplicationIn
        from api.services.applications import new_application_id, submission
        from sonod import db
        from sonod.domain import Role
        from workflows.messages import Actor

        portal = Actor(username="portal:demo-portal", role=Role.PORTAL)
        with self.sessions() as session:
            return [submission(session, ApplicationIn.model_validate(body), portal, None,
                               new_application_id(db.utcnow()), db.utcnow()) for _, body in items]

    async def start(self, app) -> None:
        from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

        from workflows.application import CertificateApplication
        from workflows.search_attributes import submitted_attributes

        await self.client.start_workflow(
            CertificateApplication.run, app, id=app.application_id, task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, search_attributes=submitted_attributes(app))

    async def build(self, n: int) -> None:
        """Start applications until n of them (counting those built before) wait for their chairman or have
        failed; return then."""
        from bench.harness import applications

        pending: list = []  # inputs not yet started
        flying: set[str] = set()
        offset, chunk, stalled_since = self.waiting + len(self.failures), 500, time.monotonic()
        while self.waiting + len(self.failures) < n:
            if len(pending) < self.in_flight and offset < n:
                take = min(chunk, n - offset)
                pending += await asyncio.to_thread(self.inputs, applications(take, 21 + offset))
                offset += take
            room = self.in_flight - len(flying)
            batch, pending = pending[:room], pending[room:]
            results = await asyncio.gather(*(self.start(app) for app in batch), return_exceptions=True)
            for app, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    self.failures.append(f"start {app.application_id}: {type(result).__name__}: {result}")
                else:
                    flying.add(app.application_id)
            await asyncio.sleep(0.25)
            if flying:
                statuses = await asyncio.to_thread(self.model.statuses, sorted(flying))
                for app_id, status in statuses.items():
                    if status == "awaiting_decision":
                        flying.discard(app_id)
                        self.waiting += 1
                        self.times.append(time.perf_counter())
                        stalled_since = time.monotonic()
                    elif status in ("issued", "rejected", "nid_failed", "cancelled"):
                        flying.discard(app_id)
                        self.failures.append(f"{app_id} is {status}, not awaiting_decision")
            if time.monotonic() - stalled_since > 120:
                raise RuntimeError(f"no application reached its chairman in 120 s; {len(flying)} in flight")


async def sample_rss(stack, builder: Builder, size: Size, t0: float) -> None:
    """The worker's RSS every 2 s, with how many applications it has taken to their wait since it started."""
    from bench.harness import rss_mb

    while True:
        ran = builder.waiting - size.calibration
        size.rss.append((time.perf_counter() - t0, ran, rss_mb(stack.procs["worker"].pid)))
        await asyncio.sleep(2)


async def one_size(n: int, args) -> Size:
    from bench.harness import Stack, cpu_seconds, free_port, machine_cpu
    from sonod.db import make_engine, make_session_factory
    from sonod.temporal import connect

    size = Size(n=n, cache=args.cache, interval_s=0.0)
    database_url = os.environ.get("SONOD_DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="sonod-bench-backlog-") as tmp:
        stack = Stack(Path(tmp), database_url)
        metrics_port = free_port()
        stack.env.update({"SONOD_WORKFLOW_CACHE_SIZE": str(args.cache),
                          "SONOD_WORKER_METRICS_PORT": str(metrics_port)})
        stack.env.pop("PYTHONDONTWRITEBYTECODE", None)  # as the image runs (see bench/api.py)
        stack.env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        try:
            t_up = time.perf_counter()
            await stack.up()
            print(f"  {n}: stack up in {time.perf_counter() - t_up:.1f} s, worker cache {args.cache}", flush=True)
            settings = stack.settings
            client = await connect(settings)
            engine = make_engine(settings.db_url)
            model = ReadModel(settings.db_url)
            builder = Builder(client, settings, make_session_factory(engine), model, args.in_flight)
            progress = asyncio.create_task(report_progress(builder, n, time.perf_counter()))
            # the calibration: the first applications, with the deployment's reminder interval (a day: none fires
            # here), give the build rate of this machine now; the worker then restarts with the interval that
            # brings the first reminders near the end of the build
            size.calibration = min(n // 2, max(200, n // 20))
            await builder.build(size.calibration)
            half = builder.times[len(builder.times) // 2:]  # past the worker's warm-up
            rate = (len(half) - 1) / (half[-1] - half[0]) if len(half) > 1 and half[-1] > half[0] else args.min_rate
            size.calibration_per_s = rate
            size.interval_s = max(args.min_interval, (n - size.calibration) / max(rate, args.min_rate)
                                  * args.interval_factor)
            stack.stop("worker")
            stack.env["SONOD_REMINDER_INTERVAL_HOURS"] = repr(size.interval_s / 3600)
            since = dt.datetime.now(dt.UTC)
            stack.start("worker", [sys.executable, "-m", "infra.cli", "worker"])
            await stack.wait_pollers("worker", settings.task_queue, since)
            print(f"  {n}: {size.calibration} built at {rate:.1f}/s; the worker restarted with reminders every "
                  f"{size.interval_s:.0f} s", flush=True)
            pids = {name: p.pid for name, p in stack.procs.items()} | {"bench": os.getpid()}
            t0 = time.perf_counter()
            sampler = asyncio.create_task(sample_rss(stack, builder, size, t0))
            cpu0 = {k: cpu_seconds(pid) for k, pid in pids.items()}
            try:
                await builder.build(n)
            finally:
                progress.cancel()
            size.build_s = time.perf_counter() - t0
            size.built, size.build_failures = builder.waiting, builder.failures
            size.build_cpu = {k: cpu_seconds(pid) - cpu0[k] for k, pid in pids.items()}
            size.db_built_mb = db_size_mb(stack.var)
            print(f"  {n}: built in {size.build_s:.1f} s ({size.build_per_s:.1f}/s), "
                  f"{len(builder.failures)} failed; waiting for the first reminder", flush=True)
            stack.check_alive()
            t_wait = time.perf_counter()
            while await asyncio.to_thread(model.count_reminders) == 0:
                if time.perf_counter() - t_wait > size.interval_s + 120:
                    raise RuntimeError("no reminder came")
                await asyncio.sleep(0.5)
            size.wait_s = time.perf_counter() - t_wait
            before = await asyncio.to_thread(model.count_reminders)
            sticky0 = sticky(await asyncio.to_thread(worker_metrics, metrics_port))
            cpu0, machine0, t_w = {k: cpu_seconds(pid) for k, pid in pids.items()}, machine_cpu(), time.perf_counter()
            await asyncio.sleep(args.window)
            size.cpu = {k: cpu_seconds(pid) - cpu0[k] for k, pid in pids.items() if k != "bench"}
            busy, total = machine_cpu()
            size.window_s = time.perf_counter() - t_w
            size.reminders = await asyncio.to_thread(model.count_reminders) - before
            size.sticky = {k: v - sticky0.get(k, 0.0) if k != "size" else v  # the size: a gauge, at the end
                           for k, v in sticky(await asyncio.to_thread(worker_metrics, metrics_port)).items()}
            size.machine_s = total - machine0[1]
            size.others_s = max(0.0, busy - machine0[0] - sum(size.cpu.values())
                                - (cpu_seconds(os.getpid()) - cpu0["bench"]))
            size.db_end_mb = db_size_mb(stack.var)
            sampler.cancel()
            stack.check_alive()
            engine.dispose()
            model.engine.dispose()
        finally:
            stack.stop_all()
    return size


async def report_progress(builder: Builder, n: int, t0: float) -> None:
    while True:
        await asyncio.sleep(15)
        elapsed = time.perf_counter() - t0
        print(f"    {builder.waiting}/{n} waiting after {elapsed:.0f} s ({builder.waiting / elapsed:.1f}/s)",
              flush=True)


def report(sizes: list[Size], args, seconds: float) -> dict:
    from bench.harness import load_report

    database = "postgresql" if os.environ.get("SONOD_DATABASE_URL", "").startswith("postgresql") else "sqlite"
    print(f"sonod backlog bench on {database}: worker cache {args.cache}, window {args.window:g} s; {load_report()}")
    print(f"{'open':>7} {'build/s':>7} {'fail':>4} {'interval':>8} {'reminders':>9} {'/s':>5} "
          f"{'CPU ms/reminder':>15} {'worker':>6} {'temporal':>8} {'hit rate':>8} {'miss/rem':>8} "
          f"{'RSS MiB: C/2':>12} {'C':>6} {'2C':>6} {'N':>6} {'window':>6} {'DB MiB':>7} {'others':>6}")
    out = []
    for s in sizes:
        window_rss = [mb for t, _, mb in s.rss if t >= s.rss[-1][0] - s.window_s] if s.rss else []
        others = s.others_s / s.machine_s if s.machine_s else 0.0
        rss = {"half_cache": s.rss_at(s.cache // 2), "cache": s.rss_at(s.cache), "twice_cache": s.rss_at(2 * s.cache),
               "built": s.rss_at(s.n - s.calibration), "window_max": max(window_rss, default=0.0)}
        misses = s.sticky.get("miss", 0.0) / max(s.reminders, 1)
        print(f"{s.n:7d} {s.build_per_s:7.1f} {len(s.build_failures):4d} {s.interval_s:7.0f}s {s.reminders:9d} "
              f"{s.reminders / max(s.window_s, 1e-9):5.1f} {s.cpu_ms_per_reminder():15.1f} "
              f"{s.cpu_ms_per_reminder('worker'):6.1f} {s.cpu_ms_per_reminder('temporal'):8.1f} "
              f"{s.hit_rate:8.0%} {misses:8.2f} {rss['half_cache']:12.0f} {rss['cache']:6.0f} "
              f"{rss['twice_cache']:6.0f} {rss['built']:6.0f} {rss['window_max']:6.0f} {s.db_end_mb:7.1f} "
              f"{others:6.0%}")
        out.append({
            "open": s.n, "built": s.built, "build_failures": len(s.build_failures), "calibration": s.calibration,
            "calibration_per_s": round(s.calibration_per_s, 1),
            "build_per_s": round(s.build_per_s, 1), "build_s": round(s.build_s, 1),
            "build_cpu_ms_per_app": {k: round(v * 1000 / max(s.built - s.calibration, 1), 1)
                                     for k, v in s.build_cpu.items()},
            "reminder_interval_s": round(s.interval_s), "wait_first_reminder_s": round(s.wait_s, 1),
            "window_s": round(s.window_s, 1), "reminders": s.reminders,
            "cpu_ms_per_reminder": round(s.cpu_ms_per_reminder(), 1),
            "cpu_ms_per_reminder_by_process": {k: round(v * 1000 / max(s.reminders, 1), 1) for k, v in s.cpu.items()},
            "sticky_cache": {k: round(v) for k, v in s.sticky.items()},
            "sticky_hit_rate": None if s.hit_rate != s.hit_rate else round(s.hit_rate, 3),
            "cache_misses_per_reminder": round(misses, 2),
            "worker_rss_mib": {k: round(v) if v == v else None for k, v in rss.items()},
            "temporal_db_mib": {"built": round(s.db_built_mb, 1), "end": round(s.db_end_mb, 1)},
            "others_busy": round(others, 2),
        })
        for failure in s.build_failures[:3]:
            print(f"  failed ({s.n}): {failure}")
    print("RSS MiB: the worker's (after its restart) when it had taken C/2, C (the cache size), 2C and all of its "
          "applications to their wait, and the most over the window. CPU ms/reminder: every process of the stack over "
          "the window, divided by the reminders fired in it; miss/rem: sticky-cache misses (a replay of the whole "
          "history) a reminder.")
    rss = [o["worker_rss_mib"] for o in out if o["worker_rss_mib"]["built"] and o["worker_rss_mib"]["twice_cache"]]
    rss_flat = bool(rss) and all(abs(r["built"] - r["twice_cache"]) <= 0.15 * r["twice_cache"] for r in rss)
    cpu = [o["cpu_ms_per_reminder"] for o in out]
    cpu_flat = len(cpu) < 2 or max(cpu) <= 1.25 * min(cpu)
    print(f"memory flat beyond the cache (RSS at N within 15% of RSS at 2C): {'yes' if rss_flat else 'NO'}"
          f"{'' if rss else ' (no size has 2C applications beyond the calibration)'}; "
          f"CPU per reminder flat across sizes (max within 25% of min): {'yes' if cpu_flat else 'NO'}; "
          f"total {seconds:.0f} s")
    summary = {"bench": "backlog", "database": database, "cache": args.cache, "window_s": args.window,
               "sizes": out, "memory_flat": rss_flat, "cpu_per_reminder_flat": cpu_flat,
               "failures": sum(o["build_failures"] for o in out), "seconds": round(seconds)}
    print(json.dumps(summary))
    return summary


async def bench(args) -> dict:
    t0 = time.perf_counter()
    sizes = []
    for n in args.sizes:
        sizes.append(await one_size(n, args))
    return report(sizes, args, time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 open applications only, a 30 s window")
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                    help="backlog sizes, each on a stack of its own (default 10000,50000,100000)")
    ap.add_argument("--cache", type=int, default=2000,
                    help="the worker's sticky cache (SONOD_WORKFLOW_CACHE_SIZE), smaller than the backlog (2000)")
    ap.add_argument("--window", type=float, default=None, help="seconds of reminders measured (30; 60 w/o --quick)")
    ap.add_argument("--min-rate", type=float, default=1.0,
                    help="the slowest build rate believed from the calibration, applications/s (1)")
    ap.add_argument("--min-interval", type=float, default=30.0, help="the shortest reminder interval, s (30)")
    ap.add_argument("--interval-factor", type=float, default=1.15,
                    help="the reminder interval over the build's expected time (1.15: the reminders start after it)")
    ap.add_argument("--in-flight", type=int, default=100,
                    help="applications started and not yet waiting for their chairman, at most (100)")
    args = ap.parse_args()
    args.sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    args.window = args.window or (30.0 if args.quick else 60.0)
    summary = asyncio.run(bench(args))
    sys.exit(0 if summary["failures"] == 0 else 1)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
