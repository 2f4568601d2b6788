"""Runs the SMS gateway simulator: `python -m infra.smsgw [--host H] [--port P] [--dlr-base URL]`."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from infra.porichoy.__main__ import listen_or_say
from infra.smsgw.app import create_app
from sonod.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m infra.smsgw", description="SSL Wireless and BulkSMSBD simulator")
    parser.add_argument("--host", default=settings.smsgw_host)
    parser.add_argument("--port", type=int, default=settings.smsgw_port)
    parser.add_argument("--dlr-base", default=settings.public_url,
                        help="sonod's public URL, where delivery reports go; empty: none are sent")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    sock = listen_or_say("smsgw", args.host, args.port, "SONOD_SMSGW_PORT")
    if sock is None:
        return 1
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(message)s")
    app = create_app({"sslwireless": settings.sslwireless_api_token, "bulksmsbd": settings.bulksmsbd_api_key},
                     args.dlr_base, settings.sms_dlr_secret)
    print(f"SMS gateway simulator on http://{args.host}:{args.port}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level=args.log_level)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
