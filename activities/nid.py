"""The NID check against Porichoy (or its simulator), over HTTP."""

from __future__ import annotations

import time

import httpx
from temporalio import activity

from sonod.metrics import GATEWAY_ERRORS, GATEWAY_LATENCY
from sonod.nid import check_identity_number
from workflows import activities as contract
from workflows.messages import Identity, NidCheck

REASONS = {
    "NID_NOT_FOUND": "the NID is not in the national registry",
    "DOB_MISMATCH": "the date of birth does not match the NID",
    "NAME_MISMATCH": "the name does not match the NID",
    "INVALID_NID_FORMAT": "the NID is not a valid number",
}


class NidGateway(contract.NidGateway):
    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str) -> None:
        self.http, self.base_url, self.api_key = http, base_url.rstrip("/"), api_key

    @activity.defn(name="NidGateway.verify")
    async def verify(self, check: NidCheck) -> Identity:
        """A mismatch is an answer, not an error; timeouts and 5xx raise and are retried."""
        try:
            check_identity_number(check.nid, check.date_of_birth)
        except ValueError as e:
            return Identity(matches=False, error_code="INVALID_NID_FORMAT", reason=str(e))
        started = time.perf_counter()
        try:
            response = await self.http.post(
                f"{self.base_url}/api/kyc/nid-person-values",
                headers={"x-api-key": self.api_key},
                json={"national_id": check.nid, "person_dob": check.date_of_birth.isoformat(),
                      "person_fullname": check.name},
            )
        except httpx.HTTPError as e:
            self.measure(started, "error", type(e).__name__)
            raise
        if response.status_code >= 500 or response.status_code in (401, 403, 429):
            self.measure(started, "error", f"http_{response.status_code}")
            raise RuntimeError(f"NID gateway answered {response.status_code}")
        if response.status_code == 422:
            self.measure(started, "mismatch")
            return Identity(matches=False, error_code="INVALID_NID_FORMAT", reason=REASONS["INVALID_NID_FORMAT"])
        if response.is_error:
            self.measure(started, "error", f"http_{response.status_code}")
        response.raise_for_status()
        body = response.json()
        if body.get("passKyc") == "yes":
            self.measure(started, "match")
            return Identity(matches=True, voter=body.get("voter") or {})
        code = body.get("errorCode") or "NO_MATCH"
        self.measure(started, "mismatch")
        return Identity(matches=False, error_code=code, reason=REASONS.get(code, f"Porichoy refused: {code}"))

    @staticmethod
    def measure(started: float, outcome: str, error: str | None = None) -> None:
        """Latency by outcome (match, mismatch, error); errors by kind (http_503, ConnectTimeout...)."""
        seconds = time.perf_counter() - started
        GATEWAY_LATENCY.labels(outcome).observe(seconds)
        if error:
            GATEWAY_ERRORS.labels(error).inc()
        activity.logger.info("NID gateway answered", extra={"outcome": outcome, "error": error,
                                                            "seconds": round(seconds, 3)})
