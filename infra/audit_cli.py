"""`sonod audit`: check the audit log, and checkpoint it (sonod/audit.py).

    sonod audit verify                                   # every chain: each union's and the deployment's
    sonod audit verify --union paikkandi --checkpoints kept.json
    sonod audit checkpoint [--union paikkandi]           # sign each chain's head now (run it from cron)

`--checkpoints FILE` takes what GET /api/v1/audit/checkpoints?union=<slug> published, as kept by someone outside:
one answer, a JSON list of answers or of checkpoints, or one JSON document a line.
Exit codes: 0 intact; 1 problems found (each listed as `<chain>: <problem>`); 2 bad arguments.
sonod.audit is built on SQLAlchemy: the commands import it when they run (`# lazy:`, see infra/cli_common.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infra.cli_common import BAD_ARGUMENT, database, fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

audit_app = typer.Typer(help="The keyed, checkpointed audit log.", no_args_is_help=True)

UnionOption = Annotated[str | None, typer.Option("--union", help="Only this chain: a union's slug, or `deployment`.")]


def chains_asked(session: Session, union: str | None) -> list[str]:
    from sonod import audit  # lazy: SQLAlchemy
    from sonod.db import Union  # lazy: SQLAlchemy

    if union is None:
        return audit.chains(session)
    slug = union.strip().lower()
    if slug != audit.DEPLOYMENT and session.get(Union, slug) is None and not audit.count(session, slug):
        fail(f"unknown union {union!r} (see `sonod officers list`)", BAD_ARGUMENT)
    return [slug]


def kept_checkpoints(path: Path) -> list[dict]:
    """The checkpoints in a file of published answers; exit 2 when it is not one."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read --checkpoints {path}: {exc.strerror or exc}", BAD_ARGUMENT)
    try:
        documents = [json.loads(raw)]
    except ValueError:
        try:
            documents = [json.loads(line) for line in raw.splitlines() if line.strip()]
        except ValueError as exc:
            fail(f"--checkpoints {path} is neither JSON nor JSON lines: {exc}", BAD_ARGUMENT)
    found: list[dict] = []

    def collect(doc) -> None:
        if isinstance(doc, list):
            for item in doc:
                collect(item)
        elif isinstance(doc, dict) and isinstance(doc.get("checkpoints"), list):
            collect(doc["checkpoints"])
        elif isinstance(doc, dict) and "signed" in doc:
            found.append(doc)
        else:
            fail(f"--checkpoints {path} holds something that is not a published checkpoint", BAD_ARGUMENT)

    collect(documents)
    return found


@audit_app.command("verify")
def audit_verify(
    union_arg: Annotated[str | None, typer.Argument(metavar="[UNION]", help="Same as --union.")] = None,
    union: UnionOption = None,
    checkpoints: Annotated[Path | None, typer.Option(
        "--checkpoints", help="Checkpoints kept from GET /api/v1/audit/checkpoints: whatever was deleted or "
                              "rewritten since they were published shows.")] = None,
) -> None:
    """Check the chains with the audit key and against their signed checkpoints: exit 0 when intact, 1 with each
    problem listed (an entry edited, recomputed, reordered or deleted; a checkpoint forged)."""
    from sonod import audit  # lazy: SQLAlchemy

    kept = kept_checkpoints(checkpoints) if checkpoints else []
    found: list[str] = []
    with database() as session:
        for chain in chains_asked(session, union or union_arg):
            problems = audit.verify(session, chain, kept)
            entries = audit.count(session, chain)
            found += [f"{chain}: {problem}" for problem in problems]
            if not problems:
                typer.echo(f"the audit log of {chain} is intact: {entries} entries")
    if found:
        for line in found:
            typer.echo(line)
        fail(f"{len(found)} problem(s) in the audit log")


@audit_app.command("checkpoint")
def audit_checkpoint(union: UnionOption = None) -> None:
    """Sign the head of each chain (or of one) now; the checkpoints are published at /api/v1/audit/checkpoints."""
    from sonod import audit  # lazy: SQLAlchemy

    with database() as session:
        for chain in chains_asked(session, union):
            cp = audit.make_checkpoint(session, chain)
            if cp is not None:
                typer.echo(f"{chain}: entry {cp.seq} {cp.mac} {cp.alg} {cp.kid or ''}".rstrip())
