"""The fixed reference of issue #14: a workflow that does not follow sonod's shape, so that its figures do not
move when sonod's workflow does.

    .venv/bin/python bench/reference.py [--quick] [-n N] [--concurrency C] [--poll S]

The workflow, `ReferenceWorkflow`: start; one no-op activity; upsert sonod's search attributes (the status
`awaiting_decision`, the union, the certificate type, the deadline, overdue, waiting on the chairman, the
deciders: the seven of workflows/search_attributes.py); wait for one update, `decide`, which returns once the
workflow has moved on; upsert them again (`issued`, nobody waited on); one no-op activity; end. The activities
are plain functions run in the activity threads, as sonod's synchronous activities are.

Its worker is a subprocess (`bench/reference.py --worker`) on a task queue of its own, configured as
`sonod worker` is: the settings' connection (sonod's data converter and payload codec, `sonod.temporal.connect`),
the default sandboxed workflow runner, and `workers.main.worker_options` (activity threads and slots, the
sticky cache size), imported rather than copied. The driver does what bench/pipeline.py's bare phase does: per
application `start_workflow` (id, task queue and the three search attributes known at submission, as the API
starts `CertificateApplication`), a query polled every `--poll` seconds until it awaits the decision,
`execute_update` and the result.

How it measures. Standalone: a stack of its own in a temp dir (the Temporal dev server as `sonod dev` starts it,
and the reference worker; no sonod process, no database), a warm-up of 8, then a closed loop of `--concurrency`
clients (16) over `-n` applications (300; 60 with `--quick`): applications/s in steady state (those that end
between the first end and the last start, over that time), submit and decision latency, CPU ms an application of
the Temporal server, the reference worker and this driver from /proc, and the share of the machine used by
other processes. As a phase of bench/pipeline.py (`Reference`, `reference_worker`), the same
driver runs interleaved with the pipeline's rounds on the pipeline's stack.

Prints a table, then ONE JSON object on the last line.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # run as a script: make the project importable (in the sandbox this is skipped)
    from pathlib import Path as _Path

    sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import contextlib
from datetime import timedelta
from typing import Self

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.search_attributes import (
        CERTIFICATE_TYPE,
        SONOD_DEADLINE,
        SONOD_DECIDERS,
        SONOD_OVERDUE,
        SONOD_STATUS,
        SONOD_WAITING_ON,
        UNION_SLUG,
    )

REFERENCE_QUEUE = "bench-reference"
QUICK_N, DEFAULT_N = 60, 300


@activity.defn(name="Reference.nothing")
def nothing(app_id: str) -> None:
    return None


POLICY = {"start_to_close_timeout": timedelta(seconds=30),
          "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=5))}


@workflow.defn(name="ReferenceWorkflow")
class ReferenceWorkflow:
    """Start, a no-op activity, an update, a no-op activity, end; two upserts of sonod's search attributes."""

    @workflow.init
    def __init__(self, app: list[str]) -> None:
        self.app_id, self.union = app
        self.status = "submitted"
        self.decided = False
        self.deadline = workflow.now() + timedelta(days=3)

    @workflow.run
    async def run(self, app: list[str]) -> str:
        await workflow.execute_activity(nothing, self.app_id, **POLICY)
        self.upsert("awaiting_decision", waiting_on="chairman")
        await workflow.wait_condition(lambda: self.decided)
        self.upsert("issued")
        await workflow.execute_activity(nothing, self.app_id, **POLICY)
        return self.status

    @workflow.update
    async def decide(self, officer: str) -> str:
        self.decided = True
        await workflow.wait_condition(lambda: self.status != "awaiting_decision")
        return self.status

    @decide.validator
    def check_decision(self, officer: str) -> None:
        if self.status != "awaiting_decision" or self.decided:
            raise ApplicationError(f"the application is {self.status}", type="NotAwaiting")

    @workflow.query
    def view(self) -> str:
        return self.status

    def upsert(self, status: str, waiting_on: str = "") -> None:
        self.status = status
        workflow.upsert_search_attributes(attributes(status, self.union, self.deadline, waiting_on))


