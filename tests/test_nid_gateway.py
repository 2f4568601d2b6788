"""The NID check's adapters over real HTTP against the simulator (a process of its own): the partner-service protocol
(its token, refreshed before expiry and once on a 401, and its typed answers), the older KYC protocol behind its
setting, the birth registration lookup, and what a gateway that is down or slow makes of the activity."""

from __future__ import annotations

import logging
import re
import time
from datetime import date

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.brn import BirthRegistry, BrnClient, birth_registry
from activities.nid import GatewayDown, KycClient, NidGateway, TokenExpired
from activities.porichoy import PartnerClient, nid_gateway
from infra.porichoy import REGISTRY_PATH
from infra.porichoy.app import create_app, load_registry
from sonod.settings import Settings
from tests.stack import Porichoy, free_port
from workflows.messages import BrnCheck, NidCheck

KEY = Settings().porichoy_api_key  # the simulator's, as tests/stack.py starts it
TTL_S = 1.0  # the simulator's token lifetime: short, so that a test sees tokens renewed


@pytest.fixture(scope="module")
def people() -> list[dict]:
    return [p for p in load_registry(REGISTRY_PATH).values() if not p["date_of_death"]]


def person(people, length: int | None = None, kind: str = "nid", index: int = 0) -> dict:
    return [p for p in people if p["id_type"] == kind and (length is None or len(p["nid"]) == length)][index]


@pytest.fixture(scope="module")
def sim_url():
    sim = Porichoy(free_port(), "--token-ttl-s", str(TTL_S))
    yield sim.url
    sim.stop()


@pytest.fixture
async def http(sim_url):
    async with httpx.AsyncClient(timeout=5) as client:
        await client.post(f"{sim_url}/_sim/reset")
        yield client
        await client.post(f"{sim_url}/_sim/reset")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def partner(http, sim_url, **options) -> PartnerClient:
    return PartnerClient(http, sim_url, "sonod", KEY, **options)


def nid_check(p: dict, **changes) -> NidCheck:
    return NidCheck(application_id="A1", nid=p["nid"], date_of_birth=date.fromisoformat(p["date_of_birth"]),
                    name=p["name_en"]).model_copy(update=changes)


async def check(lookup, c: NidCheck):
    return await ActivityEnvironment().run(NidGateway(lookup).verify, c)


async def calls(http, sim_url) -> dict[str, int]:
    return (await http.get(f"{sim_url}/_sim/calls")).json()["by_outcome"]


# --- the partner protocol: answers


@pytest.mark.parametrize("length", [10, 13, 17])
async def test_a_matching_nid_of_each_length_is_verified_with_the_record(http, sim_url, people, length):
    p = person(people, length)
    identity = await check(partner(http, sim_url), nid_check(p))
    assert identity.matches, identity.reason
    voter = identity.voter
    assert (voter.name_bn, voter.name_en, voter.date_of_birth.isoformat(), voter.father_name_bn) == (
        p["name_bn"], p["name_en"], p["date_of_birth"], p["father_name_bn"])
    assert (voter.union, voter.ward_no, voter.fields()["village_bn"]) == (p["union"], p["ward_no"], p["village_bn"])


async def test_a_13_digit_nid_is_sent_as_its_17_digit_form(http, sim_url, people):
    p = person(people, 13)
    await check(partner(http, sim_url), nid_check(p))
    by_number = (await http.get(f"{sim_url}/_sim/calls")).json()["by_national_id"]
    assert by_number == {p["date_of_birth"][:4] + p["nid"]: 1}


async def test_a_bengali_name_is_verified_as_the_bengali_name(http, sim_url, people):
    p = person(people, 10)
    assert (await check(partner(http, sim_url), nid_check(p, name=p["name_bn"]))).matches


@pytest.mark.parametrize(("change", "code"), [({"date_of_birth": date(1901, 1, 1)}, "DOB_MISMATCH"),
                                               ({"name": "Someone Else"}, "NAME_MISMATCH")])
