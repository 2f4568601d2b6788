"""Submit and decision latency through the API, against sonod's own Temporal calls without it (issues #8, #14).

    .venv/bin/python bench/api.py [--quick] [--rates 5,10,15] [--duration S] [--clients 100] [--postgres [URL]]
                                 [--profile DIR]

What runs. bench/harness.py's `Stack`: a Temporal dev server, the Porichoy simulator, `sonod worker` and
`sonod api` as subprocesses on free ports, and the reference workflow's worker (bench/reference.py), in a temp
dir, torn down at the end. The database is embedded
SQLite in the temp dir, or with `--postgres` a scratch PostgreSQL database created and dropped by the run.
The stack runs with Python's bytecode cache on (PYTHONDONTWRITEBYTECODE dropped, PYTHONPYCACHEPREFIX in the
temp dir), as the image does (pip compiles the wheel): the worker's workflow sandbox imports
workflows/application.py afresh for every new workflow, and without a .pyc it compiles the source each time.
`--no-bytecode` keeps the variable from the environment, to measure what that costs.

The three paths, the first two taking the same applications (citizenship, round the 21 unions and the
registry's people) through the same workflow on the same worker:
- api: the portal's `POST /api/v1/applications` (X-API-Key, an Idempotency-Key of its own) and the
  chairman's `POST /api/v1/applications/{id}/decision` (a bearer token got once, with TOTP, before the clock).
- bare: what those handlers end in, called by the driver itself: `client.start_workflow(
  CertificateApplication.run, …)` with the same input, id policy and search attributes as `applications.submit`
  (the input is built before the clock starts), and `handle.execute_update(CertificateApplication.decide, …)`.
  No HTTP, no API process, no idempotency row, no audit entry.
- reference: bench/reference.py's fixed reference workflow on its own worker (configured as `sonod worker`):
  `start_workflow`, its query polled every 50 ms until it awaits the decision, and the bare `execute_update` of
  the decision: what any workflow's decision costs on this Temporal server, whatever sonod's workflow does.
Submit latency is the round trip of the submit (a 202, or start_workflow's return); decision latency is the
decision's round trip, which returns once the workflow has left `awaiting_decision` (the reference: once its
update has returned, after its second upsert). Between the two, the
driver watches the read model itself (one query for every waiting application each 50 ms, the same for
both paths), so that the API serves nothing but submits and decisions.

How it measures. Open loop: at each offered rate (5, 10 and 15 applications/s by default) arrivals are a
Poisson process (a fixed seed, the same schedule for both paths) over `--duration` seconds; each
application is submitted at its time whatever the others are doing and decided as soon as it awaits the
chairman. Closed loop: `--clients` clients (100), each submitting, waiting for `awaiting_decision` and
deciding, then starting again, for `--duration` seconds. Each rate runs bare, reference, then api back to
back, each at the same offered rate with the same arrival schedule; after
each run the driver terminates what it could not decide (counted as failures) and waits until every decided
application is issued, so runs do not overlap. One
application per union goes through the API first (the worker's signing keys and PDF mastheads, the API's
pools), and three through the driver's client, not counted.
CPU seconds of each process and of the whole machine over each run are read from /proc.
The targets: p99 of submit and of decision <= 100 ms through the API at 10 applications/s (issue #8); the
decision's p99 <= 150 ms through the API at an offered 10 applications/s, open loop, printed beside the bare and
the reference `execute_update` of the same run (issue #14).

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
import json
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import api_paths, harness

TARGET_P99_MS, TARGET_RATE = 100.0, 10.0
DECISION_P99_MS = 150.0  # issue #14: the decision's p99 through the API at TARGET_RATE, open loop
FINAL = ("issued", "rejected", "nid_failed", "cancelled")


@dataclass
class Run:
    """The latencies, failures and CPU of one path at one load."""

    path: str
    load: str
    offered: float | None = None
    submit_ms: list[float] = field(default_factory=list)
    decision_ms: list[float] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)  # open loop: how late the driver sent a submit
    failures: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # submitted
    decided: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    drain_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0  # the share of all CPUs busy, anyone's work
    machine_cpu_s: float = 0.0
    others_busy: float = 0.0  # the share of all CPUs busy with processes not of this run (other people's work)

    @property
    def done(self) -> int:
        return len(self.decision_ms)

    @property
    def per_s(self) -> float:
        return len(self.submit_ms) / (self.ended - self.started) if self.ended > self.started else 0.0


class ReadModel(harness.ReadModel):
    """Statuses from the `applications` table: one query for every watched application each tick."""

    def __init__(self, url: str, tick: float = 0.05) -> None:
        super().__init__(url)
        self.tick = tick
        self.waiting: dict[str, tuple[frozenset[str], asyncio.Future]] = {}
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.watch())

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.engine.dispose()

    async def wait(self, app_id: str, wanted: str, timeout: float = 180) -> None:
        future = asyncio.get_running_loop().create_future()
        self.waiting[app_id] = (frozenset({wanted}), future)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            self.waiting.pop(app_id, None)

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            if not self.waiting:
                continue
            statuses = await asyncio.to_thread(self.statuses, list(self.waiting))
            for app_id, status in statuses.items():
                entry = self.waiting.get(app_id)
                if entry is None or entry[1].done():
                    continue
                wanted, future = entry
                if status in wanted:
                    future.set_result(status)
                elif status in FINAL:
                    future.set_exception(RuntimeError(f"{app_id} is {status}, not {'/'.join(wanted)}"))

    async def drain(self, ids: list[str], timeout: float = 600) -> float:
        """Seconds until every one of these applications is final."""
        t = time.perf_counter()
        pending = list(ids)
        while pending:
            statuses = await asyncio.to_thread(self.statuses, pending)
            pending = [i for i in pending if statuses.get(i) not in FINAL]
            if pending:
                if time.perf_counter() - t > timeout:
                    raise RuntimeError(f"{len(pending)} applications did not finish in {timeout:.0f} s")
                await asyncio.sleep(0.25)
        return time.perf_counter() - t


async def one(path, item, watcher: ReadModel, run: Run | None) -> None:
    """Submit, wait until the chairman is awaited, decide."""
    t0 = time.perf_counter()
    app_id = await path.submit(item)
    t1 = time.perf_counter()
    if run is not None:
        run.ids.append(app_id)
        run.submit_ms.append((t1 - t0) * 1000)
    await (path.ready(app_id) if hasattr(path, "ready") else watcher.wait(app_id, "awaiting_decision"))
    t2 = time.perf_counter()
    await path.decide(app_id, item[1]["union"])
    if run is not None:
        run.decision_ms.append((time.perf_counter() - t2) * 1000)
        run.decided.append(app_id)


def log_errors(text: str, most: int = 3) -> list[str]:
    """The distinct last lines of the exceptions in a process's JSON log."""
    found: dict[str, int] = {}
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "warning") and (entry.get("exc") or ""):
            last = entry["exc"].strip().splitlines()[-1][:300]
            found[last] = found.get(last, 0) + 1
    return [f"{n}x {last}" for last, n in sorted(found.items(), key=lambda kv: -kv[1])[:most]]


