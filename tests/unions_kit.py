"""Helpers for the tests of issue #5 (officers, unions, approval chains): unions of their own, so that what these
tests do (delegations, revocations, lock-outs, tampering) never touches another test's union, and small helpers
that speak as portals, officers, the administrator's CLI and the payment gateway do."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pyotp
import pytest
from sqlalchemy import select
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from api.schemas import ApplicationIn
from api.services import applications
from sonod import db
from sonod.db import make_engine, make_session_factory
from sonod.domain import Role, Status
from sonod.security import hash_api_key, hash_password, hmac_sha256_hex
from sonod.seed import demo_accounts
from tests.stack import PASSWORD, PORTAL_KEY, TOTP_SECRET, citizen, needs_totp
from workflows.application import CertificateApplication
from workflows.messages import Actor, Submission
from workflows.refusals import Refusal, refusal_of
from workflows.search_attributes import ALL_KEYS, submitted_attributes

PAYMENT_SECRET = "demo-payment-secret"
UPAZILAS = {"gopalganj-sadar": ("গোপালগঞ্জ সদর", "Gopalganj Sadar"), "kotalipara": ("কোটালীপাড়া", "Kotalipara")}


@contextmanager
def database(url: str) -> Iterator[db.Session]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def kit_union_code(slug: str) -> str:
    """A code of 8 digits of the test union's own (the seeded unions have 01 to 21)."""
    return f"9{int(hashlib.sha1(slug.encode()).hexdigest(), 16) % 10**7:07d}"


def add_union(url: str, slug: str, upazila: str = "gopalganj-sadar", template: str = "paikkandi") -> None:
    """A union of the test's own, with the template union's rules and the demo accounts (demo password and TOTP);
    in another upazila, also that upazila's administrator `uno.<upazila>`."""
    upazila_bn, upazila_en = UPAZILAS[upazila]
    with database(url) as session:
        if session.get(db.Union, slug) is not None:
            return
        model = session.get(db.Union, template)
        session.add(db.Union(slug=slug, code=kit_union_code(slug), name_bn=f"{model.name_bn} ({slug})",
                             name_en=f"{model.name_en} ({slug})",
                             upazila_bn=upazila_bn, upazila_en=upazila_en, upazila_slug=upazila,
                             district_bn=model.district_bn, district_en=model.district_en,
                             escalation=model.escalation))
        session.flush()
        for rule in session.scalars(select(db.UnionRule).where(db.UnionRule.union_slug == template)).all():
            session.add(db.UnionRule(union_slug=slug, certificate_type=rule.certificate_type,
                                     fee_lines=rule.fee_lines, deadline_days=rule.deadline_days, chain=rule.chain,
                                     enabled=rule.enabled))
        password_hash = hash_password(PASSWORD)
        accounts = [(u, r, slug, w) for u, r, w in demo_accounts(slug)]
        if session.scalar(select(db.User.id).where(db.User.username == f"uno.{upazila}")) is None:
            accounts.append((f"uno.{upazila}", Role.UPAZILA_ADMIN, None, None))
        for username, role, union, ward in accounts:
            session.add(db.User(username=username, password_hash=password_hash, role=role.value, union_slug=union,
                                upazila_slug=upazila, ward_no=ward, name_en=username,
                                totp_secret=TOTP_SECRET if role.needs_totp else None))


async def union_for(request, url: str, prefix: str) -> str:
    """A fresh union named after the running test (`<prefix>-<test name>-<hash of its id>`), added to the database."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_"))[:20].strip("-")
    slug = f"{prefix}-{name}-{hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:6]}"
    await asyncio.to_thread(add_union, url, slug)
    return slug


def set_timing(url: str, slug: str, **timing: int | timedelta) -> None:
    """The union's own clock (`unions.timing`), which the workflow reads when it admits an application
    (activities/registry.rules_for): `deadline_days`, and `reminder_every`, `escalate_after`, `payment_expiry`,
    `correction_expiry` as timedeltas (stored in seconds). Replaces what the union had."""
    stored = {name if name == "deadline_days" else f"{name}_s":
              value if name == "deadline_days" else int(value.total_seconds()) for name, value in timing.items()}
    with database(url) as session:
        session.get(db.Union, slug).timing = stored


def submissions(url: str, bodies: list[dict], actor: Actor) -> list[Submission]:
    """The workflow's inputs as the API builds them (`applications.submission`), for starting workflows directly."""
    with database(url) as session:
        now = db.utcnow()
        return [applications.submission(session, ApplicationIn.model_validate(body), actor, None,
                                        applications.new_application_id(now), now) for body in bodies]


async def start(client: Client, task_queue: str, submission: Submission) -> WorkflowHandle:
    """CertificateApplication started as the API starts it."""
    return await client.start_workflow(CertificateApplication.run, submission, id=submission.application_id,
                                       task_queue=task_queue, search_attributes=submitted_attributes(submission))