async def test_a_mismatch_is_an_answer_naming_what_failed(http, sim_url, people, change, code):
    identity = await check(partner(http, sim_url), nid_check(person(people, 10), **change))
    assert (identity.matches, identity.error_code, identity.voter) == (False, code, None)


async def test_an_unknown_nid_is_not_found(http, sim_url, people):
    known = {p["nid"] for p in people}
    unknown = next(n for n in (f"{i}" * 10 for i in range(1, 10)) if n not in known)
    identity = await check(partner(http, sim_url), nid_check(person(people, 10), nid=unknown))
    assert (identity.matches, identity.error_code) == (False, "NID_NOT_FOUND")


async def test_a_locked_voter_is_an_answer_not_a_retry(http, sim_url, people):
    p = person(people, 17)
    await http.post(f"{sim_url}/_sim/locks", json={"number": p["nid"], "locked": True})
    identity = await check(partner(http, sim_url), nid_check(p))
    assert (identity.matches, identity.error_code) == (False, "VOTER_LOCKED")


# --- the partner protocol: its token


async def test_one_token_serves_many_checks(http, sim_url, people):
    client = partner(http, sim_url, clock=Clock())
    for i in range(3):
        assert (await check(client, nid_check(person(people, 10, index=i)))).matches
    assert client.logins == 1
    assert (await calls(http, sim_url)) == {"login": 1, "pass": 3}


async def test_the_token_is_renewed_before_it_expires(http, sim_url, people):
    clock = Clock()
    client = partner(http, sim_url, refresh_before_s=0.25, clock=clock)
    await check(client, nid_check(person(people, 10)))
    clock.now += TTL_S - 0.3  # not yet due
    await check(client, nid_check(person(people, 10)))
    assert client.logins == 1
    clock.now += 0.1  # 0.2 s of its life left, inside the 0.25 s margin
    await check(client, nid_check(person(people, 10)))
    assert client.logins == 2
    assert "token_expired" not in await calls(http, sim_url)


async def test_with_the_real_clock_and_a_short_lifetime_no_check_meets_an_expired_token(http, sim_url, people):
    client = partner(http, sim_url)  # refresh_before_s=60, more than the lifetime: renewed at half its life
    deadline = time.monotonic() + 3 * TTL_S
    while time.monotonic() < deadline:
        assert (await check(client, nid_check(person(people, 10)))).matches
    assert client.logins >= 5
    outcomes = await calls(http, sim_url)
    assert "token_expired" not in outcomes and "unauthorized" not in outcomes


async def test_an_expired_token_gets_one_fresh_log_in_and_one_more_try(http, sim_url, people):
    client = partner(http, sim_url, clock=Clock())
    await check(client, nid_check(person(people, 10)))
    await http.post(f"{sim_url}/_sim/tokens/expire")
    identity = await check(client, nid_check(person(people, 10)))
    assert identity.matches
    assert client.logins == 2
    assert (await calls(http, sim_url)) == {"login": 2, "pass": 2, "token_expired": 1}


async def test_a_token_refused_even_when_fresh_raises_token_expired_to_be_retried(people):
    app = create_app(REGISTRY_PATH, KEY, token_ttl_s=1e-9)  # every token has expired by the time it is used
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as asgi:
        client = PartnerClient(asgi, "http://porichoy", "sonod", KEY)
        with pytest.raises(TokenExpired):
            await check(client, nid_check(person(people, 10)))
        assert client.logins == 2


async def test_wrong_credentials_raise_gateway_down_to_be_retried(http, sim_url, people):
    client = PartnerClient(http, sim_url, "sonod", "not-the-key")
    with pytest.raises(GatewayDown) as raised:
        await check(client, nid_check(person(people, 10)))
    assert raised.value.kind == "login_refused"


# --- a gateway down or slow


@pytest.mark.parametrize("protocol", ["partner", "kyc"])
async def test_a_gateway_that_is_down_raises_to_be_retried(http, sim_url, people, protocol):
    await http.post(f"{sim_url}/_sim/faults", json={"down": True})
    lookup = partner(http, sim_url) if protocol == "partner" else KycClient(http, sim_url, KEY)
    with pytest.raises(GatewayDown) as raised:
        await check(lookup, nid_check(person(people, 10)))
    assert raised.value.kind == "http_503"  # at the log-in or at the check: the same kind


