"""`sonod catalogue sync`: after an upgrade that adds certificate types, every union gets them (with the catalogue's
default chain, fee lines, deadline and validity, which `sonod admin add-union`'s overrides do not reach), so that
none waits for them; a union's existing rules are left as they are. Idempotent."""

from __future__ import annotations

import typer

from infra.cli_common import database, record

catalogue_app = typer.Typer(help="The certificate types' catalogue.", no_args_is_help=True)


@catalogue_app.command("sync")
def sync() -> None:
    """Add the catalogue's new certificate types, and each union's rule for every type it lacks."""
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db
    from sonod.bootstrap import add_rules, ensure_catalogue

    with database() as session:
        types = ensure_catalogue(session)
        unions = list(session.scalars(select(db.Union.slug).order_by(db.Union.slug)))
        for slug in unions:
            if added := add_rules(session, slug):
                session.flush()
                record(session, slug, "catalogue.sync", slug, {"rules_added": added})
    typer.echo(f"{types} new certificate types; {len(unions)} unions checked")
