"""`POST /api/v1/verify` requests/s and latency, against a bare FastAPI endpoint under the same server (issue #8).

    .venv/bin/python bench/verify.py [--quick] [--certificates N] [--connections C] [--seconds S] [--rounds R]
                                    [--postgres [URL]] [--profile DIR]

What runs. bench/harness.py's `Stack` (Temporal dev server, Porichoy simulator, `sonod worker`, `sonod api`,
on SQLite in a temp dir, or with `--postgres` on a scratch PostgreSQL database, created and dropped).
`--certificates` certificates (default 400, quick 200) are issued the real way, round the 21 unions: a portal
submits through the API, the chairman approves, the worker signs and renders. A fifth of them are then revoked
by their chairman through the API. The QR texts are the ones the issuer stored with each certificate
(`certificates.qr_text`, the text printed in the PDF's QR). Once they are issued the worker, Temporal and the
simulator are stopped: `verify` needs none of them, and they would only add noise.

The requests: 50% valid QR texts, 20% revoked ones, 30% invalid: half of those a real text with one
base32 character of its payload changed (the signature, or the zlib stream, no longer checks), a quarter
forged (well formed and signed, by a key no union has), a quarter garbage (not base32, empty, a URL with
no `c=`). The valid and revoked requests cycle through EVERY issued certificate (hundreds of distinct QR texts,
each several times, shuffled), so that a server that remembered answers by QR text would not be measuring
verification; sonod's verifier keeps registry facts in memory, never answers, and checks the signature of
every request (api/verification.py). Every answer's `status` is checked against what that text must give.

The baseline, in the same run: `bare_app` below, a FastAPI app with one route, `POST /api/v1/verify`, that
validates the same body model (`VerifyIn`) and returns a constant JSON object, run by uvicorn in its own
process with the arguments `sonod api` gives uvicorn (infra/cli.py `api`: one process, host, port, its logging,
api/guards.py's `server_options`, uvloop and httptools from uvicorn[standard]). A third server, `app`, splits the
difference: sonod's own app (`api.main.create_app`, its middleware and lifespan) with one more route that
answers the same constant, under the same uvicorn arguments, first in the route table as `/api/v1/verify` is.
bare -> app is what sonod's app costs such a request; app -> sonod is what the verification itself costs.

How it measures. A closed loop of `--connections` keep-alive HTTP/1.1 connections (default 8) from a
small asyncio client written for this (httpx costs more CPU per request than the bare server does, and
the client shares the 2 CPUs). Each connection sends its next request when the answer to the last has
arrived. `--rounds` rounds (default 5) of `--seconds` (default 5) against each server in turn (bare, app,
sonod), after one warm-up round, so both see the same noise; requests/s is the total answered over the total
time, latency percentiles pool every request. The targets: sonod >= 0.6x the bare endpoint's requests/s, and
sonod's p99 <= 50 ms.

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

from api.schemas import (
    VerifyIn,  # at module level: the bare route's annotation names it
)

TARGET_RATIO, TARGET_P99_MS = 0.6, 50.0
VERIFY_PATH, CONSTANT_PATH = "/api/v1/verify", "/bench/constant"
MIX = {"valid": 0.5, "revoked": 0.2, "invalid": 0.3}


def bare_app():
    """The baseline: FastAPI, the same route and body model, a constant answer."""
    from fastapi import FastAPI

    app = FastAPI()
    answer = {"status": "invalid", "certificate": None, "reason": "the bare endpoint checks nothing"}

    @app.post("/api/v1/verify")
    async def verify(body: VerifyIn) -> dict:
        return answer

    return app


def sonod_constant_app():
    """sonod's own app (its middleware, settings, lifespan) with one more route answering a constant, as the
    bare one does: what the app costs a request before the verification itself."""
    from api.main import create_app

    app = create_app()
    answer = {"status": "invalid", "certificate": None, "reason": "the constant route checks nothing"}

    async def constant(body: VerifyIn) -> dict:
        return answer

    app.add_api_route(CONSTANT_PATH, constant, methods=["POST"])
    app.router.routes.insert(0, app.router.routes.pop())  # matched first, as sonod's own verify route is
    return app


def serve(factory: str, port: int) -> None:
    """`bench/verify.py --serve FACTORY PORT`: uvicorn as `sonod api` runs it (infra/cli.py `api`): its logging and
    its options, among them its HTTP protocol with the deadline for a request's head (api/guards.py)."""
    import uvicorn

    from api.guards import server_options
    from sonod.logs import configure_logging
    from sonod.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    uvicorn.run(f"bench.verify:{factory}", factory=True, host="127.0.0.1", port=port, reload=False,
                log_level="warning", timeout_graceful_shutdown=5, log_config=None, **server_options(settings))


