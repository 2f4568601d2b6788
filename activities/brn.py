"""The birth registration lookup: the Office of the Registrar General's (BDRIS) verification of a UBRN (the 17-digit
birth registration number) with its date of birth, for minors and people without an NID.

`POST {SONOD_BRN_URL}/api/br/verification` with an `x-api-key` and `{"ubrn", "birthDate"}`: 200 `{"matched": true,
"record": {...}}`, 200 `{"matched": false}` when the date of birth differs, 404 for an unknown number. The registry
matches the number and the date; sonod compares the names (either the English or the Bengali one must be the
record's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from temporalio import activity

from activities.nid import (
    GatewayDown,
    InvalidNumber,
    Mismatch,
    NotFound,
    answer,
    gateway_failure,
    json_object,
    obj,
    project,
    record,
    same_name,
    union_slug,
)
from sonod.nid import check_identity_number
from sonod.settings import Settings
from workflows import activities as contract
from workflows.messages import BrnCheck, Identity, NidRecord

if TYPE_CHECKING:
    from activities.registry import Projector

VERIFY_PATH = "/api/br/verification"


def record_of(data: dict[str, Any]) -> NidRecord:
    return record({
        "brn": data.get("ubrn"), "date_of_birth": data.get("personBirthDate"), "name_bn": data.get("personNameBn"),
        "name_en": data.get("personNameEn"), "father_name_bn": data.get("fatherNameBn"),
        "mother_name_bn": data.get("motherNameBn"), "father_name_en": data.get("fatherNameEn"),
        "mother_name_en": data.get("motherNameEn"), "gender": data.get("gender"),
        "union": union_slug(data.get("registerOfficeName")), "ward_no": data.get("wardNo"),
        "present_address_bn": data.get("birthPlaceBn"),
    })


class BrnClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str) -> None:
        self.http, self.base_url, self.api_key = http, base_url.rstrip("/"), api_key

    async def verify(self, check: BrnCheck) -> NidRecord:
        response = await self.http.post(f"{self.base_url}{VERIFY_PATH}", headers={"x-api-key": self.api_key},
                                        json={"ubrn": check.brn, "birthDate": check.date_of_birth.isoformat()})
        if failure := gateway_failure(response):
            raise failure
        if response.status_code == 404:
            raise NotFound("BRN_NOT_FOUND")
        if response.status_code in (400, 422):
            raise InvalidNumber("INVALID_BRN_FORMAT")
        if response.status_code != 200:
            raise GatewayDown(f"http_{response.status_code}", f"the birth registry answered {response.status_code}")
        body = json_object(response)
        if body.get("matched") is not True:
            raise Mismatch("DOB_MISMATCH")
        data = obj(body.get("record"))
        if not (same_name(check.name_en, data.get("personNameEn"))
                or same_name(check.name_bn, data.get("personNameBn"))):
            raise Mismatch("NAME_MISMATCH")
        return record_of(data)


class BirthRegistry(contract.BirthRegistry):
    def __init__(self, client: BrnClient, projector: Projector | None = None) -> None:
        self.client, self.projector = client, projector

    @activity.defn(name="BirthRegistry.verify")
    async def verify(self, check: BrnCheck) -> Identity:
        await project(self.projector, check.projection)
        try:
            check_identity_number(check.brn, check.date_of_birth, brn=True)
        except ValueError as e:
            return Identity(matches=False, error_code="INVALID_BRN_FORMAT", reason=str(e))
        return await answer(self.client.verify(check))


def birth_registry(settings: Settings, http: httpx.AsyncClient, projector: Projector | None = None) -> BirthRegistry:
    url = settings.brn_url or f"{settings.porichoy_url.rstrip('/')}/bdris"
    return BirthRegistry(BrnClient(http, url, settings.brn_api_key or settings.porichoy_api_key), projector)
