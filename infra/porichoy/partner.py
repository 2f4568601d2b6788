"""The simulator's Election Commission partner-service protocol (log-in, bearer token, demographic verification) and
its birth registration lookup under `/bdris` (the Office of the Registrar General's, by UBRN and date of birth).

The NID answers come from the registry's `id_type == "nid"` people, the birth registration answers from its
`id_type == "brn"` people: the Election Commission holds no birth registration numbers, nor the Registrar General
NIDs. A 13-digit NID is asked for as `nid17Digit`, its holder's birth year before the 13 digits. Nothing here logs a
number or a name.
"""

from __future__ import annotations

import secrets
import time
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from infra.porichoy.app import NOT_FOR_VOTERS, Person, Sim, Simulator, avatar, normalise_name
from sonod.unions import BY_SLUG

LOGIN_PATH = "/rest/auth/login"
VERIFY_PATH = "/rest/voter/demographic/verification"
BRN_PATH = "/bdris/api/br/verification"

router = APIRouter()
Digits10 = Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]
Digits17 = Annotated[str, StringConstraints(pattern=r"^[0-9]{17}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Login(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=200)


class Identify(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nid10Digit: Digits10 | None = None  # the partner protocol's names
    nid17Digit: Digits17 | None = None

    @model_validator(mode="after")
    def exactly_one(self) -> Identify:
        if (self.nid10Digit is None) == (self.nid17Digit is None):
            raise ValueError("give exactly one of nid10Digit, nid17Digit")
        return self


class Verify(BaseModel):
    dateOfBirth: date
    nameEn: Text | None = None
    name: Text | None = None


class Verification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identify: Identify
    verify: Verify


class BirthQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    ubrn: Digits17
    birthDate: date = Field(strict=False)


def error(sim: Simulator, outcome: str, status: int, code: str, message: str, **more: Any) -> JSONResponse:
    body = {"status": "ERROR", "statusCode": code, "error": {"code": code, "message": message, **more}}
    return sim.record(outcome, status, body)


def invalid(sim: Simulator, exc: ValidationError) -> JSONResponse:
    fields = [".".join(str(part) for part in e["loc"]) or "body" for e in exc.errors(include_url=False)]
    return error(sim, "invalid_request", 400, "INVALID_REQUEST", "the request is not valid", fields=fields)


@router.post(LOGIN_PATH)
async def log_in(request: Request, sim: Sim) -> JSONResponse:
    raw = await request.body()
    if refused := await sim.unavailable():
        return refused
    try:
        creds = Login.model_validate_json(raw)
    except ValidationError as exc:
        return invalid(sim, exc)
    user_ok = secrets.compare_digest(creds.username.encode(), sim.username.encode())
    if not (sim.key_ok(creds.password) and user_ok):
        return error(sim, "login_refused", 401, "UNAUTHORIZED", "wrong username or password")
    token = secrets.token_urlsafe(24)
    now = time.monotonic()
    sim.tokens = {t: end for t, end in sim.tokens.items() if end > now}  # the expired ones are forgotten
    sim.tokens[token] = now + sim.token_ttl_s
    data = {"access_token": token, "token_type": "bearer", "expires_in": sim.token_ttl_s}
    return sim.record("login", 200, {"status": "OK", "statusCode": "SUCCESS", "success": {"data": data}})


@router.post("/_sim/tokens/expire")
async def expire_tokens(sim: Sim) -> dict[str, int]:
    """Every token handed out so far expires now (a restart of the partner service, a shortened lifetime)."""
    for token in sim.tokens:
        sim.tokens[token] = 0.0
    return {"expired": len(sim.tokens)}


class Lock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, StringConstraints(pattern=r"^[0-9]{10,17}$")]
    locked: bool


@router.post("/_sim/locks")
async def lock(body: Lock, sim: Sim) -> dict[str, int]:
    """A voter whose record the partner protocol answers "voter is locked" (or no longer does)."""
    (sim.locked.add if body.locked else sim.locked.discard)(body.number)
    return {"locked": len(sim.locked)}


def bearer_problem(sim: Simulator, authorization: str | None) -> JSONResponse | None:
    scheme, _, token = (authorization or "").partition(" ")
    expires = sim.tokens.get(token) if scheme.lower() == "bearer" and token else None
    if expires is None:
        return error(sim, "unauthorized", 401, "INVALID_TOKEN", "missing or unknown bearer token")
    if expires <= time.monotonic():
        return error(sim, "token_expired", 401, "TOKEN_EXPIRED", "the access token has expired")
    return None


def voter(sim: Simulator, identify: Identify) -> Person | None:
    """The voter a 10- or 17-digit number names; a 13-digit NID is found by its 17-digit form."""
    number = identify.nid10Digit or identify.nid17Digit or ""
    person = sim.people.get(number) or (sim.people.get(number[4:]) if len(number) == 17 else None)
    if person is None or person["id_type"] != "nid":
        return None
    if len(person["nid"]) == 13 and (len(number) != 17 or number[:4] != person["date_of_birth"][:4]):
        return None
    return person


def ec_record(person: Person) -> dict[str, Any]:
    """The partner protocol's view of a voter: its names, the address as the voter list holds it."""
    union = BY_SLUG[person["union"]]
    address = {"division": "ঢাকা", "district": union.district_bn, "upazila": union.upazila_bn,
               "unionOrWard": union.name_bn, "wardForUnionPorishod": person["ward_no"],
               "additionalVillageOrRoad": person.get("village_bn"), "postOffice": person.get("post_office_bn"),
               "postalCode": person.get("post_code")}
    kept = {k: v for k, v in person.items() if k not in NOT_FOR_VOTERS}
    return {"nationalId": kept["nid"], "name": kept["name_bn"], "nameEn": kept["name_en"],
            "father": kept["father_name_bn"], "mother": kept["mother_name_bn"], "spouse": kept.get("spouse_name_bn"),
            "gender": kept["gender"], "dateOfBirth": kept["date_of_birth"], "photo": avatar(person),
            "permanentAddress": address, "presentAddress": address}


@router.post(VERIFY_PATH)
async def demographic_verification(
    request: Request, sim: Sim, authorization: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """200 and the record when every given field matches; 406 naming the fields that did not; 404, 403 locked."""
    raw = await request.body()
    if refused := await sim.gate(lambda: bearer_problem(sim, authorization)):
        return refused
    try:
        query = Verification.model_validate_json(raw)
    except ValidationError as exc:
        return invalid(sim, exc)
    number = query.identify.nid10Digit or query.identify.nid17Digit or ""
    sim.by_national_id[number] += 1
    person = voter(sim, query.identify)
    if person is None:
        return error(sim, "NID_NOT_FOUND", 404, "NOT_FOUND", "voter not found")
    if number in sim.locked or person["nid"] in sim.locked:
        return error(sim, "VOTER_LOCKED", 403, "VOTER_LOCKED", "voter is locked")
    given = query.verify
    results = {"dateOfBirth": given.dateOfBirth.isoformat() == person["date_of_birth"]}
    for field, ours in (("nameEn", "name_en"), ("name", "name_bn")):
        wanted = getattr(given, field)
        if wanted is not None:
            results[field] = normalise_name(wanted) == normalise_name(person[ours])
    if not all(results.values()):
        body = {"status": "ERROR", "statusCode": "NOT_ACCEPTABLE", "verified": False,
                "fieldVerificationResult": results}
        return sim.record("mismatch", 406, body)
    return sim.record("pass", 200, {"status": "OK", "statusCode": "SUCCESS", "verified": True,
                                    "fieldVerificationResult": results, "success": {"data": ec_record(person)}})


def birth_record(person: Person) -> dict[str, Any]:
    union = BY_SLUG[person["union"]]
    return {"ubrn": person["nid"], "personNameBn": person["name_bn"], "personNameEn": person["name_en"],
            "personBirthDate": person["date_of_birth"], "gender": person["gender"],
            "fatherNameBn": person["father_name_bn"], "fatherNameEn": person.get("father_name_en"),
            "motherNameBn": person["mother_name_bn"], "motherNameEn": person.get("mother_name_en"),
            "birthPlaceBn": person.get("present_address_bn"), "registerOfficeName": union.name_bn,
            "wardNo": person["ward_no"]}


@router.post(BRN_PATH)
async def birth_registration(
    request: Request, sim: Sim, x_api_key: Annotated[str | None, Header()] = None
) -> JSONResponse:
    """The record of a birth registration number whose date of birth matches; 404 when the number is unknown."""
    raw = await request.body()
    if refused := await sim.gate(lambda: sim.key_problem(x_api_key)):
        return refused
    try:
        query = BirthQuery.model_validate_json(raw)
    except ValidationError as exc:
        return invalid(sim, exc)
    sim.by_national_id[query.ubrn] += 1
    person = sim.people.get(query.ubrn)
    if person is None or person["id_type"] != "brn":
        return sim.record("BRN_NOT_FOUND", 404, {"error": "UBRN_NOT_FOUND"})
    if person["date_of_birth"] != query.birthDate.isoformat():
        return sim.record("DOB_MISMATCH", 200, {"matched": False, "record": None})
    return sim.record("pass", 200, {"matched": True, "record": birth_record(person)})
