"""Guards at the door, before any handler runs: a cap on the request body, and no NUL characters in the URL.

Both answer as the API's own errors do: JSON with a `detail` that names the problem.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1 << 20  # a warish with 60 heirs is ~30 KB; nothing the API takes comes near 1 MiB


class BodyLimit:
    """413 for a body over `limit` bytes: at once when Content-Length says so, else as soon as the stream passes it
    (a chunked upload), so that a huge body is never read into memory. The connection stays open, so that uvicorn
    reads the rest of the body away and the client, still sending, gets to read the answer."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit
        self.detail = f"the request body is larger than {limit} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            return await self.refuse(scope, receive, send)
        seen, started, exceeded, answered = 0, False, False, False

        async def receive_limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit and not started:
                exceeded = True
                raise BodyTooLarge(self.detail)  # however the app words its failure, the answer is ours
            return message

        async def send_guarded(message: Message) -> None:
            nonlocal started, answered
            if exceeded:
                if not answered:
                    answered = True
                    await self.refuse(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_limited, send_guarded)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not answered:
            await self.refuse(scope, receive, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"detail": self.detail}, status_code=413)(scope, receive, send)


class BodyTooLarge(Exception):
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
