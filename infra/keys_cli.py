"""`sonod keys`: the unions' signing keys.

    sonod keys list [paikkandi]
    sonod keys rotate paikkandi
    sonod keys root [--out var/trust/root.jwk]   # the sonod root's public JWK, for offline verifiers to pin

Exit codes: 0 done; 1 it could not be done (an unknown union, the database unreachable).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from infra.cli_common import cli_actor, fail, load_settings, sessions

keys_app = typer.Typer(help="Unions' signing keys, and the sonod root that vouches for them.", no_args_is_help=True)


@keys_app.command("rotate")
def keys_rotate(union: Annotated[str, typer.Argument(help="The union's slug, e.g. paikkandi.")]) -> None:
    """Retire the union's current signing key and make a new one; what the old key signed still verifies."""
    from sonod.db import utcnow  # lazy: SQLAlchemy
    from sonod.keys import KeyStore  # lazy: SQLAlchemy

    settings = load_settings()
    with sessions(settings) as factory:
        try:
            old, new = KeyStore(factory, settings.master_key).rotate(union, utcnow(), actor=cli_actor())
        except LookupError as exc:
            fail(f"{exc.args[0]} (see `sonod keys list`)")
    typer.echo(f"{union}: retired {old}; new certificates are signed with {new}")


@keys_app.command("list")
def keys_list(union: Annotated[str | None, typer.Argument(help="Only this union's keys.")] = None) -> None:
    """Every signing key: kid, union, in use since, retired at."""
    from sonod.keys import KeyStore  # lazy: SQLAlchemy

    settings = load_settings()
    with sessions(settings) as factory:
        keys = KeyStore(factory, settings.master_key).trusted_keys()
    for key in keys:
        if union in (None, key.union):
            retired = key.not_after.isoformat(timespec="seconds") if key.not_after else "current"
            typer.echo(f"{key.kid}\t{key.union}\t{key.not_before.isoformat(timespec='seconds')}\t{retired}")


@keys_app.command("root")
def keys_root(out: Annotated[Path | None, typer.Option(help="Write it to this file instead of printing it.")] = None,
              ) -> None:
    """The sonod root's public JWK, which offline verifiers pin (`sonod verify --root FILE`, the /verify app).

    Read from this deployment's database, never from the network: hand the file to verifiers out of band."""
    from sonod import pki  # lazy: SQLAlchemy

    settings = load_settings()
    with sessions(settings) as factory, factory.begin() as session:
        jwk = pki.root_public_jwk(session, settings.master_key)  # made on first use, as the API would
    text = json.dumps(jwk, indent=1) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    typer.echo(f"the sonod root {jwk['kid']} is pinned in {out}")
