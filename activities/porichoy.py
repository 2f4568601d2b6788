"""The Election Commission's partner-service protocol: log in for a bearer token, then
`POST /rest/voter/demographic/verification` with `identify{nid10Digit|nid17Digit}` and
`verify{dateOfBirth, nameEn?, name?}`.

A 13-digit NID (the old laminated card's) is sent as `nid17Digit`: its holder's birth year, then the 13 digits, the
form the Election Commission gave those numbers in 2011. The token is kept, shared by every check of the worker, and
renewed before it expires (at most `refresh_before_s` early, at most half its lifetime); a 401 all the same (the
service restarted, the clock drifted) gets one fresh log-in and one more try.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from activities.nid import (
    GatewayDown,
    InvalidNumber,
    KycClient,
    Mismatch,
    NidGateway,
    NotFound,
    TokenExpired,
    VoterLocked,
    json_object,
    obj,
    record,
    union_slug,
)
from sonod.nid import normalise_number
from sonod.settings import Settings
from workflows.messages import NidCheck, NidRecord

if TYPE_CHECKING:
    from activities.registry import Projector

LOGIN_PATH = "/rest/auth/login"
VERIFY_PATH = "/rest/voter/demographic/verification"


def identify(nid: str, date_of_birth_year: int) -> dict[str, str]:
    digits = normalise_number(nid)
    if len(digits) == 13:
        digits = f"{date_of_birth_year:04d}{digits}"
    return {"nid10Digit": digits} if len(digits) == 10 else {"nid17Digit": digits}


def is_bengali(text: str) -> bool:
    return any("\u0980" <= ch <= "\u09ff" for ch in text)


def record_of(data: dict[str, Any]) -> NidRecord:
    """sonod's names for the partner protocol's record (the certificate prints them; the ward picks the member)."""
    address = obj(data.get("permanentAddress"))
    return record({
        "nid": data.get("nationalId"), "date_of_birth": data.get("dateOfBirth"), "name_bn": data.get("name"),
        "name_en": data.get("nameEn"), "father_name_bn": data.get("father"), "mother_name_bn": data.get("mother"),
        "spouse_name_bn": data.get("spouse"), "gender": data.get("gender"), "photo": data.get("photo"),
        "union": union_slug(address.get("unionOrWard")), "ward_no": address.get("wardForUnionPorishod"),
        "village_bn": address.get("additionalVillageOrRoad"), "post_office_bn": address.get("postOffice"),
    })


def error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(obj(obj(body).get("error")).get("code") or "")


class PartnerClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, username: str, password: str, *,
                 refresh_before_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self.username, self.password = username, password
        self.refresh_before_s, self.clock = refresh_before_s, clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        self.logins = 0  # how many log-ins this client made (tests, metrics)

    async def token(self, rejected: str | None = None) -> str:
        """The cached token, unless it is due for renewal or is the one just `rejected`; one log-in at a time."""
        async with self._lock:
            if self._token is not None and self._token != rejected and self.clock() < self._renew_at:
                return self._token
            self._token = None
            response = await self.http.post(f"{self.base_url}{LOGIN_PATH}",
                                            json={"username": self.username, "password": self.password})
            if response.status_code != 200:  # down (5xx, counted as the check's would be), or refused (401...)
                status = response.status_code
                raise GatewayDown(f"http_{status}" if status >= 500 or status == 429 else "login_refused",
                                  f"the partner service did not log sonod in ({status})")
            data = obj(obj(json_object(response).get("success")).get("data"))
            token, lifetime = data.get("access_token"), float(data.get("expires_in") or 0)
            if not token or lifetime <= 0:
                raise GatewayDown("login_answer", "the partner service's log-in gave no token or no lifetime")
            self.logins += 1
            self._token = str(token)
            self._renew_at = self.clock() + lifetime - min(self.refresh_before_s, lifetime / 2)
            return self._token

    async def verify(self, check: NidCheck) -> NidRecord:
        name = "name" if is_bengali(check.name) else "nameEn"
        body = {"identify": identify(check.nid, check.date_of_birth.year),
                "verify": {"dateOfBirth": check.date_of_birth.isoformat(), name: check.name}}
        token = await self.token()
        response = await self.post(body, token)
        if response.status_code == 401:
            response = await self.post(body, await self.token(rejected=token))
            if response.status_code == 401:
                raise TokenExpired("http_401", f"a fresh token was refused too ({error_code(response) or 401})")
        return self.read(response)

    async def post(self, body: dict[str, Any], token: str) -> httpx.Response:
        return await self.http.post(f"{self.base_url}{VERIFY_PATH}", json=body,
                                    headers={"Authorization": f"Bearer {token}"})

    @staticmethod
    def read(response: httpx.Response) -> NidRecord:
        status = response.status_code
        if status == 200:
            body = json_object(response)
            if body.get("status") == "OK" and body.get("verified") is True:
                return record_of(obj(obj(body.get("success")).get("data")))
            raise GatewayDown("unverified_200", "the partner service answered 200 without a verified record")
        if status == 406:
            fields = obj(json_object(response).get("fieldVerificationResult"))
            raise Mismatch("DOB_MISMATCH" if fields.get("dateOfBirth") is False else "NAME_MISMATCH")
        if status == 404:
            raise NotFound()
        if status == 403 and error_code(response) == "VOTER_LOCKED":
            raise VoterLocked()
        if status == 400:
            raise InvalidNumber()
        raise GatewayDown(f"http_{status}", f"the partner service answered {status}")


def nid_gateway(settings: Settings, http: httpx.AsyncClient, projector: Projector | None = None) -> NidGateway:
    """The NID check the settings choose: `partner` (the default) or `kyc`."""
    if settings.nid_protocol == "kyc":
        return NidGateway(KycClient(http, settings.porichoy_url, settings.porichoy_api_key), projector)
    return NidGateway(PartnerClient(http, settings.porichoy_url, settings.porichoy_username,
                                    settings.porichoy_api_key, refresh_before_s=settings.porichoy_token_refresh_s),
                      projector)
