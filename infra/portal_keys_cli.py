"""Portals' API keys: `sonod portal-keys create|rotate|disable|list NAME`.

A key is printed once and stored hashed; each change is recorded in the deployment's audit log, by
`cli:<login name>`. Exit codes as in infra/admin_cli.py. Imports marked `# lazy:` are slow ones that `--help` does
not need (infra/cli_common.py).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

import typer

from infra.cli_common import BAD_ARGUMENT, database, fail, record

portal_keys_app = typer.Typer(help="Portals' API keys.", no_args_is_help=True)

KEY_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


def new_portal_key() -> str:
    return f"sk_{secrets.token_urlsafe(32)}"


def _key_name(name: str) -> str:
    name = name.strip().lower()
    if not KEY_NAME.match(name):
        fail(f"{name!r} is not a valid portal name: a-z, 0-9, '.', '_', '-'", BAD_ARGUMENT)
    return name


@portal_keys_app.command("create")
def portal_keys_create(name: Annotated[str, typer.Argument(help="The portal's name, e.g. ekpay.")]) -> None:
    """Give a new portal its API key (printed once)."""
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy
    from sonod.security import hash_api_key  # lazy: argon2 and PyJWT

    name = _key_name(name)
    key = new_portal_key()
    with database() as session:
        if session.scalar(select(db.PortalKey.id).where(db.PortalKey.name == name)) is not None:
            fail(f"a portal named {name} already has a key; rotate it with `sonod portal-keys rotate {name}`")
        session.add(db.PortalKey(name=name, key_hash=hash_api_key(key)))
        record(session, None, "portal_key.create", name)
    typer.echo(f"new API key of the portal {name} (shown once; send it as X-API-Key):")
    typer.echo(key)


@portal_keys_app.command("rotate")
def portal_keys_rotate(name: Annotated[str, typer.Argument(help="The portal's name, e.g. demo-portal.")]) -> None:
    """Replace a portal's API key: the new one is printed once, the old one stops working at once."""
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy
    from sonod.security import hash_api_key  # lazy: argon2 and PyJWT

    name = _key_name(name)
    key = new_portal_key()
    with database() as session:
        row = session.scalar(select(db.PortalKey).where(db.PortalKey.name == name))
        if row is None:
            fail(f"unknown portal {name!r}; create its key with `sonod portal-keys create {name}`", BAD_ARGUMENT)
        row.key_hash, row.active = hash_api_key(key), True
        record(session, None, "portal_key.rotate", name)
    typer.echo(f"new API key of the portal {name} (shown once; the old key no longer works):")
    typer.echo(key)


@portal_keys_app.command("disable")
def portal_keys_disable(name: Annotated[str, typer.Argument(help="The portal's name.")]) -> None:
    """Refuse a portal's key from now on."""
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

    name = _key_name(name)
    with database() as session:
        row = session.scalar(select(db.PortalKey).where(db.PortalKey.name == name))
        if row is None:
            fail(f"unknown portal {name!r}", BAD_ARGUMENT)
        row.active = False
        record(session, None, "portal_key.disable", name)
    typer.echo(f"the key of the portal {name} is disabled")


@portal_keys_app.command("list")
def portal_keys_list() -> None:
    """Every portal: name, state, created at (never the key: only its hash is stored)."""
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db  # lazy: SQLAlchemy

    with database() as session:
        for row in session.scalars(select(db.PortalKey).order_by(db.PortalKey.name)):
            typer.echo(f"{row.name}\t{'active' if row.active else 'disabled'}\t"
                       f"{row.created_at.isoformat(timespec='seconds')}")
