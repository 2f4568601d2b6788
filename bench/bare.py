"""bench/pipeline.py's second line: `BareApplication`, the same sequence of commands as `CertificateApplication`
had on a citizenship application in process 1 (seven local activities, the union's rules read at admission
included, five activities, the same search-attribute upserts, one timer raced against the update), with no-op
activities. Its worker is a subprocess (`bench/bare.py --worker`, `bare_worker`) configured as `sonod worker` is
(`workers.main.worker_options`); its driver (`Bare`) is bench/reference.py's, with this workflow.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # run as a script: make the project importable (in the sandbox this is skipped)
    from pathlib import Path as _Path

    sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import contextlib
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from bench.reference import POLICY, Baseline, attributes, serve

BARE_QUEUE = "bench-bare"


# --- the baseline: the same shape with nothing behind it ---------------------------------------------------

@activity.defn(name="Bare.project")
def bare_project(app_id: str) -> None:
    return None


@activity.defn(name="Bare.admit")
def bare_admit(app_id: str) -> str:
    return app_id


@activity.defn(name="Bare.verify")
async def bare_verify(app_id: str) -> bool:
    return True


@activity.defn(name="Bare.notify")
def bare_notify(app_id: str) -> list[str]:
    return []


@activity.defn(name="Bare.allocate")
def bare_allocate(app_id: str) -> str:
    return f"BARE-{app_id}"


@activity.defn(name="Bare.issue")
def bare_issue(app_id: str) -> str:
    return app_id


@workflow.defn(name="BareApplication")
class BareApplication:
    """CertificateApplication's commands for a citizenship application, in order, with no-op activities."""

    @workflow.init
    def __init__(self, app: list[str]) -> None:
        self.app_id, self.union = app
        self.status = "submitted"
        self.decided = False
        self.deadline = workflow.now() + timedelta(days=3)

    @workflow.run
    async def run(self, app: list[str]) -> str:
        await workflow.execute_local_activity(bare_admit, self.app_id, **POLICY)
        await self.step("submitted")
        await self.step("verifying_nid")
        await workflow.execute_activity(bare_verify, self.app_id, **POLICY)
        await self.step("awaiting_decision", waiting_on="chairman")
        await workflow.execute_activity(bare_notify, self.app_id, **POLICY)
        await workflow.wait_condition(lambda: self.decided, timeout=timedelta(hours=24))
        await self.step("issuing")
        await workflow.execute_activity(bare_allocate, self.app_id, **POLICY)
        await workflow.execute_activity(bare_issue, self.app_id, **POLICY)
        await self.step("issued")
        await workflow.execute_activity(bare_notify, self.app_id, **POLICY)
        await workflow.execute_local_activity(bare_project, self.app_id, **POLICY)
        return self.status

    @workflow.update
    async def decide(self, officer: str) -> str:
        deciding = self.status
        self.decided = True
        await workflow.wait_condition(lambda: self.status != deciding)
        return self.status

    @decide.validator
    def check_decision(self, officer: str) -> None:
        if self.status != "awaiting_decision" or self.decided:
            raise ApplicationError(f"the application is {self.status}", type="NotAwaiting")

    @workflow.query
    def view(self) -> str:
        return self.status

    async def step(self, status: str, waiting_on: str = "") -> None:
        await workflow.execute_local_activity(bare_project, self.app_id, **POLICY)
        self.status = status
        workflow.upsert_search_attributes(attributes(status, self.union, self.deadline, waiting_on))


async def run_worker() -> None:
    """`bench/bare.py --worker`: BareApplication's worker."""
    import bench.bare as bare

    await serve(BARE_QUEUE, [bare.BareApplication], [bare.bare_admit, bare.bare_project, bare.bare_verify,
                                                     bare.bare_notify, bare.bare_allocate, bare.bare_issue])


def bare_worker() -> tuple[str, list[str], str]:
    """For `Stack.up(baselines=...)`: the process's name, its argv and its task queue."""
    return "bare-worker", [sys.executable, "bench/bare.py", "--worker"], BARE_QUEUE


class Bare(Baseline):
    workflow, queue, prefix = BareApplication, BARE_QUEUE, "bare"


if __name__ == "__main__":
    import asyncio

    if sys.argv[1:] != ["--worker"]:
        raise SystemExit("bench/bare.py --worker: BareApplication's worker (bench/pipeline.py starts it)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker())