async def test_a_server_error_on_the_check_raises_to_be_retried(http, sim_url, people):
    client = partner(http, sim_url)
    await client.token()
    await http.post(f"{sim_url}/_sim/faults", json={"error_rate": 1.0})
    with pytest.raises(GatewayDown) as raised:
        await check(client, nid_check(person(people, 10)))
    assert raised.value.kind == "http_500"


async def test_a_slow_gateway_times_out_and_raises(sim_url, people):
    async with httpx.AsyncClient(timeout=0.2) as http:
        await http.post(f"{sim_url}/_sim/faults", json={"latency_ms": 1000})
        try:
            with pytest.raises(httpx.TimeoutException):
                await check(partner(http, sim_url), nid_check(person(people, 10)))
        finally:
            await http.post(f"{sim_url}/_sim/reset")


async def test_a_gateway_that_does_not_listen_raises(people):
    async with httpx.AsyncClient(timeout=2) as http:
        with pytest.raises(httpx.ConnectError):
            await check(partner(http, f"http://127.0.0.1:{free_port()}"), nid_check(person(people, 10)))


# --- the older protocol, behind its setting


def test_the_setting_chooses_the_protocol(sim_url):
    http = httpx.AsyncClient()
    assert isinstance(nid_gateway(Settings(porichoy_url=sim_url), http).lookup, PartnerClient)
    assert isinstance(nid_gateway(Settings(porichoy_url=sim_url, nid_protocol="kyc"), http).lookup, KycClient)
    with pytest.raises(ValueError, match="nid_protocol"):
        Settings(nid_protocol="soap")


async def test_the_kyc_protocol_still_verifies_and_refuses(http, sim_url, people):
    p = person(people, 10)
    assert (await check(KycClient(http, sim_url, KEY), nid_check(p))).matches
    refused = await check(KycClient(http, sim_url, KEY), nid_check(p, name="Someone Else"))
    assert (refused.matches, refused.error_code) == (False, "NAME_MISMATCH")


# --- birth registration numbers


def brn_check(p: dict, **changes) -> BrnCheck:
    return BrnCheck(application_id="A1", brn=p["nid"], date_of_birth=date.fromisoformat(p["date_of_birth"]),
                    name_bn=p["name_bn"], name_en=p["name_en"]).model_copy(update=changes)


async def brn(http, sim_url, c: BrnCheck):
    return await ActivityEnvironment().run(BirthRegistry(BrnClient(http, f"{sim_url}/bdris", KEY)).verify, c)


async def test_a_birth_registration_number_is_verified_with_its_record(http, sim_url, people):
    minor = person(people, kind="brn")
    identity = await brn(http, sim_url, brn_check(minor))
    assert identity.matches, identity.reason
    voter = identity.voter
    assert (voter.brn, voter.nid, voter.name_bn, voter.father_name_bn, voter.union, voter.ward_no) == (
        minor["nid"], None, minor["name_bn"], minor["father_name_bn"], minor["union"], minor["ward_no"])


async def test_either_name_may_match_the_birth_record(http, sim_url, people):
    minor = person(people, kind="brn")
    assert (await brn(http, sim_url, brn_check(minor, name_en="Not This Name"))).matches


@pytest.mark.parametrize(("change", "code"), [
    ({"name_bn": "অন্য কেউ", "name_en": "Someone Else"}, "NAME_MISMATCH"),
    ({"date_of_birth": "shifted"}, "DOB_MISMATCH")])
async def test_a_birth_registration_mismatch_is_an_answer(http, sim_url, people, change, code):
    minor = person(people, kind="brn")
    if change.get("date_of_birth") == "shifted":  # the same year: the number's prefix still fits
        born = date.fromisoformat(minor["date_of_birth"])
        change = {"date_of_birth": born.replace(day=1 if born.day != 1 else 2)}
    identity = await brn(http, sim_url, brn_check(minor, **change))
    assert (identity.matches, identity.error_code, identity.voter) == (False, code, None)


