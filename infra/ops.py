"""What operators ask Temporal about applications, and what they may do to them.

`find_stuck` answers "which applications are stuck, and why" from the visibility store: it lists candidates by
search attribute, then describes only those candidates for their pending activities (attempt, last error) and reads
only the close event of failed ones. It never scans histories.

The verbs (`retry`, `reassign`, `cancel`, `resend`) act through the workflow itself: an activity reset, or one of
the workflow's own updates with an operator as actor. None of them writes the read model; the workflow does.
`infra/ops_cli.py` puts both behind `sonod ops`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from temporalio.api.common.v1 import WorkflowExecution as WorkflowExecutionRef
from temporalio.api.workflowservice.v1 import ResetActivityRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from sonod.domain import FINAL_STATUSES, Role, Status
from workflows.application import CertificateApplication
from workflows.messages import Actor, Cancellation, Escalation, Resend, StatusView
from workflows.search_attributes import (
    CERTIFICATE_TYPE,
    SONOD_DEADLINE,
    SONOD_DECIDERS,
    SONOD_OVERDUE,
    SONOD_STATUS,
    SONOD_WAITING_ON,
    UNION_SLUG,
)

# Statuses in which the workflow itself is at work (an activity runs): staying in one for long means a retry loop.
MACHINE_STATUSES = (Status.SUBMITTED, Status.VERIFYING_NID, Status.ISSUING)
WORKFLOW_TYPE = "CertificateApplication"
DESCRIBE_CONCURRENCY = 16
RPC_TIMEOUT = dt.timedelta(seconds=5)

WAITING_FOR = {
    Status.AWAITING_PAYMENT: "waiting for the applicant to pay the fee",
    Status.RETURNED: "waiting for the applicant's correction",
    Status.SUBMITTED: "waiting to start the NID check",
    Status.VERIFYING_NID: "waiting for the NID gateway",
    Status.ISSUING: "waiting for the certificate to be signed and rendered",
}


class Problem(StrEnum):
    OVERDUE = "overdue"
    RETRYING = "retrying"
    FAILED = "failed"
    WORKFLOW_TASK = "workflow_task_failing"  # the worker cannot run the workflow code (e.g. a bad deploy)


@dataclass
class Stuck:
    """One stuck application, with what an operator needs to act on it."""

    application_id: str
    union: str
    certificate_type: str
    status: str
    problem: Problem
    waiting_seconds: float
    cause: str
    url: str
    waiting_on: str | None = None
    deciders: list[str] = field(default_factory=list)
    deadline_at: dt.datetime | None = None
    activity: str | None = None
    attempt: int | None = None
    last_error: str | None = None
    next_attempt_at: dt.datetime | None = None

    @property
    def waiting(self) -> str:
        return human_duration(self.waiting_seconds)

    def to_json(self) -> dict:
        out = asdict(self)
        out["problem"] = self.problem.value
        out["waiting"] = self.waiting
        for key in ("deadline_at", "next_attempt_at"):
            if out[key] is not None:
                out[key] = out[key].isoformat()
        return out


@dataclass
class Thresholds:
    retrying_for: dt.timedelta = dt.timedelta(minutes=5)  # an activity failing at least this long
    deep: bool = False  # describe every running application, not only those in machine statuses
    failed_within: dt.timedelta | None = None  # failed ones closed within this long (None: all retained)
    union: str | None = None
    limit: int = 1000  # candidates per visibility query


# ---------------------------------------------------------------------------------------------------------------
# finding stuck applications


def ui_link(ui_url: str, namespace: str, workflow_id: str) -> str:
    return f"{ui_url.rstrip('/')}/namespaces/{namespace}/workflows/{workflow_id}"


def visibility_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def narrow(query: str, union: str | None) -> str:
    scope = f"WorkflowType = '{WORKFLOW_TYPE}'"
    if union:
        scope += f" AND UnionSlug = '{union}'"
    return f"{scope} AND {query}"


async def find_stuck(client: Client, ui_url: str, thresholds: Thresholds | None = None,
                     now: dt.datetime | None = None) -> list[Stuck]:
    """Overdue, retrying, failing and failed applications, most urgent first."""
    t = thresholds or Thresholds()
    now = now or dt.datetime.now(dt.UTC)
    if t.union and not re.fullmatch(r"[a-z0-9-]{1,40}", t.union):
        raise ValueError(f"not a union slug: {t.union!r}")
    finals = ", ".join(f"'{s.value}'" for s in FINAL_STATUSES)
    running = f"ExecutionStatus = 'Running' AND SonodStatus NOT IN ({finals})"
    overdue_q = narrow(f"{running} AND (SonodOverdue = true OR SonodDeadline < '{visibility_time(now)}')", t.union)
    machine = ", ".join(f"'{s.value}'" for s in MACHINE_STATUSES)
    retry_q = narrow(running if t.deep else f"{running} AND SonodStatus IN ({machine})", t.union)
    failed_q = narrow("ExecutionStatus IN ('Failed', 'TimedOut')", t.union)
    if t.failed_within is not None:
        failed_q += f" AND CloseTime > '{visibility_time(now - t.failed_within)}'"

    found: list[Stuck] = []
    for wf in await listed(client, overdue_q, t.limit):
        found.append(overdue(client, ui_url, wf, now))
    gate = asyncio.Semaphore(DESCRIBE_CONCURRENCY)
    candidates = {wf.id: wf for wf in await listed(client, retry_q, t.limit)}
    for wf in await problems_reported(client, t):
        candidates.setdefault(wf.id, wf)
    for found_one in await asyncio.gather(*(retrying(client, ui_url, wf, now, t, gate) for wf in candidates.values())):
        found.extend(found_one)
    failed = await asyncio.gather(*(failure(client, ui_url, wf, now, gate)
                                    for wf in await listed(client, failed_q, t.limit)))
    found.extend(failed)
    order = {Problem.WORKFLOW_TASK: 0, Problem.FAILED: 1, Problem.RETRYING: 2, Problem.OVERDUE: 3}
    return sorted(found, key=lambda s: (order[s.problem], -s.waiting_seconds, s.application_id))


async def listed(client: Client, query: str, limit: int) -> list:
    return [wf async for wf in client.list_workflows(query, limit=limit, rpc_timeout=RPC_TIMEOUT)]


async def problems_reported(client: Client, t: Thresholds) -> list:
    """Running applications whose workflow task keeps failing, where the server indexes `TemporalReportedProblems`
    (Temporal 1.28+); older servers refuse the attribute, and then this finds nothing."""
    try:
        return await listed(client, narrow("ExecutionStatus = 'Running' AND TemporalReportedProblems IS NOT NULL",
                                           t.union), t.limit)
    except RPCError as e:
        if e.status in (RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.UNIMPLEMENTED):
            return []
        raise


def attributes(wf) -> dict:
    sa = wf.typed_search_attributes
    return dict(union=sa.get(UNION_SLUG) or "?", certificate_type=sa.get(CERTIFICATE_TYPE) or "?",
                status=sa.get(SONOD_STATUS) or "?", waiting_on=sa.get(SONOD_WAITING_ON) or None,
                deadline_at=sa.get(SONOD_DEADLINE), deciders=list(sa.get(SONOD_DECIDERS) or []))


def waiting_for(status: str, waiting_on: str | None, deciders: list[str] = ()) -> str:
    """In the workflow's words: the step it waits on and, when others may decide it too, who."""
    if waiting_on:
        others = [Role(d).value.replace("_", " ") for d in deciders if d != waiting_on]
        return f"waiting for the {Role(waiting_on).value.replace('_', ' ')}" + (
            f" (or, after escalation, the {' or the '.join(others)})" if others else "")
    try:
        return WAITING_FOR.get(Status(status), f"waiting in {status}")
    except ValueError:
        return f"waiting in {status}"


