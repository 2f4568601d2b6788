import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from infra.porichoy import REGISTRY_PATH
from infra.porichoy.app import KYC_PATH, RegistryError, create_app, load_registry
from infra.porichoy.generate import generate, render
from sonod.nid import BENGALI_DIGITS, is_minor
from sonod.unions import BY_SLUG, WARDS

API_KEY = "test-porichoy-key"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def people() -> list[dict]:
    return list(load_registry(REGISTRY_PATH).values())


@pytest.fixture
def adult(people) -> dict:
    return next(p for p in people if p["id_type"] == "nid" and len(p["nid"]) == 17 and not p["date_of_death"])


@pytest.fixture
def minor(people) -> dict:
    return next(p for p in people if p["id_type"] == "brn")


@pytest.fixture
async def porichoy():
    app = create_app(REGISTRY_PATH, API_KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://porichoy") as client:
        yield client


def query(person: dict, **changes) -> dict:
    body = {"national_id": person["nid"], "person_dob": person["date_of_birth"], "person_fullname": person["name_en"]}
    return body | changes


async def kyc(client: httpx.AsyncClient, body: dict, key: str | None = API_KEY) -> httpx.Response:
    return await client.post(KYC_PATH, json=body, headers={"x-api-key": key} if key is not None else {})


# --- the KYC check


async def test_english_name_matches_ignoring_case_and_spacing(porichoy, adult):
    answer = await kyc(porichoy, query(adult, person_fullname=f"  {adult['name_en'].upper()}  ".replace(" ", "  ")))
    assert answer.status_code == 200
    body = answer.json()
    assert (body["passKyc"], body["errorCode"]) == ("yes", None)
    voter = body["voter"]
    for field in ("name_bn", "name_en", "father_name_bn", "mother_name_en", "date_of_birth", "union", "ward_no"):
        assert voter[field] == adult[field]
    assert voter["photo"].startswith("data:image/svg+xml;base64,")


async def test_bengali_name_matches(porichoy, adult):
    body = (await kyc(porichoy, query(adult, person_fullname=adult["name_bn"]))).json()
    assert body["passKyc"] == "yes"
    assert body["voter"]["present_address_bn"] == adult["present_address_bn"]


async def test_minor_passes_with_birth_registration_number(porichoy, minor):
    body = (await kyc(porichoy, query(minor))).json()
    assert body["passKyc"] == "yes"
    assert body["voter"]["id_type"] == "brn"


async def test_bengali_digits_in_the_number_are_accepted(porichoy, adult):
    bengali = adult["nid"].translate(str.maketrans("0123456789", BENGALI_DIGITS))
    assert (await kyc(porichoy, query(adult, national_id=bengali))).json()["passKyc"] == "yes"


async def test_wrong_date_of_birth_fails_with_dob_mismatch(porichoy, adult):
    answer = await kyc(porichoy, query(adult, person_dob="1901-01-01"))
    assert answer.status_code == 200
    assert answer.json() == {"passKyc": "no", "errorCode": "DOB_MISMATCH", "voter": None}


async def test_wrong_name_fails_with_name_mismatch(porichoy, adult):
    body = (await kyc(porichoy, query(adult, person_fullname="Someone Else"))).json()
    assert body == {"passKyc": "no", "errorCode": "NAME_MISMATCH", "voter": None}


async def test_unknown_number_fails_with_nid_not_found(porichoy, adult, people):
    unknown = next(n for n in (f"{i}" * 10 for i in range(1, 10)) if n not in {p["nid"] for p in people})
    body = (await kyc(porichoy, query(adult, national_id=unknown))).json()
    assert body == {"passKyc": "no", "errorCode": "NID_NOT_FOUND", "voter": None}


@pytest.mark.parametrize("number", ["12345", "123456789012", "18003593211000001", "12345abcde"])
async def test_malformed_number_fails_with_invalid_nid_format(porichoy, adult, number):
    body = (await kyc(porichoy, query(adult, national_id=number))).json()
    assert body == {"passKyc": "no", "errorCode": "INVALID_NID_FORMAT", "voter": None}


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
async def test_missing_or_wrong_api_key_gets_401(porichoy, adult, key):
    answer = await kyc(porichoy, query(adult), key=key)
    assert answer.status_code == 401
    assert "x-api-key" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"national_id": "1234567890", "person_fullname": "A"}, "person_dob"),
        ({"national_id": "1234567890", "person_dob": "12/05/1990", "person_fullname": "A"}, "person_dob"),
        ({"national_id": 1234567890, "person_dob": "1990-05-12", "person_fullname": "A"}, "national_id"),
        ({"national_id": "1234567890", "person_dob": "1990-05-12", "person_fullname": ""}, "person_fullname"),
    ],
)
async def test_malformed_body_gets_422_naming_the_field(porichoy, body, field):
    answer = await kyc(porichoy, body)
    assert answer.status_code == 422
    assert ["body", field] in [e["loc"] for e in answer.json()["detail"]]


