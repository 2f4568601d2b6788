"""What the benchmarks share: a whole stack of subprocesses in a temp dir, CPU readings from /proc, the
applications they submit, percentiles.

Imports stay inside the functions, as in bench/pipeline.py, whose workflow sandbox re-imports it for every
workflow: importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import sys


def percentile(values: list[float], p: int) -> float:
    import statistics

    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (its threads included), from /proc."""
    import os

    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Stack:
    """The processes of one run, each in its own process group, with logs in the temp dir."""

    def __init__(self, tmp, database_url: str) -> None:
        import os
        from pathlib import Path

        self.tmp, self.root = tmp, Path(__file__).resolve().parent.parent
        self.var = tmp / "var"
        self.var.mkdir()
        self.procs: dict[str, object] = {}
        self.ports = {name: free_port() for name in ("temporal", "ui", "api", "porichoy", "temporal-metrics")}
        # the dev server's own /metrics (persistence and RPC counters and latencies): `server_metrics`
        self.temporal_flags = ["--metrics-port", str(self.ports["temporal-metrics"])]
        self.env = dict(os.environ)  # SONOD_* settings pass through (fonts, slots, ...), but not where things are
        self.env.pop("SONOD_DATABASE_URL", None)
        self.env.update({
            "PYTHONUNBUFFERED": "1",
            "SONOD_VAR_DIR": str(self.var),
            "SONOD_TEMPORAL_ADDRESS": f"127.0.0.1:{self.ports['temporal']}",
            "SONOD_TEMPORAL_UI_PORT": str(self.ports["ui"]),
            "SONOD_API_PORT": str(self.ports["api"]),
            "SONOD_PUBLIC_URL": f"http://127.0.0.1:{self.ports['api']}",
            "SONOD_PORICHOY_PORT": str(self.ports["porichoy"]),
            "SONOD_PORICHOY_URL": f"http://127.0.0.1:{self.ports['porichoy']}",
            "SONOD_TASK_QUEUE": "sonod",
        })
        if database_url:
            self.env["SONOD_DATABASE_URL"] = database_url

    @property
    def settings(self):
        from sonod.settings import Settings

        return Settings(var_dir=self.var, temporal_address=self.env["SONOD_TEMPORAL_ADDRESS"],
                        temporal_ui_port=self.ports["ui"], database_url=self.env.get("SONOD_DATABASE_URL", ""))

    @property
    def api_url(self) -> str:
        return self.env["SONOD_PUBLIC_URL"]

    def cli(self, *args: str) -> None:
        import subprocess

        done = subprocess.run([sys.executable, "-m", "infra.cli", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"sonod {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self, name: str, argv: list[str]) -> int:
        import subprocess

        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(argv, cwd=self.root, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        return self.procs[name].pid

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 20) -> str:
        try:
            return "\n".join((self.tmp / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, name: str) -> None:
        import os
        import signal
        import subprocess

        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    async def wait_http(self, name: str, url: str, timeout: float = 60) -> None:
        import asyncio
        import time

        import httpx

        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                self.check_alive()
                try:
                    if (await http.get(url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{name} did not answer {url} within {timeout:.0f} s:\n{self.tail(name)}")

    async def wait_pollers(self, name: str, queue: str, since, timeout: float = 60) -> None:
        import asyncio
        import time

        from infra.temporal_server import has_pollers

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if await has_pollers(self.settings, queue, since):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{name} did not poll {queue} within {timeout:.0f} s:\n{self.tail(name)}")

    async def up(self, baselines: list[tuple[str, list[str], str]] = (), sonod: bool = True) -> None:
        """Temporal, the Porichoy simulator, the database, `sonod worker` and `sonod api` (only Temporal when not
        `sonod`); and the benchmark's own workers beside them: `baselines`, (name, argv, task queue) of each."""
        import asyncio
        import datetime as dt
        import time

        from infra.temporal_server import find_binary, serving, start_dev_command

        since = dt.datetime.now(dt.UTC)
        self.start("temporal", start_dev_command(find_binary(self.settings), self.settings) + self.temporal_flags)
        if sonod:
            self.start("porichoy", [sys.executable, "-m", "infra.cli", "porichoy"])
            database = asyncio.create_task(asyncio.to_thread(lambda: (self.cli("migrate"), self.cli("seed"))))
        deadline = time.monotonic() + 60
        while not await serving(self.settings):
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Temporal dev server did not start:\n{self.tail('temporal')}")
            await asyncio.sleep(0.2)
        for name, argv, _ in baselines:
            self.start(name, argv)
        if sonod:
            await database
            self.start("worker", [sys.executable, "-m", "infra.cli", "worker"])
            self.start("api", [sys.executable, "-m", "infra.cli", "api"])
            await self.wait_http("porichoy", f"{self.env['SONOD_PORICHOY_URL']}/healthz")
            await self.wait_http("api", f"{self.api_url}/healthz")
            await self.wait_pollers("worker", "sonod", since)
        for name, _, queue in baselines:
            await self.wait_pollers(name, queue, since)


    def server_metrics(self) -> dict[str, float]:
        """The dev server's Prometheus counters and histogram sums, by name and labels (`name{a="b"}`)."""
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['temporal-metrics']}/metrics", timeout=10) as r:
            return prometheus_values(r.read().decode())


def prometheus_values(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            try:
                out[key] = out.get(key, 0.0) + float(value)
            except ValueError:
                continue
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc, in MiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def per_cpu() -> dict[str, float]:
    """Busy CPU seconds of each CPU so far (anyone's work), from /proc/stat: `{"cpu0": ..., "cpu1": ...}`."""
    import os

    hz, out = os.sysconf("SC_CLK_TCK"), {}
    with open("/proc/stat") as f:
        for line in f:
            name, *ticks = line.split()
            if name.startswith("cpu") and name != "cpu":
                t = [int(x) for x in ticks]
                out[name] = (sum(t) - t[3] - t[4]) / hz
    return out


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of a process, and of its children, onto these CPUs (what `taskset -a -p -c` does). New
    threads inherit their creator's CPUs."""
    import os
    from pathlib import Path

    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(task.name), cpus)
        with contextlib.suppress(OSError, ValueError):
            for child in (task / "children").read_text().split():
                pin(int(child), cpus)


def server_profile(counters: dict[str, float], done: int) -> dict[str, dict[str, float]]:
    """Where the dev server's work goes, an application: its persistence calls (SQLite, in its own process: their
    latency is mostly its CPU and the database lock) and time by operation, its gRPC calls by method, its
    internal tasks by type. From the counters' deltas of `Stack.server_metrics`."""
    import re

    out: dict[str, dict[str, float]] = {"persistence_calls": {}, "persistence_ms": {}, "rpc_calls": {},
                                        "tasks": {}}
    wanted = {"persistence_requests": ("persistence_calls", "operation", 1),
              "persistence_latency_sum": ("persistence_ms", "operation", 1000),
              "service_requests": ("rpc_calls", "operation", 1),
              "task_requests": ("tasks", "operation", 1)}
    for key, value in counters.items():
        name, _, labels = key.partition("{")
        if name not in wanted:
            continue
        group, label, scale = wanted[name]
        m = re.search(label + r'="([^"]*)"', labels)
        service = re.search(r'service_name="([^"]*)"', labels)
        what = (m.group(1) if m else "?") + (f" ({service.group(1)})" if service and name != "task_requests" else "")
        out[group][what] = out[group].get(what, 0.0) + value * scale / max(done, 1)
    return {g: dict(sorted(((k, round(v, 2)) for k, v in d.items() if round(v, 2)), key=lambda kv: -kv[1]))
            for g, d in out.items()}


def load_report() -> str:
    """The load average and the CPUs: the machine is shared with other people's work."""
    import os

    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


class Profiler:
    """py-spy record on the worker and the API over the measured phase (`--profile DIR`), raw collapsed stacks of
    the samples that hold the GIL: where the CPU goes, not where threads wait."""

    def __init__(self, out_dir, pids: dict[str, int]) -> None:
        import shutil
        import subprocess
        from pathlib import Path

        spy = Path(sys.executable).parent / "py-spy"
        spy = str(spy) if spy.exists() else shutil.which("py-spy")
        out_dir.mkdir(parents=True, exist_ok=True)
        self.procs = [subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "100", "--gil",
                                        "--nonblocking", "--threads", "--format", "raw",
                                        "-o", str(out_dir / f"{name}.txt")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for name, pid in pids.items()]

    def stop(self) -> None:
        import signal

        for proc in self.procs:
            proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            proc.wait(30)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    import os

    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def applications(n: int, offset: int) -> list[tuple[int, dict]]:
    """n application bodies round the 21 unions, each union's registry people in turn."""
    import json

    from infra.porichoy import REGISTRY_PATH
    from sonod.unions import GOPALGANJ_SADAR

    people: dict[str, list[dict]] = {u.slug: [] for u in GOPALGANJ_SADAR}
    for line in REGISTRY_PATH.read_text(encoding="utf-8").splitlines():
        p = json.loads(line) if line else None
        if p and p["id_type"] == "nid" and not p.get("date_of_death") and p["union"] in people:
            people[p["union"]].append(p)
    out = []
    for i in range(offset, offset + n):
        union = GOPALGANJ_SADAR[i % len(GOPALGANJ_SADAR)].slug
        p = people[union][(i // len(GOPALGANJ_SADAR)) % len(people[union])]
        out.append((i, {
            "union": union, "certificate_type": "citizenship",
            "applicant": {k: p[k] for k in ("nid", "date_of_birth", "name_bn", "name_en", "father_name_bn",
                                            "mother_name_bn", "ward_no")},
            "contact": {"mobile": f"017{i % 10**8:08d}", "email": None}, "details": {},
        }))
    return out


async def wait_until(read, wanted: str, poll: float, timeout: float = 120) -> int:
    """Poll until the status is `wanted`; returns how many polls it took."""
    import asyncio
    import time

    deadline, polls = time.monotonic() + timeout, 0
    while True:
        await asyncio.sleep(poll)
        status = await read()
        polls += 1
        if status == wanted:
            return polls
        if status in ("nid_failed", "rejected", "cancelled", "issued") or time.monotonic() > deadline:
            raise RuntimeError(f"is {status}, not {wanted}")


class ReadModel:
    """The applications' statuses, read from the `applications` table on an engine of the bench's own."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        from sonod.db import make_engine

        # SQLite: a plain reader (sonod's engine begins IMMEDIATE, taking the write lock for a SELECT)
        self.engine = create_engine(url, connect_args={"timeout": 30}) if url.startswith("sqlite") \
            else make_engine(url)

    def statuses(self, ids: list[str]) -> dict[str, str]:
        from sqlalchemy import select

        from sonod import db

        out = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                out |= dict(conn.execute(select(db.Application.id, db.Application.status)
                                         .where(db.Application.id.in_(ids[i:i + 500]))).all())
        return out