def overdue(client: Client, ui_url: str, wf, now: dt.datetime) -> Stuck:
    a = attributes(wf)
    deadline = a["deadline_at"]
    late = human_duration((now - deadline).total_seconds()) if deadline else "?"
    marked = " (marked overdue)" if wf.typed_search_attributes.get(SONOD_OVERDUE) else ""
    return Stuck(application_id=wf.id, problem=Problem.OVERDUE,
                 waiting_seconds=(now - wf.start_time).total_seconds(),
                 cause=f"{waiting_for(a['status'], a['waiting_on'], a['deciders'])}; "
                       f"past the deadline by {late}{marked}",
                 url=ui_link(ui_url, client.namespace, wf.id), **a)


async def retrying(client: Client, ui_url: str, wf, now: dt.datetime, t: Thresholds,
                   gate: asyncio.Semaphore) -> list[Stuck]:
    """The candidate's pending activities that have failed for longer than the threshold, and a failing workflow
    task if the server reports one."""
    a = attributes(wf)
    async with gate:
        try:
            description = await client.get_workflow_handle(wf.id, run_id=wf.run_id).describe(rpc_timeout=RPC_TIMEOUT)
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                return []
            raise
        entered = None
        found: list[Stuck] = []
        for pending in description.raw_description.pending_activities:
            if pending.attempt < 2 and not pending.paused:
                continue
            if entered is None:
                entered = await status_entered(client, wf)
            waited = now - (entered or wf.start_time)
            if waited < t.retrying_for:
                continue
            error = await last_error(client, pending.last_failure) if pending.HasField("last_failure") else None
            next_at = pending.next_attempt_schedule_time.ToDatetime(dt.UTC) \
                if pending.HasField("next_attempt_schedule_time") else None
            activity = pending.activity_type.name
            what = "paused" if pending.paused else f"retrying, attempt {pending.attempt}"
            cause = f"{describe_activity(activity)}: {what}"
            if error:
                cause += f"; last error: {error}"
            if next_at and not pending.paused:
                cause += f"; next attempt in {human_duration(max(0.0, (next_at - now).total_seconds()))}"
            found.append(Stuck(application_id=wf.id, problem=Problem.RETRYING, waiting_seconds=waited.total_seconds(),
                               cause=cause, url=ui_link(ui_url, client.namespace, wf.id), activity=activity,
                               attempt=pending.attempt, last_error=error, next_attempt_at=next_at, **a))
    # A workflow task that fails is retried by the server for ever: its attempt count says so at once, and
    # `TemporalReportedProblems` (indexed after a few attempts) finds it among all running applications.
    raw = description.raw_description
    attempt = raw.pending_workflow_task.attempt if raw.HasField("pending_workflow_task") else 0
    reported = wf.search_attributes.get("TemporalReportedProblems") or []
    if reported or attempt >= 2:
        cause = "the worker cannot run this workflow's code"
        if reported:
            cause += ": " + ", ".join(reported)
        if attempt:
            cause += f" (workflow task attempt {attempt}; see the Web UI for the error)"
        found.append(Stuck(application_id=wf.id, problem=Problem.WORKFLOW_TASK,
                           waiting_seconds=(now - wf.start_time).total_seconds(), cause=cause,
                           url=ui_link(ui_url, client.namespace, wf.id), attempt=attempt or None, **a))
    return found


