"""The NID check against Porichoy (or its simulator), over HTTP."""

from __future__ import annotations

import httpx
from temporalio import activity

from sonod.nid import check_identity_number
from workflows.messages import Identity, NidCheck

REASONS = {
    "NID_NOT_FOUND": "the NID is not in the national registry",
    "DOB_MISMATCH": "the date of birth does not match the NID",
    "NAME_MISMATCH": "the name does not match the NID",
    "INVALID_NID_FORMAT": "the NID is not a valid number",
}


class NidGateway:
    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str) -> None:
        self.http, self.base_url, self.api_key = http, base_url.rstrip("/"), api_key

    @activity.defn(name="NidGateway.verify")
    async def verify(self, check: NidCheck) -> Identity:
        """A mismatch is an answer, not an error; timeouts and 5xx raise and are retried."""
        try:
            check_identity_number(check.nid, check.date_of_birth)
        except ValueError as e:
            return Identity(matches=False, error_code="INVALID_NID_FORMAT", reason=str(e))
        response = await self.http.post(
            f"{self.base_url}/api/kyc/nid-person-values",
            headers={"x-api-key": self.api_key},
            json={"national_id": check.nid, "person_dob": check.date_of_birth.isoformat(),
                  "person_fullname": check.name},
        )
        if response.status_code >= 500 or response.status_code in (401, 403, 429):
            raise RuntimeError(f"NID gateway answered {response.status_code}")
        if response.status_code == 422:
            return Identity(matches=False, error_code="INVALID_NID_FORMAT", reason=REASONS["INVALID_NID_FORMAT"])
        response.raise_for_status()
        body = response.json()
        if body.get("passKyc") == "yes":
            return Identity(matches=True, voter=body.get("voter") or {})
        code = body.get("errorCode") or "NO_MATCH"
        return Identity(matches=False, error_code=code, reason=REASONS.get(code, f"Porichoy refused: {code}"))