async def test_simulator_logs_neither_numbers_nor_names(adult, caplog):
    caplog.set_level(logging.DEBUG)
    app = create_app(REGISTRY_PATH, API_KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://porichoy") as client:
        await kyc(client, query(adult))
        await kyc(client, query(adult, person_fullname="Someone Else"))
        await client.post("/_sim/faults", json={"latency_ms": 1})
    assert not re.search(r"\d{10}", caplog.text)
    assert adult["name_en"] not in caplog.text and adult["name_bn"] not in caplog.text


# --- fault switches and the call counter


async def test_down_answers_503(porichoy, adult):
    await porichoy.post("/_sim/faults", json={"down": True})
    assert (await kyc(porichoy, query(adult))).status_code == 503
    await porichoy.post("/_sim/faults", json={"down": False})
    assert (await kyc(porichoy, query(adult))).status_code == 200


async def test_error_rate_one_answers_500_every_time(porichoy, adult):
    await porichoy.post("/_sim/faults", json={"error_rate": 1.0})
    assert [(await kyc(porichoy, query(adult))).status_code for _ in range(5)] == [500] * 5


async def test_error_rate_half_fails_about_half_the_calls(porichoy, adult):
    await porichoy.post("/_sim/faults", json={"error_rate": 0.5})
    statuses = [(await kyc(porichoy, query(adult))).status_code for _ in range(200)]
    assert set(statuses) == {200, 500}
    assert 60 <= statuses.count(500) <= 140


async def test_latency_delays_the_answer(porichoy, adult):
    await porichoy.post("/_sim/faults", json={"latency_ms": 300})
    started = time.monotonic()
    await kyc(porichoy, query(adult))
    assert time.monotonic() - started >= 0.3


async def test_partial_fault_update_changes_only_the_given_fields(porichoy):
    await porichoy.post("/_sim/faults", json={"error_rate": 0.25, "down": True})
    answer = await porichoy.post("/_sim/faults", json={"latency_ms": 40})
    assert answer.json() == {"error_rate": 0.25, "latency_ms": 40, "down": True}
    assert (await porichoy.get("/_sim/faults")).json() == {"error_rate": 0.25, "latency_ms": 40, "down": True}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"error_rate": 1.5}, "error_rate"), ({"error_rate": -0.1}, "error_rate"), ({"latency_ms": -1}, "latency_ms"),
     ({"down": "yes"}, "down"), ({"jitter": 3}, "jitter")],
)
async def test_out_of_range_faults_get_422_and_change_nothing(porichoy, body, field):
    answer = await porichoy.post("/_sim/faults", json=body)
    assert answer.status_code == 422
    assert field in answer.json()["detail"][0]["loc"]
    assert (await porichoy.get("/_sim/faults")).json() == {"error_rate": 0.0, "latency_ms": 0, "down": False}


async def test_calls_are_counted_by_outcome_and_number(porichoy, adult):
    await kyc(porichoy, query(adult))
    await kyc(porichoy, query(adult, person_dob="1901-01-01"))
    await kyc(porichoy, query(adult), key="wrong")
    calls = (await porichoy.get("/_sim/calls")).json()
    assert calls["total"] == 3
    assert calls["by_outcome"] == {"pass": 1, "DOB_MISMATCH": 1, "unauthorized": 1}
    assert calls["by_national_id"] == {adult["nid"]: 2}


async def test_reset_clears_faults_and_counts(porichoy, adult):
    await porichoy.post("/_sim/faults", json={"down": True, "latency_ms": 5})
    await kyc(porichoy, query(adult))
    assert (await porichoy.post("/_sim/reset")).json() == {"error_rate": 0.0, "latency_ms": 0, "down": False}
    assert (await porichoy.get("/_sim/calls")).json() == {"total": 0, "by_outcome": {}, "by_national_id": {}}


async def test_healthz(porichoy, people):
    answer = await porichoy.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["people"] == len(people)


# --- the registry


def test_generator_rewrites_the_committed_registry_byte_for_byte(tmp_path):
    out = tmp_path / "registry.jsonl"
    env = os.environ | {"PYTHONHASHSEED": "12345"}
    cmd = [sys.executable, "-m", "infra.porichoy.generate", "--out", str(out)]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    assert out.read_bytes() == REGISTRY_PATH.read_bytes()
    assert render(generate()) == REGISTRY_PATH.read_bytes()