async def settle(client, watcher: ReadModel, run: Run, path=None) -> None:
    """Before the next run: terminate what was never decided (it would wait for its chairman for days), then
    wait until what was decided is issued."""
    undecided = sorted(set(run.ids) - set(run.decided))
    await asyncio.gather(*(client.get_workflow_handle(i).terminate(reason="bench: not decided in time")
                           for i in undecided), return_exceptions=True)
    try:
        run.drain_s = await (asyncio.wait_for(path.drain(run.decided), 300) if hasattr(path, "drain")
                             else watcher.drain(run.decided, timeout=300))
    except RuntimeError as e:
        run.failures.append(f"drain: {e}")


async def guarded(coro, run: Run, label: str) -> None:
    try:
        await coro
    except Exception as e:  # noqa: BLE001 - counted and reported, the run goes on
        run.failures.append(f"{label}: {type(e).__name__}: {e}")


async def open_loop(path, items: list, rate: float, seed: int, watcher: ReadModel, run: Run) -> None:
    """Poisson arrivals at `rate`: each application starts at its time, whatever the others are doing."""
    rng = random.Random(seed)
    at, schedule = 0.0, []
    for _ in items:
        at += rng.expovariate(rate)
        schedule.append(at)
    await path.prepare(items)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1

    async def arrival(when: float, item) -> None:
        await asyncio.sleep(max(0.0, start + when - loop.time()))
        run.lag_ms.append((loop.time() - start - when) * 1000)
        await guarded(one(path, item, watcher, run), run, str(item[0]))

    run.started = time.perf_counter() + 0.1
    await asyncio.gather(*(arrival(w, item) for w, item in zip(schedule, items, strict=True)))
    run.ended = run.started + schedule[-1]


