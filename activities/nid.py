"""The NID check: the activity, the typed answers of an identity lookup, and the older KYC protocol.

An adapter (`IdentityLookup`) asks one registry about one number and returns its record, or raises: a
`NotVerified` is an answer (the applicant is told to check what they gave), a `GatewayDown` is the gateway's trouble
and is retried. `SONOD_NID_PROTOCOL` chooses the adapter: `partner` (activities/porichoy.py, the Election
Commission's partner service) or `kyc` (`KycClient` below, `POST /api/kyc/nid-person-values`).
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from pydantic import ValidationError
from temporalio import activity

from sonod.metrics import GATEWAY_ERRORS, GATEWAY_LATENCY
from sonod.nid import check_identity_number
from sonod.unions import GOPALGANJ_SADAR
from workflows import activities as contract
from workflows.messages import Identity, NidCheck, NidRecord, Projection

if TYPE_CHECKING:
    from activities.registry import Projector

REASONS = {
    "NID_NOT_FOUND": "the NID is not in the national registry",
    "BRN_NOT_FOUND": "the birth registration number is not in the birth registry",
    "DOB_MISMATCH": "the date of birth does not match the record",
    "NAME_MISMATCH": "the name does not match the record",
    "VOTER_LOCKED": "the Election Commission has locked this voter's record",
    "INVALID_NID_FORMAT": "the NID is not a valid number",
    "INVALID_BRN_FORMAT": "the birth registration number is not a valid number",
}
UNION_BY_NAME = {name: u.slug for u in GOPALGANJ_SADAR for name in (u.name_bn, u.name_en)}


# --- what a lookup answers


class NotVerified(Exception):  # an answer, not a fault
    """The registry answered, and the person is not verified: a business outcome, never retried."""

    code = "NO_MATCH"

    def __init__(self, code: str | None = None) -> None:
        self.code = code or self.code
        super().__init__(REASONS.get(self.code, f"the registry refused: {self.code}"))


class NotFound(NotVerified):
    code = "NID_NOT_FOUND"


class Mismatch(NotVerified):
    """DOB_MISMATCH or NAME_MISMATCH."""


class VoterLocked(NotVerified):
    code = "VOTER_LOCKED"


class InvalidNumber(NotVerified):
    code = "INVALID_NID_FORMAT"


class GatewayDown(RuntimeError):
    """The registry did not answer (5xx, 429, refused credentials, an answer it should not give): retried.
    `kind` labels the error metric."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class TokenExpired(GatewayDown):
    """A 401 that a fresh log-in did not cure."""


class IdentityLookup(Protocol):
    async def verify(self, check: NidCheck) -> NidRecord: ...


def same_name(a: str | None, b: str | None) -> bool:
    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).split()).casefold()
    return a is not None and b is not None and norm(a) == norm(b)


def union_slug(name: str | None) -> str | None:
    """A demo union's slug from its name; another name is kept as it is, so that it never equals a union's slug
    and the record's ward is not taken for that union's (workflows/application.py `ward_no`)."""
    return UNION_BY_NAME.get(name or "", name)


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; anything else (an HTML error page, a list) is the gateway's trouble."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise GatewayDown("bad_answer", f"the gateway's {response.status_code} answer is not a JSON object")
    return body


def obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def record(fields: dict[str, Any]) -> NidRecord:
    """The record in sonod's names; one that does not fit (a ward that is not a number...) is the gateway's trouble.
    The validation error is not passed on: it would quote the record."""
    try:
        return NidRecord.model_validate(fields)
    except ValidationError:
        raise GatewayDown("bad_answer", "the gateway's record does not fit sonod's") from None


def gateway_failure(response: httpx.Response) -> GatewayDown | None:
    """The answers that are the gateway's trouble, not the applicant's."""
    status = response.status_code
    if status >= 500 or status in (401, 403, 408, 429):
        return GatewayDown(f"http_{status}", f"the gateway answered {status}")
    return None


# --- the activity


class NidGateway(contract.NidGateway):
    def __init__(self, lookup: IdentityLookup, projector: Projector | None = None) -> None:
        """`projector`: writes the application as the check starts (`check.projection`)."""
        self.lookup, self.projector = lookup, projector

    @activity.defn(name="NidGateway.verify")
    async def verify(self, check: NidCheck) -> Identity:
        """A mismatch is an answer, not an error; timeouts, 5xx and refused credentials raise and are retried."""
        await project(self.projector, check.projection)
        try:
            check_identity_number(check.nid, check.date_of_birth)
        except ValueError as e:
            return Identity(matches=False, error_code="INVALID_NID_FORMAT", reason=str(e))
        return await answer(self.lookup.verify(check))


async def project(projector: Projector | None, projection: Projection | None) -> None:
    """The read model, as the check starts: written by the check (again on each attempt, which changes nothing)."""
    if projection is not None:
        assert projector is not None, "a check that carries a projection needs the projector"
        await asyncio.to_thread(projector.write, projection)


async def answer(lookup) -> Identity:
    """The Identity of an awaited lookup, measured: latency by outcome, errors by kind. No number, no name."""
    started = time.perf_counter()
    try:
        record = await lookup
    except NotVerified as e:
        measure(started, "mismatch")
        return Identity(matches=False, error_code=e.code, reason=str(e))
    except GatewayDown as e:
        measure(started, "error", e.kind)
        raise
    except httpx.HTTPError as e:
        measure(started, "error", type(e).__name__)
        raise
    measure(started, "match")
    return Identity(matches=True, voter=record)


def measure(started: float, outcome: str, error: str | None = None) -> None:
    seconds = time.perf_counter() - started
    GATEWAY_LATENCY.labels(outcome).observe(seconds)
    if error:
        GATEWAY_ERRORS.labels(error).inc()
    activity.logger.info("identity registry answered", extra={"outcome": outcome, "error": error,
                                                              "seconds": round(seconds, 3)})


# --- the older protocol


class KycClient:
    """`POST /api/kyc/nid-person-values` with an `x-api-key`: passKyc yes (and the voter) or no (and an errorCode)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str) -> None:
        self.http, self.base_url, self.api_key = http, base_url.rstrip("/"), api_key

    async def verify(self, check: NidCheck) -> NidRecord:
        response = await self.http.post(
            f"{self.base_url}/api/kyc/nid-person-values", headers={"x-api-key": self.api_key},
            json={"national_id": check.nid, "person_dob": check.date_of_birth.isoformat(),
                  "person_fullname": check.name})
        if failure := gateway_failure(response):
            raise failure
        if response.status_code == 422:
            raise InvalidNumber()
        if response.is_error:
            raise GatewayDown(f"http_{response.status_code}", f"the gateway answered {response.status_code}")
        body = json_object(response)
        if body.get("passKyc") == "yes":
            return record(obj(body.get("voter")))
        raise NotVerified(body.get("errorCode") or "NO_MATCH")
