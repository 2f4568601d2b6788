"""June's reminder to renew trade licences.

A trade licence is valid to 30 June, the end of its fiscal year. On 1 June a Temporal Schedule (`REMINDER_SCHEDULE`,
made by the worker at start, `ensure_reminder_schedule`) starts `LicenceRenewalReminders`, which tells the holder of
each licence of the year ending that June, not revoked and not yet renewed, by SMS that renewal is due: a page of
licences per activity, and continue-as-new after `PAGES_PER_RUN` pages, so that the history stays small in a country of
unions. The outbox keys each message by the licence's certificate and the year: a run started again (by hand, or the
schedule's catch-up after the worker was away) sends nobody a second message.

Why a schedule and not a workflow per union asleep on a timer until June: the schedule is Temporal's own durable
calendar, kept by the server whatever the workers do; it catches up a run missed while no worker ran (for up to
`CATCHUP`), never overlaps itself, and shows, pauses or triggers in the Web UI and `temporal schedule`; and no
workflow runs for ever, with a history that grows every year and must be patched whenever its code changes.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from sonod.bengali import DHAKA
    from sonod.licences import RENEWAL_MONTH, fiscal_year_of
    from workflows.activities import LicenceRegister
    from workflows.messages import RenewalReminders
    from workflows.policies import Policy

REMINDER_SCHEDULE = "licence-renewal-reminders"
PAGES_PER_RUN = 100
CATCHUP = timedelta(days=29)  # a run missed on 1 June is made up until 30 June
# 1 June, 10:00 in Bangladesh (UTC+6, no daylight saving): 04:00 UTC
SPEC = ScheduleSpec(calendars=[ScheduleCalendarSpec(month=[ScheduleRange(RENEWAL_MONTH)],
                                                    day_of_month=[ScheduleRange(1)], hour=[ScheduleRange(4)],
                                                    minute=[ScheduleRange(0)], second=[ScheduleRange(0)])])
REMIND_POLICY = Policy(
    start_to_close_timeout=timedelta(minutes=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)),
)


@workflow.defn
class LicenceRenewalReminders:
    @workflow.run
    async def run(self, batch: RenewalReminders) -> int:
        """How many licence holders were told, this run and the runs before it."""
        year = batch.fiscal_year or fiscal_year_of(workflow.now().astimezone(DHAKA).date())
        sent, after = batch.sent, batch.after
        for _ in range(PAGES_PER_RUN):
            page = await workflow.execute_activity_method(
                LicenceRegister.remind, RenewalReminders(fiscal_year=year, after=after), **REMIND_POLICY)
            sent, after = sent + page.sent, page.after
            if after is None:
                return sent
        workflow.continue_as_new(RenewalReminders(fiscal_year=year, after=after, sent=sent))


async def ensure_reminder_schedule(client: Client, task_queue: str) -> bool:
    """Make the schedule if the server has none yet; True if it was made now."""
    try:
        await client.create_schedule(REMINDER_SCHEDULE, Schedule(
            action=ScheduleActionStartWorkflow(LicenceRenewalReminders.run, RenewalReminders(),
                                               id=REMINDER_SCHEDULE, task_queue=task_queue),
            spec=SPEC, policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP)))
    except ScheduleAlreadyRunningError:
        return False
    return True