async def closed_loop(path, items: list, clients: int, duration: float, watcher: ReadModel, run: Run) -> None:
    """`clients` clients, each submitting, waiting for the chairman's step and deciding, again and again."""
    await path.prepare(items)
    queue = list(reversed(items))
    stop_at = time.perf_counter() + duration

    async def client() -> None:
        while queue and time.perf_counter() < stop_at:
            item = queue.pop()
            await guarded(one(path, item, watcher, run), run, str(item[0]))

    run.started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    run.ended = time.perf_counter()
    if queue and time.perf_counter() < stop_at:
        run.failures.append("the closed loop ran out of applications: raise the item count")


class Meter:
    """CPU seconds of each process, and the share of the machine busy, between start() and stop()."""

    def __init__(self, pids: dict[str, int], run: Run) -> None:
        from bench.harness import cpu_seconds, machine_cpu

        self.pids, self.run, self.cpu_seconds, self.machine_cpu = pids, run, cpu_seconds, machine_cpu
        self.before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self.machine = machine_cpu()

    def stop(self) -> None:
        self.run.cpu = {name: self.cpu_seconds(pid) - self.before[name] for name, pid in self.pids.items()}
        busy, total = self.machine_cpu()
        self.run.machine_cpu_s = busy - self.machine[0]
        self.run.machine_busy = self.run.machine_cpu_s / max(total - self.machine[1], 1e-9)
        self.run.others_busy = max(0.0, self.run.machine_cpu_s - sum(self.run.cpu.values())) \
            / max(total - self.machine[1], 1e-9)


def percentile(values: list[float], p: float) -> float:
    from bench.harness import percentile as pct

    return pct(values, int(p)) if values else float("nan")


