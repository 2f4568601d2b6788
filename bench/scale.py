"""The officer list's latency as the read model grows: 10k, 100k and 1M applications in PostgreSQL (issue #8).

    .venv/bin/python bench/scale.py [--quick] [--sizes 10000,100000,1000000] [--rounds R] [--explain]

What runs. One scratch PostgreSQL database per size (`sonod_bench_scale_<pid>_<size>` on `--postgres`,
default `postgresql://postgres@127.0.0.1:5432/postgres`), all dropped at the end: the first is migrated
and seeded by `sonod migrate` / `sonod seed` and the others are copied from it (`CREATE DATABASE … TEMPLATE`).
Each then gets its `applications` rows by COPY, synthetic but shaped like the worker's projections: the 21
unions in turn, the applicant, contact and NID-gateway identity (with its SVG photo) of the registry's people,
an event list as long as the status implies (its times all the row's `created_at`), `created_at` rising with the
row (the newest rows are the last inserted, as in a live system), a status mix of a working union (80% issued,
4% awaiting the chairman, …).
Then VACUUM ANALYZE, as autovacuum would have done. One `sonod api` per database (a subprocess started with
bench/harness.py's `Stack`; no Temporal: the list does not touch it).

How it measures. A secretary of each union logs in once (TOTP). Each round walks the 21 unions; for each
union it asks every database in turn (so the sizes share the machine's noise) for
`GET /api/v1/applications?union=<slug>&status=issued&limit=50` and follows `next_cursor` to page 5, then
for `status=awaiting_decision` page 1 (the chairman's queue). One request at a time over a keep-alive
connection; the latency is the client's round trip. The figure is p95 of the `issued` pages (pages 1 to 5
pooled) per size, and the target is that it grows at most 1.5x from the smallest size to the largest.
`--explain` prints EXPLAIN (ANALYZE, BUFFERS) of the list's query at page 5 on the largest database.

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
import random
import statistics
import tempfile
import time
from pathlib import Path

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
QUICK_SIZES, FULL_SIZES = (10_000, 100_000), (10_000, 100_000, 1_000_000)
GROWTH_TARGET = 1.5
PAGES = 5
# the status mix of a working union; the list is read for `issued` (deep) and `awaiting_decision` (its queue)
STATUS_MIX = [("issued", 80), ("rejected", 4), ("nid_failed", 2), ("cancelled", 2), ("awaiting_decision", 4),
              ("awaiting_verification", 2), ("awaiting_recommendation", 2), ("awaiting_payment", 2),
              ("returned", 1), ("verifying_nid", 1)]
EVENTS_BY_STATUS = {  # (status, actor, note) the workflow records on the way to each status
    "issued": ["submitted", "outbox", "verifying_nid", "awaiting_decision", "outbox", "issuing", "issued", "outbox"],
    "rejected": ["submitted", "outbox", "verifying_nid", "awaiting_decision", "outbox", "rejected", "outbox"],
    "nid_failed": ["submitted", "outbox", "verifying_nid", "nid_failed", "outbox"],
    "cancelled": ["submitted", "outbox", "verifying_nid", "awaiting_payment", "outbox", "cancelled", "outbox"],
    "awaiting_decision": ["submitted", "outbox", "verifying_nid", "awaiting_decision", "outbox"],
    "awaiting_verification": ["submitted", "outbox", "verifying_nid", "awaiting_recommendation", "outbox",
                              "awaiting_verification", "outbox"],
    "awaiting_recommendation": ["submitted", "outbox", "verifying_nid", "awaiting_recommendation", "outbox"],
    "awaiting_payment": ["submitted", "outbox", "verifying_nid", "awaiting_payment", "outbox"],
    "returned": ["submitted", "outbox", "verifying_nid", "awaiting_decision", "outbox", "returned", "outbox"],
    "verifying_nid": ["submitted", "outbox", "verifying_nid"],
}
COLUMNS = ("id", "union_slug", "certificate_type", "status", "round", "submitted_by", "applicant", "contact",
           "details", "identity", "fee_amount", "fee_paid", "deadline_at", "overdue", "certificate_no", "events",
           "created_at", "updated_at")


# --- scratch databases (bench/api.py and bench/verify.py use these too) ------------------------------------

def database_url(base: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(base).set(database=name).render_as_string(hide_password=False)


def create_database(base: str, name: str, template: str | None = None) -> str:
    import psycopg

    with psycopg.connect(database_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return database_url(base, name)


def drop_database(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(database_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_databases(base: str, prefix: str, names: list[str]):
    """{name: url} of fresh databases `<prefix>_<pid>_<name>`, dropped on the way out."""
    made: list[str] = []
    try:
        urls = {}
        for name in names:
            full = f"{prefix}_{os.getpid()}_{name}"
            made.append(full)
            urls[name] = create_database(base, full)
        yield urls
    finally:
        for full in made:
            with contextlib.suppress(Exception):
                drop_database(base, full)


@contextlib.contextmanager
def scratch_database(base: str | None, prefix: str):
    """The URL of a fresh database `<prefix>_<pid>_db` when `base` names a PostgreSQL server, dropped on the way
    out; "" (the stack's own SQLite) when it does not."""
    if not base:
        yield ""
        return
    with scratch_databases(base, prefix, ["db"]) as urls:
        yield urls["db"]


# --- synthetic read-model rows ----------------------------------------------------------------------------

class Rows:
    """Rows of `applications` as the worker's `Registry.project` writes them, for COPY."""

    def __init__(self, seed: int = 8) -> None:
        from infra.porichoy import REGISTRY_PATH
        from infra.porichoy.app import NOT_FOR_VOTERS, avatar
        from sonod.unions import GOPALGANJ_SADAR

        self.rng = random.Random(seed)
        self.unions = [u.slug for u in GOPALGANJ_SADAR]
        people = [json.loads(line) for line in REGISTRY_PATH.read_text(encoding="utf-8").splitlines() if line]
        people = [p for p in people if p["id_type"] == "nid"]
        keys = ("nid", "date_of_birth", "name_bn", "name_en", "father_name_bn", "mother_name_bn", "ward_no")
        self.people = [(
            json.dumps({k: p[k] for k in keys}, ensure_ascii=False),
            json.dumps({k: v for k, v in p.items() if k not in NOT_FOR_VOTERS} | {"photo": avatar(p)},
                       ensure_ascii=False),
        ) for p in people]
        self.contacts = [json.dumps({"mobile": f"017{i:08d}", "email": None}) for i in range(997)]
        weights = [w for _, w in STATUS_MIX]
        self.statuses = self.rng.choices([s for s, _ in STATUS_MIX], weights, k=9973)
        self.t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        self._events: dict[tuple[str, str], str] = {}

    def events(self, status: str, union: str) -> str:
        """The event list of a row in `status`, with `@AT@` where each event's time goes."""
        key = (status, union)
        if key not in self._events:
            out = []
            for k, s in enumerate(EVENTS_BY_STATUS[status]):
                if s == "outbox":
                    out.append({"at": "@AT@", "status": out[-1]["status"], "actor": "outbox",
                                "note": f"{out[-1]['status']}: sent by sms"})
                else:
                    out.append({"at": "@AT@", "status": s, "actor": "sonod" if k else f"udc.{union}",
                                "note": s.replace("_", " ")})
            self._events[key] = json.dumps(out)
        return self._events[key]

    def batch(self, start: int, n: int, spacing_s: float):
        """Rows start … start+n-1; row i was created `spacing_s` seconds after row i-1."""
        for i in range(start, start + n):
            union = self.unions[i % len(self.unions)]
            status = self.statuses[i % len(self.statuses)]
            applicant, identity = self.people[(i // len(self.unions)) % len(self.people)]
            created = self.t0 + dt.timedelta(seconds=i * spacing_s)
            issued = status == "issued"
            yield (
                f"A{created:%y%m%d}-{i:08X}", union, "citizenship", status, 0, "portal:demo-portal", applicant,
                self.contacts[i % len(self.contacts)], "{}", None if status == "verifying_nid" else identity, 0,
                True, created + dt.timedelta(days=7), False,
                f"{union.upper()}-{created.year}-{i:06d}" if issued else None,
                self.events(status, union).replace("@AT@", created.isoformat()),
                created, created + dt.timedelta(minutes=5),
            )


def load(url: str, rows: Rows, n: int, spacing_s: float) -> float:
    """COPY n rows into `applications`, then VACUUM ANALYZE; returns the seconds it took."""
    import psycopg

    t = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur, \
            cur.copy(f"COPY applications ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows.batch(0, n, spacing_s):
            copy.write_row(row)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE applications")
    return time.perf_counter() - t


def explain(url: str, union: str, status: str, depth: int) -> tuple[str, dict]:
    """The plan of the list's query at page `depth`, as the API's SQLAlchemy statement renders it."""
    import psycopg
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from api.services import applications
    from sonod.db import make_engine

    engine = make_engine(url)
    cursor = None
    with Session(engine) as session:
        for _ in range(depth - 1):
            cursor = applications.page(session, union, status, 50, cursor).next_cursor
        captured: list[tuple[str, object]] = []

        def capture(conn, cur, statement, parameters, context, executemany):
            if "FROM applications" in statement:
                captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", capture)
        applications.page(session, union, status, 50, cursor)
        event.remove(engine, "before_cursor_execute", capture)
    engine.dispose()
    statement, params = captured[-1]
    with psycopg.connect(url) as conn:
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params).fetchone()[0][0]
        text = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params))
    indexes = sorted(_plan_indexes(plan["Plan"]))
    top = plan["Plan"]
    return text, {"indexes": indexes, "execution_ms": round(plan["Execution Time"], 3),
                  "shared_buffers_hit": top.get("Shared Hit Blocks", 0),
                  "shared_buffers_read": top.get("Shared Read Blocks", 0),
                  "index_cond": _index_conds(top)}


def _plan_indexes(node: dict) -> set[str]:
    found = {node["Index Name"]} if "Index Name" in node else set()
    for child in node.get("Plans", []):
        found |= _plan_indexes(child)
    return found


def _index_conds(node: dict) -> list[str]:
    found = [node["Index Cond"]] if "Index Cond" in node else []
    for child in node.get("Plans", []):
        found += _index_conds(child)
    return found


# --- the measurement --------------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(p * 10) - 1]


async def login(http, username: str) -> dict:
    import pyotp

    from sonod.settings import DEV_SECRETS

    r = await http.post("/api/v1/auth/token", data={
        "username": username, "password": DEV_SECRETS["demo_password"],
        "totp": pyotp.TOTP(DEV_SECRETS["demo_totp_secret"]).now()})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def measure(apis: dict[int, str], unions: list[str], rounds: int) -> dict[int, dict[str, list[float]]]:
    """{size: {"issued/1": [ms…], …, "awaiting_decision/1": [ms…]}}."""
    import httpx

    out: dict[int, dict[str, list[float]]] = {size: {} for size in apis}
    clients = {size: httpx.AsyncClient(base_url=url, timeout=30) for size, url in apis.items()}
    try:
        tokens = {size: {u: await login(http, f"secretary.{u}") for u in unions} for size, http in clients.items()}

        async def walk(size: int, union: str, status: str, pages: int, record: bool) -> None:
            http, cursor = clients[size], None
            for depth in range(1, pages + 1):
                params = {"union": union, "status": status, "limit": 50} | ({"cursor": cursor} if cursor else {})
                t = time.perf_counter()
                r = await http.get("/api/v1/applications", params=params, headers=tokens[size][union])
                ms = (time.perf_counter() - t) * 1000
                if r.status_code != 200:
                    raise RuntimeError(f"{size}: the list answered {r.status_code}: {r.text[:200]}")
                body = r.json()
                if record:
                    out[size].setdefault(f"{status}/{depth}", []).append(ms)
                    out[size].setdefault(f"{status}/rows", []).append(len(body["items"]))
                cursor = body["next_cursor"]
                if cursor is None:
                    break

        for size in apis:  # warm-up: connections, the API's first requests, the index's upper pages
            for union in unions:
                await walk(size, union, "issued", PAGES, False)
        for _ in range(rounds):
            for union in unions:
                for size in apis:
                    await walk(size, union, "issued", PAGES, True)
                    await walk(size, union, "awaiting_decision", 1, True)
    finally:
        for http in clients.values():
            await http.aclose()
    return out


async def bench(args) -> dict:
    from bench.harness import Stack
    from sonod.unions import GOPALGANJ_SADAR

    sizes = sorted(args.sizes)
    unions = [u.slug for u in GOPALGANJ_SADAR]
    names = ["base"] + [str(s) for s in sizes]
    stacks: list[Stack] = []
    loads: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="sonod-scale-") as tmp, \
            scratch_databases(args.postgres, "sonod_bench_scale", names[:1]) as base_urls:
        try:
            (Path(tmp) / "base").mkdir()
            base = Stack(Path(tmp) / "base", base_urls["base"])
            await asyncio.to_thread(base.cli, "migrate")
            await asyncio.to_thread(base.cli, "seed")
            template = f"sonod_bench_scale_{os.getpid()}_base"
            urls = {}
            for size in sizes:
                name = f"sonod_bench_scale_{os.getpid()}_{size}"
                urls[size] = create_database(args.postgres, name, template=template)
            rows = Rows()
            for size in sizes:
                # the same calendar span for every size: a union's 3 years, more or less busy
                loads[size] = await asyncio.to_thread(load, urls[size], rows, size, 3 * 365 * 86400 / size)
                print(f"loaded {size:>9,} rows in {loads[size]:5.1f} s", flush=True)
            apis = {}
            for size in sizes:
                (Path(tmp) / str(size)).mkdir()
                stack = Stack(Path(tmp) / str(size), urls[size])
                stacks.append(stack)
                stack.start("api", [sys.executable, "-m", "infra.cli", "api"])
                apis[size] = stack.api_url
            for stack in stacks:
                await stack.wait_http("api", f"{stack.api_url}/openapi.json")
            t = time.perf_counter()
            samples = await measure(apis, unions, args.rounds)
            measured_s = time.perf_counter() - t
            plan_text, plan = (await asyncio.to_thread(explain, urls[sizes[-1]], unions[3], "issued", PAGES)) \
                if args.explain or not args.quick else ("", {})
            small_plan = (await asyncio.to_thread(explain, urls[sizes[0]], unions[3], "issued", PAGES))[1] \
                if args.explain or not args.quick else {}
        finally:
            for stack in stacks:
                stack.stop_all()
            for size in sizes:
                with contextlib.suppress(Exception):
                    drop_database(args.postgres, f"sonod_bench_scale_{os.getpid()}_{size}")
    return report(samples, sizes, loads, args, measured_s, plan_text, plan, small_plan)