async def test_an_nid_is_not_found_in_the_birth_registry(http, sim_url, people):
    adult = person(people, 17)
    identity = await brn(http, sim_url, brn_check(adult))
    assert (identity.matches, identity.error_code) == (False, "BRN_NOT_FOUND")


async def test_a_birth_registry_that_is_down_raises_to_be_retried(http, sim_url, people):
    await http.post(f"{sim_url}/_sim/faults", json={"down": True})
    with pytest.raises(GatewayDown):
        await brn(http, sim_url, brn_check(person(people, kind="brn")))


def test_the_birth_registry_defaults_to_the_simulator_path_and_key(sim_url):
    client = birth_registry(Settings(porichoy_url=sim_url + "/", porichoy_api_key=KEY), httpx.AsyncClient()).client
    assert (client.base_url, client.api_key) == (f"{sim_url}/bdris", KEY)
    other = birth_registry(Settings(brn_url="https://bdris.example/api/", brn_api_key="k2"), httpx.AsyncClient())
    assert (other.client.base_url, other.client.api_key) == ("https://bdris.example/api", "k2")


# --- no number or name in the logs


async def test_the_checks_log_no_number_and_no_name(http, sim_url, people, caplog):
    caplog.set_level(logging.DEBUG)
    p, minor = person(people, 17), person(people, kind="brn")
    await check(partner(http, sim_url), nid_check(p))
    await check(partner(http, sim_url), nid_check(p, name="Someone Else"))
    await brn(http, sim_url, brn_check(minor))
    assert "identity registry answered" in caplog.text  # the activity did log
    assert not re.search(r"\d{10}", caplog.text)
    for name in (p["name_en"], p["name_bn"], minor["name_en"], minor["name_bn"]):
        assert name not in caplog.text


# --- answers no protocol has (a proxy's error page, a record that does not fit)

LOGGED_IN = {"status": "OK", "success": {"data": {"access_token": "t", "expires_in": 60}}}
ODD_ANSWERS = {
    "an HTML page": lambda: httpx.Response(200, text="<html>gateway</html>"),
    "a list": lambda: httpx.Response(200, json=["not", "an", "object"]),
    "a ward that is no number": lambda: httpx.Response(200, json={
        "status": "OK", "verified": True,
        "success": {"data": {"name": "নাম", "permanentAddress": {"wardForUnionPorishod": "many"}}}}),
    "a 200 that is not verified": lambda: httpx.Response(200, json={"status": "OK", "verified": False}),
    "a 406 that is not JSON": lambda: httpx.Response(406, text="not acceptable"),
}


@pytest.mark.parametrize("odd", ODD_ANSWERS)
async def test_an_answer_the_partner_protocol_does_not_have_is_retried_and_quotes_nothing(people, odd):
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=LOGGED_IN) if request.url.path.endswith("/login") else ODD_ANSWERS[odd]()

    async with httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as mock:
        with pytest.raises(GatewayDown) as raised:
            await check(PartnerClient(mock, "http://gateway", "sonod", KEY), nid_check(person(people, 10)))
    assert "নাম" not in str(raised.value) and "many" not in str(raised.value)


@pytest.mark.parametrize("body", [{"matched": True, "record": {"ubrn": "x", "wardNo": "many"}}, ["matched"]])
async def test_an_answer_the_birth_registry_does_not_have_is_retried(people, body):
    minor = person(people, kind="brn")
    ok_names = {"personNameEn": minor["name_en"]} if isinstance(body, dict) else {}
    if isinstance(body, dict):
        body["record"] |= ok_names
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with httpx.AsyncClient(transport=transport) as mock:
        with pytest.raises(GatewayDown):
            await ActivityEnvironment().run(BirthRegistry(BrnClient(mock, "http://bdris", KEY)).verify,
                                            brn_check(minor))