async def bench(args) -> dict:
    import httpx
    import pyotp
    from sqlalchemy.engine import make_url

    from bench.harness import Profiler, Stack, applications
    from bench.reference import reference_worker
    from bench.scale import scratch_database
    from sonod.db import make_engine, make_session_factory
    from sonod.settings import DEV_SECRETS
    from sonod.temporal import connect

    scratch = contextlib.ExitStack()  # drops the scratch PostgreSQL database, if any, on the way out
    database_url = scratch.enter_context(scratch_database(args.postgres, "sonod_bench_api"))
    database = make_url(database_url).get_backend_name() if database_url else "sqlite"
    runs: list[Run] = []
    offset = 0

    def take(n: int) -> list:
        nonlocal offset
        out = applications(n, offset)
        offset += n
        return out

    t_start = time.perf_counter()
    with scratch, tempfile.TemporaryDirectory(prefix="sonod-bench-api-") as tmp:
        stack = Stack(Path(tmp), database_url)
        if not args.no_bytecode:  # as the image runs (pip compiles it): see `--no-bytecode`
            stack.env.pop("PYTHONDONTWRITEBYTECODE", None)
            stack.env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        try:
            await stack.up(baselines=[reference_worker()])
            procs = {name: p.pid for name, p in stack.procs.items()} | {"bench": os.getpid()}
            settings = stack.settings
            client = await connect(settings)
            engine = make_engine(settings.db_url)
            watcher = ReadModel(settings.db_url)
            watcher.start()
            limits = httpx.Limits(max_connections=args.clients + 50, max_keepalive_connections=args.clients + 50)
            async with httpx.AsyncClient(base_url=stack.api_url, timeout=60, limits=limits) as http:
                tokens = {}
                for union in sorted({body["union"] for _, body in applications(21, 0)}):
                    r = await http.post("/api/v1/auth/token", data={
                        "username": f"chairman.{union}", "password": DEV_SECRETS["demo_password"],
                        "totp": pyotp.TOTP(DEV_SECRETS["demo_totp_secret"]).now()})
                    r.raise_for_status()
                    tokens[union] = {"Authorization": f"Bearer {r.json()['access_token']}"}
                paths = [api_paths.BarePath(client, settings, make_session_factory(engine)),
                         api_paths.ReferencePath(client), api_paths.ApiPath(http, tokens)]

                print(f"  stack up in {time.perf_counter() - t_start:.1f} s", flush=True)
                # warm-up, not counted: a round of the unions through the API (the worker's signing keys and
                # PDF mastheads, the API's pools), a few through the driver's own client
                for path, n in zip(paths, (3, 3, 21), strict=True):
                    warm = Run(path.name, "warm-up")
                    await open_loop(path, take(n), 10.0, 0, watcher, warm)
                    await settle(client, watcher, warm, path)
                    if warm.failures:
                        raise RuntimeError(f"warm-up of {path.name} failed: {warm.failures[:3]}")
                print(f"  warmed up at {time.perf_counter() - t_start:.1f} s", flush=True)

                async def measured(path, load: str, body, offered=None) -> None:
                    run = Run(path.name, load, offered)
                    meter = Meter({k: v for k, v in procs.items() if k in stack.procs or k == "bench"}, run)
                    profiled = args.profile and path.name == "api" and offered == TARGET_RATE
                    profiler = Profiler(Path(args.profile), {f"api-{n}": procs[n] for n in ("api", "worker")}) \
                        if profiled else None
                    await body(path, run)
                    meter.stop()
                    if profiler:
                        profiler.stop()
                    await settle(client, watcher, run, path)
                    if run.failures:  # the reason is in the logs, which go with the temp dir
                        for name in ("api", "worker"):
                            print(f"  {name} log: {'; '.join(log_errors(stack.tail(name, 2000)))}", flush=True)
                    stack.check_alive()
                    runs.append(run)
                    print(f"  {load:12} {path.name:4}: {len(run.submit_ms)} submitted, "
                          f"{len(run.failures)} failed, drained in {run.drain_s:.1f} s", flush=True)

                for k, rate in enumerate(args.rates):
                    n = max(1, round(rate * args.duration))
                    for path in paths:
                        items = take(n)
                        await measured(path, f"open {rate:g}/s",
                                       lambda p, r, items=items, rate=rate, k=k:
                                       open_loop(p, items, rate, 1000 + k, watcher, r), rate)
                if args.clients:
                    for path in paths:
                        items = take(int(args.duration * 60) + args.clients)
                        await measured(path, f"closed {args.clients}",
                                       lambda p, r, items=items: closed_loop(p, items, args.clients,
                                                                             args.duration, watcher, r))
            await watcher.stop()
            engine.dispose()
        finally:
            stack.stop_all()
    return report(runs, database, args)