def attributes(status: str, union: str, deadline, waiting_on: str = "") -> list:
    """sonod's seven search attributes, as a baseline workflow upserts them all at once."""
    return [
        SONOD_STATUS.value_set(status), UNION_SLUG.value_set(union), CERTIFICATE_TYPE.value_set("citizenship"),
        SONOD_DEADLINE.value_set(deadline), SONOD_OVERDUE.value_set(False), SONOD_WAITING_ON.value_set(waiting_on),
        SONOD_DECIDERS.value_set([waiting_on] if waiting_on else []),
    ]


async def serve(task_queue: str, workflows: list, activities: list) -> None:
    """A baseline's worker, configured as `sonod worker` is, until SIGINT or SIGTERM. The workflows must come from
    their module imported by its name, so that the sandbox can import it again."""
    import asyncio
    import signal

    from temporalio.worker import Worker

    from sonod.settings import Settings
    from sonod.temporal import connect
    from workers.main import worker_options

    settings = Settings()
    client = await connect(settings)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with Worker(client, task_queue=task_queue, workflows=workflows, activities=activities,
                      **worker_options(settings)):
        await stop.wait()


async def run_worker() -> None:
    """`bench/reference.py --worker`: the reference workflow's worker."""
    import bench.reference as reference

    await serve(REFERENCE_QUEUE, [reference.ReferenceWorkflow], [reference.nothing])


# --- the driver (imports inside functions: the sandbox re-imports this module for every workflow) ----------

def reference_worker() -> tuple[str, list[str], str]:
    """For `Stack.up(baselines=...)`: the process's name, its argv and its task queue."""
    return "reference-worker", [sys.executable, "bench/reference.py", "--worker"], REFERENCE_QUEUE


def submitted(union: str):
    """The search attributes a baseline starts with: those the API starts CertificateApplication with."""
    from temporalio.common import SearchAttributePair, TypedSearchAttributes

    return TypedSearchAttributes([SearchAttributePair(SONOD_STATUS, "submitted"),
                                  SearchAttributePair(UNION_SLUG, union),
                                  SearchAttributePair(CERTIFICATE_TYPE, "citizenship")])


class Baseline:
    """A baseline workflow straight through the Temporal client: start_workflow, a query, execute_update. Its
    workflow has `run([id, union])`, the `view` query and the `decide` update (ReferenceWorkflow, bench/bare.py's
    BareApplication)."""

    workflow: type
    queue: str
    prefix: str

    def __init__(self, settings, concurrency: int, poll: float) -> None:
        import uuid

        self.settings, self.concurrency, self.poll = settings, concurrency, poll
        self.run_id = uuid.uuid4().hex[:8]

    async def __aenter__(self) -> Self:
        from sonod.temporal import connect

        self.client = await connect(self.settings)
        return self

    async def __aexit__(self, *exc) -> None:
        pass

    async def one(self, item, phase) -> None:
        import time

        from bench.harness import wait_until

        i, body = item
        app_id = f"{self.prefix}-{self.run_id}-{i}"
        t0 = time.perf_counter()
        handle = await self.client.start_workflow(
            self.workflow.run, [app_id, body["union"]], id=app_id, task_queue=self.queue,
            search_attributes=submitted(body["union"]))
        t1 = time.perf_counter()
        polls = await wait_until(lambda: handle.query(self.workflow.view), "awaiting_decision", self.poll)
        t2 = time.perf_counter()
        await handle.execute_update(self.workflow.decide, f"chairman.{body['union']}")
        t3 = time.perf_counter()
        if await handle.result() != "issued":
            raise RuntimeError("did not end issued")
        if phase is not None:
            phase.record(t0, t1, t2, t3, polls)


class Reference(Baseline):
    workflow, queue, prefix = ReferenceWorkflow, REFERENCE_QUEUE, "ref"


