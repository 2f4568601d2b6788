"""What signing a certificate PDF (PAdES B-LT, activities/pades.py) costs beside rendering it, in the same run.

Three ways, timed in turn on the same documents (a citizenship certificate in Bengali, each of another holder):
the bare render (no signature block, as before issue 17), the render with its block then signed with the TSA in
this process, and the same signed with the TSA over HTTP (`python -m infra.tsa` on a free port: the dev stack's way).
The PKI lives in a fresh SQLite database of its own. Used by bench/pdf.py; alone: `.venv/bin/python bench/signing.py`.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from cryptography.hazmat.primitives.serialization import Encoding

from activities.pades import HttpTimeStamper, LocalTimeStamper, PdfSealer
from activities.render import CertificateDocument, CertificateRenderer, sample_document
from sonod import db, pki
from sonod.migrate import upgrade
from sonod.settings import ROOT, Settings
from sonod.tsa import TimeStampAuthority
from sonod.unions import GOPALGANJ_SADAR

GOAL_MS = 25.0  # a certificate, rendering and signing in all (issue 17)


def _database(folder: str) -> str:
    url = f"sqlite:///{folder}/bench.db"
    upgrade(url)
    u = next(u for u in GOPALGANJ_SADAR if u.slug == "paikkandi")
    with db.make_session_factory(db.make_engine(url)).begin() as session:
        session.add(db.Union(slug="paikkandi", code="9999", name_bn=u.name_bn, name_en=u.name_en,
                             upazila_bn=u.upazila_bn, upazila_en=u.upazila_en, upazila_slug=u.upazila_slug,
                             district_bn=u.district_bn, district_en=u.district_en))
    return url


def _tsa_server(url: str, folder: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, SONOD_DATABASE_URL=url, SONOD_VAR_DIR=folder)
    proc = subprocess.Popen([sys.executable, "-m", "infra.tsa", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the TSA did not start")


def signing_cost(renderer: CertificateRenderer, variant, n: int, warmup: int) -> dict:
    """Medians (wall and CPU ms) of the bare render and of render + sign, with the TSA here and over HTTP."""
    master = Settings().master_key
    with tempfile.TemporaryDirectory() as folder:
        url = _database(folder)
        sessions = db.make_session_factory(db.make_engine(url))
        with sessions.begin() as session:
            tsa = pki.tsa(session, master)
        here = TimeStampAuthority(tsa.certificate.public_bytes(Encoding.DER), tsa.key)
        proc, base = _tsa_server(url, folder)
        try:
            sealers = {"local": PdfSealer(sessions, master, LocalTimeStamper(lambda: here.respond)),
                       "http": PdfSealer(sessions, master, HttpTimeStamper(base))}
            docs = [variant(sample_document("citizenship", "bn"), i) for i in range(n + warmup)]
            return _timed(renderer, sealers, docs, warmup)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _timed(renderer: CertificateRenderer, sealers: dict[str, PdfSealer], docs: list[CertificateDocument],
           warmup: int) -> dict:
    samples: dict[str, list[tuple[float, float]]] = {"render": [], "local": [], "http": []}

    def signed(doc: CertificateDocument, sealer: PdfSealer) -> bytes:
        material = sealer.material("paikkandi")
        pdf, place = renderer.render_with_seal(doc.model_copy(update={"seal": material.view(dt.datetime.now(dt.UTC))}))
        assert place is not None
        return sealer.seal(pdf, place, material, reason="bench")

    runs = {"render": renderer.render, "local": lambda d: signed(d, sealers["local"]),
            "http": lambda d: signed(d, sealers["http"])}
    for i, doc in enumerate(docs):
        for name, run in runs.items():  # in turn: each sees the same load on a shared machine
            t, c = time.perf_counter(), time.process_time()
            run(doc)
            if i >= warmup:
                samples[name].append(((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000))
    out: dict = {name: {"ms": round(statistics.median(w for w, _ in s), 2),
                        "cpu_ms": round(statistics.median(c for _, c in s), 2)} for name, s in samples.items()}
    bare = out["render"]["ms"]
    for name in ("local", "http"):
        out[name]["sign_ms"] = round(out[name]["ms"] - bare, 2)
        out[name]["ratio_to_bare_render"] = round(out[name]["ms"] / bare, 2)
    out["goal_ms"] = GOAL_MS
    out["meets_goal"] = out["http"]["ms"] <= GOAL_MS
    return out


def report(result: dict) -> str:
    r, here, http = result["render"], result["local"], result["http"]
    return (f"signing (citizenship/bn, median, in turn): bare render {r['ms']:.2f} ms (CPU {r['cpu_ms']:.2f}); "
            f"render + PAdES B-LT signature with the TSA in-process {here['ms']:.2f} ms (CPU {here['cpu_ms']:.2f}, "
            f"{here['ratio_to_bare_render']}x the bare render), with the TSA over HTTP {http['ms']:.2f} ms "
            f"(CPU here {http['cpu_ms']:.2f}, {http['ratio_to_bare_render']}x); signing alone "
            f"{http['sign_ms']:.2f} ms; goal {result['goal_ms']:.0f} ms a certificate in all: "
            f"{'met' if result['meets_goal'] else 'NOT met'}")


if __name__ == "__main__":
    import json

    from bench.pdf import variant

    result = signing_cost(CertificateRenderer(), variant, 30, 5)
    print(report(result))
    print(json.dumps(result))
