"""The `sonod` command: migrate, seed, and run each process of the stack (or all of them with `sonod dev`); the
administrator's, auditor's and operator's commands are sub-commands from infra/*_cli.py, mounted here.

What the commands share (settings, one-line failures, the database) is in infra/cli_common.py. Imports marked
`# lazy:` are slow ones (the worker, uvicorn) that `sonod --help` and the other commands do not need.
Every expected failure (bad settings, an unreachable database, a busy port) prints one clear line and
exits non-zero; a traceback means a bug.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from typing import Annotated

import typer

from infra.admin_cli import admin_app, officers_app
from infra.audit_cli import audit_app
from infra.catalogue_cli import catalogue_app
from infra.cli_common import CliError, describe_seed, fail, load_settings, masked_url, migrate_database, seed_database
from infra.dev import port_problem, run_dev
from infra.keys_cli import keys_app
from infra.ops_cli import ops_app
from infra.pki_cli import pki_app
from infra.porichoy import REGISTRY_PATH
from infra.portal_keys_cli import portal_keys_app
from infra.sms_cli import sms_app
from infra.verify_cli import verify_app

app = typer.Typer(
    name="sonod",
    help="sonod: Union Parishad certificates on Temporal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(keys_app, name="keys")
app.add_typer(pki_app, name="pki")
app.add_typer(audit_app, name="audit")
app.add_typer(ops_app, name="ops")
ops_app.add_typer(sms_app, name="sms")
app.add_typer(admin_app, name="admin")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(officers_app, name="officers")
app.add_typer(portal_keys_app, name="portal-keys")
app.add_typer(verify_app)  # its one command becomes `sonod verify` (with a name it would be `verify verify`)


# ---------------------------------------------------------------------------------------------------------------
# commands


@app.command()
def migrate(
    down: Annotated[bool, typer.Option("--down", help="Downgrade instead (to base unless --revision).")] = False,
    revision: Annotated[str | None, typer.Option(
        "--revision", help="Target revision (default: head, or base with --down).")] = None,
) -> None:
    """Bring the database schema up to date (SQLite under var/ unless SONOD_DATABASE_URL is set)."""
    settings = load_settings()
    try:
        at = migrate_database(settings.db_url, down=down, revision=revision)
    except CliError as exc:
        fail(str(exc), exc.code)
    typer.echo(f"database {masked_url(settings.db_url)} is at revision {at}")


@app.command()
def seed() -> None:
    """Create the demo unions, certificate types, rules and accounts (idempotent)."""
    settings = load_settings()
    try:
        created = seed_database(settings)
    except CliError as exc:
        fail(str(exc), exc.code)
    typer.echo(describe_seed(created))


@app.command()
def worker() -> None:
    """Run the Temporal worker (workflows and activities on the `sonod` task queue)."""
    settings = load_settings()
    from workers.main import run_worker  # lazy: the worker loads every workflow and activity, reportlab included

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # stop like Ctrl-C: the worker shuts down cleanly
            loop.add_signal_handler(sig, task.cancel)
        await run_worker(settings)

    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(main())


@app.command()
def api() -> None:
    """Run the API and web UI under uvicorn."""
    import uvicorn  # lazy: only this command serves HTTP

    from api.guards import server_options  # lazy: loads the API package
    from sonod.logs import configure_logging  # lazy: loads temporalio

    settings = load_settings()
    _require_free_port("the API", settings.api_host, settings.api_port, "SONOD_API_PORT")
    configure_logging(settings.log_format, settings.log_level)
    uvicorn.run(
        "api.main:create_app", factory=True, host=settings.api_host, port=settings.api_port,
        reload=False, log_level="warning", timeout_graceful_shutdown=5, log_config=None, **server_options(settings),
    )


@app.command()
def porichoy() -> None:
    """Run the Porichoy NID gateway simulator."""
    settings = load_settings()
    argv = [sys.executable, "-m", "infra.porichoy", "--host", settings.porichoy_host,
            "--port", str(settings.porichoy_port), "--registry", str(REGISTRY_PATH), "--log-level", "warning"]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


@app.command()
def tsa() -> None:
    """Run sonod's RFC 3161 time-stamping authority (the PDFs' signature timestamps; SONOD_TSA_PORT)."""
    settings = load_settings()
    argv = [sys.executable, "-m", "infra.tsa", "--host", settings.tsa_host, "--port", str(settings.tsa_port),
            "--log-level", "warning"]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


@app.command()
def smsgw() -> None:
    """Run the SMS gateway simulator (SSL Wireless and BulkSMSBD; delivery reports to SONOD_PUBLIC_URL)."""
    settings = load_settings()
    argv = [sys.executable, "-m", "infra.smsgw", "--host", settings.smsgw_host, "--port", str(settings.smsgw_port),
            "--dlr-base", settings.public_url, "--log-level", "warning"]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


@app.command()
def gateways() -> None:
    """Run the payment gateways simulator (ekPay, bKash, SSLCommerz, Nagad; dev mode only)."""
    settings = load_settings()
    argv = [sys.executable, "-m", "infra.gateways", "--host", settings.gateways_host,
            "--port", str(settings.gateways_port), "--log-level", "warning"]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


@app.command()
def dev(
    temporal: Annotated[bool | None, typer.Option(
        "--temporal/--no-temporal",
        help="Start the embedded Temporal dev server (default: when SONOD_TEMPORAL_ADDRESS is local and plain).",
    )] = None,
    porichoy: Annotated[bool, typer.Option("--porichoy/--no-porichoy", help="Start the Porichoy simulator.")] = True,
    gateways: Annotated[bool, typer.Option(
        "--gateways/--no-gateways", help="Start the payment gateways simulator (dev mode only).")] = True,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Do not copy the processes' logs to the console.")] = False,
) -> None:
    """Migrate, seed, and run the whole stack in the foreground (what `make run` does). Ctrl-C stops it."""
    settings = load_settings()
    raise typer.Exit(run_dev(settings, embed_temporal=temporal, porichoy=porichoy, gateways=gateways,
                             forward_logs=not quiet))


def _require_free_port(who: str, host: str, port: int, variable: str) -> None:
    problem = port_problem(host, port)
    if problem:
        fail(f"{who} cannot listen on {host}:{port}: {problem} (set {variable} to another port)")


if __name__ == "__main__":
    app()