def describe_activity(name: str) -> str:
    return {"NidGateway.verify": "the NID gateway (NidGateway.verify)",
            "Outbox.notify": "a notification (Outbox.notify)",
            "Issuer.issue": "signing and rendering (Issuer.issue)",
            "Registry.allocate_number": "the certificate number (Registry.allocate_number)"}.get(name, name)


async def status_entered(client: Client, wf) -> dt.datetime | None:
    """When the application entered its current status, from the workflow's own view (a query, not the history).
    None when no worker answers in time."""
    try:
        view = await client.get_workflow_handle(wf.id, run_id=wf.run_id).query(
            CertificateApplication.view, rpc_timeout=RPC_TIMEOUT)
    except (TimeoutError, RPCError, WorkflowQueryFailedError):
        return None
    entered = None
    for event in reversed(view.events):
        if event.status is not view.status:
            break
        entered = event.at
    return entered


async def last_error(client: Client, failure) -> str:
    """The failure's message; sonod's failure converter encrypts messages, so decode with the client's codec."""
    try:
        error = await client.data_converter.decode_failure(failure)
    except Exception:  # noqa: BLE001 - a failure we cannot decode is still worth showing as it is
        return failure.message or "?"
    return error_text(error)


def error_text(error: BaseException) -> str:
    parts = []
    while error is not None:
        if isinstance(error, ActivityError):
            parts.append(f"{error.activity_type} failed")
        elif isinstance(error, ApplicationError):
            parts.append(f"{error.type}: {error.message}" if error.type else error.message)
        elif isinstance(error, FailureError):
            parts.append(error.message)
        else:
            parts.append(f"{type(error).__name__}: {error}")
        error = error.__cause__
    return "; ".join(p for p in parts if p)


