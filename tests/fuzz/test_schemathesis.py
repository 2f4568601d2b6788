"""Schemathesis against the live API's /openapi.json: no operation answers 5xx, and every 4xx names the problem.

Every operation is fuzzed with data that fits the schema and with data that does not, as a portal (X-API-Key), as
the chairman of paikkandi (a bearer token) and as nobody. The API runs in the session's event loop, so the fuzzing,
which speaks `requests`, runs in a thread of its own. Failures are collected, not raised at the first one, so that one
run shows every kind of 500 with a curl command to reproduce it.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from sonod.catalogue import CATALOGUE
from sonod.domain import Role, Status
from tests.stack import PORTAL_KEY
from tests.unions_kit import add_union, person

pytestmark = pytest.mark.asyncio(loop_scope="session")

# per operation and generation mode: 19 operations x 2 modes x 20 requests take ~20 s; more with SONOD_FUZZ_EXAMPLES
EXAMPLES = int(os.environ.get("SONOD_FUZZ_EXAMPLES", "20"))
FEWER = {("POST", "/api/v1/auth/token"): 8}  # log-ins are rate-limited per address, for every test of the session
FUZZ_UNION = "fuzzland"  # a union of this test's own: /auth/logout ends its udc's sessions, nobody else's


@dataclass
class Findings:
    failures: dict[tuple[str, str, int, str], str] = field(default_factory=dict)  # (method, path, status, why): curl
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, case, status: int, why: str, headers: dict) -> None:
        key = (case.operation.method.upper(), case.operation.path, status, why[:120])
        if key not in self.failures:
            try:
                self.failures[key] = case.as_curl_command(headers=headers)
            except Exception as e:  # noqa: BLE001 - a curl line is a nicety
                self.failures[key] = f"(no curl: {e})"

    def report(self) -> str:
        return "\n".join(f"{m} {p} -> {s}: {why}\n    {curl}" for (m, p, s, why), curl in self.failures.items())


def names_the_problem(status: int, body: bytes) -> str | None:
    """None when a 4xx body names its problem: a `detail` string, or a list of {loc, msg}; else what is wrong."""
    try:
        doc = json.loads(body)
    except ValueError:
        return f"the {status} body is not JSON: {body[:80]!r}"
    detail = doc.get("detail") if isinstance(doc, dict) else None
    if isinstance(detail, str) and detail.strip():
        return None
    if isinstance(detail, list) and detail and all(
            isinstance(e, dict) and isinstance(e.get("loc"), list) and isinstance(e.get("msg"), str) and e["msg"]
            for e in detail):
        return None
    return f"the {status} body names no problem: {body[:120]!r}"


@dataclass
class Known:
    """Real records, so that some cases get past "no such application" into the handlers and the workflow."""

    application_id: str
    certificate_no: str
    certificate_types: list[str]

    def pin(self, case, data) -> None:
        """Point the case at real records, keeping the rest of what Schemathesis made."""
        params = case.path_parameters or {}
        if "application_id" in params:
            params["application_id"] = self.application_id
        if "certificate_no" in params:
            params["certificate_no"] = self.certificate_no
        if case.operation.path == "/api/v1/applications" and isinstance(case.body, dict):
            case.body["union"] = FUZZ_UNION
            case.body["certificate_type"] = data.draw(st.sampled_from(self.certificate_types))
        if isinstance(case.query, dict) and "union" in case.query:
            case.query["union"] = data.draw(st.sampled_from([FUZZ_UNION, "paikkandi"]))


def fuzz(base_url: str, raw_schema: dict, credentials: dict[str, dict[str, str]], known: Known) -> Findings:
    schema = schemathesis.openapi.from_dict(raw_schema)
    findings = Findings()
    http = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        method, path = operation.method.upper(), operation.path
        who = dict(credentials)
        if path == "/api/v1/auth/logout":
            who["officer"] = credentials["throwaway"]
        who.pop("throwaway")
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            cases = operation.as_strategy(generation_mode=mode)

            @hypothesis_settings(max_examples=FEWER.get((method, path), EXAMPLES), deadline=None, database=None,
                                 phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=cases, caller=st.sampled_from(sorted(who)), pinned=st.booleans(), data=st.data())
            def one(case, caller, pinned, data):
                headers = who[caller]  # noqa: B023 - `one` runs within this iteration only
                if pinned:
                    known.pin(case, data)
                try:
                    response = case.call(base_url=base_url, session=http, headers=headers, timeout=15)
                except (UnicodeError, ValueError, requests.exceptions.InvalidHeader,
                        requests.exceptions.InvalidURL):
                    return  # the client itself cannot send this request
                except requests.RequestException as e:
                    findings.add(case, 0, f"no answer: {type(e).__name__}", headers)
                    return
                status = response.status_code
                findings.statuses[status] = findings.statuses.get(status, 0) + 1
                if status >= 500:
                    findings.add(case, status, response.content[:200].decode(errors="replace"), headers)
                elif status >= 400 and (why := names_the_problem(status, response.content)):
                    findings.add(case, status, why, headers)

            try:
                one()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, f"{method} {path}: no valid request could be made"
    return findings


async def test_no_operation_answers_5xx_and_every_4xx_names_the_problem(stack, settings):
    await asyncio.to_thread(add_union, settings.db_url, FUZZ_UNION)
    raw_schema = (await stack.http.get("/openapi.json")).json()
    throwaway = await stack.http.post("/api/v1/auth/token", data={"username": f"udc.{FUZZ_UNION}",
                                                                   "password": "sonod-demo"})
    assert throwaway.status_code == 200, throwaway.text
    credentials = {
        "portal": {"X-API-Key": PORTAL_KEY},
        "officer": await stack.as_officer("chairman.paikkandi"),
        "nobody": {},
        "throwaway": {"Authorization": f"Bearer {throwaway.json()['access_token']}"},
    }
    issued = await stack.submitted(person(0, union=FUZZ_UNION))
    waiting = await stack.submitted(person(1, union=FUZZ_UNION))
    certificate_no = (await stack.through_chain(issued, FUZZ_UNION, [Role.CHAIRMAN], 1))["certificate_no"]
    await stack.wait_for(waiting, Status.AWAITING_DECISION)
    known = Known(waiting, certificate_no, [t.code for t in CATALOGUE])

    findings = await asyncio.to_thread(fuzz, str(stack.http.base_url).rstrip("/"), raw_schema, credentials, known)

    assert not findings.failures, f"answers by status {findings.statuses}:\n{findings.report()}"
    assert sum(findings.statuses.values()) > 300, findings.statuses  # it did fuzz
    assert (await stack.http.get("/healthz")).status_code == 200
