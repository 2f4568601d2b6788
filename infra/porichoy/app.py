"""The Porichoy-compatible NID gateway simulator: the KYC check, fault switches and a call counter.

Nothing here logs an NID or a name.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import random
import secrets
import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infra.porichoy import REGISTRY_PATH
from sonod.nid import check_death_registration_no, check_identity_number, mask, normalise_number
from sonod.unions import BY_SLUG, WARDS

log = logging.getLogger(__name__)

KYC_PATH = "/api/kyc/nid-person-values"
MAX_LATENCY_MS = 120_000
REQUIRED_FIELDS = (
    "nid", "id_type", "date_of_birth", "name_bn", "name_en", "father_name_bn", "mother_name_bn",
    "gender", "union", "ward_no",
)
NOT_FOR_VOTERS = ("household_id", "relation")  # the registry's own bookkeeping
NAME_PREFIXES = {"md.", "mst.", "sri", "srimoti"}

Person = dict[str, Any]


class RegistryError(ValueError):
    """A registry file that cannot be served; the message names the file and line."""


class ErrorCode(StrEnum):
    INVALID_NID_FORMAT = "INVALID_NID_FORMAT"
    NID_NOT_FOUND = "NID_NOT_FOUND"
    DOB_MISMATCH = "DOB_MISMATCH"
    NAME_MISMATCH = "NAME_MISMATCH"


class KycQuery(BaseModel):
    model_config = ConfigDict(strict=True)

    national_id: str = Field(min_length=1, max_length=40)
    person_dob: date
    person_fullname: str = Field(min_length=1, max_length=200)


class Faults(BaseModel):
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(0, ge=0, le=MAX_LATENCY_MS)
    down: bool = False


class FaultsPatch(BaseModel):
    """Only the fields given change; null counts as not given."""

    model_config = ConfigDict(extra="forbid", strict=True)

    error_rate: float | None = Field(None, ge=0.0, le=1.0)
    latency_ms: int | None = Field(None, ge=0, le=MAX_LATENCY_MS)
    down: bool | None = None


class CallStats(BaseModel):
    total: int
    by_outcome: dict[str, int]
    by_national_id: dict[str, int]


# --- the registry


def load_registry(path: Path = REGISTRY_PATH) -> dict[str, Person]:
    """The people of a registry.jsonl by NID; raises RegistryError at the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"cannot read the NID registry {path}: {exc}") from None
    people: dict[str, Person] = {}
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            person = _parse_person(line)
            if person["nid"] in people:
                raise ValueError(f"duplicate nid {mask(person['nid'])}")
        except ValueError as exc:
            raise RegistryError(f"NID registry {path}, line {line_no}: {exc}") from None
        people[person["nid"]] = person
    if not people:
        raise RegistryError(f"NID registry {path} is empty")
    return people


def _parse_person(line: str) -> Person:
    person = json.loads(line)  # JSONDecodeError is a ValueError, and its message quotes no data
    if not isinstance(person, dict):
        raise ValueError("not a JSON object")
    missing = [f for f in REQUIRED_FIELDS if person.get(f) in (None, "")]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    born = _date(person, "date_of_birth")
    if person["id_type"] not in ("nid", "brn"):
        raise ValueError("id_type must be 'nid' or 'brn'")
    if not isinstance(person["nid"], str) or normalise_number(person["nid"]) != person["nid"]:
        raise ValueError("nid must be a string of ASCII digits")
    check_identity_number(person["nid"], born, brn=person["id_type"] == "brn")
    if person["union"] not in BY_SLUG:
        raise ValueError("union is not a Gopalganj Sadar union slug")
    ward = person["ward_no"]
    if not isinstance(ward, int) or isinstance(ward, bool) or ward not in WARDS:
        raise ValueError("ward_no must be 1 to 9")
    if person.get("date_of_death"):
        check_death_registration_no(str(person.get("death_registration_no") or ""), _date(person, "date_of_death"))
    return person


def _date(person: Person, field: str) -> date:
    try:
        return date.fromisoformat(person[field])
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be YYYY-MM-DD") from None


def normalise_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()