async def failure(client: Client, ui_url: str, wf, now: dt.datetime, gate: asyncio.Semaphore) -> Stuck:
    """A failed application, with the cause from its close event only."""
    a = attributes(wf)
    async with gate:
        try:
            await client.get_workflow_handle(wf.id, run_id=wf.run_id).result(follow_runs=False,
                                                                            rpc_timeout=RPC_TIMEOUT)
            cause = "closed without a failure"
        except WorkflowFailureError as e:
            cause = error_text(e.cause)
        except Exception as e:  # noqa: BLE001 - e.g. a timeout: say so rather than hide the application
            cause = f"could not read the failure: {type(e).__name__}: {e}"
    closed = wf.close_time or now
    status = "timed out" if wf.status is WorkflowExecutionStatus.TIMED_OUT else "failed"
    return Stuck(application_id=wf.id, problem=Problem.FAILED, waiting_seconds=(now - closed).total_seconds(),
                 cause=f"the workflow {status} in {a['status']}: {cause}",
                 url=ui_link(ui_url, client.namespace, wf.id), last_error=cause, **a)


def human_duration(seconds: float) -> str:
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{n}{unit}" for n, unit in parts if n][:2]
    return sign + (" ".join(shown) or "0s")


DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_duration(text: str) -> dt.timedelta:
    """`90s`, `5m`, `2h`, `7d`; a bare number is seconds."""
    m = DURATION.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (try 90s, 5m, 2h or 7d)")
    unit = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m[2]]
    return dt.timedelta(**{unit: float(m[1])})


# ---------------------------------------------------------------------------------------------------------------
# acting on one application


class NotPossible(Exception):
    """The verb cannot apply to this application now; the message says why and what to do instead."""


@dataclass
class Outcome:
    application_id: str
    union: str | None
    status: str | None
    message: str
    actions: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def once(verb: str, username: str, reason: str) -> str:
    """An update ID that makes a repeated command (the same operator, the same reason) a no-op."""
    return f"ops-{verb}:{username}:{hashlib.sha256(reason.encode()).hexdigest()[:12]}"


def operator(username: str) -> Actor:
    return Actor(username=username, role=Role.OPERATOR)