async def register_search_attributes(client: Client) -> None:
    """The time-skipping test server starts without sonod's search attributes, and then every upsert fails the
    workflow task ("search attribute SonodStatus is not defined"): queries time out. It implements
    AddSearchAttributes (though not ListSearchAttributes, which `sonod.temporal.ensure_search_attributes` needs), so
    add them all."""
    await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=client.namespace, search_attributes={k.name: int(k.indexed_value_type) for k in ALL_KEYS}))


async def reach(env: WorkflowEnvironment, handle: WorkflowHandle, status: Status) -> None:
    """Wait, skipping time on the test server, until the workflow says `status` (20 skipped seconds at most)."""
    for _ in range(200):
        if (await handle.query(CertificateApplication.view)).status is status:
            return
        await env.sleep(timedelta(milliseconds=100))
    raise AssertionError(f"never reached {status}: {(await handle.query(CertificateApplication.view)).status}")


async def refused(handle: WorkflowHandle, update, arg) -> tuple[Refusal, dict]:
    """The workflow's refusal of `update(arg)`, which must be one: its code and parameters."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await handle.execute_update(update, arg)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError) and refusal_of(cause) is not None, repr(cause)
    return refusal_of(cause)


def add_portal(url: str, name: str, key: str) -> None:
    with database(url) as session:
        if session.scalar(select(db.PortalKey.id).where(db.PortalKey.name == name)) is None:
            session.add(db.PortalKey(name=name, key_hash=hash_api_key(key)))


def person(index: int, **overrides) -> dict:
    """A real person of the synthetic registry, applying in a union of the test's own."""
    union = overrides.pop("union")
    return citizen("paikkandi", index, **overrides) | {"union": union}


def cli(url: str, *args: str):
    """`sonod ARGS…` on the database at `url`, as an administrator types it."""
    from infra.cli import app

    return CliRunner().invoke(app, list(args), env={"SONOD_DATABASE_URL": url, "SONOD_DEV_MODE": "true"})


async def acli(url: str, *args: str):
    return await asyncio.to_thread(cli, url, *args)


async def token(http: httpx.AsyncClient, username: str, password: str = PASSWORD,
                totp_secret: str | None = TOTP_SECRET) -> str:
    """A fresh session's token (the stack's `Api.login` caches tokens; these tests end sessions)."""
    form = {"username": username, "password": password}
    if needs_totp(username) and totp_secret:
        form["totp"] = pyotp.TOTP(totp_secret).now()
    r = await http.post("/api/v1/auth/token", data=form)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def bearer(access_token: str) -> dict:
    return {"Authorization": f"Bearer {access_token}"}


def portal(key: str = PORTAL_KEY) -> dict:
    return {"X-API-Key": key, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}


class Gateway:
    """A tiny payment gateway: signs its callbacks with HMAC-SHA256 over the raw body."""

    def __init__(self, http: httpx.AsyncClient, secret: str = PAYMENT_SECRET) -> None:
        self.http, self.secret = http, secret

    async def confirm(self, application_id: str, amount: int, transaction_id: str | None = None, *,
                      secret: str | None = None) -> httpx.Response:
        body = json.dumps({"application_id": application_id, "amount": amount, "currency": "BDT",
                           "transaction_id": transaction_id or f"TX-{uuid.uuid4().hex[:12]}"}).encode()
        signature = hmac_sha256_hex(secret or self.secret, body)
        return await self.http.post("/api/v1/payments/callback", content=body,
                                    headers={"Content-Type": "application/json", "X-Signature": signature})


async def wait_for(http: httpx.AsyncClient, application_id: str, *statuses: Status, headers: dict,
                   timeout: float = 30) -> dict:
    """Like the stack's `Api.wait_for`, as any caller (the stack's asks as the demo portal)."""
    wanted, deadline = {s.value for s in statuses}, asyncio.get_running_loop().time() + timeout
    while True:
        r = await http.get(f"/api/v1/applications/{application_id}", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["status"] in wanted:
            return r.json()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{application_id} is {r.json()['status']}, not {wanted}")
        await asyncio.sleep(0.1)


def audit_rows(url: str, union: str) -> list[db.AuditEntry]:
    with database(url) as session:
        rows = session.scalars(select(db.AuditEntry).where(db.AuditEntry.union_slug == union)
                               .order_by(db.AuditEntry.seq)).all()
        session.expunge_all()
        return rows


STEP = {Role.WARD_MEMBER: Status.AWAITING_RECOMMENDATION, Role.SECRETARY: Status.AWAITING_VERIFICATION,
        Role.CHAIRMAN: Status.AWAITING_DECISION}
