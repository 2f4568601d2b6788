"""Safe deploys: today's CertificateApplication must replay the saved history of every path it can take.

A change that alters the commands an existing history recorded (an activity added, removed or reordered, a timer
moved) makes replay fail here, before it reaches workers that hold running applications. Such a change needs
`workflow.patched(...)` or a new Worker Deployment Version (docs/OPERATIONS.md). The histories are regenerated
by `python -m tests.replay.record`; their payloads are sealed with the dev payload key and bound to the workflow id
in their file's name (`<path>@<workflow id>.json`), under which they replay.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

from sonod.codec import data_converter
from sonod.domain import Status
from sonod.settings import DEV_SECRETS, Settings
from tests.replay.record import path_and_workflow_id, saved
from workflows.application import CertificateApplication

HISTORIES = sorted((Path(__file__).parent / "histories").rglob("*.json"))  # process-1/: before LEAN_PROCESS
DEFINITION = workflow._Definition.must_from_class(CertificateApplication)


def dev_converter():
    """The converter the histories were recorded with: the dev payload key, whatever SONOD_* says."""
    return data_converter(Settings(payload_key=DEV_SECRETS["payload_key"], payload_key_id="k1", payload_old_keys={}))


def history(path: Path) -> WorkflowHistory:
    """The saved history under the workflow id its payloads are sealed for."""
    return WorkflowHistory.from_json(path_and_workflow_id(path)[1], path.read_text())


def issued_citizenship() -> WorkflowHistory:
    [path] = saved("issued_citizenship")
    return history(path)


def statuses_and_updates(path: Path) -> tuple[set[str], set[str]]:
    """The statuses a saved history passed through (its `SonodStatus` upserts, which are plain) and the updates the
    workflow accepted in it."""
    statuses, updates = set(), set()
    for event in history(path).events:
        if event.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if "SonodStatus" in fields:
                statuses.add(json.loads(fields["SonodStatus"].data))
        elif event.HasField("workflow_execution_update_accepted_event_attributes"):
            updates.add(event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name)
    return statuses, updates


def test_the_saved_histories_pass_through_every_status_and_every_update_of_the_workflow():
    """Coverage derived from the workflow itself: a new status or a new update without a saved history that takes
    it fails here (record one with `python -m tests.replay.record`)."""
    seen = [statuses_and_updates(p) for p in HISTORIES]
    assert {s.value for s in Status} - set().union(*(s for s, _ in seen)) == set()
    assert set(DEFINITION.updates) - set().union(*(u for _, u in seen)) == set()
    assert all(path_and_workflow_id(p)[1] for p in HISTORIES), "a history without its workflow id"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: path_and_workflow_id(p)[0])
async def test_the_workflow_replays_its_saved_history(path):
    replayer = Replayer(workflows=[CertificateApplication], data_converter=dev_converter())
    result = await replayer.replay_workflow(history(path))
    assert result.replay_failure is None


async def test_a_history_replayed_under_another_workflow_id_does_not_open():
    """The codec's binding holds in replay too: the same events under another id fail (the input is refused)."""
    [path] = saved("issued_citizenship")
    replayer = Replayer(workflows=[CertificateApplication], data_converter=dev_converter())
    result = await replayer.replay_workflow(WorkflowHistory.from_json("A000000-ANOTHER", path.read_text()),
                                            raise_on_replay_failure=False)
    assert result.replay_failure is not None


async def test_a_non_deterministic_change_fails_the_replay(monkeypatch):
    """The guard works: a workflow that no longer tells operators its status (no search attributes upserted) cannot
    replay."""
    monkeypatch.setattr(CertificateApplication, "upsert_changed", lambda self: None)
    replayer = Replayer(workflows=[CertificateApplication], data_converter=dev_converter(),
                        workflow_runner=UnsandboxedWorkflowRunner())
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(issued_citizenship())


async def test_a_patched_change_replays(monkeypatch):
    """What docs/OPERATIONS.md prescribes: the same change behind `workflow.patched` replays old histories."""
    original = CertificateApplication.upsert_changed

    def upsert_changed(self) -> None:
        if not workflow.patched("no-search-attributes"):
            original(self)

    monkeypatch.setattr(CertificateApplication, "upsert_changed", upsert_changed)
    replayer = Replayer(workflows=[CertificateApplication], data_converter=dev_converter(),
                        workflow_runner=UnsandboxedWorkflowRunner())
    await replayer.replay_workflow(issued_citizenship())