def avatar(person: Person) -> str:
    """A small deterministic SVG avatar with the person's initials, as a data URI."""
    words = [w for w in person["name_en"].split() if w.casefold() not in NAME_PREFIXES] or ["?"]
    initials = (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()
    hue = hashlib.sha256(person["nid"].encode()).digest()[0] * 360 // 256
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
        f'<rect width="96" height="96" fill="hsl({hue},45%,50%)"/>'
        '<text x="48" y="60" font-family="sans-serif" font-size="36" fill="#fff" text-anchor="middle">'
        f"{initials}</text></svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


# --- the simulator's state


class Simulator:
    def __init__(self, people: dict[str, Person], api_key: str, seed: int = 0, *, username: str = "sonod",
                 token_ttl_s: float = 3600.0) -> None:
        self.people = people
        self.api_key = api_key
        self.seed = seed
        self.username, self.token_ttl_s = username, token_ttl_s  # the partner protocol's log-in
        self.tokens: dict[str, float] = {}  # bearer token -> when it expires (time.monotonic())
        self.reset()

    def reset(self) -> None:
        self.faults = Faults()
        self.locked: set[str] = set()  # voters whose record the partner protocol answers "voter is locked"
        self.rng = random.Random(self.seed)
        self.by_outcome: Counter[str] = Counter()
        self.by_national_id: Counter[str] = Counter()

    def record(
        self, outcome: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> JSONResponse:
        self.by_outcome[outcome] += 1
        return JSONResponse(body, status_code=status, headers=headers)

    def key_ok(self, key: str | None) -> bool:
        return secrets.compare_digest((key or "").encode(), self.api_key.encode())

    async def unavailable(self) -> JSONResponse | None:
        """The latency and down switches, before a call is looked at."""
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        if self.faults.down:
            return self.record("unavailable", 503, {"detail": "Porichoy is unavailable (simulated)"},
                               {"Retry-After": "1"})
        return None

    def failing(self) -> JSONResponse | None:
        """The error_rate switch, for a call that got past its credentials."""
        if self.rng.random() < self.faults.error_rate:
            return self.record("server_error", 500, {"detail": "internal error (simulated)"})
        return None

    async def gate(self, credentials: Callable[[], JSONResponse | None]) -> JSONResponse | None:
        """The latency and down switches, the caller's credentials, then the error_rate switch: in that order."""
        if refused := await self.unavailable():
            return refused
        return credentials() or self.failing()

    def key_problem(self, key: str | None) -> JSONResponse | None:
        if self.key_ok(key):
            return None
        return self.record("unauthorized", 401, {"detail": "missing or invalid x-api-key"})

    def check(self, query: KycQuery) -> tuple[ErrorCode | None, Person | None]:
        number = normalise_number(query.national_id)
        try:
            check_identity_number(number)
        except ValueError:
            return ErrorCode.INVALID_NID_FORMAT, None
        person = self.people.get(number)
        if person is None:
            return ErrorCode.NID_NOT_FOUND, None
        if person["date_of_birth"] != query.person_dob.isoformat():
            return ErrorCode.DOB_MISMATCH, None
        wanted = normalise_name(query.person_fullname)
        if wanted not in (normalise_name(person["name_en"]), normalise_name(person["name_bn"])):
            return ErrorCode.NAME_MISMATCH, None
        voter = {k: v for k, v in person.items() if k not in NOT_FOR_VOTERS}
        return None, voter | {"photo": avatar(person)}


def get_sim(request: Request) -> Simulator:
    return request.app.state.sim


Sim = Annotated[Simulator, Depends(get_sim)]
router = APIRouter()


@router.get("/healthz")
async def healthz(sim: Sim) -> dict[str, Any]:
    return {"status": "ok", "people": len(sim.people)}


@router.post(
    KYC_PATH,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": KycQuery.model_json_schema()}}}
    },
)
async def nid_person_values(
    request: Request, sim: Sim, x_api_key: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """Porichoy's KYC check: 200 with passKyc "yes" and the voter, or "no" and an errorCode."""
    raw = await request.body()  # read before the simulated latency: a caller that hangs up meanwhile is not an error
    if refused := await sim.gate(lambda: sim.key_problem(x_api_key)):
        return refused
    try:
        query = KycQuery.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        detail = [{**e, "loc": ["body", *e["loc"]]} for e in errors]
        return sim.record("invalid_request", 422, {"detail": detail})
    sim.by_national_id[normalise_number(query.national_id)] += 1
    error, voter = sim.check(query)
    body = {"passKyc": "no" if error else "yes", "errorCode": error, "voter": voter}
    return sim.record(error or "pass", 200, body)


@router.get("/_sim/faults")
async def read_faults(sim: Sim) -> Faults:
    return sim.faults


@router.post("/_sim/faults")
async def set_faults(patch: FaultsPatch, sim: Sim) -> Faults:
    sim.faults = sim.faults.model_copy(update=patch.model_dump(exclude_none=True))
    log.warning("porichoy faults now %s", sim.faults.model_dump())
    return sim.faults


@router.post("/_sim/reset")
async def reset(sim: Sim) -> Faults:
    """Clears the faults and the call counts, and reseeds the error RNG."""
    sim.reset()
    return sim.faults


@router.get("/_sim/calls")
async def calls(sim: Sim) -> CallStats:
    return CallStats(
        total=sim.by_outcome.total(), by_outcome=dict(sim.by_outcome), by_national_id=dict(sim.by_national_id)
    )


def create_app(registry_path: Path | str, api_key: str, *, seed: int = 0, token_ttl_s: float = 3600.0) -> FastAPI:
    """The simulator serving `registry_path`; raises RegistryError if a line is bad."""
    from infra.porichoy.partner import router as partner_router

    people = load_registry(Path(registry_path))
    app = FastAPI(title="Porichoy simulator", description="A Porichoy-compatible NID gateway for development")
    app.state.sim = Simulator(people, api_key, seed, token_ttl_s=token_ttl_s)
    app.include_router(router)
    app.include_router(partner_router)
    log.info("porichoy simulator serving %d people from %s", len(people), registry_path)
    return app