async def bench(args) -> dict:
    import json
    import os
    import tempfile
    import time
    from pathlib import Path

    from bench.harness import Stack, applications, load_report, percentile
    from bench.pipeline import Phase, closed_loop

    n = args.n or (QUICK_N if args.quick else DEFAULT_N)
    phase = Phase("reference")
    with tempfile.TemporaryDirectory(prefix="sonod-bench-ref-") as tmp:
        stack = Stack(Path(tmp), "")
        try:
            t0 = time.perf_counter()
            await stack.up(baselines=[reference_worker()], sonod=False)
            pids = {name: p.pid for name, p in stack.procs.items()} | {"bench": os.getpid()}
            async with Reference(stack.settings, args.concurrency, args.poll) as reference:
                await closed_loop(applications(8, 0), 8, reference.one, None, {})
                up = time.perf_counter() - t0
                await closed_loop(applications(n, 8), args.concurrency, reference.one, phase, pids)
            stack.check_alive()
        finally:
            stack.stop_all()
    cpu = {k: round(v * 1000 / max(phase.done, 1), 1) for k, v in phase.cpu.items()}
    others = (phase.machine_busy_s - sum(phase.cpu.values())) / max(phase.machine_s, 1e-9)
    def ms(values: list[float], p: int) -> float:
        return round(percentile(values, p), 1)

    print(f"reference workflow bench: {n} applications, closed loop, concurrency {args.concurrency}, "
          f"poll {args.poll * 1000:.0f} ms, {len(os.sched_getaffinity(0))} CPUs; {load_report()}")
    print(f"{'phase':10} {'done':>5} {'fail':>5} {'apps/s':>7} {'submit p50':>11} {'p99':>8} {'decide p50':>11} "
          f"{'p99':>8} {'e2e p50':>8} {'p99':>8}")
    print(f"{'reference':10} {phase.done:5d} {len(phase.failures):5d} {phase.per_s:7.2f} "
          f"{ms(phase.submit_ms, 50):11.1f} {ms(phase.submit_ms, 99):8.1f} {ms(phase.decision_ms, 50):11.1f} "
          f"{ms(phase.decision_ms, 99):8.1f} {ms(phase.total_ms, 50):8.1f} {ms(phase.total_ms, 99):8.1f}")
    print("CPU ms per application: " + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
          + f" (total {sum(cpu.values()):.0f}); machine busy {phase.machine_busy:.0%}, other processes {others:.0%}")
    print(f"time: stack up and warm-up {up:.1f} s, measured {phase.elapsed:.1f} s")
    for failure in phase.failures[:5]:
        print(f"failed: {failure}")
    summary = {"bench": "reference", "n": n, "concurrency": args.concurrency, "poll_ms": round(args.poll * 1000),
               "apps_per_s": round(phase.per_s, 2), "apps_per_s_wall": round(phase.wall_per_s, 2),
               "submit_p50_ms": ms(phase.submit_ms, 50), "decision_p50_ms": ms(phase.decision_ms, 50),
               "decision_p99_ms": ms(phase.decision_ms, 99), "cpu_ms_per_app": cpu,
               "cpu_ms_per_app_total": round(sum(cpu.values()), 1), "machine_busy": round(phase.machine_busy, 2),
               "others_busy": round(others, 2), "failures": len(phase.failures)}
    print(json.dumps(summary))
    return summary


def main() -> None:
    import argparse
    import asyncio

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_N} applications: well under a minute")
    ap.add_argument("-n", type=int, default=None, help=f"applications (default {DEFAULT_N})")
    ap.add_argument("--concurrency", type=int, default=16, help="clients of the closed loop (default 16)")
    ap.add_argument("--poll", type=float, default=0.2, help="query poll interval in seconds (default 0.2)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_worker())
        return
    summary = asyncio.run(bench(args))
    sys.exit(0 if summary["failures"] == 0 else 1)


if __name__ == "__main__":
    main()
