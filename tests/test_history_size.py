"""How much history an application costs Temporal (issue 14): every event is written, replicated and replayed, so the
workflow keeps its happy paths short. Read off real histories, made here by the worker and the API on the session's
Temporal server: a citizenship straight to the chairman, and a warish through its three officers."""

from __future__ import annotations

from collections import Counter

from sonod.domain import Role, Status
from tests.stack import citizen, people, warish_details

CITIZENSHIP_EVENTS, CITIZENSHIP_TASKS = 30, 5
WARISH_EVENTS = 45


async def history(temporal_env, app_id: str) -> Counter:
    """The history's events by type (WORKFLOW_TASK_COMPLETED, MARKER_RECORDED...), and their number under `all`."""
    events = (await temporal_env.client.get_workflow_handle(app_id).fetch_history()).events
    kinds: Counter = Counter()
    for event in events:
        kinds[event.WhichOneof("attributes").removesuffix("_event_attributes")] += 1
    kinds["all"] = len(events)
    return kinds


async def test_an_issued_citizenship_costs_at_most_30_events_in_5_workflow_tasks(stack, temporal_env):
    app_id = await stack.submitted(citizen("paikkandi", 3))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await stack.decide("chairman.paikkandi", app_id)).status_code == 200
    await stack.wait_for(app_id, Status.ISSUED)
    await temporal_env.client.get_workflow_handle(app_id).result()
    kinds = await history(temporal_env, app_id)
    assert kinds["all"] <= CITIZENSHIP_EVENTS, kinds
    assert kinds["workflow_task_completed"] <= CITIZENSHIP_TASKS, kinds
    # what the budget buys: the NID check and the issue are activities (operators see them retry), the decision is
    # an update, the SMS are in the outbox, not an activity each
    assert kinds["activity_task_scheduled"] == 2 and kinds["workflow_execution_update_accepted"] == 1, kinds


async def test_an_issued_warish_costs_at_most_45_events(stack, temporal_env):
    union, index = "kajulia", 2
    app_id = await stack.submitted(citizen(union, index, "warish", details=warish_details()))
    await stack.through_chain(app_id, union, [Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN],
                              people(union)[index]["ward_no"])
    await temporal_env.client.get_workflow_handle(app_id).result()
    kinds = await history(temporal_env, app_id)
    assert kinds["all"] <= WARISH_EVENTS, kinds
    assert kinds["workflow_execution_update_accepted"] == 3, kinds