# --- the requests ----------------------------------------------------------------------------------------

def tampered(text: str, rng: random.Random) -> str:
    """The same QR text with one character of its base32 payload changed, so that what it carries changes.

    Not any character will do: the bits after deflate's last block are padding that zlib ignores, so a change
    there gives another text for the same signed certificate, which is valid (sonod/signing.py says so)."""
    head, payload = text.split("?c=", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    while True:
        i = rng.randrange(len(payload) // 4, len(payload))
        changed = f"{payload[:i]}{rng.choice(alphabet.replace(payload[i], ''))}{payload[i + 1:]}"
        if inflated(changed) != inflated(payload):
            return f"{head}?c={changed}"


def inflated(payload: str) -> bytes | None:
    """What a payload decompresses to, or None."""
    import base64
    import binascii
    import zlib

    try:
        return zlib.decompress(base64.b32decode(payload + "=" * (-len(payload) % 8)))
    except (binascii.Error, zlib.error):
        return None


def forged(base: str, k: int) -> str:
    """A well-formed QR text signed by a key that no union has."""
    import datetime as dt

    from sonod.signing import CertificateClaims, new_signing_key, qr_text, sign_payload

    now = dt.datetime.now(dt.UTC)
    key = new_signing_key("boultali", now)
    claims = CertificateClaims(certificate_no=f"BOULTALI-{now.year}-{k:06d}", certificate_type="citizenship",
                               union="boultali", name_bn="জাল সনদ", name_en="Forged", issued_on=now.date(),
                               content_hash=bytes(16))
    return qr_text(base, sign_payload(claims, key.private_raw, key.kid, now))


def requests_mix(valid: list[str], revoked: list[str], n: int, seed: int = 8) -> list[tuple[str, str]]:
    """n (qr text, expected status) pairs in the proportions of MIX, shuffled; the valid and the revoked ones go
    through every certificate in turn (raise n for each to come up more than once)."""
    rng = random.Random(seed)
    base = valid[0].split("?c=", 1)[0]
    garbage = [f"{base}?x=1", "not a sonod QR", f"{base}?c=", "HELLO-WORLD", f"{base}?c=AAAA",
               f"{base}?c={'A' * 300}"]
    fakes = [forged(base, k) for k in range(8)]
    out = []
    for k in range(round(n * MIX["valid"])):
        out.append((valid[k % len(valid)], "valid"))
    for k in range(round(n * MIX["revoked"])):
        out.append((revoked[k % len(revoked)], "revoked"))
    for k in range(round(n * MIX["invalid"])):
        kind = k % 4  # tampered, tampered, forged, garbage
        qr = tampered(rng.choice(valid + revoked), rng) if kind < 2 else rng.choice(fakes if kind == 2 else garbage)
        out.append((qr, "invalid"))
    rng.shuffle(out)
    return out


def encode(host: str, port: int, qr: str, path: str = VERIFY_PATH) -> bytes:
    body = json.dumps({"qr": qr}).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


# --- the load: a lean keep-alive HTTP/1.1 client -----------------------------------------------------------

@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    wrong: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    machine_busy_s: float = 0.0
    machine_s: float = 0.0

    @property
    def per_s(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


async def closed_loop(host: str, port: int, requests: list[tuple[bytes, str | None]], connections: int,
                      seconds: float, tally: Tally | None) -> None:
    """`connections` connections, each sending its next request once the last one's answer is in."""
    stop_at = time.perf_counter() + seconds

    async def connection(k: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        i = k * 7919
        try:
            while time.perf_counter() < stop_at:
                request, expected = requests[i % len(requests)]
                i += 1
                t = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                ms = (time.perf_counter() - t) * 1000
                if tally is None:
                    continue
                tally.latencies_ms.append(ms)
                if head[9:12] != b"200":
                    tally.wrong.append(f"HTTP {head[9:12].decode()}: {body[:120]!r}")
                elif expected is not None and (got := json.loads(body)["status"]) != expected:
                    tally.wrong.append(f"{expected} answered {got}")
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(connection(k) for k in range(connections)))
    if tally is not None:
        tally.seconds += time.perf_counter() - t0


# --- issuing the certificates the real way -----------------------------------------------------------------

async def issue(stack, n: int, revoke_share: float) -> tuple[list[str], list[str]]:
    """n certificates issued through the API; (qr texts of the valid ones, of the revoked ones)."""
    import httpx
    from sqlalchemy import select

    from bench.api import ReadModel, Run
    from bench.api import closed_loop as pipeline_loop
    from bench.api_paths import ApiPath
    from bench.harness import applications
    from bench.scale import login
    from sonod import db

    watcher = ReadModel(stack.settings.db_url)
    watcher.start()
    try:
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as http:
            items = applications(n, 0)
            unions = sorted({body["union"] for _, body in items})
            tokens = {u: await login(http, f"chairman.{u}") for u in unions}
            run = Run("api", "issue")
            await pipeline_loop(ApiPath(http, tokens), items, 12, 3600, watcher, run)
            if run.failures:
                raise RuntimeError(f"issuing failed: {run.failures[:3]}")
            await watcher.drain(run.ids)
            with watcher.engine.connect() as conn:
                rows = conn.execute(select(db.Certificate.certificate_no, db.Certificate.union_slug,
                                           db.Certificate.qr_text)
                                    .where(db.Certificate.application_id.in_(run.ids))).all()
            if len(rows) != n or not all(r.qr_text for r in rows):
                raise RuntimeError(f"{len(rows)} of {n} certificates issued with a QR text")
            rows = sorted(rows)
            revoked = rows[: max(1, round(n * revoke_share))]
            for row in revoked:
                r = await http.post(f"/api/v1/certificates/{row.certificate_no}/revoke",
                                    json={"reason": "benchmark"}, headers=tokens[row.union_slug])
                r.raise_for_status()
            return [r.qr_text for r in rows[len(revoked):]], [r.qr_text for r in revoked]
    finally:
        await watcher.stop()


# --- the run -----------------------------------------------------------------------------------------------

async def bench(args) -> dict:
    from bench.api import Meter, Run
    from bench.harness import Profiler, Stack, free_port
    from bench.scale import scratch_database

    scratch = contextlib.ExitStack()  # drops the scratch PostgreSQL database, if any, on the way out
    database_url = scratch.enter_context(scratch_database(args.postgres, "sonod_bench_verify"))
    database = "postgresql" if database_url else "sqlite"
    tallies = {"bare": Tally(), "app": Tally(), "sonod": Tally()}
    with scratch, tempfile.TemporaryDirectory(prefix="sonod-bench-verify-") as tmp:
        stack = Stack(Path(tmp), database_url)
        try:
            t = time.perf_counter()
            await stack.up()
            valid, revoked = await issue(stack, args.certificates, MIX["revoked"])
            print(f"  issued {len(valid) + len(revoked)} certificates ({len(revoked)} revoked) "
                  f"in {time.perf_counter() - t:.0f} s", flush=True)
            for name in ("worker", "porichoy", "temporal"):
                stack.stop(name)
            ports = {"bare": free_port(), "app": free_port()}
            for name, factory in (("bare", "bare_app"), ("app", "sonod_constant_app")):
                stack.start(name, [sys.executable, str(Path(__file__).resolve()), "--serve", factory,
                                   str(ports[name])])
            for name in ("bare", "app"):
                await stack.wait_http(name, f"http://127.0.0.1:{ports[name]}/openapi.json")
            await stack.wait_http("api", f"{stack.api_url}/openapi.json")
            ports["sonod"] = int(stack.api_url.rsplit(":", 1)[1])
            mix = requests_mix(valid, revoked, 5 * (len(valid) + len(revoked)))  # each certificate 3 to 5 times
            targets = {
                "bare": [(encode("127.0.0.1", ports["bare"], qr), None) for qr, _ in mix],
                "app": [(encode("127.0.0.1", ports["app"], qr, CONSTANT_PATH), None) for qr, _ in mix],
                "sonod": [(encode("127.0.0.1", ports["sonod"], qr), want) for qr, want in mix],
            }
            pids = {"bare": stack.procs["bare"].pid, "app": stack.procs["app"].pid,
                    "sonod": stack.procs["api"].pid}
            for name, requests in targets.items():  # warm-up
                await closed_loop("127.0.0.1", ports[name], requests, args.connections, min(2.0, args.seconds),
                                  None)
            # GIL samples only: a server waiting for its turn adds none, so one profile spans every round
            profiler = Profiler(Path(args.profile), {f"verify-{name}": pids[name] for name in ("app", "sonod")}) \
                if args.profile else None
            for _ in range(args.rounds):
                for name, requests in targets.items():
                    run = Run(name, "verify")
                    meter = Meter({"server": pids[name], "bench": os.getpid()}, run)
                    await closed_loop("127.0.0.1", ports[name], requests, args.connections, args.seconds,
                                      tallies[name])
                    meter.stop()
                    tally = tallies[name]
                    for k, v in run.cpu.items():
                        tally.cpu[k] = tally.cpu.get(k, 0.0) + v
                    tally.machine_busy_s += run.machine_cpu_s
                    tally.machine_s += run.machine_cpu_s / max(run.machine_busy, 1e-9)
            if profiler:
                profiler.stop()
            stack.check_alive()
        finally:
            stack.stop_all()
    return report(tallies, database, args, len(valid), len(revoked))


def report(tallies: dict[str, Tally], database: str, args, n_valid: int, n_revoked: int) -> dict:
    from bench.harness import percentile

    def ms(values: list[float], p: int) -> float:
        return round(percentile(values, p), 2)

    print(f"POST /api/v1/verify on {database}: {n_valid} valid and {n_revoked} revoked certificates, mix "
          f"{', '.join(f'{k} {v:.0%}' for k, v in MIX.items())}; {args.connections} connections, "
          f"{args.rounds} rounds of {args.seconds:g} s per server; {os.cpu_count()} CPUs")
    print(f"{'server':6} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'server CPU ms/req':>17} {'client':>6} {'busy':>5} {'wrong':>5}")
    out = {}
    for name, t in tallies.items():
        n = max(len(t.latencies_ms), 1)
        busy = t.machine_busy_s / t.machine_s if t.machine_s else 0.0
        print(f"{name:6} {len(t.latencies_ms):8d} {t.per_s:8.0f} {ms(t.latencies_ms, 50):7.2f} "
              f"{ms(t.latencies_ms, 90):7.2f} {ms(t.latencies_ms, 99):7.2f} {max(t.latencies_ms):7.2f} "
              f"{t.cpu.get('server', 0) * 1000 / n:17.3f} {t.cpu.get('bench', 0) * 1000 / n:6.3f} {busy:5.0%} "
              f"{len(t.wrong):5d}")
        out[name] = {"requests": len(t.latencies_ms), "req_per_s": round(t.per_s, 1),
                     "p50_ms": ms(t.latencies_ms, 50), "p90_ms": ms(t.latencies_ms, 90),
                     "p99_ms": ms(t.latencies_ms, 99), "max_ms": round(max(t.latencies_ms), 2),
                     "server_cpu_ms_per_req": round(t.cpu.get("server", 0) * 1000 / n, 3),
                     "client_cpu_ms_per_req": round(t.cpu.get("bench", 0) * 1000 / n, 3),
                     "machine_busy": round(busy, 2), "wrong": len(t.wrong)}
    ratio = out["sonod"]["req_per_s"] / out["bare"]["req_per_s"] if out["bare"]["req_per_s"] else 0.0
    meets = ratio >= TARGET_RATIO and out["sonod"]["p99_ms"] <= TARGET_P99_MS and not tallies["sonod"].wrong
    app_ratio = out["app"]["req_per_s"] / out["bare"]["req_per_s"] if out["bare"]["req_per_s"] else 0.0
    print(f"app/bare requests/s: {app_ratio:.2f} (sonod's app around a constant answer)")
    print(f"sonod/bare requests/s: {ratio:.2f} (target >= {TARGET_RATIO}); sonod p99 {out['sonod']['p99_ms']} ms "
          f"(target <= {TARGET_P99_MS:g}): {'met' if meets else 'MISSED'}")
    for wrong in tallies["sonod"].wrong[:5]:
        print(f"wrong answer: {wrong}")
    summary = {"bench": "verify", "database": database, "connections": args.connections, "rounds": args.rounds,
               "seconds": args.seconds, "certificates": n_valid + n_revoked, "revoked": n_revoked, "mix": MIX,
               "servers": out, "ratio": round(ratio, 3), "app_ratio": round(app_ratio, 3), "target_ratio": TARGET_RATIO,
               "target_p99_ms": TARGET_P99_MS, "meets_target": meets}
    print(json.dumps(summary))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 certificates, 3 rounds of 3 s: about two minutes")
    ap.add_argument("--certificates", type=int, default=None, help="certificates to issue (default 400; quick 200)")
    ap.add_argument("--connections", type=int, default=8, help="keep-alive connections of the closed loop")
    ap.add_argument("--seconds", type=float, default=None, help="seconds of each round (default 5; quick 3)")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per server (default 5; quick 3)")
    ap.add_argument("--postgres", nargs="?", const=os.environ.get("SONOD_BENCH_POSTGRES",
                                                                  "postgresql://postgres@127.0.0.1:5432/postgres"),
                    default=None, help="on a scratch PostgreSQL database (created and dropped) instead of SQLite")
    ap.add_argument("--profile", metavar="DIR", help="py-spy (GIL samples) the app and sonod servers, every round")
    ap.add_argument("--plot", metavar="PNG", help="draw the figures (needs matplotlib: pip install -e .[bench])")
    ap.add_argument("--serve", nargs=2, metavar=("FACTORY", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    args.certificates = args.certificates or (200 if args.quick else 400)
    args.seconds = args.seconds or (3.0 if args.quick else 5.0)
    args.rounds = args.rounds or (3 if args.quick else 5)
    summary = asyncio.run(bench(args))
    if args.plot:
        plot(summary, args.plot)
    sys.exit(0 if not summary["servers"]["sonod"]["wrong"] else 1)


def plot(summary: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    servers = summary["servers"]
    names = list(servers)
    labels = {"bare": "bare FastAPI\n(constant)", "app": "sonod's app\n(constant route)",
              "sonod": "sonod\n/api/v1/verify"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    bars = left.bar([labels[n] for n in names], [servers[n]["req_per_s"] for n in names],
                    color=["tab:grey", "tab:orange", "tab:blue"])
    left.bar_label(bars, fmt="%.0f")
    left.axhline(servers["bare"]["req_per_s"] * summary["target_ratio"], color="green", ls=":", lw=0.8,
                 label=f"target: {summary['target_ratio']}x bare")
    left.set_ylabel("requests/s")
    left.legend(fontsize=7)
    left.set_title(f"throughput, {summary['connections']} connections")
    for pct, offset in (("p50_ms", -0.2), ("p90_ms", 0.0), ("p99_ms", 0.2)):
        right.bar([i + offset for i in range(len(names))], [servers[n][pct] for n in names], width=0.2,
                  label=pct[:3])
    right.set_xticks(range(len(names)), [labels[n] for n in names])
    right.axhline(summary["target_p99_ms"], color="green", ls=":", lw=0.8, label="target p99")
    right.set_yscale("log")
    right.set_ylabel("latency, ms (log)")
    right.legend(fontsize=7)
    right.set_title("latency")
    fig.suptitle(f"POST /api/v1/verify against a bare endpoint ({summary['database']})")
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
