"""`sonod pki`: the certificates that sign the unions' PDFs (sonod/pki.py, activities/pades.py).

    sonod pki list                          # every certificate of the PKI: name, role, serial, valid until, revoked
    sonod pki signer paikkandi              # whose certificate signs the union's PDFs: union or chairman
    sonod pki signer paikkandi chairman     # from now on, the chairman's (made at the next PDF)
    sonod pki revoke paikkandi [--chairman] # on its CA's CRL; the next PDF gets a new certificate

A running worker reads a union's signing material at most once an hour (activities/pades.CRL_REFRESH): a change
reaches its PDFs within the hour, or at once after a restart. Changes are written to the union's audit log.
Exit codes: 0 done; 1 it could not be done (an unknown union, no such certificate).
"""

from __future__ import annotations

from typing import Annotated

import typer

from infra.cli_common import cli_actor, fail, load_settings, sessions

pki_app = typer.Typer(help="The certificates that sign the unions' PDFs.", no_args_is_help=True)
ROLES = ("union", "chairman")


@pki_app.command("list")
def pki_list() -> None:
    """Every certificate of the PKI, in force or revoked."""
    from sqlalchemy import select  # lazy: SQLAlchemy

    from sonod import db

    with sessions(load_settings()) as factory, factory() as session:
        for row in session.scalars(select(db.PkiCertificate).order_by(db.PkiCertificate.name)):
            revoked = f"revoked {row.revoked_at.isoformat(timespec='seconds')}" if row.revoked_at else "in force"
            typer.echo(f"{row.name}\t{row.role}\t{row.serial}\t{row.not_after.date().isoformat()}\t{revoked}")


@pki_app.command("signer")
def pki_signer(
    union: Annotated[str, typer.Argument(help="The union's slug, e.g. paikkandi.")],
    role: Annotated[str | None, typer.Argument(help="union (its office) or chairman; omitted: show it.")] = None,
) -> None:
    """Show or set whose certificate signs the union's PDFs."""
    from sonod import audit, db  # lazy: SQLAlchemy

    if role is not None and role not in ROLES:
        fail(f"the signer is one of {', '.join(ROLES)}, not {role!r}")
    with sessions(load_settings()) as factory, factory.begin() as session:
        row = session.get(db.Union, union)
        if row is None:
            fail(f"no union {union!r} (see `sonod admin add-union`)")
        if role is not None and role != row.pdf_signer:
            audit.record(session, union=union, actor=cli_actor(), role="operator", action="pki.signer",
                         target=union, detail={"from": row.pdf_signer, "to": role})
            row.pdf_signer = role
        typer.echo(f"{union}: PDFs are signed with the {row.pdf_signer}'s certificate")


@pki_app.command("revoke")
def pki_revoke(
    union: Annotated[str, typer.Argument(help="The union's slug.")],
    chairman: Annotated[bool, typer.Option("--chairman", help="The chairman's certificate, not the union's.")] = False,
) -> None:
    """Revoke the union's (or its chairman's) PDF-signing certificate: its CA's CRL lists it from now on."""
    from sonod import audit, pki  # lazy: SQLAlchemy

    name = f"{'chairman' if chairman else 'union'}/{union}"
    with sessions(load_settings()) as factory, factory.begin() as session:
        try:
            kept_as = pki.revoke(session, name)
        except LookupError as exc:
            fail(f"{exc.args[0]} (see `sonod pki list`)")
        audit.record(session, union=union, actor=cli_actor(), role="operator", action="pki.revoke", target=name,
                     detail={"kept_as": kept_as})
    typer.echo(f"{name}: revoked (kept as {kept_as}); the next PDF gets a new certificate")
