"""Issue #8: slow clients are refused without harm. A body that stops coming, a body dribbled too slowly, a request
head that never ends and a connection that says nothing all get a bounded answer (408 naming the bound, then the
connection closed) while everyone else is served; a handler never sees part of a body. Raw sockets against the
live stack, with the bounds shortened for the test (api/guards.py, SONOD_API_*_TIMEOUT_S)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest

from tests.stack import PORTAL_KEY
from tests.unions_kit import add_union, person

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "slowclients"  # a union of these tests' own
APPLY = "/api/v1/applications"
CHUNK_S, TOTAL_S, HEAD_S = 0.5, 1.5, 0.8
SLACK_S = 1.5  # a loaded test machine's scheduling, on top of a bound
EARLY_S = 0.1  # the server's clock for the head starts at the connection, a little before ours


@pytest.fixture(scope="module")
async def union(settings):
    await asyncio.to_thread(add_union, settings.db_url, UNION)
    return UNION


@pytest.fixture
def short_bounds(settings, monkeypatch):
    """The live stack's bounds, shortened for one test: the guards read them at each request and connection."""
    monkeypatch.setattr(settings, "api_body_chunk_timeout_s", CHUNK_S)
    monkeypatch.setattr(settings, "api_body_timeout_s", TOTAL_S)
    monkeypatch.setattr(settings, "api_head_timeout_s", HEAD_S)


def head(stack, body_length: int, key: str | None = None) -> bytes:
    url = stack.http.base_url
    return (f"POST {APPLY} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nX-API-Key: {PORTAL_KEY}\r\n"
            f"Idempotency-Key: {key or 'k-' + uuid.uuid4().hex}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {body_length}\r\n\r\n").encode()


async def exchange(stack, first: bytes, dribble: bytes = b"", every: float = 0.0, limit: float = 10.0):
    """Send `first`, then `dribble` a byte every `every` seconds, while reading the answer until the server
    closes the connection: (seconds until the close, what was read)."""
    reader, writer = await asyncio.open_connection(stack.http.base_url.host, stack.http.base_url.port)
    started = time.monotonic()

    async def send() -> None:
        try:
            writer.write(first)
            await writer.drain()
            for byte in dribble:
                await asyncio.sleep(every)
                writer.write(bytes([byte]))
                await writer.drain()
        except ConnectionError:
            pass  # the server hung up on us: what we wanted to see

    sending = asyncio.create_task(send())
    answer = b""
    try:
        async with asyncio.timeout(limit):
            while chunk := await reader.read(65536):
                answer += chunk
    except ConnectionError:
        pass
    finally:
        sending.cancel()
        writer.transport.abort()
    return time.monotonic() - started, answer


def refused(answer: bytes, status: int, *words: str) -> None:
    head_, _, body = answer.partition(b"\r\n\r\n")
    assert head_.startswith(f"HTTP/1.1 {status} ".encode()), answer[:300]
    assert b"connection: close" in head_.lower()
    detail = json.loads(body)["detail"]
    assert all(w in detail for w in words), detail


async def served_meanwhile(stack, while_: asyncio.Task) -> int:
    """Other clients' requests, one after the other until `while_` is done, each answered promptly."""
    served = 0
    while not while_.done():
        started = time.monotonic()
        r = await stack.http.get("/api/v1/certificate-types")
        assert r.status_code == 200 and time.monotonic() - started < 1.0
        served += 1
        await asyncio.sleep(0.1)
    return served


async def test_a_body_that_stops_coming_gets_408_in_bounded_time_and_others_are_served(stack, union, short_bounds):
    body = json.dumps(person(0, union=UNION)).encode()
    slow = asyncio.create_task(exchange(stack, head(stack, len(body)) + body[:40]))
    assert await served_meanwhile(stack, slow) >= 2
    took, answer = await slow
    refused(answer, 408, "stopped coming", f"{CHUNK_S:g} s")
    assert CHUNK_S <= took < CHUNK_S + SLACK_S


async def test_a_body_dribbled_too_slowly_in_all_gets_408_at_the_total_bound(stack, union, short_bounds):
    body = json.dumps(person(1, union=UNION)).encode()
    every = CHUNK_S / 3  # each piece in time, the whole far too late
    slow = asyncio.create_task(exchange(stack, head(stack, len(body)) + body[:20], body[20:], every))
    assert await served_meanwhile(stack, slow) >= 2
    took, answer = await slow
    refused(answer, 408, "did not arrive within", f"{TOTAL_S:g} s")
    assert TOTAL_S <= took < TOTAL_S + SLACK_S


async def test_the_handler_never_sees_a_body_that_did_not_arrive_whole(stack, union, short_bounds):
    key, whole = f"k-{uuid.uuid4().hex}", json.dumps(person(2, union=UNION)).encode()
    # a complete application, but the length promises more: a handler given what came would accept it
    _, answer = await exchange(stack, head(stack, len(whole) + 10, key) + whole)
    refused(answer, 408, "stopped coming")
    other = person(3, union=UNION)
    r = await stack.http.post(APPLY, json=other, headers={"X-API-Key": PORTAL_KEY, "Idempotency-Key": key})
    assert r.status_code == 202, r.text  # 409 had the first body been taken under this key


async def test_a_slow_but_steady_body_within_the_bounds_is_accepted(stack, union, short_bounds):
    body = json.dumps(person(4, union=UNION)).encode()
    pieces = [body[i : i + len(body) // 4 + 1] for i in range(0, len(body), len(body) // 4 + 1)]
    reader, writer = await asyncio.open_connection(stack.http.base_url.host, stack.http.base_url.port)
    try:
        writer.write(head(stack, len(body)))
        for piece in pieces:  # each piece in time, the whole within the total
            await asyncio.sleep(CHUNK_S / 2)
            writer.write(piece)
            await writer.drain()
        async with asyncio.timeout(10):
            status = await reader.readline()
    finally:
        writer.transport.abort()
    assert status.startswith(b"HTTP/1.1 202 "), status


async def test_a_request_head_that_stops_coming_gets_408_and_others_are_served(stack, short_bounds):
    url = stack.http.base_url
    slow = asyncio.create_task(exchange(stack, f"GET /healthz HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n".encode(),
                                        b"X-Slow: " + b"a" * 40, every=0.1))
    assert await served_meanwhile(stack, slow) >= 2
    took, answer = await slow
    refused(answer, 408, "line and headers", f"{HEAD_S:g} s")
    assert HEAD_S - EARLY_S <= took < HEAD_S + SLACK_S


async def test_a_connection_that_sends_nothing_is_closed_without_an_answer(stack, short_bounds):
    took, answer = await exchange(stack, b"")
    assert answer == b"" and HEAD_S - EARLY_S <= took < HEAD_S + SLACK_S
