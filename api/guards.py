"""Guards at the door, before any handler runs: a cap on the request body's size and on the time it takes to
arrive, and no NUL characters in the URL. Under the app, in uvicorn's HTTP protocol, a deadline for a request's
line and headers (`HeadDeadline`), which no ASGI middleware can see.

They answer as the API's own errors do: JSON with a `detail` that names the problem.

What a single process can do against slow clients ends here. Many slow connections at once (slowloris from many
addresses) are for the reverse proxy in front of the API: nginx's `client_header_timeout`, `client_body_timeout`,
`limit_conn`, or a CDN; see docs/OPERATIONS.md.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from sonod.settings import Settings

MAX_BODY_BYTES = 1 << 20  # a warish with 60 heirs is ~30 KB; nothing the API takes comes near 1 MiB
# The defaults of SONOD_API_BODY_CHUNK_TIMEOUT_S and SONOD_API_BODY_TIMEOUT_S (sonod/settings.py), for an app that
# has no settings: a phone on a poor 2G link (~2 KB/s) sends the largest application, ~30 KB, well within them.
BODY_CHUNK_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0
KEEP_ALIVE_S = 5  # uvicorn's default, kept explicit: idle keep-alive connections are closed after it


class BodyLimit:
    """413 for a body over `limit` bytes: at once when Content-Length says so, else as soon as the stream passes it
    (a chunked upload), so that a huge body is never read into memory. The connection stays open, so that uvicorn
    reads the rest of the body away and the client, still sending, gets to read the answer.

    408 for a body that stops coming: nothing for `api_body_chunk_timeout_s` between two pieces of it, or not all
    of it within `api_body_timeout_s` of the headers (uvicorn has no such bound, and a handler would wait forever).
    The handler's read of the body fails, so that it never sees part of a body; the answer names the bound and
    closes the connection. If the app had already begun its answer, the connection is just closed. The bounds are
    the app's settings (`app.state.settings`), read at each request, else the module's defaults.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit
        self.too_large = Refusal(413, f"the request body is larger than {limit} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            return await self.too_large.answer(scope, receive, send)
        chunk_s, total_s = body_timeouts(scope)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + total_s
        seen, complete, started, answered = 0, False, False, False
        refusal: Refusal | None = None

        async def receive_guarded() -> Message:
            nonlocal seen, complete, refusal
            if complete:
                return await receive()  # after the body there is only the client's hang-up to wait for
            wait = min(chunk_s, deadline - loop.time())
            try:
                async with asyncio.timeout(wait):
                    message = await receive()
            except TimeoutError:
                refusal = too_slow(chunk_s if wait == chunk_s else None, total_s)
                raise BodyRefused(refusal.detail) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            seen += len(message.get("body", b""))
            if seen > self.limit and not started:
                refusal = self.too_large
                raise BodyRefused(refusal.detail)  # however the app words its failure, the answer is ours
            return message

        async def send_guarded(message: Message) -> None:
            nonlocal started, answered
            if refusal is not None and not started:
                if not answered:
                    answered = True
                    await refusal.answer(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_guarded, send_guarded)
        except Exception:
            if refusal is None or started:
                raise  # with an answer begun, uvicorn closes the connection
        if refusal is not None and not answered and not started:
            await refusal.answer(scope, receive, send)


class Refusal:
    def __init__(self, status: int, detail: str, close: bool = False) -> None:
        self.status, self.detail = status, detail
        self.headers = {"Connection": "close"} if close else None

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"detail": self.detail}, status_code=self.status, headers=self.headers)(scope, receive, send)


def too_slow(chunk_s: float | None, total_s: float) -> Refusal:
    detail = (f"the request body stopped coming: nothing for {chunk_s:g} s" if chunk_s is not None
              else f"the request body did not arrive within {total_s:g} s")
    return Refusal(408, detail, close=True)  # a client this slow would take as long again to send the rest


