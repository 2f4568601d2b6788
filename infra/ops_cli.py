"""`sonod ops`: find stuck applications and act on them through their workflows.

    sonod ops stuck [--union paikkandi] [--retrying-for 5m] [--deep] [--json]
    sonod ops retry A250701-1A2B3C4D
    sonod ops reassign A250701-1A2B3C4D --reason "the chairman is abroad"
    sonod ops cancel A250701-1A2B3C4D --reason "duplicate of A250630-..."
    sonod ops resend A250701-1A2B3C4D

`stuck` reads Temporal's visibility store (search attributes), never histories. The verbs go through the workflow's
own updates (or the server's activity reset), never the database; each is recorded in the union's audit log by
`cli:<login name>` (or `--as`). Exit codes: 0 done; 1 it could not be done (the message says why); 2 bad arguments.
infra/cli.py mounts `ops_app` as `sonod ops`. infra/ops.py (the Temporal client, the workflow's contract) and the
database are imported when a command runs (`# lazy:`, see infra/cli_common.py).
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from infra.cli_common import BAD_ARGUMENT, cli_actor, fail, load_settings, masked_url, record
from sonod.settings import Settings

if TYPE_CHECKING:
    from temporalio.client import Client

    from infra.ops import Outcome, Stuck

T = TypeVar("T")

ops_app = typer.Typer(help="Operators' tools.", no_args_is_help=True)

AsOption = Annotated[str | None, typer.Option("--as", help="Who acts, for the audit log (default: cli:<login>).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]


def run(job: Callable[[Client, Settings], Awaitable[T]]) -> T:
    """Connect to Temporal with sonod's settings and codec, then run `job(client, settings)`."""
    from temporalio.service import RPCError  # lazy: the Temporal client

    from infra.ops import NotPossible  # lazy: the Temporal client
    from sonod.temporal import connect  # lazy: the Temporal client

    settings = load_settings()

    async def main() -> T:
        try:
            client = await connect(settings)
        except RuntimeError as e:
            unreachable = str(e).splitlines()[0]
        else:
            unreachable = None
        if unreachable is not None:
            gc.collect()  # as below: nothing of the SDK's may be left for the interpreter's exit
            fail(f"cannot reach Temporal at {settings.temporal_address}: {unreachable}")
        try:
            return await job(client, settings)
        finally:
            # Free the SDK's Rust-side objects while the loop runs: freed at interpreter exit instead, they
            # sometimes abort the process ("PyGILState_Release ... finalizing").
            del client
            gc.collect()

    try:
        return asyncio.run(main())
    except NotPossible as e:
        fail(str(e))
    except RPCError as e:  # e.g. sonod's search attributes are not registered yet: start a worker once
        fail(f"Temporal at {settings.temporal_address} refused: {e.message}")
    except ValueError as e:
        fail(str(e), BAD_ARGUMENT)


# ---------------------------------------------------------------------------------------------------------------
# stuck


@ops_app.command("stuck")
def stuck(
    union: Annotated[str | None, typer.Option("--union", help="Only this union (its slug).")] = None,
    retrying_for: Annotated[str, typer.Option(
        "--retrying-for", help="List an activity once it has failed for this long (90s, 5m, 2h).")] = "5m",
    failed_within: Annotated[str | None, typer.Option(
        "--failed-within", help="Only failures closed within this long (default: all the server keeps).")] = None,
    deep: Annotated[bool, typer.Option(
        "--deep", help="Describe every running application, not only those in submitted, verifying_nid or "
                       "issuing (finds notifications failing while an officer's step waits).")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="At most this many per query.")] = 1000,
    as_json: JsonOption = False,
) -> None:
    """Applications past their deadline, with an activity retrying, or failed: the cause and a Web UI link."""
    from infra.ops import Thresholds, find_stuck, parse_duration  # lazy: the Temporal client

    try:
        thresholds = Thresholds(retrying_for=parse_duration(retrying_for), deep=deep, union=union, limit=limit,
                                failed_within=parse_duration(failed_within) if failed_within else None)
    except ValueError as e:
        fail(str(e), BAD_ARGUMENT)

    async def job(client: Client, settings: Settings) -> list[Stuck]:
        return await find_stuck(client, settings.temporal_ui_url, thresholds)

    found = run(job)
    if as_json:
        typer.echo(json.dumps([s.to_json() for s in found], ensure_ascii=False, indent=2))
        return
    print_table(found)


def print_table(found: list[Stuck]) -> None:
    console = Console()
    if not found:
        console.print("No stuck applications.")
        return
    table = Table(title=f"{len(found)} stuck", show_lines=True)
    for name in ("application", "union", "type", "status", "problem", "waiting", "cause"):
        table.add_column(name, overflow="fold", no_wrap=name in ("application", "problem", "waiting"))
    table.add_column("Web UI", no_wrap=True, min_width=max(len(s.url) for s in found))  # whole, to copy
    colour = {"failed": "red", "workflow_task_failing": "red", "retrying": "yellow", "overdue": "magenta"}
    for s in found:
        table.add_row(s.application_id, s.union, s.certificate_type, s.status,
                      f"[{colour[s.problem.value]}]{s.problem.value}[/]", s.waiting, s.cause,
                      f"[link={s.url}]{s.url}[/link]")
    console.print(table)


# ---------------------------------------------------------------------------------------------------------------
# verbs


def report(outcome: Outcome, as_json: bool) -> None:
    typer.echo(json.dumps(outcome.to_json(), ensure_ascii=False) if as_json else outcome.message)


