"""Runs the Porichoy simulator: `python -m infra.porichoy [--host H] [--port P] [--registry FILE]`."""

from __future__ import annotations

import argparse
import errno
import logging
import socket
import sys
from pathlib import Path

import uvicorn

from infra.porichoy import REGISTRY_PATH
from infra.porichoy.app import RegistryError, create_app
from sonod.settings import get_settings


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def listen_or_say(prog: str, host: str, port: int, variable: str) -> socket.socket | None:
    """The listening socket, or None after saying on stderr why not (and which setting moves the port)."""
    try:
        return listen(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            problem = f"is already in use (stop what holds it, or pass --port / set {variable})"
        else:
            problem = f"cannot be listened on: {exc.strerror or exc}"
        print(f"{prog}: {host}:{port} {problem}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m infra.porichoy", description="Porichoy-compatible NID simulator")
    parser.add_argument("--host", default=settings.porichoy_host)
    parser.add_argument("--port", type=int, default=settings.porichoy_port)
    parser.add_argument("--registry", type=Path, default=REGISTRY_PATH)
    parser.add_argument("--seed", type=int, default=0, help="seed of the error_rate fault")
    parser.add_argument("--token-ttl-s", type=float, default=3600.0,
                        help="lifetime of the partner protocol's bearer tokens, in seconds")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)

    sock = listen_or_say("porichoy", args.host, args.port, "SONOD_PORICHOY_PORT")
    if sock is None:
        return 1
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(message)s")
    try:
        app = create_app(args.registry, settings.porichoy_api_key, seed=args.seed, token_ttl_s=args.token_ttl_s)
    except RegistryError as exc:
        sock.close()
        print(f"porichoy: {exc}", file=sys.stderr)
        return 2
    print(f"porichoy simulator on http://{args.host}:{args.port} ({len(app.state.sim.people)} people)", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level=args.log_level)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
