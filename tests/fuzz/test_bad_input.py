"""What a careless or hostile client sends: huge, deep, mislabelled, mis-encoded or trickled bodies, odd numbers and
odd addresses. The API answers 4xx naming the problem, never 500, and keeps serving everyone else."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
import zlib

import cbor2
import httpx
import pytest

from sonod.bengali import to_bn_digits
from sonod.domain import Status
from sonod.nid import is_minor
from sonod.security import hmac_sha256_hex
from tests.stack import PORTAL_KEY, people
from tests.unions_kit import PAYMENT_SECRET, add_union, person

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "badinput"  # a union of these tests' own
APPLY = "/api/v1/applications"
MB = 1 << 20


@pytest.fixture(scope="module")
async def union(settings):
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    return UNION


def portal() -> dict:
    return {"X-API-Key": PORTAL_KEY, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}


def body(index: int = 0, **overrides) -> dict:
    return person(index, union=UNION, **overrides)


def named(r: httpx.Response, *field: str | int) -> str:
    """The message of the 422 error at `field` (the loc after "body"), failing when the answer names another."""
    assert r.status_code == 422, f"{r.status_code}: {r.text[:500]}"
    errors = r.json()["detail"]
    for e in errors:
        if tuple(e["loc"][1:]) == field or tuple(e["loc"]) == field:
            return e["msg"]
    raise AssertionError(f"no error at {field}: {errors}")


def names_a_problem(r: httpx.Response, status: int) -> None:
    """The answer is `status` and says what the problem is."""
    assert r.status_code == status, f"{r.status_code}: {r.text[:500]}"
    detail = r.json()["detail"]
    assert (isinstance(detail, str) and detail) or all(e["loc"] and e["msg"] for e in detail), detail


async def still_serving(stack) -> None:
    assert (await stack.http.get("/healthz")).json()["ok"] is True
    r = await stack.http.get("/api/v1/certificate-types")
    assert r.status_code == 200 and r.json()


# --- size and depth ---------------------------------------------------------------------------------------------


async def test_a_5_mb_json_body_is_refused_and_the_server_stays_up(stack, union):
    huge = body(details={"purpose": "x" * (5 * MB)})
    r = await stack.http.post(APPLY, content=json.dumps(huge), headers=portal() | {"Content-Type": "application/json"})
    names_a_problem(r, 413)
    await still_serving(stack)


async def test_a_5_mb_body_sent_in_chunks_without_a_length_is_refused(stack, union):
    async def chunks():
        yield b'{"union": "badinput", "certificate_type": "citizenship", "details": {"purpose": "'
        for _ in range(80):
            yield b"x" * (64 * 1024)
        yield b'"}}'

    r = await stack.http.post(APPLY, content=chunks(), headers=portal() | {"Content-Type": "application/json"})
    names_a_problem(r, 413)
    await still_serving(stack)


@pytest.mark.parametrize("path, content_type", [
    ("/api/v1/verify", "application/json"),
    ("/api/v1/auth/token", "application/x-www-form-urlencoded"),
    ("/api/v1/payments/callback", "application/json"),
])
async def test_every_endpoint_that_reads_a_body_refuses_5_mb(stack, path, content_type):
    raw = b"qr=" + b"A" * (5 * MB) if "form" in content_type else json.dumps({"qr": "A" * (5 * MB)}).encode()
    r = await stack.http.post(path, content=raw, headers={"Content-Type": content_type})
    names_a_problem(r, 413)


async def test_a_body_just_under_the_limit_is_still_read(stack, union):
    r = await stack.http.post(APPLY, json=body(details={"purpose": "x" * (MB - 4096)}), headers=portal())
    assert "at most 200 characters" in named(r, "details", "purpose")


@pytest.mark.parametrize(("depth", "status"), [(50, 422), (800, 422), (100_000, 400)])  # too deep to parse: 400
async def test_deeply_nested_json_is_refused(stack, union, depth, status):
    nested = "[" * depth + "]" * depth
    for where in ("details", "contact", "applicant"):
        raw = json.dumps(body()).replace(f'"{where}": {{', f'"{where}": {{"deep": {nested}, ', 1)
        r = await stack.http.post(APPLY, content=raw, headers=portal() | {"Content-Type": "application/json"})
        names_a_problem(r, status)
    await still_serving(stack)


async def test_a_signed_payment_callback_nested_too_deep_is_refused(stack):
    raw = ("[" * 100_000 + "]" * 100_000).encode()
    r = await stack.http.post("/api/v1/payments/callback", content=raw,
                              headers={"Content-Type": "application/json",
                                       "X-Signature": hmac_sha256_hex(PAYMENT_SECRET, raw)})
    names_a_problem(r, 422)


# --- what the body is, and how it is encoded ----------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded", None])
async def test_a_json_endpoint_given_another_content_type_says_so(stack, union, content_type):
    headers = portal() | ({"Content-Type": content_type} if content_type else {})
    r = await stack.http.post(APPLY, content=json.dumps(body()).encode(), headers=headers)
    names_a_problem(r, 422)


async def test_a_json_body_labelled_with_another_charset_is_read_as_json(stack, union):
    headers = portal() | {"Content-Type": "application/json; charset=latin-1"}
    r = await stack.http.post(APPLY, content=json.dumps(body()).encode(), headers=headers)
    assert r.status_code == 202, r.text


async def test_the_log_in_form_given_json_names_the_fields(stack):
    r = await stack.http.post("/api/v1/auth/token", json={"username": "chairman.paikkandi", "password": "x"})
    assert named(r, "username")


@pytest.mark.parametrize(("raw", "status"), [
    (b'{"union": "badinput", "certificate_type": "citizenship\xff\xfe"}', 400),  # not UTF-8
    (b"\xff\xfe{\x00\"\x00", 422),  # UTF-16 with a byte-order mark
    (b'{"union": "badinput"', 422),  # truncated
    (b"", 422),
    (b"null", 422),
    (b"[]", 422),
    (b'"a string"', 422),
])
async def test_a_body_that_is_not_utf8_json_of_an_application_is_refused(stack, union, raw, status):
    r = await stack.http.post(APPLY, content=raw, headers=portal() | {"Content-Type": "application/json"})
    names_a_problem(r, status)


async def test_non_utf8_bytes_in_a_form_a_header_a_path_and_a_query_are_refused(stack):
    r = await stack.http.post("/api/v1/auth/token", content=b"username=chairman.\xff&password=\xfe\xff",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    names_a_problem(r, 401)  # a failed log-in, like any unknown name
    r = await stack.http.post(APPLY, json=body(), headers=portal() | {"Idempotency-Key": b"k-\xff\xfe"})
    assert r.status_code == 202, r.text  # read as latin-1, as HTTP has it
    r = await stack.http.get(f"{APPLY}/%FF%FE", headers={"X-API-Key": PORTAL_KEY})
    names_a_problem(r, 404)
    r = await stack.http.get("/api/v1/certificate-types?union=%FF%FE")
    names_a_problem(r, 422)


@pytest.mark.parametrize("text", ["nul\x00byte", "lone \ud800 surrogate"])
async def test_a_nul_or_a_lone_surrogate_in_a_name_is_refused_naming_the_field(stack, union, text):
    raw = json.dumps(body(applicant={"name_bn": text}))  # ensure_ascii: \u0000 and \ud800 as escapes
    r = await stack.http.post(APPLY, content=raw, headers=portal() | {"Content-Type": "application/json"})
    assert named(r, "applicant", "name_bn")


@pytest.mark.parametrize("where", ["details", "contact", "extra"])
async def test_a_nul_anywhere_in_an_application_is_refused(stack, union, where):
    value = {"details": {"details": {"purpose": "a\x00b"}}, "contact": {"contact": {"email": "a\x00@b.bd"}},
             "extra": {"applicant": {"village_bn": "a\x00b"}}}[where]
    r = await stack.http.post(APPLY, json=body(**value), headers=portal())
    names_a_problem(r, 422)


async def test_a_nul_in_a_path_or_a_query_is_refused(stack, union):
    officer = await stack.as_officer("chairman.paikkandi")
    for path in (f"{APPLY}/A%00B", "/api/v1/certificates/X%00Y", "/api/v1/certificates/X%00Y/pdf"):
        names_a_problem(await stack.http.get(path, headers={"X-API-Key": PORTAL_KEY}), 422)
    names_a_problem(await stack.http.get("/api/v1/certificate-types?union=pai%00kkandi"), 422)
    names_a_problem(await stack.http.get(f"{APPLY}?union=a%00&cursor=%00", headers=officer), 422)
    for op in ("decision", "cancel", "amend", "escalate"):
        r = await stack.http.post(f"{APPLY}/A%00/{op}", json={"decision": "approve", "reason": "why"},
                                  headers=officer)
        names_a_problem(r, 422)


async def test_a_nul_in_a_log_in_or_a_reason_is_refused(stack):
    r = await stack.http.post("/api/v1/auth/token", data={"username": "chairman\x00.paikkandi", "password": "x"})
    names_a_problem(r, 422)
    officer = await stack.as_officer("chairman.paikkandi")
    r = await stack.http.post("/api/v1/certificates/PAIKKANDI-2026-999999/revoke", json={"reason": "nul\x00"},
                              headers=officer)
    names_a_problem(r, 422)


async def test_a_signed_payment_callback_with_a_nul_is_refused(stack):
    raw = json.dumps({"application_id": "A1", "amount": 690, "currency": "BDT", "transaction_id": "TX\x00"}).encode()
    r = await stack.http.post("/api/v1/payments/callback", content=raw,
                              headers={"Content-Type": "application/json",
                                       "X-Signature": hmac_sha256_hex(PAYMENT_SECRET, raw)})
    names_a_problem(r, 422)


def unsigned_qr(kid: bytes) -> str:
    protected = cbor2.dumps({1: -8, 4: kid})
    cose = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, cbor2.dumps({1: "paikkandi"}), bytes(64)]))
    return "http://127.0.0.1:8000/verify?c=" + base64.b32encode(zlib.compress(cose)).decode().rstrip("=")


@pytest.mark.parametrize(("qr", "page_status"), [
    ("http://[x?c=AAAA", 200), ("https://a]b/verify?c=AAAA", 200), (unsigned_qr(b"paikkandi-\x00"), 200),
    (unsigned_qr(b"\x7f\x01"), 200),
    ("\x00", 422), ("?c=\x00", 422),  # a NUL in the page's query is refused before it is read
])
async def test_a_malformed_qr_is_invalid_not_an_error(stack, qr, page_status):
    r = await stack.http.post("/api/v1/verify", json={"qr": qr})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "invalid"
    page = await stack.http.get("/verify", params={"c": qr})
    assert page.status_code == page_status, page.text[:300]


# --- a slow client ----------------------------------------------------------------------------------------------


async def test_a_client_trickling_its_body_holds_up_nobody_and_its_hang_up_is_harmless(stack, union):
    host, port = stack.http.base_url.host, stack.http.base_url.port
    _reader, writer = await asyncio.open_connection(host, port)
    head = (f"POST {APPLY} HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {PORTAL_KEY}\r\n"
            f"Idempotency-Key: k-{uuid.uuid4().hex}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000\r\n\r\n")
    writer.write(head.encode() + b'{"union": "badinput", ')
    await writer.drain()
    try:
        for _ in range(6):  # a byte every quarter second, while others are served at their usual speed
            writer.write(b" ")
            await writer.drain()
            started = time.monotonic()
            await still_serving(stack)
            assert time.monotonic() - started < 2
            await asyncio.sleep(0.25)
    finally:
        writer.transport.abort()  # hangs up mid-body, as a dropped mobile connection does
    await still_serving(stack)
    app_id = await stack.submitted(body(0))
    assert (await stack.get(app_id))["union"] == UNION


async def test_a_client_that_stops_sending_its_headers_holds_up_nobody(stack):
    host, port = stack.http.base_url.host, stack.http.base_url.port
    _reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: ".encode())
    await writer.drain()
    try:
        started = time.monotonic()
        await still_serving(stack)
        assert time.monotonic() - started < 2
    finally:
        writer.transport.abort()


# --- numbers, types and addresses ---------------------------------------------------------------------------------


async def test_an_nid_in_bengali_digits_is_accepted_and_checked_as_ascii(stack, union):
    b = body(3)
    ascii_nid = b["applicant"]["nid"]
    b["applicant"]["nid"] = to_bn_digits(ascii_nid)
    r = await stack.http.post(APPLY, json=b, headers=portal())
    assert r.status_code == 202, r.text
    app = await stack.wait_for(r.json()["application_id"], Status.AWAITING_DECISION)
    assert app["union"] == UNION


async def test_an_nid_mixing_bengali_and_ascii_digits_with_spaces_is_normalised(stack, union):
    b = body(4)
    n = b["applicant"]["nid"]
    b["applicant"]["nid"] = f"{to_bn_digits(n[:4])} {n[4:8]}-{to_bn_digits(n[8:])}"
    r = await stack.http.post(APPLY, json=b, headers=portal())
    assert r.status_code == 202, r.text
    await stack.wait_for(r.json()["application_id"], Status.AWAITING_DECISION)


def a_minor() -> dict:
    from datetime import date

    return next(p for p in people(adults=False)
                if p["id_type"] == "brn" and is_minor(date.fromisoformat(p["date_of_birth"]), date.today()))


async def test_a_minor_applies_with_a_birth_registration_number(stack, union):
    p = a_minor()
    b = body(0) | {"applicant": {k: p[k] for k in ("nid", "date_of_birth", "name_bn", "name_en")}}
    r = await stack.http.post(APPLY, json=b, headers=portal())
    assert r.status_code == 202, r.text
    await stack.wait_for(r.json()["application_id"], Status.AWAITING_DECISION)


async def test_a_birth_registration_number_of_another_birth_year_is_refused(stack, union):
    p = a_minor()
    wrong_year = str(int(p["nid"][:4]) - 1) + p["nid"][4:]
    b = body(0) | {"applicant": {k: p[k] for k in ("date_of_birth", "name_bn", "name_en")} | {"nid": wrong_year}}
    r = await stack.http.post(APPLY, json=b, headers=portal())
    assert "starts with the birth year" in named(r, "applicant", "nid")


@pytest.mark.parametrize("nid", ["১২৩৪৫", "12345678901234567890", "১২৩৪৫৬৭৮৯x", "--", "\u09e6" * 10 + "\u0660"])
async def test_a_malformed_nid_is_refused_naming_the_field(stack, union, nid):
    r = await stack.http.post(APPLY, json=body(0, applicant={"nid": nid}), headers=portal())
    assert named(r, "applicant", "nid")


@pytest.mark.parametrize("code", ["atlantis-visa", "", "CITIZENSHIP ", "citizenship\n", "x" * 41, "নাগরিকত্ব"])
async def test_an_unknown_certificate_type_is_refused_naming_the_field(stack, union, code):
    r = await stack.http.post(APPLY, json=body(0, certificate_type=code), headers=portal())
    if r.status_code == 202:  # surrounding whitespace and case are tidied away
        assert code.strip().lower() == "citizenship", r.text
        return
    assert named(r, "certificate_type")


@pytest.mark.parametrize("host", ["atlantis.sonod.localhost", "ATLANTIS.sonod.localhost:8000",
                                  "a.b.sonod.localhost", "-.sonod.localhost", "xn--54b7fta0cc.sonod.localhost"])
async def test_an_unknown_union_named_by_the_host_is_refused(stack, host):
    b = body(0)
    del b["union"]
    r = await stack.http.post(APPLY, json=b, headers=portal() | {"Host": host})
    assert "unknown union" in named(r, "union")
    r = await stack.http.get("/api/v1/certificate-types", headers={"Host": host})
    assert "unknown union" in named(r, "query", "union")


async def test_a_host_of_one_union_and_a_body_of_another_is_refused(stack, union):
    r = await stack.http.post(APPLY, json=body(0), headers=portal() | {"Host": "paikkandi.sonod.localhost"})
    assert "serves the union paikkandi" in named(r, "union")


async def test_an_unknown_union_named_by_the_path_is_refused(stack):
    b = body(0)
    del b["union"]
    r = await stack.http.post(f"/unions/atlantis{APPLY}", json=b, headers=portal())
    assert "unknown union" in named(r, "union")