def test_registry_has_enough_people_with_unique_numbers(people):
    lines = [line for line in REGISTRY_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) >= 500
    assert len(people) == len(lines)  # load_registry refuses a repeated nid
    assert len({p["nid"] for p in people} | {p["death_registration_no"] for p in people if p["date_of_death"]}) == (
        len(people) + sum(1 for p in people if p["date_of_death"])
    )


def test_registry_has_nids_of_all_three_lengths(people):
    assert {len(p["nid"]) for p in people if p["id_type"] == "nid"} == {10, 13, 17}


def test_everyone_under_18_today_has_a_birth_registration_number(people):
    minors = [p for p in people if is_minor(date.fromisoformat(p["date_of_birth"]), date.today())]
    assert minors
    for p in minors:
        assert (p["id_type"], p["brn"], len(p["nid"])) == ("brn", p["nid"], 17)


def test_registry_spreads_over_every_union_and_ward(people):
    assert {p["union"] for p in people} == set(BY_SLUG)
    assert {p["ward_no"] for p in people} == set(WARDS)


def test_registry_names_come_in_bengali_and_english(people):
    for p in people:
        for field in ("name", "father_name", "mother_name"):
            assert any("\u0980" <= ch <= "\u09ff" for ch in p[f"{field}_bn"])
            assert p[f"{field}_en"].isascii()
    assert {p["gender"] for p in people} == {"male", "female"}
    assert any(p["name_bn"].startswith("মোঃ") for p in people)
    assert any(p["name_bn"].startswith("শ্রীমতি") for p in people)


def test_registry_has_deceased_people_with_living_heirs_in_their_union(people):
    families = 0
    for dead in (p for p in people if p["date_of_death"]):
        heirs = [
            p for p in people
            if p["household_id"] == dead["household_id"] and not p["date_of_death"] and p["union"] == dead["union"]
        ]
        children = [p for p in heirs if p["father_name_bn"] == dead["name_bn"]]
        spouse = [p for p in heirs if p["spouse_name_bn"] == dead["name_bn"]]
        families += len(children) >= 2 and len(spouse) == 1
    assert families >= 5


# --- a malformed registry


GOOD = REGISTRY_PATH.read_text(encoding="utf-8").splitlines()[:2]


def registry_with(tmp_path: Path, third_line: str) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([*GOOD, third_line]) + "\n", encoding="utf-8")
    return path


def changed(**fields) -> str:
    return json.dumps(json.loads(GOOD[0]) | fields, ensure_ascii=False)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"nid": "1234567890", ', "Expecting"),
        ("[1, 2]", "not a JSON object"),
        (changed(name_en=None), "missing name_en"),
        (changed(nid="123456789012"), "NID must be 10, 13 or 17 digits, not 12"),
        (changed(date_of_birth="12/05/1990"), "date_of_birth must be YYYY-MM-DD"),
        (changed(union="dhaka"), "union"),
        (changed(ward_no=10), "ward_no"),
        (GOOD[0], "duplicate nid"),
    ],
)
def test_malformed_registry_line_is_refused_naming_file_and_line(tmp_path, line, problem):
    path = registry_with(tmp_path, line)
    with pytest.raises(RegistryError) as caught:
        create_app(path, API_KEY)
    message = str(caught.value)
    assert f"{path}, line 3: " in message
    assert problem in message
    assert json.loads(GOOD[0])["nid"] not in message


def test_cli_refuses_a_malformed_registry_in_one_line(tmp_path):
    path = registry_with(tmp_path, "{oops")
    done = run_cli("--port", str(free_port()), "--registry", str(path))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert f"{path}, line 3" in done.stderr


# --- over real HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"SONOD_PORICHOY_API_KEY": API_KEY}
    return subprocess.run(
        [sys.executable, "-m", "infra.porichoy", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )


@pytest.fixture(scope="module")
def live_url():
    port = free_port()
    env = os.environ | {"SONOD_PORICHOY_API_KEY": API_KEY}
    cmd = [sys.executable, "-m", "infra.porichoy", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the simulator did not start: {process.stdout.read().decode()}")
        time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


async def test_kyc_over_real_http(live_url, adult):
    async with httpx.AsyncClient(base_url=live_url) as client:
        await client.post("/_sim/reset")
        answer = await kyc(client, query(adult, person_fullname=adult["name_bn"]))
        assert answer.json()["passKyc"] == "yes"
        await client.post("/_sim/faults", json={"down": True})
        assert (await kyc(client, query(adult))).status_code == 503
        assert (await client.get("/_sim/faults")).json()["down"] is True
        assert (await client.get("/_sim/calls")).json()["by_outcome"] == {"pass": 1, "unavailable": 1}
        await client.post("/_sim/reset")


def test_port_in_use_gives_a_one_line_error(live_url):
    done = run_cli("--port", live_url.rsplit(":", 1)[1])
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "already in use" in done.stderr
    assert "Traceback" not in done.stderr
