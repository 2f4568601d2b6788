"""The simulator's partner-service protocol (the Election Commission's, CONTRACT.md "Porichoy simulator") and its
birth registration lookup (`/bdris`, the Office of the Registrar General's BDRIS verification, by UBRN and date of
birth). In process through ASGI: the adapters' tests (tests/test_nid_gateway.py) run them over real HTTP."""

import asyncio
import logging
import re

import httpx
import pytest

from infra.porichoy import REGISTRY_PATH
from infra.porichoy.app import create_app, load_registry
from infra.porichoy.partner import BRN_PATH, LOGIN_PATH, VERIFY_PATH

API_KEY = "test-porichoy-key"
USER = "sonod"


@pytest.fixture(scope="module")
def people() -> list[dict]:
    return list(load_registry(REGISTRY_PATH).values())


def first(people, length: int | None = None, kind: str = "nid") -> dict:
    return next(p for p in people if p["id_type"] == kind and (length is None or len(p["nid"]) == length)
                and not p["date_of_death"])


async def client_for(**options):
    app = create_app(REGISTRY_PATH, API_KEY, **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://porichoy")


@pytest.fixture
async def porichoy():
    async with await client_for() as client:
        yield client


async def login(client, username=USER, password=API_KEY) -> httpx.Response:
    return await client.post(LOGIN_PATH, json={"username": username, "password": password})


async def token(client) -> str:
    return (await login(client)).json()["success"]["data"]["access_token"]


def identify(person: dict) -> dict:
    number = person["nid"]
    if len(number) == 13:
        number = person["date_of_birth"][:4] + number
    return {"nid10Digit": number} if len(number) == 10 else {"nid17Digit": number}


async def verify(client, body: dict, bearer: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return await client.post(VERIFY_PATH, json=body, headers=headers)


def query(person: dict, **verify_changes) -> dict:
    return {"identify": identify(person),
            "verify": {"dateOfBirth": person["date_of_birth"], "nameEn": person["name_en"]} | verify_changes}


async def test_login_gives_a_bearer_token_with_its_lifetime(porichoy):
    answer = await login(porichoy)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["statusCode"]) == ("OK", "SUCCESS")
    assert body["success"]["data"]["access_token"] and body["success"]["data"]["expires_in"] == 3600


@pytest.mark.parametrize(("username", "password"), [(USER, "wrong"), ("someone", API_KEY), (USER, "")])
async def test_login_with_wrong_credentials_gets_401(porichoy, username, password):
    answer = await login(porichoy, username, password)
    assert answer.status_code == 401
    assert answer.json()["status"] == "ERROR"


@pytest.mark.parametrize("length", [10, 13, 17])
async def test_a_matching_voter_answers_ok_with_the_record(porichoy, people, length):
    person = first(people, length)
    answer = await verify(porichoy, query(person), await token(porichoy))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["verified"]) == ("OK", True)
    assert body["fieldVerificationResult"] == {"dateOfBirth": True, "nameEn": True}
    data = body["success"]["data"]
    assert (data["name"], data["nameEn"], data["dateOfBirth"]) == (
        person["name_bn"], person["name_en"], person["date_of_birth"])
    assert data["permanentAddress"]["wardForUnionPorishod"] == person["ward_no"]
    assert data["photo"].startswith("data:image/svg+xml;base64,")


async def test_the_bengali_name_is_verified_as_name(porichoy, people):
    person = first(people, 10)
    body = {"identify": identify(person), "verify": {"dateOfBirth": person["date_of_birth"], "name": person["name_bn"]}}
    answer = await verify(porichoy, body, await token(porichoy))
    assert answer.status_code == 200
    assert answer.json()["fieldVerificationResult"] == {"dateOfBirth": True, "name": True}


async def test_a_13_digit_nid_sent_as_10_digits_or_without_its_birth_year_is_not_found(porichoy, people):
    person = first(people, 13)
    bearer = await token(porichoy)
    for sent in ({"nid17Digit": "1900" + person["nid"]}, {"nid10Digit": person["nid"][:10]}):
        answer = await verify(porichoy, query(person) | {"identify": sent}, bearer)
        assert answer.status_code == 404, sent


async def test_a_mismatch_answers_406_naming_which_field_failed_and_no_record(porichoy, people):
    person = first(people, 10)
    answer = await verify(porichoy, query(person, nameEn="Someone Else"), await token(porichoy))
    assert answer.status_code == 406
    body = answer.json()
    assert (body["verified"], body["fieldVerificationResult"]) == (False, {"dateOfBirth": True, "nameEn": False})
    assert "success" not in body and person["name_bn"] not in answer.text


async def test_an_unknown_number_answers_404(porichoy, people):
    known = {p["nid"] for p in people}
    unknown = next(n for n in (f"{i}" * 10 for i in range(1, 10)) if n not in known)
    answer = await verify(porichoy, {"identify": {"nid10Digit": unknown}, "verify": {"dateOfBirth": "1980-01-01"}},
                          await token(porichoy))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "NOT_FOUND"


