"""Runs the payment gateways simulator: `python -m infra.gateways [--host H] [--port P]`."""

from __future__ import annotations

import argparse
import errno
import logging
import sys

import uvicorn

from infra.gateways.app import create_app
from infra.porichoy.__main__ import listen
from sonod.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m infra.gateways", description="payment gateways simulator")
    parser.add_argument("--host", default=settings.gateways_host)
    parser.add_argument("--port", type=int, default=settings.gateways_port)
    parser.add_argument("--seed", type=int, default=0, help="seed of the error_rate fault")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    if not settings.dev_mode:
        print("gateways: the simulator runs in dev mode only (SONOD_DEV_MODE=true)", file=sys.stderr)
        return 2
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            problem = "is already in use (stop what holds it, or pass --port / set SONOD_GATEWAYS_PORT)"
        else:
            problem = f"cannot be listened on: {exc.strerror or exc}"
        print(f"gateways: {args.host}:{args.port} {problem}", file=sys.stderr)
        return 1
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(message)s")
    app = create_app(settings, seed=args.seed)
    print(f"payment gateways simulator on http://{args.host}:{args.port} (ekpay, bkash, sslcommerz, nagad)",
          flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level=args.log_level)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