def report(samples, sizes, loads, args, measured_s, plan_text, plan, small_plan) -> dict:
    def pooled(size: int, status: str, pages: range) -> list[float]:
        return [ms for d in pages for ms in samples[size].get(f"{status}/{d}", [])]

    print(f"officer list on PostgreSQL, {len(sizes)} databases measured side by side, {args.rounds} rounds of 21 "
          f"unions, {measured_s:.0f} s; {os.cpu_count()} CPUs")
    print(f"{'rows':>10} {'load s':>7} {'query':28} {'n':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'rows/page':>9}")
    per_size = {}
    for size in sizes:
        entry = {"load_s": round(loads[size], 1)}
        for label, status, pages in [("issued p1-5", "issued", range(1, PAGES + 1)),
                                     ("issued p1", "issued", range(1, 2)),
                                     (f"issued p{PAGES}", "issued", range(PAGES, PAGES + 1)),
                                     ("awaiting_decision p1", "awaiting_decision", range(1, 2))]:
            values = pooled(size, status, pages)
            per_page = samples[size].get(f"{status}/rows", [0])
            p50, p95, p99 = (percentile(values, p) for p in (50, 95, 99))
            print(f"{size:>10,} {loads[size]:7.1f} {label:28} {len(values):5d} {p50:7.2f} {p95:7.2f} {p99:7.2f} "
                  f"{statistics.mean(per_page):9.1f}")
            entry[label.replace(" ", "_")] = {"n": len(values), "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
                                              "p99_ms": round(p99, 2)}
        per_size[str(size)] = entry
    first, last = per_size[str(sizes[0])], per_size[str(sizes[-1])]
    growth = last["issued_p1-5"]["p95_ms"] / first["issued_p1-5"]["p95_ms"]
    queue_growth = last["awaiting_decision_p1"]["p95_ms"] / first["awaiting_decision_p1"]["p95_ms"]
    print(f"p95 growth {sizes[0]:,} -> {sizes[-1]:,} rows: issued pages 1-{PAGES} {growth:.2f}x, "
          f"awaiting_decision page 1 {queue_growth:.2f}x (target <= {GROWTH_TARGET}x)")
    if plan_text:
        print(f"EXPLAIN of page {PAGES} (status=issued) at {sizes[-1]:,} rows:\n{plan_text}")
    summary = {
        "bench": "scale", "database": "postgresql", "sizes": sizes, "rounds": args.rounds, "pages": PAGES,
        "per_size": per_size, "p95_growth": round(growth, 3), "queue_p95_growth": round(queue_growth, 3),
        "growth_target": GROWTH_TARGET, "plan_at_largest": plan, "plan_at_smallest": small_plan,
        "uses_status_index": "ix_applications_union_status_created" in plan.get("indexes", []) if plan else None,
        "meets_target": growth <= GROWTH_TARGET,
    }
    print(json.dumps(summary))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k and 100k rows, 2 rounds: under a minute")
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                    help="row counts, comma-separated (default 10000,100000,1000000)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds of the 21 unions (default 10; quick 2)")
    ap.add_argument("--postgres", default=os.environ.get("SONOD_BENCH_POSTGRES", POSTGRES),
                    help="a PostgreSQL URL whose server may create databases")
    ap.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the list's query (always in a full run)")
    ap.add_argument("--plot", metavar="PNG", help="draw the figures (needs matplotlib: pip install -e .[bench])")
    args = ap.parse_args()
    args.sizes = args.sizes or list(QUICK_SIZES if args.quick else FULL_SIZES)
    args.rounds = args.rounds or (2 if args.quick else 10)
    summary = asyncio.run(bench(args))
    if args.plot:
        plot(summary, args.plot)


def plot(summary: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = summary["sizes"]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for key, label, color in [("issued_p1-5", f"status=issued, pages 1-{PAGES}", "tab:blue"),
                              ("awaiting_decision_p1", "status=awaiting_decision, page 1", "tab:red")]:
        for pct, style in (("p50_ms", "o--"), ("p95_ms", "o-")):
            ax.plot(sizes, [summary["per_size"][str(n)][key][pct] for n in sizes], style, color=color,
                    label=f"{label} {pct[:3]}")
    base = summary["per_size"][str(sizes[0])]["issued_p1-5"]["p95_ms"]
    ax.axhline(base * GROWTH_TARGET, color="grey", lw=0.8, ls=":",
               label=f"target: {GROWTH_TARGET}x p95 at {sizes[0]:,}")
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("applications in the read model (PostgreSQL)")
    ax.set_ylabel("GET /api/v1/applications, ms")
    ax.set_title(f"Officer list latency as the table grows (p95 growth {summary['p95_growth']}x)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
