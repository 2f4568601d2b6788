"""The `sonod` command: migrate, seed, and run each process of the stack (or all of them with `sonod dev`).

Heavy modules are imported inside each command so that `sonod --help` answers at once.
Every expected failure (bad settings, an unreachable database, a busy port) prints one clear line and
exits non-zero; a traceback means a bug.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from sonod.settings import Settings

app = typer.Typer(
    name="sonod",
    help="sonod: Union Parishad certificates on Temporal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Unions' signing keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The keyed, checkpointed audit log.", no_args_is_help=True)
ops_app = typer.Typer(help="Operators' tools.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(ops_app, name="ops")

from infra.admin_cli import mount as mount_admin  # noqa: E402 - `sonod admin`, `officers`, `portal-keys`

mount_admin(app)

from infra.audit_cli import mount as mount_audit  # noqa: E402 - `sonod audit verify`, `checkpoint`

mount_audit(audit_app)

from infra.ops_cli import mount as mount_ops  # noqa: E402 - `sonod ops stuck`, `retry`, `reassign`, `cancel`, `resend`

mount_ops(ops_app)

try:
    from infra.verify_cli import verify_app
except ImportError:  # the verifier is optional: the rest of the CLI works without it
    pass
else:
    app.add_typer(verify_app)  # its one command becomes `sonod verify` (with a name it would be `verify verify`)


# ---------------------------------------------------------------------------------------------------------------
# errors that end a command with one line, never a traceback


class CliError(Exception):
    """An expected failure: its message is printed as is, then the command exits with `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"sonod: {message}", err=True)
    raise typer.Exit(code)


_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?=@)")


def mask_urls(text: str) -> str:
    """Hide the password of every URL in `text`."""
    return _URL_PASSWORD.sub(lambda m: m["head"] + "***", text)


def masked_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is still shown, masked by pattern
        return mask_urls(url)


def load_settings() -> Settings:
    """The settings from the environment, or exit 2 with the offending SONOD_ variables named."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from sonod.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        fail("invalid settings: " + "; ".join(_describe(error) for error in exc.errors()), code=2)
    except SettingsError as exc:  # a complex value (JSON) that does not parse
        message = mask_urls(str(exc))
        field = re.search(r'field "(\w+)"', message)
        if field:
            message = f"SONOD_{field[1].upper()} is not valid JSON ({message})"
        fail(f"invalid settings: {message}", code=2)


def _describe(error: dict) -> str:
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    field = ".".join(str(part) for part in error.get("loc", ()))
    if field:
        name = "SONOD_" + field.split(".")[0].upper()
        return f"{name}: {mask_urls(message)}"
    return mask_urls(message)


# ---------------------------------------------------------------------------------------------------------------
# the database steps, shared with `sonod dev`


def _prepare_sqlite(url: str) -> None:
    """SQLite needs its directory (var/ by default) to exist."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _database_error(url: str, exc: BaseException) -> CliError:
    from sqlalchemy import exc as sa_exc

    text = str(getattr(exc, "orig", None) or exc).strip()
    reason = mask_urls(text.splitlines()[0].strip()) if text else type(exc).__name__
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return CliError(f"cannot use the database at {masked_url(url)}: {reason}")
    if isinstance(exc, ImportError | sa_exc.NoSuchModuleError | sa_exc.ArgumentError):
        return CliError(f"no database driver for {masked_url(url)} ({reason}); "
                        "use a postgresql:// or sqlite:// URL in SONOD_DATABASE_URL")
    return CliError(f"database error at {masked_url(url)}: {reason}")


def migrate_database(url: str, *, down: bool = False, revision: str | None = None) -> str:
    """Upgrade (or downgrade) the schema; returns the revision it is at. Raises CliError."""
    from alembic.util import CommandError
    from sqlalchemy import exc as sa_exc

    from sonod import migrate

    try:
        _prepare_sqlite(url)
        if down:
            migrate.downgrade(url, revision or "base")
        else:
            migrate.upgrade(url, revision or "head")
        return current_revision(url)
    except CommandError as exc:  # an unknown --revision, say
        raise CliError(f"cannot migrate {masked_url(url)}: {exc}") from None
    except (sa_exc.SQLAlchemyError, ImportError, OSError) as exc:
        raise _database_error(url, exc) from None


def current_revision(url: str) -> str:
    from alembic.runtime.migration import MigrationContext

    from sonod.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() or "base"
    finally:
        engine.dispose()


def seed_database(settings: Settings) -> dict[str, int]:
    """The demo unions, catalogue, rules and accounts, in one transaction. Raises CliError."""
    from sqlalchemy import exc as sa_exc

    from sonod.db import make_engine, make_session_factory
    from sonod.seed import DemoDataRefused, seed

    url = settings.db_url
    try:
        _prepare_sqlite(url)
        engine = make_engine(url)
        try:
            with make_session_factory(engine)() as session, session.begin():
                return seed(session, settings)
        finally:
            engine.dispose()
    except DemoDataRefused as exc:
        raise CliError(str(exc)) from None
    except (sa_exc.SQLAlchemyError, ImportError, OSError) as exc:
        error = _database_error(url, exc)
        if re.search(r"no such table|relation .* does not exist", str(exc)):
            error = CliError(f"{error} (run `sonod migrate` first)")
        raise error from None


def describe_seed(created: dict[str, int]) -> str:
    made = ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in created.items() if count)
    return f"seeded: {made}" if made else "seeded: nothing new (the demo data is already there)"


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
    import asyncio
    import signal

    settings = load_settings()
    from workers.main import run_worker

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # stop like Ctrl-C: the worker shuts down cleanly
            loop.add_signal_handler(sig, task.cancel)
        await run_worker(settings)

    try:
        asyncio.run(main())
    except (asyncio.CancelledError, KeyboardInterrupt):
        pass


@app.command()
def api() -> None:
    """Run the API and web UI under uvicorn."""
    import uvicorn

    from api.guards import server_options
    from sonod.logs import configure_logging

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
    import os

    from infra.porichoy import REGISTRY_PATH

    settings = load_settings()
    argv = [sys.executable, "-m", "infra.porichoy", "--host", settings.porichoy_host,
            "--port", str(settings.porichoy_port), "--registry", str(REGISTRY_PATH), "--log-level", "warning"]
    sys.stdout.flush()
    os.execv(sys.executable, argv)


@app.command()
def dev(
    temporal: Annotated[bool | None, typer.Option(
        "--temporal/--no-temporal",
        help="Start the embedded Temporal dev server (default: when SONOD_TEMPORAL_ADDRESS is local and plain).",
    )] = None,
    porichoy: Annotated[bool, typer.Option("--porichoy/--no-porichoy", help="Start the Porichoy simulator.")] = True,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Do not copy the processes' logs to the console.")] = False,
) -> None:
    """Migrate, seed, and run the whole stack in the foreground (what `make run` does). Ctrl-C stops it."""
    from infra.dev import run_dev

    settings = load_settings()
    raise typer.Exit(run_dev(settings, embed_temporal=temporal, porichoy=porichoy, forward_logs=not quiet))


# ---------------------------------------------------------------------------------------------------------------
# signing keys


@keys_app.command("rotate")
def keys_rotate(union: Annotated[str, typer.Argument(help="The union's slug, e.g. paikkandi.")]) -> None:
    """Retire the union's current signing key and make a new one; what the old key signed still verifies."""
    from sqlalchemy import exc as sa_exc

    from infra.admin_cli import cli_actor
    from sonod.db import make_engine, make_session_factory, utcnow
    from sonod.keys import KeyStore

    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        old, new = KeyStore(make_session_factory(engine), settings.master_key).rotate(union, utcnow(),
                                                                                     actor=cli_actor())
    except LookupError as exc:
        fail(f"{exc.args[0]} (see `sonod keys list`)")
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        fail(str(_database_error(settings.db_url, exc)))
    finally:
        engine.dispose()
    typer.echo(f"{union}: retired {old}; new certificates are signed with {new}")


@keys_app.command("list")
def keys_list(union: Annotated[str | None, typer.Argument(help="Only this union's keys.")] = None) -> None:
    """Every signing key: kid, union, in use since, retired at."""
    from sqlalchemy import exc as sa_exc

    from sonod.db import make_engine, make_session_factory
    from sonod.keys import KeyStore

    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        keys = KeyStore(make_session_factory(engine), settings.master_key).trusted_keys()
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        fail(str(_database_error(settings.db_url, exc)))
    finally:
        engine.dispose()
    for key in keys:
        if union in (None, key.union):
            retired = key.not_after.isoformat(timespec="seconds") if key.not_after else "current"
            typer.echo(f"{key.kid}\t{key.union}\t{key.not_before.isoformat(timespec='seconds')}\t{retired}")


def _require_free_port(who: str, host: str, port: int, variable: str) -> None:
    from infra.dev import port_problem

    problem = port_problem(host, port)
    if problem:
        fail(f"{who} cannot listen on {host}:{port}: {problem} (set {variable} to another port)")


if __name__ == "__main__":
    app()
