"""bench/api.py's three paths to a decision (its docstring says what each is): through the API, the same
workflow calls made by the driver (bare), and the fixed reference workflow. Each has `prepare`, `submit`,
`decide`; the reference's `ready` and `drain` stand in for the read model it is not in."""

from __future__ import annotations

import asyncio
import time
import uuid


class ApiPath:
    """Through the API, as a portal submits and a chairman decides."""

    name = "api"

    def __init__(self, http, tokens: dict[str, dict]) -> None:
        from sonod.settings import DEV_SECRETS

        self.http, self.tokens = http, tokens
        self.portal = {"X-API-Key": DEV_SECRETS["demo_portal_key"]}
        self.run = uuid.uuid4().hex[:8]

    async def prepare(self, items: list) -> None:
        pass

    async def submit(self, item) -> str:
        i, body = item
        r = await self.http.post("/api/v1/applications", json=body,
                                 headers={**self.portal, "Idempotency-Key": f"{self.run}-{i}"})
        if r.status_code != 202:
            raise RuntimeError(f"submit answered {r.status_code}: {r.text[:200]}")
        return r.json()["application_id"]

    async def decide(self, app_id: str, union: str) -> None:
        r = await self.http.post(f"/api/v1/applications/{app_id}/decision",
                                 json={"decision": "approve", "reason": ""}, headers=self.tokens[union])
        if r.status_code != 200:
            raise RuntimeError(f"decision answered {r.status_code}: {r.text[:200]}")


class BarePath:
    """The same workflow calls as the API's handlers, made by the driver: no HTTP, no API."""

    name = "bare"

    def __init__(self, client, settings, sessions) -> None:
        self.client, self.settings, self.sessions = client, settings, sessions
        self.inputs: dict[int, object] = {}
        self.chairmen: dict[str, object] = {}

    async def prepare(self, items: list) -> None:
        """Build each application's workflow input as `applications.submit` does (before the clock starts)."""
        await asyncio.to_thread(self._prepare, items)

    def _prepare(self, items: list) -> None:
        from api.schemas import ApplicationIn
        from api.services.applications import new_application_id, submission
        from api.services.officers import officer_actor
        from sonod import db
        from sonod.domain import Role
        from workflows.messages import Actor

        portal = Actor(username="portal:demo-portal", role=Role.PORTAL)
        with self.sessions() as session:
            for i, body in items:
                now = db.utcnow()
                self.inputs[i] = submission(session, ApplicationIn.model_validate(body), portal, None,
                                            new_application_id(now), now)
                union = body["union"]
                if union not in self.chairmen:
                    from sqlalchemy import select

                    user = session.scalar(select(db.User).where(db.User.username == f"chairman.{union}"))
                    self.chairmen[union] = officer_actor(session, user, None)

    async def submit(self, item) -> str:
        from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

        from workflows.application import CertificateApplication
        from workflows.search_attributes import submitted_attributes

        app = self.inputs.pop(item[0])
        await self.client.start_workflow(
            CertificateApplication.run, app, id=app.application_id, task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, search_attributes=submitted_attributes(app))
        return app.application_id

    async def decide(self, app_id: str, union: str) -> None:
        from sonod.domain import DecisionKind
        from workflows.application import CertificateApplication
        from workflows.messages import Decision

        actor = self.chairmen[union]
        await self.client.get_workflow_handle(app_id).execute_update(
            CertificateApplication.decide, Decision(kind=DecisionKind.APPROVE, reason="", actor=actor),
            id=f"decide:awaiting_decision:0:{actor.username}:bench")


class ReferencePath:
    """The fixed reference workflow (bench/reference.py) on its own worker: `start_workflow`, then the bare
    `execute_update` of its decision, the floor under any workflow's decision on this Temporal server. It is not
    in the read model: the driver polls its query (every 50 ms) until it awaits the decision."""

    name = "reference"

    def __init__(self, client) -> None:
        self.client, self.run = client, uuid.uuid4().hex[:8]

    async def prepare(self, items: list) -> None:
        pass

    async def submit(self, item) -> str:
        from bench.reference import REFERENCE_QUEUE, ReferenceWorkflow, submitted

        i, body = item
        app_id = f"ref-{self.run}-{i}"
        await self.client.start_workflow(
            ReferenceWorkflow.run, [app_id, body["union"]], id=app_id, task_queue=REFERENCE_QUEUE,
            search_attributes=submitted(body["union"]))
        return app_id

    async def ready(self, app_id: str) -> None:
        from bench.reference import ReferenceWorkflow

        handle = self.client.get_workflow_handle(app_id)
        deadline = time.perf_counter() + 180
        while await handle.query(ReferenceWorkflow.view) != "awaiting_decision":
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{app_id} did not await its decision in 180 s")
            await asyncio.sleep(0.05)

    async def decide(self, app_id: str, union: str) -> None:
        from bench.reference import ReferenceWorkflow

        await self.client.get_workflow_handle(app_id).execute_update(ReferenceWorkflow.decide, f"chairman.{union}")

    async def drain(self, ids: list[str]) -> float:
        t = time.perf_counter()
        await asyncio.gather(*(self.client.get_workflow_handle(i).result() for i in ids))
        return time.perf_counter() - t