def audited(outcome: Outcome, action: str, who: str, detail: dict) -> None:
    """Record the operator's act in the union's audit log; the act itself is already done."""
    from sqlalchemy import exc as sa_exc  # lazy: SQLAlchemy

    from sonod.db import make_engine, make_session_factory  # lazy: SQLAlchemy

    if not outcome.union:
        return
    settings = load_settings()
    engine = make_engine(settings.db_url)
    try:
        with make_session_factory(engine).begin() as session:
            record(session, outcome.union, action, outcome.application_id, detail, actor=who)
    except (sa_exc.SQLAlchemyError, OSError) as e:
        fail(f"{outcome.message}; but the audit log at {masked_url(settings.db_url)} could not record it: "
             f"{str(getattr(e, 'orig', e)).splitlines()[0]}")
    finally:
        engine.dispose()


@ops_app.command("retry")
def retry(application_id: Annotated[str, typer.Argument(help="The application's ID.")],
          who: AsOption = None, as_json: JsonOption = False) -> None:
    """Retry now the activity that keeps failing (e.g. once the NID gateway is back), instead of waiting out its
    backoff. Explains what to do when there is nothing to retry."""
    from infra import ops  # lazy: the Temporal client

    who = cli_actor(who)
    outcome = run(lambda client, _: ops.retry(client, application_id, who))
    audited(outcome, "ops.retry", who, {"actions": outcome.actions})
    report(outcome, as_json)


@ops_app.command("reassign")
def reassign(application_id: Annotated[str, typer.Argument(help="The application's ID.")],
             reason: Annotated[str, typer.Option("--reason", help="Why; shown in the application's events.")]
             = "reassigned by an operator",
             who: AsOption = None, as_json: JsonOption = False) -> None:
    """Let the acting chairman (or the administrator) decide an application waiting for the chairman."""
    from infra import ops  # lazy: the Temporal client

    who = cli_actor(who)
    outcome = run(lambda client, _: ops.reassign(client, application_id, who, reason))
    audited(outcome, "ops.reassign", who, {"reason": reason})
    report(outcome, as_json)


@ops_app.command("cancel")
def cancel(application_id: Annotated[str, typer.Argument(help="The application's ID.")],
           reason: Annotated[str, typer.Option("--reason", help="Why; the applicant is told.")],
           who: AsOption = None, as_json: JsonOption = False) -> None:
    """Cancel an open application; the workflow ends it and notifies the applicant."""
    from infra import ops  # lazy: the Temporal client

    if not reason.strip():
        fail("--reason must say why", BAD_ARGUMENT)
    who = cli_actor(who)
    outcome = run(lambda client, _: ops.cancel(client, application_id, who, reason))
    audited(outcome, "ops.cancel", who, {"reason": reason})
    report(outcome, as_json)


@ops_app.command("resend")
def resend(application_id: Annotated[str, typer.Argument(help="The application's ID.")],
           reason: Annotated[str, typer.Option("--reason", help="Why.")] = "",
           who: AsOption = None, as_json: JsonOption = False) -> None:
    """Send the application's last notification (SMS, email, officers' inbox) again."""
    from infra import ops  # lazy: the Temporal client

    who = cli_actor(who)
    outcome = run(lambda client, _: ops.resend(client, application_id, who, reason))
    audited(outcome, "ops.resend", who, {"reason": reason})
    report(outcome, as_json)


# ---------------------------------------------------------------------------------------------------------------
# payments

payments_app = typer.Typer(help="The fees: sonod's record against the payment gateways'.", no_args_is_help=True)
ops_app.add_typer(payments_app, name="payments")


@payments_app.command("reconcile")
def reconcile(
    union: Annotated[str, typer.Option("--union", help="The union (its slug).")],
    day: Annotated[str | None, typer.Option(
        "--date", help="The day, YYYY-MM-DD in Bangladesh (default: today there).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Ask each gateway about every payment order of the union's day, compare with what sonod recorded, and list
    every difference. Exit 0 when there is none, 1 when there is any (or a gateway did not answer)."""
    import datetime as dt

    from infra.reconcile import reconcile_day  # lazy: the gateways' adapters and the database
    from sonod.bengali import DHAKA

    try:
        date = dt.date.fromisoformat(day) if day else dt.datetime.now(DHAKA).date()
    except ValueError:
        fail(f"--date {day!r} is not a date (YYYY-MM-DD)", BAD_ARGUMENT)
    settings = load_settings()
    try:
        result = reconcile_day(settings, union, date)
    except ValueError as e:
        fail(str(e), BAD_ARGUMENT)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print_reconciliation(result)
    raise typer.Exit(0 if result.clean else 1)


def print_reconciliation(result) -> None:
    console = Console()
    console.print(f"{result.union}, {result.day.isoformat()} (Bangladesh): {result.orders} payment orders, "
                  f"{result.callback_payments} fees by the signed callback (no status call to ask them)"
                  + (f"; the transactions listed by {', '.join(result.listed_by)}" if result.listed_by else ""))
    if result.clean:
        console.print("No difference.")
        return
    console.print(f"[red]{len(result.findings)} differences[/]")
    table = Table(show_lines=True)
    for name in ("order", "difference", "sonod says", "the gateway says"):
        table.add_column(name, overflow="fold")
    for f in result.findings:
        table.add_row(f"{f.order_id}\n{f.provider}", f"[red]{f.kind.value}[/]\n{f.meaning}", said(f.sonod),
                      said(f.gateway))
    console.print(table)


def said(side) -> str:
    if side is None:
        return "—"
    return " ".join(part for part in (side.state, f"{side.amount} {side.currency}", side.transaction_id) if part)