def body_timeouts(scope: Scope) -> tuple[float, float]:
    settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
    if settings is None:
        return BODY_CHUNK_TIMEOUT_S, BODY_TIMEOUT_S
    return settings.api_body_chunk_timeout_s, settings.api_body_timeout_s


class BodyRefused(Exception):
    pass


class NoNulInUrl:
    """422 for a NUL character (%00) in the path or a query parameter: no database stores one, and no slug, number
    or cursor of ours has one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (loc := nul_in_url(scope)):
            body = {"detail": [{"loc": loc, "msg": "must not contain a NUL character (%00)", "type": "value_error"}]}
            return await JSONResponse(body, status_code=422)(scope, receive, send)
        await self.app(scope, receive, send)


def nul_in_url(scope: Scope) -> list[str] | None:
    if "\x00" in scope.get("path", ""):
        return ["path"]
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return ["query", name.replace("\x00", "")]
        return ["query"]
    return None


# --- below the app: the request's head ---------------------------------------------------------------------------


class HeadDeadline:
    """Mixed into uvicorn's HTTP protocol: a request's line and headers must arrive within `api_head_timeout_s` of
    the connection being opened, or of the first byte of a later request on a kept-alive connection.

    uvicorn bounds only the wait for the next request on an idle kept-alive connection (`timeout_keep_alive`), and
    cancels even that at the first byte: a client that opens a connection and sends nothing, or a header a byte at a
    time, holds the connection (and its socket) for as long as it likes. Here it gets a 408 naming the problem
    (nothing, if it never sent a byte) and the connection is closed.
    """

    settings: Settings  # set by `http_protocol`; read when the clock starts, so a test can shorten it
    _head_timer: asyncio.TimerHandle | None = None
    _in_head = True  # between requests, or part of a request's head received
    _head_bytes = False  # part of the current request's head received

    def connection_made(self, transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._start_head(arm=True)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes = True
            if self._head_timer is None:
                self._arm()
        super().data_received(data)  # type: ignore[misc]
        if self._in_head and self._request_in_flight():
            self._in_head = False
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self._request_in_flight():  # else a pipelined request's head has already arrived
            self._start_head(arm=False)  # the clock starts at the next request's first byte

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _start_head(self, arm: bool) -> None:
        self._in_head, self._head_bytes = True, False
        self._disarm()
        if arm:
            self._arm()

    def _request_in_flight(self) -> bool:
        cycle = self.cycle  # type: ignore[attr-defined]
        return cycle is not None and not cycle.response_complete

    def _arm(self) -> None:
        loop: asyncio.AbstractEventLoop = self.loop  # type: ignore[attr-defined]
        self._head_timer = loop.call_later(self.settings.api_head_timeout_s, self._head_expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        transport = self.transport  # type: ignore[attr-defined]
        if not self._in_head or self._request_in_flight() or transport.is_closing():
            return
        if self._head_bytes:
            detail = f"the request line and headers did not arrive within {self.settings.api_head_timeout_s:g} s"
            body = json.dumps({"detail": detail}).encode()
            transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))
        transport.close()


def http_protocol(settings: Settings) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol as its "auto" picks it (httptools if installed, else h11), with `HeadDeadline`."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol as base  # type: ignore[assignment]
    return type(f"Sonod{base.__name__}", (HeadDeadline, base), {"settings": settings})


def server_options(settings: Settings) -> dict:
    """The uvicorn options `sonod api` runs with (and the test stack), besides the app, host, port and logging."""
    return {
        "http": http_protocol(settings),
        "timeout_keep_alive": KEEP_ALIVE_S,
        # beyond this many connections (or requests in progress), uvicorn answers 503 at once instead of
        # taking on more: the process's memory and file descriptors stay bounded under a flood
        "limit_concurrency": settings.api_max_connections,
        # X-Forwarded-For and -Proto are believed from SONOD_TRUSTED_PROXIES only (uvicorn's default trusts
        # 127.0.0.1: anyone on this machine could claim any address), the same list api/deps.client_ip uses
        "forwarded_allow_ips": [str(network) for network in settings.trusted_proxies],
    }