async def test_a_birth_registration_number_is_not_in_the_voter_list(porichoy, people):
    minor = first(people, kind="brn")
    answer = await verify(porichoy, query(minor), await token(porichoy))
    assert answer.status_code == 404


async def test_a_locked_voter_answers_voter_is_locked(porichoy, people):
    person = first(people, 17)
    await porichoy.post("/_sim/locks", json={"number": person["nid"], "locked": True})
    answer = await verify(porichoy, query(person), await token(porichoy))
    assert answer.status_code == 403
    assert answer.json()["error"] == {"code": "VOTER_LOCKED", "message": "voter is locked"}
    await porichoy.post("/_sim/locks", json={"number": person["nid"], "locked": False})
    assert (await verify(porichoy, query(person), await token(porichoy))).status_code == 200


@pytest.mark.parametrize("bearer", [None, "", "not-a-token"])
async def test_without_a_valid_token_it_answers_401(porichoy, people, bearer):
    answer = await verify(porichoy, query(first(people, 10)), bearer)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "INVALID_TOKEN"


async def test_an_expired_token_answers_401_token_expired():
    async with await client_for(token_ttl_s=0.05) as client:
        people = list(load_registry(REGISTRY_PATH).values())
        bearer = await token(client)
        await asyncio.sleep(0.1)
        answer = await verify(client, query(first(people, 10)), bearer)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "TOKEN_EXPIRED"


async def test_expiring_every_token_by_the_switch(porichoy, people):
    bearer = await token(porichoy)
    await porichoy.post("/_sim/tokens/expire")
    assert (await verify(porichoy, query(first(people, 10)), bearer)).json()["error"]["code"] == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"identify": {}, "verify": {"dateOfBirth": "1980-01-01"}}, "identify"),
     ({"identify": {"nid10Digit": "1234567890", "nid17Digit": "19801234567890123"},
       "verify": {"dateOfBirth": "1980-01-01"}}, "identify"),
     ({"identify": {"nid10Digit": "1234567890"}, "verify": {}}, "dateOfBirth"),
     ({"identify": {"nid10Digit": "12345"}, "verify": {"dateOfBirth": "1980-01-01"}}, "nid10Digit")],
)
async def test_a_malformed_request_answers_400_naming_the_field(porichoy, body, field):
    answer = await verify(porichoy, body, await token(porichoy))
    assert answer.status_code == 400
    assert field in str(answer.json()["error"]["fields"])


async def test_the_fault_switches_apply_to_the_partner_protocol(porichoy, people):
    bearer = await token(porichoy)
    await porichoy.post("/_sim/faults", json={"down": True})
    assert (await verify(porichoy, query(first(people, 10)), bearer)).status_code == 503
    assert (await login(porichoy)).status_code == 503
    await porichoy.post("/_sim/faults", json={"down": False, "error_rate": 1.0})
    assert (await verify(porichoy, query(first(people, 10)), bearer)).status_code == 500


# --- the birth registration lookup


async def brn(client, ubrn: str, born: str, key: str | None = API_KEY) -> httpx.Response:
    return await client.post(BRN_PATH, json={"ubrn": ubrn, "birthDate": born},
                             headers={"x-api-key": key} if key is not None else {})


async def test_a_birth_registration_number_and_its_date_of_birth_answer_the_record(porichoy, people):
    minor = first(people, kind="brn")
    answer = await brn(porichoy, minor["nid"], minor["date_of_birth"])
    assert answer.status_code == 200
    body = answer.json()
    assert body["matched"] is True
    record = body["record"]
    assert (record["ubrn"], record["personNameBn"], record["personNameEn"], record["personBirthDate"]) == (
        minor["nid"], minor["name_bn"], minor["name_en"], minor["date_of_birth"])
    assert record["fatherNameBn"] == minor["father_name_bn"]


async def test_another_date_of_birth_does_not_match_and_gives_no_record(porichoy, people):
    minor = first(people, kind="brn")
    body = (await brn(porichoy, minor["nid"], "2001-01-01")).json()
    assert body == {"matched": False, "record": None}


async def test_an_nid_is_not_a_birth_registration_number(porichoy, people):
    adult = first(people, 17)
    assert (await brn(porichoy, adult["nid"], adult["date_of_birth"])).status_code == 404


@pytest.mark.parametrize("key", [None, "wrong"])
async def test_the_birth_registration_lookup_wants_its_key(porichoy, people, key):
    minor = first(people, kind="brn")
    assert (await brn(porichoy, minor["nid"], minor["date_of_birth"], key)).status_code == 401


async def test_the_partner_protocol_and_the_lookup_log_no_numbers_or_names(people, caplog):
    caplog.set_level(logging.DEBUG)
    person, minor = first(people, 10), first(people, kind="brn")
    async with await client_for() as client:
        bearer = await token(client)
        await verify(client, query(person), bearer)
        await verify(client, query(person, nameEn="X"), bearer)
        await brn(client, minor["nid"], minor["date_of_birth"])
    assert not re.search(r"\d{10}", caplog.text)
    assert person["name_en"] not in caplog.text and minor["name_en"] not in caplog.text
