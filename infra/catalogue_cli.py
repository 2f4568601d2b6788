"""`sonod catalogue sync`: after an upgrade that adds certificate types, every union gets them (with the catalogue's
default chain, fee lines, deadline and validity, which `sonod admin add-union`'s overrides do not reach), so that
none waits for them; a union's existing rules are left as they are. Idempotent."""

from __future__ import annotations

from typing import Annotated

import typer

from infra.cli_common import database, fail, record

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


@catalogue_app.command("licence-fees")
def licence_fees(
    union: Annotated[str, typer.Option("--union", help="The union's slug.")],
    fee: Annotated[list[str] | None, typer.Option("--fee", help=(
        "CATEGORY=TAKA: the union's own yearly licence fee for a business category (repeatable); CATEGORY= goes "
        "back to the Model Tax Schedule's default."))] = None,
) -> None:
    """A union's trade licence fees by business category; with --fee, set them (audited)."""
    from sonod import db  # lazy: SQLAlchemy
    from sonod.licences import BY_CATEGORY, CATEGORIES, TRADE_LICENCE

    with database() as session:
        rule = session.get(db.UnionRule, (union, TRADE_LICENCE))
        if rule is None:
            fail(f"{union} does not issue trade licences")
        table = dict(rule.tax_table or {})
        for item in fee or []:
            code, _, taka = item.partition("=")
            if code not in BY_CATEGORY or (taka and not taka.isdigit()):
                fail(f"--fee {item}: give CATEGORY=TAKA, the category one of {', '.join(BY_CATEGORY)}")
            if taka:
                table[code] = int(taka)
            else:
                table.pop(code, None)
        if fee:
            rule.tax_table = table or None
            record(session, union, "catalogue.licence_fees", union, {"fees": table})
        for c in CATEGORIES:
            own = " (the union's)" if c.code in table else ""
            typer.echo(f"{c.code:13} {table.get(c.code, c.fee):>6}{own}  {c.name_en}")
