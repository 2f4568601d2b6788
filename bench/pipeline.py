"""Applications per second through the whole pipeline, against a fixed reference workflow and a bare workflow of
sonod's shape (issues #3, #14).

    .venv/bin/python bench/pipeline.py [--quick] [-n N] [--concurrency C] [--poll S] [--rounds R] [--profile DIR]
                                       [--taskset] [--profile-top K]

What runs. A stack of its own in a temp dir, torn down at the end: `temporal server start-dev` (SQLite file,
WAL pragmas, sonod's search attributes: `infra.temporal_server.start_dev_command`, and its /metrics on a free
port), the Porichoy simulator, `sonod worker` and `sonod api`, each a subprocess of `python -m infra.cli` with
`SONOD_*` pointing at free ports and a temp `SONOD_VAR_DIR`; and the two baselines' workers. The database is
`SONOD_DATABASE_URL` when set (PostgreSQL), else embedded SQLite in the temp dir; `sonod migrate` and
`sonod seed` run first.

The pipeline, per application, over real HTTP: a portal submits (`X-API-Key`, an `Idempotency-Key` of its
own), polls `GET /api/v1/applications/{id}` until `awaiting_decision` (the worker has checked the NID against
the simulator by then), the union's chairman (logged in once, with TOTP, before the clock starts) approves
through `POST .../decision`, then the portal polls until `issued` (signed, PDF rendered and stored, the
applicant's SMS queued and sent). Applications go round the 21 unions, each union's registry people in turn.

The baselines, in the same run and on the same Temporal server, each run by a worker of its own (a subprocess,
the same sandbox, data converter, slots and cache as `sonod worker`: `workers.main.worker_options`), driven
alike: `start_workflow`, a query polled until it awaits the decision, `execute_update`, its result. No API, no
database.
- reference, the target's (issue #14): bench/reference.py's `ReferenceWorkflow`, which does not follow sonod's
  shape and so stays fixed while sonod's workflow changes: start, a no-op activity, an upsert of sonod's search
  attributes, the update, another upsert, a no-op activity, end.
- bare, a second line: bench/bare.py's `BareApplication`, the same sequence of commands as
  `CertificateApplication` had on a citizenship application in process 1, with no-op activities.

How it measures. A closed loop: `--concurrency` clients (default 16), each takes the next application and
carries it to the end before taking another, so the system runs saturated and applications/s is its capacity
at that concurrency, counted in steady state: the applications that end between a round's first end and its
last start, over that time (the ramp-up and the drain run below capacity; `*_wall` in the JSON counts them
in). Every phase uses the same applications, concurrency and poll interval (`--poll`, 0.2 s). Warm-ups first,
side by side and not counted: one application per union through the pipeline (workflow sandbox, per-union
signing keys and PDF mastheads, connection pools; the chairmen log in before that), 8 of each baseline. Then
`--rounds` interleaved rounds (3; 1 with `--quick`), reference, bare, then pipeline, each with its share of the
applications, so that a burst of load from a neighbour on a shared machine hits every phase alike.

Submit latency is the submit's round trip (baselines: `start_workflow`); decision latency is the decision's
round trip, which returns once the workflow has left `awaiting_decision` (baselines: `execute_update`). The CPU
seconds of each process over each phase come from /proc, summed over every process of the stack (the Temporal
server, the worker, the API, the simulator, this driver; the other phases' idle workers too), and so does how
busy the whole machine was and the share of it used by processes not of the stack. On 2 cores everything
shares the same two cores, so the bench also prints the CPU ceiling, cores / CPU seconds per application,
which a neighbour's load hardly moves. The targets: >= 15 applications/s, >= 0.8x the reference, <= 130 ms of
CPU an application.

Where the server's work goes: the dev server's own counters (its /metrics: `persistence_requests` and
`persistence_latency` by operation, `service_requests` by gRPC method, `task_requests` by internal task),
read before and after each phase, per application. Its persistence is SQLite inside the server's process, so
the time in it is mostly the server's CPU and its database lock. (The `temporal` binary is stripped: `perf`
cannot name its functions, and it serves no pprof.)

`--taskset`: each round runs three times, under three placements of the processes (`sched_setaffinity` on
every thread of each process and its children, as `taskset -a -p` does, changed between phases): "shared",
everything on both CPUs (the plain run); "split", the Temporal server alone on CPU 0 and everything else (the
worker, the API, the simulator, the baselines' workers, this driver) on CPU 1, the nearest this 2-core machine
comes to the worker on a machine of its own (no network between them, and the driver shares the worker's CPU);
"one", everything on CPU 0. What the second CPU buys is "shared" (or "split") over "one"; the CPU busy figures
of "split" say which side is the ceiling (the server's CPU near 100%: the server). What a third CPU would buy
cannot be run here: the bench prints each side's CPU per application so that it can be reckoned.

Prints a table, then ONE JSON object on the last line.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # run as a script: make the project importable (in the sandbox this is skipped)
    from pathlib import Path as _Path

    sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

from typing import Self

from bench.harness import Profiler, Stack, applications, cpu_seconds, machine_cpu, percentile, wait_until

QUICK_N, DEFAULT_N = 60, 300


# --- the driver ------------------------------------------------------------------------------------------------

class Phase:
    """The latencies, wall clock and CPU of one kind of run (pipeline or bare), summed over its rounds."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.submit_ms: list[float] = []
        self.decision_ms: list[float] = []
        self.total_ms: list[float] = []
        self.failures: list[str] = []
        self.polls = 0
        self.elapsed = 0.0  # wall clock of the rounds
        self.window = 0.0  # steady state: from a round's first end to its last start
        self.in_window = 0  # applications that ended in those windows
        self.spans: list[tuple[float, float]] = []  # (start, end) of each application of the current round
        self.cpu: dict[str, float] = {}  # CPU seconds of each of our processes
        self.machine_busy_s = self.machine_s = 0.0  # all CPUs, anyone's work
        self.server: dict[str, float] = {}  # the dev server's counters over the rounds (`Stack.server_metrics`)
        self.cores: dict[str, float] = {}  # busy CPU seconds of each CPU (anyone's work), for `--taskset`

    @property
    def done(self) -> int:
        return len(self.total_ms)

    @property
    def per_s(self) -> float:
        """Steady-state throughput: the ramp-up (before the first end) and the drain (after the last start)
        of each round left out, as a closed loop runs below capacity in both."""
        return self.in_window / self.window if self.window else self.wall_per_s

    @property
    def wall_per_s(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0

    def end_round(self) -> None:
        if self.spans:
            first_end, last_start = min(e for _, e in self.spans), max(b for b, _ in self.spans)
            ended = sum(1 for _, e in self.spans if first_end < e <= last_start)
            if ended >= 2:
                self.window += last_start - first_end
                self.in_window += ended
        self.spans = []

    @property
    def machine_busy(self) -> float:
        return self.machine_busy_s / self.machine_s if self.machine_s else 0.0

    def record(self, t0: float, t1: float, t2: float, t3: float, polls: int) -> None:
        """One application: submitted t0-t1, decided t2-t3, ended now."""
        import time

        end = time.perf_counter()
        self.submit_ms.append((t1 - t0) * 1000)
        self.decision_ms.append((t3 - t2) * 1000)
        self.total_ms.append((end - t0) * 1000)
        self.spans.append((t0, end))
        self.polls += polls


async def closed_loop(items: list, concurrency: int, one, phase: Phase | None, pids: dict[str, int],
                      server=None) -> None:
    """`concurrency` clients; each carries one application to its end before taking the next. Adds the wall
    clock and the CPU of `pids` (and of the machine, and of each CPU) to the phase, and what `server()` (the dev
    server's counters) counted meanwhile."""
    import asyncio
    import time

    from bench.harness import per_cpu

    queue = list(reversed(items))

    async def client() -> None:
        while queue:
            item = queue.pop()
            try:
                await one(item, phase)
            except Exception as e:  # counted and reported, the run goes on
                if phase is None:
                    raise
                phase.failures.append(f"{item[0]}: {type(e).__name__}: {e}")

    counters0 = await asyncio.to_thread(server) if server and phase else {}
    cpu0, machine0, t0 = {k: cpu_seconds(pid) for k, pid in pids.items()}, machine_cpu(), time.perf_counter()
    cores0 = per_cpu()
    await asyncio.gather(*(client() for _ in range(min(concurrency, len(items)))))
    if phase:
        phase.elapsed += time.perf_counter() - t0
        for cpu, busy in per_cpu().items():
            phase.cores[cpu] = phase.cores.get(cpu, 0.0) + busy - cores0.get(cpu, 0.0)
        if server:
            for k, v in (await asyncio.to_thread(server)).items():
                if v != counters0.get(k, 0.0):
                    phase.server[k] = phase.server.get(k, 0.0) + v - counters0.get(k, 0.0)
        phase.end_round()
        for k, pid in pids.items():
            phase.cpu[k] = phase.cpu.get(k, 0.0) + cpu_seconds(pid) - cpu0[k]
        busy, total = machine_cpu()
        phase.machine_busy_s += busy - machine0[0]
        phase.machine_s += total - machine0[1]


class Pipeline:
    """The whole pipeline over HTTP: a portal submits and polls, the union's chairman approves."""

    def __init__(self, api_url: str, concurrency: int, poll: float) -> None:
        import uuid

        self.api_url, self.concurrency, self.poll = api_url, concurrency, poll
        self.run_id = uuid.uuid4().hex[:8]
        self.tokens: dict[str, dict] = {}

    async def __aenter__(self) -> Self:
        import asyncio

        import httpx
        import pyotp

        from sonod.settings import DEV_SECRETS
        from sonod.unions import GOPALGANJ_SADAR

        self.portal = {"X-API-Key": DEV_SECRETS["demo_portal_key"]}
        room = 2 * self.concurrency + 8
        # idle connections dropped before uvicorn's 5 s keep-alive ends: no race with the server closing them
        self.http = httpx.AsyncClient(base_url=self.api_url, timeout=60, limits=httpx.Limits(
            max_connections=room, max_keepalive_connections=room, keepalive_expiry=2.0))

        async def login(union: str) -> None:  # argon2 and TOTP before the clock starts; tokens last 30 minutes
            r = await self.http.post("/api/v1/auth/token", data={
                "username": f"chairman.{union}", "password": DEV_SECRETS["demo_password"],
                "totp": pyotp.TOTP(DEV_SECRETS["demo_totp_secret"]).now()})
            r.raise_for_status()
            self.tokens[union] = {"Authorization": f"Bearer {r.json()['access_token']}"}

        await asyncio.gather(*(login(union.slug) for union in GOPALGANJ_SADAR))
        return self

    async def __aexit__(self, *exc) -> None:
        await self.http.aclose()

    async def status(self, app_id: str) -> str:
        import httpx

        try:
            r = await self.http.get(f"/api/v1/applications/{app_id}", headers=self.portal)
        except httpx.RemoteProtocolError:  # a kept-alive connection closed under us: a GET may be sent again
            r = await self.http.get(f"/api/v1/applications/{app_id}", headers=self.portal)
        r.raise_for_status()
        return r.json()["status"]

    async def one(self, item, phase: Phase | None) -> None:
        import time

        i, body = item
        t0 = time.perf_counter()
        r = await self.http.post("/api/v1/applications", json=body,
                                 headers={**self.portal, "Idempotency-Key": f"{self.run_id}-{i}"})
        t1 = time.perf_counter()
        if r.status_code != 202:
            raise RuntimeError(f"submit answered {r.status_code}: {r.text[:200]}")
        app_id = r.json()["application_id"]
        polls = await wait_until(lambda: self.status(app_id), "awaiting_decision", self.poll)
        t2 = time.perf_counter()
        r = await self.http.post(f"/api/v1/applications/{app_id}/decision", json={"decision": "approve", "reason": ""},
                                 headers=self.tokens[body["union"]])
        t3 = time.perf_counter()
        if r.status_code != 200:
            raise RuntimeError(f"decision answered {r.status_code}: {r.text[:200]}")
        polls += await wait_until(lambda: self.status(app_id), "issued", self.poll)
        if phase:
            phase.record(t0, t1, t2, t3, polls)


# Where each process runs under `--taskset`: the Temporal dev server, and everything else (the worker, the API,
# the simulator, the benchmark's own workers and this driver), as sets of the CPUs this process may use.
def layouts(cpus: list[int], wanted: bool) -> dict[str, tuple[set[int], set[int]] | None]:
    if not wanted:
        return {"": None}
    if len(cpus) < 2:
        raise SystemExit("--taskset needs at least 2 CPUs")
    return {"shared": (set(cpus), set(cpus)),  # everything on every CPU: the plain run
            "split": ({cpus[0]}, set(cpus[1:])),  # the server on a CPU of its own: "the worker on its own machine"
            "one": ({cpus[0]}, {cpus[0]})}  # everything on one CPU: what the second CPU buys, by difference


async def bench(args) -> dict:
    import asyncio
    import os
    import tempfile
    import time
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from bench.bare import Bare, bare_worker
    from bench.harness import pin
    from bench.reference import Reference, reference_worker

    database_url = os.environ.get("SONOD_DATABASE_URL", "")
    database = make_url(database_url).get_backend_name() if database_url else "sqlite"
    n = args.n or (QUICK_N if args.quick else DEFAULT_N)
    rounds = max(1, min(args.rounds or (1 if args.quick else 3), n))
    cpus = sorted(os.sched_getaffinity(0))
    plans = layouts(cpus, args.taskset)
    warmup = applications(21, 0)
    items = {layout: applications(n, 21 + k * n) for k, layout in enumerate(plans)}
    phases = {layout: {name: Phase(name) for name in PHASES} for layout in plans}
    with tempfile.TemporaryDirectory(prefix="sonod-bench-") as tmp:
        stack = Stack(Path(tmp), database_url)
        try:
            t0 = time.perf_counter()
            await stack.up(baselines=[bare_worker(), reference_worker()])
            timings = {"stack_up_s": time.perf_counter() - t0}
            pids = {name: p.pid for name, p in stack.procs.items()} | {"bench": os.getpid()}
            own = {"pipeline": "", "bare": "bare-worker", "reference": "reference-worker"}
            ours = {phase: {k: v for k, v in pids.items() if k not in set(own.values()) - {worker}}
                    for phase, worker in own.items()}
            async with Pipeline(stack.api_url, args.concurrency, args.poll) as pipeline, \
                    Bare(stack.settings, args.concurrency, args.poll) as baseline, \
                    Reference(stack.settings, args.concurrency, args.poll) as reference:
                drivers = {"reference": reference.one, "bare": baseline.one, "pipeline": pipeline.one}
                await asyncio.gather(closed_loop(warmup[:8], len(warmup), baseline.one, None, {}),
                                     closed_loop(warmup[:8], len(warmup), reference.one, None, {}),
                                     closed_loop(warmup, len(warmup), pipeline.one, None, {}))
                timings["warmup_s"] = time.perf_counter() - t0 - timings["stack_up_s"]
                profiler = Profiler(Path(args.profile), {k: pids[k] for k in ("worker", "api")}) \
                    if args.profile else None
                for r in range(rounds):  # interleaved, so that a neighbour's burst of load hits every phase alike
                    for layout, plan in plans.items():
                        if plan:
                            for name, pid in pids.items():
                                pin(pid, plan[0] if name == "temporal" else plan[1])
                        chunk = items[layout][r::rounds]
                        for name in PHASES:
                            await closed_loop(chunk, args.concurrency, drivers[name], phases[layout][name],
                                              ours[name], stack.server_metrics)
                        stack.check_alive()
                if profiler:
                    profiler.stop()
                pin(os.getpid(), set(cpus))
            timings["measured_s"] = sum(p.elapsed for by_name in phases.values() for p in by_name.values())
        finally:
            stack.stop_all()
    return report(phases, plans, n, rounds, database, args, timings)


PHASES = ("reference", "bare", "pipeline")  # the order of each round
TARGET_PER_S, TARGET_RATIO, TARGET_CPU_MS = 15.0, 0.8, 130.0


def report(phases: dict[str, dict[str, Phase]], plans: dict, n: int, rounds: int, database: str, args,
           timings: dict) -> dict:
    import json

    from bench.harness import load_report, server_profile

    def ms(values: list[float], p: int) -> float:
        return round(percentile(values, p), 1)

    print(f"sonod pipeline bench on {database}: {n} applications per phase (after a warm-up) in {rounds} interleaved "
          f"rounds, closed loop, concurrency {args.concurrency}, poll {args.poll * 1000:.0f} ms, {os_cpus()} CPUs; "
          f"{load_report()}")
    layouts_out: dict[str, dict] = {}
    for layout, by_name in phases.items():
        real, bare, ref = by_name["pipeline"], by_name["bare"], by_name["reference"]
        if layout:
            server, rest = plans[layout]
            print(f"--- taskset layout {layout!r}: the Temporal server on CPU {sorted(server)}, the worker, the API, "
                  f"the simulator, the bench workers and this driver on CPU {sorted(rest)}")
        print(f"{'phase':10} {'done':>5} {'fail':>5} {'apps/s':>7} {'submit p50':>11} {'p99':>8} "
              f"{'decide p50':>11} {'p99':>8} {'e2e p50':>8} {'p99':>8} {'polls/app':>9}")
        for phase in (real, ref, bare):
            print(f"{phase.name:10} {phase.done:5d} {len(phase.failures):5d} {phase.per_s:7.2f} "
                  f"{ms(phase.submit_ms, 50):11.1f} {ms(phase.submit_ms, 99):8.1f} {ms(phase.decision_ms, 50):11.1f} "
                  f"{ms(phase.decision_ms, 99):8.1f} {ms(phase.total_ms, 50):8.1f} {ms(phase.total_ms, 99):8.1f} "
                  f"{phase.polls / max(phase.done, 1):9.1f}")
        ratio_ref = real.per_s / ref.per_s if ref.per_s else 0.0
        ratio_bare = real.per_s / bare.per_s if bare.per_s else 0.0
        print(f"ratio pipeline/reference: {ratio_ref:.2f} (target >= {TARGET_RATIO}); pipeline {real.per_s:.1f} "
              f"apps/s (target >= {TARGET_PER_S:g}); apps/s is steady state, done/wall clock: pipeline "
              f"{real.wall_per_s:.2f}, reference {ref.wall_per_s:.2f}, bare {bare.wall_per_s:.2f}")
        print(f"ratio pipeline/bare (sonod's shape, no-op activities): {ratio_bare:.2f}")
        per_app, others = {}, {}
        for phase in (real, ref, bare):
            done = max(phase.done, 1)
            per_app[phase.name] = {k: round(v * 1000 / done)
                                   for k, v in sorted(phase.cpu.items(), key=lambda kv: -kv[1])}
            others[phase.name] = round((phase.machine_busy_s - sum(phase.cpu.values())) * 1000 / done)
            print(f"CPU ms per application, {phase.name}: "
                  + ", ".join(f"{k} {v}" for k, v in per_app[phase.name].items() if v)
                  + f" (total {sum(per_app[phase.name].values())}"
                  + (f", target <= {TARGET_CPU_MS:g}" if phase is real else "")
                  + f"); anything else on the machine {others[phase.name]}; machine busy {phase.machine_busy:.0%}")
        # what the CPU alone allows: all the cores for our processes and nothing else (a noisy neighbour takes its
        # share of the cores, and so of the measured applications/s, but hardly changes what one application costs)
        cores = len(plans[layout][0] | plans[layout][1]) if layout else os_cpus()
        ceiling = {name: cores * 1000 / sum(cpu.values()) if sum(cpu.values()) else 0.0
                   for name, cpu in per_app.items()}
        print(f"CPU ceiling on {cores} cores (cores / CPU per application): pipeline {ceiling['pipeline']:.1f} "
              f"apps/s, reference {ceiling['reference']:.1f}, bare {ceiling['bare']:.1f}, ratio pipeline/reference "
              f"{ceiling['pipeline'] / max(ceiling['reference'], 1e-9):.2f}")
        profiles = {phase.name: server_profile(phase.server, phase.done) for phase in (real, ref)}
        for name, profile in profiles.items():
            top = list(profile["persistence_ms"].items())[:args.profile_top]
            rpcs = list(profile["rpc_calls"].items())[:args.profile_top]
            print(f"Temporal server, {name}, an application: {sum(profile['persistence_calls'].values()):.0f} "
                  f"persistence calls, {sum(profile['persistence_ms'].values()):.1f} ms in them ("
                  + ", ".join(f"{k} {v:.1f}" for k, v in top) + f"); {sum(profile['rpc_calls'].values()):.0f} gRPC "
                  "calls (" + ", ".join(f"{k} {v:.1f}" for k, v in rpcs) + ")")
        busy_cores = {phase.name: {cpu: round(s / max(phase.elapsed, 1e-9), 2) for cpu, s in phase.cores.items()}
                      for phase in (real, ref, bare)}
        # how much of a CPU the server, and the rest of the stack, used: in 'split' each has a CPU of its own
        own = {phase.name: {"temporal": round(phase.cpu.get("temporal", 0.0) / max(phase.elapsed, 1e-9), 2),
                            "rest": round((sum(phase.cpu.values()) - phase.cpu.get("temporal", 0.0))
                                          / max(phase.elapsed, 1e-9), 2)} for phase in (real, ref, bare)}
        if layout:
            print("CPUs used, in CPUs: " + "; ".join(
                f"{name}: the server {o['temporal']:.2f}, the rest {o['rest']:.2f}" for name, o in own.items())
                  + ". Each CPU busy (anyone's work): " + "; ".join(
                f"{name} " + ", ".join(f"{cpu} {b:.0%}" for cpu, b in sorted(cores_.items()))
                for name, cores_ in busy_cores.items()))
        layouts_out[layout or "default"] = {
            "apps_per_s": round(real.per_s, 2), "reference_per_s": round(ref.per_s, 2),
            "bare_per_s": round(bare.per_s, 2), "ratio_reference": round(ratio_ref, 3),
            "ratio_bare": round(ratio_bare, 3), "cpu_ms_per_app": per_app,
            "cpu_ms_per_app_total": {k: sum(v.values()) for k, v in per_app.items()},
            "other_processes_ms_per_app": others,
            "cpu_ceiling_per_s": {k: round(v, 1) for k, v in ceiling.items()}, "cpus_busy": busy_cores,
            "cpus_used": own,
            "server_profile": profiles,
            "failures": sum(len(p.failures) for p in (real, bare, ref)),
            "decision_p99_ms": ms(real.decision_ms, 99), "reference_decision_p99_ms": ms(ref.decision_ms, 99),
        }
    if len(layouts_out) > 1:
        one, split, shared = (layouts_out[k]["apps_per_s"] for k in ("one", "split", "shared"))
        ref_one, ref_split, ref_shared = (layouts_out[k]["reference_per_s"] for k in ("one", "split", "shared"))
        used = layouts_out["split"]["cpus_used"]["pipeline"]
        print(f"--- what one more core buys (2 CPUs can show no more): pipeline {one:.1f} apps/s on one CPU, "
              f"{split:.1f} with the server on a CPU of its own and the rest on the other "
              f"({split / max(one, 1e-9):.2f}x), "
              f"{shared:.1f} with both CPUs shared ({shared / max(one, 1e-9):.2f}x); reference {ref_one:.1f}, "
              f"{ref_split:.1f}, {ref_shared:.1f}. In 'split', under the pipeline, the server used "
              f"{used['temporal']:.0%} of its CPU and the rest {used['rest']:.0%} of theirs: the side near 100% is "
              "the ceiling (a neighbour's load on the same CPU lowers both)")
    first = phases[next(iter(phases))]
    real, bare, ref = first["pipeline"], first["bare"], first["reference"]
    main_layout = layouts_out[next(iter(layouts_out))]
    print("time: " + ", ".join(f"{k.removesuffix('_s').replace('_', ' ')} {v:.1f} s" for k, v in timings.items()))
    failures = [f for by_name in phases.values() for p in by_name.values() for f in p.failures]
    for failure in failures[:5]:
        print(f"failed: {failure}")
    total_cpu = main_layout["cpu_ms_per_app_total"]["pipeline"]
    summary = {
        "bench": "pipeline", "database": database, "n": n, "rounds": rounds,
        "warmup": {"pipeline": 21, "bare": 8, "reference": 8},
        "concurrency": args.concurrency, "poll_ms": round(args.poll * 1000),
        "apps_per_s": round(real.per_s, 2), "reference_per_s": round(ref.per_s, 2), "bare_per_s": round(bare.per_s, 2),
        "ratio_reference": main_layout["ratio_reference"], "ratio": main_layout["ratio_bare"],
        "apps_per_s_wall": round(real.wall_per_s, 2), "reference_per_s_wall": round(ref.wall_per_s, 2),
        "bare_per_s_wall": round(bare.wall_per_s, 2),
        "submit_p50_ms": ms(real.submit_ms, 50), "submit_p99_ms": ms(real.submit_ms, 99),
        "decision_p50_ms": ms(real.decision_ms, 50), "decision_p99_ms": ms(real.decision_ms, 99),
        "e2e_p50_ms": ms(real.total_ms, 50), "e2e_p99_ms": ms(real.total_ms, 99),
        "bare_submit_p50_ms": ms(bare.submit_ms, 50), "bare_decision_p50_ms": ms(bare.decision_ms, 50),
        "reference_submit_p50_ms": ms(ref.submit_ms, 50), "reference_decision_p50_ms": ms(ref.decision_ms, 50),
        "polls_per_app": round(real.polls / max(real.done, 1), 1),
        "failures": len(failures),
        "cpu_ms_per_app": main_layout["cpu_ms_per_app"], "cpu_ms_per_app_total": total_cpu,
        "machine_busy": {phase.name: round(phase.machine_busy, 2) for phase in (real, ref, bare)},
        "cpu_ceiling_per_s": main_layout["cpu_ceiling_per_s"],
        "layouts": layouts_out if len(layouts_out) > 1 else None,
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "meets_target": main_layout["ratio_reference"] >= TARGET_RATIO and real.per_s >= TARGET_PER_S
        and total_cpu <= TARGET_CPU_MS,
    }
    print(f"targets: pipeline >= {TARGET_PER_S:g} apps/s, >= {TARGET_RATIO}x the reference, <= {TARGET_CPU_MS:g} ms of "
          f"CPU an application: {'met' if summary['meets_target'] else 'MISSED'}")
    print(json.dumps(summary))
    return summary


def os_cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def main() -> None:
    import argparse
    import asyncio

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_N} applications per phase: under a minute")
    ap.add_argument("-n", type=int, default=None, help=f"applications per phase (default {DEFAULT_N})")
    ap.add_argument("--concurrency", type=int, default=16, help="clients of the closed loop (default 16)")
    ap.add_argument("--poll", type=float, default=0.2, help="status poll interval in seconds (default 0.2)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="interleaved rounds of each phase (default 3, or 1 with --quick)")
    ap.add_argument("--profile", metavar="DIR", help="py-spy the worker and the API over the measured rounds")
    ap.add_argument("--profile-top", type=int, default=6,
                    help="how many of the Temporal server's persistence operations and gRPC methods to print (6)")
    ap.add_argument("--taskset", action="store_true",
                    help="run each round three times, pinned: everything on every CPU, the server on one CPU and "
                         "the rest on the others, everything on one CPU")
    args = ap.parse_args()
    summary = asyncio.run(bench(args))
    sys.exit(0 if summary["failures"] == 0 else 1)


if __name__ == "__main__":
    main()