async def retry(client: Client, application_id: str, identity: str) -> Outcome:
    """Retry now the activities that keep failing: the server resets each (attempt 1, no backoff left) and runs
    it at once. A workflow that has already failed cannot be retried this way."""
    handle = client.get_workflow_handle(application_id)
    description = await describe_or_explain(handle)
    raw = description.raw_description
    union = description.typed_search_attributes.get(UNION_SLUG)
    status = description.typed_search_attributes.get(SONOD_STATUS)
    if description.status is not WorkflowExecutionStatus.RUNNING:
        state = description.status.name.lower() if description.status else "closed"
        raise NotPossible(
            f"{application_id} has {state}; there is no activity left to retry. A failed application can only be "
            f"re-run from an earlier point with `temporal workflow reset --workflow-id {application_id} "
            f"--event-id <id of the WorkflowTaskCompleted before the failing activity> --reason ...` "
            f"(see docs/OPERATIONS.md), or the applicant submits again.")
    failing = [p for p in raw.pending_activities if p.attempt > 1 or p.paused]
    if not failing:
        raise NotPossible(f"{application_id} ({status}) has no failing activity: it is "
                          f"{waiting_for(status or '?', description.typed_search_attributes.get(SONOD_WAITING_ON))}.")
    actions = []
    for pending in failing:
        error = await last_error(client, pending.last_failure) if pending.HasField("last_failure") else "?"
        try:
            await client.workflow_service.reset_activity(ResetActivityRequest(
                namespace=client.namespace, execution=WorkflowExecutionRef(workflow_id=application_id),
                identity=identity, id=pending.activity_id, reset_heartbeat=True))
        except RPCError as e:
            if e.status in (RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.PERMISSION_DENIED,
                            RPCStatusCode.FAILED_PRECONDITION):
                raise NotPossible(
                    f"the Temporal server refused to reset {pending.activity_type.name}: {e.message}. "
                    "It keeps retrying on its own backoff (at most 30 s apart for the NID gateway).") from e
            raise
        actions.append(f"reset {pending.activity_type.name} (was at attempt {pending.attempt}, last error: {error}); "
                       "it runs again now")
    return Outcome(application_id=application_id, union=union, status=status,
                   message=f"{application_id}: " + "; ".join(actions), actions=actions)


async def describe_or_explain(handle):
    try:
        return await handle.describe(rpc_timeout=RPC_TIMEOUT)
    except RPCError as e:
        if e.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise NotPossible(f"no application {handle.id} in this namespace") from None
        raise


async def reassign(client: Client, application_id: str, username: str, reason: str) -> Outcome:
    """Let the acting chairman (or the administrator) decide now: the workflow's `escalate` update."""
    view = await update(client, application_id, CertificateApplication.escalate,
                        Escalation(reason=reason, actor=operator(username)), once("escalate", username, reason))
    return Outcome(application_id=application_id, union=view.union, status=view.status.value,
                   message=f"{application_id} ({view.status.value}): the acting chairman may decide now",
                   actions=["escalate"])


async def cancel(client: Client, application_id: str, username: str, reason: str) -> Outcome:
    """End the application: the workflow's `cancel` update, which waits until it has ended."""
    view = await update(client, application_id, CertificateApplication.cancel,
                        Cancellation(reason=reason, actor=operator(username)), once("cancel", username, reason))
    return Outcome(application_id=application_id, union=view.union, status=view.status.value,
                   message=f"{application_id} is {view.status.value}", actions=["cancel"])


async def resend(client: Client, application_id: str, username: str, reason: str) -> Outcome:
    """Send the application's last notification again, under a new idempotency key (`resend-N`)."""
    view = await update(client, application_id, CertificateApplication.resend,
                        Resend(reason=reason, actor=operator(username)), None)
    note = next((e.note for e in reversed(view.events) if e.note.startswith("resent")), "resent")
    return Outcome(application_id=application_id, union=view.union, status=view.status.value,
                   message=f"{application_id}: {note}", actions=["resend"])


async def update(client: Client, application_id: str, handler, arg, update_id: str | None) -> StatusView:
    """One of CertificateApplication's updates (the workflow module loads no activity, so importing it is cheap)."""
    handle = client.get_workflow_handle(application_id)
    try:
        return await handle.execute_update(handler, arg, id=update_id, rpc_timeout=dt.timedelta(seconds=30))
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        raise NotPossible(f"{application_id}: {getattr(cause, 'message', None) or cause}") from None
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise NotPossible(f"{application_id} has finished (or does not exist) and takes no more updates") from None
        raise
