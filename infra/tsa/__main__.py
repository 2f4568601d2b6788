"""Runs sonod's time-stamping authority: `python -m infra.tsa [--host H] [--port P]` (or `sonod tsa`).

POST / (any path) with `Content-Type: application/timestamp-query` answers `application/timestamp-reply`
(RFC 3161 over HTTP); GET /healthz answers 200; GET /tsa.crt gives the TSA's certificate (DER). The key is the
TSA certificate's of the sonod PKI, read (made on first use) from SONOD_DATABASE_URL and opened with
SONOD_MASTER_KEY.
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.serialization import Encoding

from sonod.tsa import MAX_QUERY_BYTES, QUERY_TYPE, REPLY_TYPE, TimeStampAuthority

log = logging.getLogger("sonod.tsa")


def authority_from_settings() -> TimeStampAuthority:
    from sonod import pki
    from sonod.db import make_engine, make_session_factory
    from sonod.settings import get_settings

    settings = get_settings()
    engine = make_engine(settings.db_url)
    try:
        with make_session_factory(engine).begin() as session:
            tsa = pki.tsa(session, settings.master_key, settings.public_url)
    finally:
        engine.dispose()
    return TimeStampAuthority(tsa.certificate.public_bytes(Encoding.DER), tsa.key)


def handler_for(authority: TimeStampAuthority, certificate_der: bytes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the worker's client reuses its connection
        timeout = 30  # seconds a connection may sit idle or send slowly before it is closed

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._answer(200, "text/plain", b"ok\n")
            elif self.path == "/tsa.crt":
                self._answer(200, "application/pkix-cert", certificate_der)
            else:
                self._answer(404, "text/plain", b"not found\n")

        def do_POST(self) -> None:
            length = self.headers.get("Content-Length", "")
            if not length.isdigit():
                return self._answer(411, "text/plain", b"Content-Length required\n", close=True)
            if int(length) > MAX_QUERY_BYTES:
                return self._answer(413, "text/plain", b"a time-stamp query is smaller than this\n", close=True)
            body = self.rfile.read(int(length))
            if self.headers.get("Content-Type", "").split(";")[0].strip() != QUERY_TYPE:
                return self._answer(415, "text/plain", f"send {QUERY_TYPE}\n".encode())
            self._answer(200, REPLY_TYPE, authority.respond(body))

        def _answer(self, status: int, content_type: str, body: bytes, close: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:
            log.debug(format, *args)

    return Handler


def main(argv: list[str] | None = None) -> int:
    from sonod.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m infra.tsa", description="sonod's RFC 3161 time-stamping authority")
    parser.add_argument("--host", default=settings.tsa_host)
    parser.add_argument("--port", type=int, default=settings.tsa_port)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(message)s")

    authority = authority_from_settings()
    try:
        server = ThreadingHTTPServer((args.host, args.port), handler_for(authority, authority.certificate_der))
    except OSError as exc:
        problem = ("is already in use (stop what holds it, or pass --port / set SONOD_TSA_PORT)"
                   if exc.errno == errno.EADDRINUSE else f"cannot be listened on: {exc.strerror or exc}")
        print(f"tsa: {args.host}:{args.port} {problem}", file=sys.stderr)
        return 1
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `sonod dev` stops it with SIGTERM: exit 0
    print(f"time-stamping authority on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
