"""What the `sonod` command (infra/cli.py) and its sub-commands (infra/*_cli.py) share: the settings, failures
that end a command with one line, a database session, the audit record of an operator's act, and the database
steps that `sonod dev` (infra/dev.py) runs too.

Every expected failure (bad settings, an unreachable database, a busy port) prints one clear line and exits
non-zero; a traceback means a bug. Exit codes: 0 done; 1 it could not be done; 2 bad arguments or settings.

An import marked `# lazy:` sits inside the function that needs it on purpose: SQLAlchemy (and sonod.db, sonod.audit,
... built on it), Alembic and the Temporal client each take a noticeable part of a second to import, and
`sonod --help` or a command that does not use them should not wait for them.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from sonod.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

NOT_DONE, BAD_ARGUMENT = 1, 2


class CliError(Exception):
    """An expected failure: its message is printed as is, then the command exits with `code`."""

    def __init__(self, message: str, code: int = NOT_DONE) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = NOT_DONE) -> NoReturn:
    typer.echo(f"sonod: {message}", err=True)
    raise typer.Exit(code)


_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?=@)")


def mask_urls(text: str) -> str:
    """Hide the password of every URL in `text`."""
    return _URL_PASSWORD.sub(lambda m: m["head"] + "***", text)


def masked_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url  # lazy: SQLAlchemy

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is still shown, masked by pattern
        return mask_urls(url)


def load_settings() -> Settings:
    """The settings from the environment, or exit 2 with the offending SONOD_ variables named."""
    try:
        return Settings()
    except ValidationError as exc:
        fail("invalid settings: " + "; ".join(_describe(error) for error in exc.errors()), code=BAD_ARGUMENT)
    except SettingsError as exc:  # a complex value (JSON) that does not parse
        message = mask_urls(str(exc))
        field = re.search(r'field "(\w+)"', message)
        if field:
            message = f"SONOD_{field[1].upper()} is not valid JSON ({message})"
        fail(f"invalid settings: {message}", code=BAD_ARGUMENT)


def _describe(error: dict) -> str:
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    field = ".".join(str(part) for part in error.get("loc", ()))
    if field:
        name = "SONOD_" + field.split(".")[0].upper()
        return f"{name}: {mask_urls(message)}"
    return mask_urls(message)


# ---------------------------------------------------------------------------------------------------------------
# the database


def database_error(url: str, exc: BaseException) -> CliError:
    """The one line that says why the database at `url` could not be used."""
    from sqlalchemy import exc as sa_exc  # lazy: SQLAlchemy

    text = str(getattr(exc, "orig", None) or exc).strip()
    reason = mask_urls(text.splitlines()[0].strip()) if text else type(exc).__name__
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return CliError(f"cannot use the database at {masked_url(url)}: {reason}")
    if isinstance(exc, ImportError | sa_exc.NoSuchModuleError | sa_exc.ArgumentError):
        return CliError(f"no database driver for {masked_url(url)} ({reason}); "
                        "use a postgresql:// or sqlite:// URL in SONOD_DATABASE_URL")
    return CliError(f"database error at {masked_url(url)}: {reason}")


@contextmanager
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory on the settings' database; a database error ends the command with one line."""
    from sqlalchemy import exc as sa_exc  # lazy: SQLAlchemy

    from sonod.db import make_engine, make_session_factory  # lazy: SQLAlchemy

    engine = make_engine(settings.db_url)
    try:
        yield make_session_factory(engine)
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        fail(str(database_error(settings.db_url, exc)))
    finally:
        engine.dispose()


@contextmanager
def database() -> Iterator[Session]:
    """A session on SONOD_DATABASE_URL, committed when the command ends without failing."""
    with sessions(load_settings()) as factory, factory() as session:
        yield session
        session.commit()


def cli_actor(given: str | None = None) -> str:
    """Who acts, in the audit log: `given` (an operator's `--as`), else `cli:<login name>`."""
    if given:
        return given[:80]
    try:
        return f"cli:{getpass.getuser()}"[:80]
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"


def record(session: Session, union: str | None, action: str, target: str, detail: dict | None = None,
           actor: str | None = None) -> None:
    """An operator's act, in the union's audit log; what belongs to no union (upazila officers, operators, portals)
    in the deployment's."""
    from sonod import audit  # lazy: SQLAlchemy

    audit.record(session, union=union or audit.DEPLOYMENT, actor=cli_actor(actor), role="operator", action=action,
                 target=target, detail=detail or {})


# ---------------------------------------------------------------------------------------------------------------
# the database steps of `sonod migrate`, `sonod seed` and `sonod dev`


def _prepare_sqlite(url: str) -> None:
    """SQLite needs its directory (var/ by default) to exist."""
    from sqlalchemy.engine import make_url  # lazy: SQLAlchemy

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def migrate_database(url: str, *, down: bool = False, revision: str | None = None) -> str:
    """Upgrade (or downgrade) the schema; returns the revision it is at. Raises CliError."""
    from alembic.util import CommandError  # lazy: Alembic
    from sqlalchemy import exc as sa_exc  # lazy: SQLAlchemy

    from sonod import migrate  # lazy: Alembic

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
        raise database_error(url, exc) from None


def current_revision(url: str) -> str:
    from alembic.runtime.migration import MigrationContext  # lazy: Alembic

    from sonod.db import make_engine  # lazy: SQLAlchemy

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision() or "base"
    finally:
        engine.dispose()


def seed_database(settings: Settings) -> dict[str, int]:
    """The demo unions, catalogue, rules and accounts, in one transaction. Raises CliError."""
    from sqlalchemy import exc as sa_exc  # lazy: SQLAlchemy

    from sonod.db import make_engine, make_session_factory  # lazy: SQLAlchemy
    from sonod.seed import DemoDataRefused, seed  # lazy: SQLAlchemy

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
        error = database_error(url, exc)
        if re.search(r"no such table|relation .* does not exist", str(exc)):
            error = CliError(f"{error} (run `sonod migrate` first)")
        raise error from None


def describe_seed(created: dict[str, int]) -> str:
    made = ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in created.items() if count)
    return f"seeded: {made}" if made else "seeded: nothing new (the demo data is already there)"