def report(runs: list[Run], database: str, args) -> dict:
    from bench.harness import load_report

    def ms(values: list[float], p: float) -> float:
        return round(percentile(values, p), 1)

    print(f"sonod API bench on {database}{'' if not args.no_bytecode else ', no bytecode'}: "
          f"open loop at {', '.join(f'{r:g}' for r in args.rates)} applications/s "
          f"for {args.duration:g} s each, closed loop of {args.clients} clients for {args.duration:g} s; "
          f"{load_report()}")
    print(f"{'load':12} {'path':9} {'apps/s':>6} {'n':>4} {'fail':>4} {'submit p50':>10} {'p99':>7} "
          f"{'decide p50':>10} {'p99':>7} {'lag p99':>7} {'busy':>5} {'others':>6} "
          f"{'CPU ms/app: api':>15} {'worker':>6} {'temporal':>8}")
    out: dict[str, dict] = {}
    for run in runs:
        worker = "reference-worker" if run.path == "reference" else "worker"
        cpu = [run.cpu.get(k, 0.0) * 1000 / max(len(run.submit_ms), 1) for k in ("api", worker, "temporal")]
        print(f"{run.load:12} {run.path:9} {run.per_s:6.1f} {len(run.submit_ms):4d} {len(run.failures):4d} "
              f"{ms(run.submit_ms, 50):10.1f} {ms(run.submit_ms, 99):7.1f} {ms(run.decision_ms, 50):10.1f} "
              f"{ms(run.decision_ms, 99):7.1f} {ms(run.lag_ms, 99) if run.lag_ms else 0.0:7.1f} "
              f"{run.machine_busy:5.0%} {run.others_busy:6.0%} {cpu[0]:15.0f} {cpu[1]:6.0f} {cpu[2]:8.0f}")
        out.setdefault(run.load, {})[run.path] = {
            "apps_per_s": round(run.per_s, 2), "n": len(run.submit_ms), "failures": len(run.failures),
            "submit_p50_ms": ms(run.submit_ms, 50), "submit_p99_ms": ms(run.submit_ms, 99),
            "decision_p50_ms": ms(run.decision_ms, 50), "decision_p99_ms": ms(run.decision_ms, 99),
            "lag_p99_ms": ms(run.lag_ms, 99) if run.lag_ms else None, "drain_s": round(run.drain_s, 1),
            "machine_busy": round(run.machine_busy, 2), "others_busy": round(run.others_busy, 2),
            "cpu_ms_per_app": {k: round(v * 1000 / max(len(run.submit_ms), 1), 1) for k, v in run.cpu.items()},
        }
    for paths in out.values():
        if "api" in paths and "bare" in paths:
            a, b = paths["api"], paths["bare"]
            paths["added_p99_ms"] = {"submit": round(a["submit_p99_ms"] - b["submit_p99_ms"], 1),
                                     "decision": round(a["decision_p99_ms"] - b["decision_p99_ms"], 1)}
    target = out.get(f"open {TARGET_RATE:g}/s", {}).get("api")
    meets = bool(target) and target["submit_p99_ms"] <= TARGET_P99_MS and target["decision_p99_ms"] <= TARGET_P99_MS \
        and target["failures"] == 0
    at_rate = out.get(f"open {TARGET_RATE:g}/s", {})
    meets_decision = bool(target) and target["decision_p99_ms"] <= DECISION_P99_MS and target["failures"] == 0
    if target:
        print(f"at {TARGET_RATE:g}/s through the API: submit p99 {target['submit_p99_ms']} ms, decision p99 "
              f"{target['decision_p99_ms']} ms (target <= {TARGET_P99_MS:g} ms): {'met' if meets else 'MISSED'}")
        beside = ", ".join(f"{name} execute_update {at_rate[name]['decision_p99_ms']} ms"
                           for name in ("bare", "reference") if name in at_rate)
        print(f"decision p99 at {TARGET_RATE:g}/s offered, open loop: through the API {target['decision_p99_ms']} ms "
              f"(target <= {DECISION_P99_MS:g} ms: {'met' if meets_decision else 'MISSED'}); in the same run, "
              f"{beside} (bare: CertificateApplication's update without HTTP; reference: bench/reference.py's)")
    for run in runs:
        for failure in run.failures[:3]:
            print(f"failed ({run.load}, {run.path}): {failure}")
    summary = {"bench": "api", "database": database, "bytecode": not args.no_bytecode, "duration_s": args.duration,
               "rates": args.rates,
               "clients": args.clients, "target_p99_ms": TARGET_P99_MS, "target_rate": TARGET_RATE,
               "decision_target_p99_ms": DECISION_P99_MS,
               "decision_p99_ms": {name: at_rate[name]["decision_p99_ms"] for name in at_rate if name in
                                   ("api", "bare", "reference")},
               "runs": out, "failures": sum(len(r.failures) for r in runs), "meets_target": meets,
               "meets_decision_target": meets_decision}
    print(json.dumps(summary))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10/s and 20 clients, 5 s each: about a minute")
    ap.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")], default=None,
                    help="offered rates of the open loop, applications/s (default 5,10,15)")
    ap.add_argument("--duration", type=float, default=None, help="seconds of each run (default 20; quick 5)")
    ap.add_argument("--clients", type=int, default=None, help="clients of the closed loop (default 100; 0: none)")
    ap.add_argument("--postgres", nargs="?", const=os.environ.get("SONOD_BENCH_POSTGRES",
                                                                  "postgresql://postgres@127.0.0.1:5432/postgres"),
                    default=None, help="on a scratch PostgreSQL database (created and dropped) instead of SQLite")
    ap.add_argument("--profile", metavar="DIR",
                    help="py-spy (samples holding the GIL) the API and the worker over the api run at 10/s")
    ap.add_argument("--plot", metavar="PNG", help="draw the figures (needs matplotlib: pip install -e .[bench])")
    ap.add_argument("--no-bytecode", action="store_true",
                    help="keep PYTHONDONTWRITEBYTECODE if set: the worker's sandbox then compiles the workflow's "
                         "source for every new workflow")
    args = ap.parse_args()
    args.rates = args.rates or ([TARGET_RATE] if args.quick else [5.0, 10.0, 15.0])
    args.duration = args.duration or (5.0 if args.quick else 20.0)
    args.clients = args.clients if args.clients is not None else (20 if args.quick else 100)
    summary = asyncio.run(bench(args))
    if args.plot:
        plot(summary, args.plot)
    sys.exit(0 if summary["failures"] == 0 else 1)


