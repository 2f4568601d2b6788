"""The workflow's refusals are codes with parameters: the API maps their kind to one HTTP status, and pages translate
the code. And a cancellation and a decision that arrive together resolve one way: the first accepted wins."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError

from sonod.domain import DecisionKind, Role, Status
from tests.stack import citizen
from tests.test_page_words import application, officer
from workflows.messages import Actor, Cancellation, Decision
from workflows.refusals import Refusal, refusal_of

PORTAL = Actor(username="portal:web", role=Role.PORTAL)


def refused(check, arg) -> tuple[Refusal, dict]:
    with pytest.raises(Exception) as caught:
        check(arg)
    return refusal_of(caught.value)


def test_a_decision_after_an_accepted_cancellation_is_refused():
    workflow = application(Status.AWAITING_DECISION, chain=(Role.CHAIRMAN,))
    workflow.check_cancellation(Cancellation(reason="moved abroad", actor=PORTAL))
    workflow.cancellation = Cancellation(reason="moved abroad", actor=PORTAL)
    code, _ = refused(workflow.check_decision, Decision(kind=DecisionKind.APPROVE, actor=officer(Role.CHAIRMAN)))
    assert code is Refusal.CANCELLING


def test_a_cancellation_after_an_accepted_decision_is_refused():
    workflow = application(Status.AWAITING_DECISION, chain=(Role.CHAIRMAN,))
    decision = Decision(kind=DecisionKind.APPROVE, actor=officer(Role.CHAIRMAN))
    workflow.check_decision(decision)
    workflow.decision = decision
    code, params = refused(workflow.check_cancellation, Cancellation(reason="moved abroad", actor=PORTAL))
    assert (code, params) == (Refusal.NOT_CANCELLABLE, {"status": Status.AWAITING_DECISION.value})


def test_rejecting_or_returning_needs_a_reason():
    workflow = application(Status.AWAITING_DECISION, chain=(Role.CHAIRMAN,))
    for kind in (DecisionKind.REJECT, DecisionKind.RETURN):
        code, params = refused(workflow.check_decision, Decision(kind=kind, reason="  ", actor=officer(Role.CHAIRMAN)))
        assert (code, params) == (Refusal.REASON_REQUIRED, {"decision": kind.value})


async def test_the_api_names_the_reason_field_when_a_rejection_has_none(stack):
    application_id = await stack.submitted(citizen("gobra", 0))
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    r = await stack.decide("chairman.gobra", application_id, "reject", "")
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "reason"]


async def test_an_update_failure_carries_the_refusals_code_and_parameters(stack, temporal_env):
    application_id = await stack.submitted(citizen("gobra", 1))
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    decision = Decision(kind=DecisionKind.APPROVE, actor=officer(Role.CHAIRMAN, "kajulia"))
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await temporal_env.client.get_workflow_handle(application_id).execute_update("decide", decision)
    assert refusal_of(caught.value.cause) == (Refusal.NOT_THIS_UNION, {"union": "gobra"})
    assert caught.value.cause.type == "WrongOfficer"