def plot(summary: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = summary["runs"]
    opened = [load for load in runs if load.startswith("open")]
    rates = [float(load.split()[1].removesuffix("/s")) for load in opened]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), dpi=120, sharey=True)
    for ax, what in zip(axes, ("submit", "decision"), strict=True):
        for path_name, color in (("api", "tab:blue"), ("bare", "tab:grey")):
            for pct, style in (("p50", "o--"), ("p99", "o-")):
                ax.plot(rates, [runs[load][path_name][f"{what}_{pct}_ms"] for load in opened], style, color=color,
                        label=f"{path_name} {pct}")
        closed = [load for load in runs if load.startswith("closed")]
        for load in closed:
            for path_name, marker in (("api", "^"), ("bare", "v")):
                run = runs[load][path_name]
                ax.plot([run["apps_per_s"]], [run[f"{what}_p99_ms"]], marker, color="tab:red",
                        label=f"{load} clients, {path_name} p99 (at its achieved rate)")
        ax.axhline(summary["target_p99_ms"], color="green", lw=0.8, ls=":", label="target p99 at 10/s")
        ax.set_yscale("log")
        ax.set_xlabel("offered applications/s (open loop)")
        ax.set_title(what)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("latency, ms (log)")
    axes[1].legend(fontsize=7)
    fig.suptitle(f"Submit and decision latency, through the API and bare ({summary['database']})")
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
