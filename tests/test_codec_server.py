"""Issue #7: Temporal's histories keep no readable NID or name; the API's codec server opens them for operators
only, and answers cross-origin calls from the Temporal Web UI's origin only."""

from __future__ import annotations

import base64
import json

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History

from sonod import audit
from sonod.domain import Status
from tests.stack import citizen, people
from tests.unions_kit import audit_rows

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "shuktail"
DECODE = "/api/v1/codec/decode"


def payloads_in(message: Message):
    """Every Payload anywhere inside a protobuf message."""
    if isinstance(message, Payload):
        yield message
        return
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            values = value.values()
            if descriptor.message_type.fields_by_name["value"].message_type is None:
                continue
        elif descriptor.is_repeated:
            values = value
        else:
            values = [value]
        for item in values:
            yield from payloads_in(item)


@pytest.fixture(scope="module")
async def finished(stack, temporal_env):
    """An issued citizenship certificate: its applicant and its raw history."""
    person = people(UNION)[0]
    app_id = await stack.submitted(citizen(UNION, 0))
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await stack.decide(f"chairman.{UNION}", app_id)).status_code == 200
    await stack.wait_for(app_id, Status.ISSUED)
    history = await temporal_env.client.get_workflow_handle(app_id).fetch_history()
    return person, History(events=history.events)


def secrets_of(person: dict) -> list[bytes]:
    return [person[k].encode() for k in ("nid", "name_en", "name_bn", "father_name_bn", "mother_name_bn")]


async def test_the_history_holds_no_readable_nid_or_name(finished):
    person, history = finished
    raw = history.SerializeToString()
    as_json = json_format.MessageToJson(history, ensure_ascii=False).encode()
    for secret in secrets_of(person):
        assert secret not in raw and secret not in as_json, secret
    sealed = [p for p in payloads_in(history) if p.metadata.get("encoding") == b"binary/encrypted"]
    assert len(sealed) >= 8  # the input, the activities' and the local activities' inputs and results, the decision


async def test_an_operator_decodes_the_history_through_the_codec_endpoint(stack, finished, settings):
    person, history = finished
    body = {"payloads": [json_format.MessageToDict(p) for p in payloads_in(history)]}
    r = await stack.http.post(DECODE, json=body, headers={**await stack.as_officer("operator"),
                                                           "X-Namespace": settings.temporal_namespace})
    assert r.status_code == 200, r.text
    decoded = [base64.b64decode(p.get("data", "")) for p in r.json()["payloads"]]
    assert len(decoded) == len(body["payloads"])
    opened = b"\n".join(decoded)
    assert person["nid"].encode() in opened and person["name_en"].encode() in opened
    encodings = {base64.b64decode(p["metadata"]["encoding"]) for p in r.json()["payloads"]}
    assert b"binary/encrypted" not in encodings and b"json/plain" in encodings
    decodes = [e for e in audit_rows(settings.db_url, audit.DEPLOYMENT) if e.action == "codec.decode"]
    assert decodes and decodes[-1].actor == "operator" and decodes[-1].detail == {"payloads": len(decoded)}


@pytest.mark.parametrize("username", [f"udc.{UNION}", f"chairman.{UNION}", "uno.gopalganj-sadar"])
async def test_other_roles_get_403(stack, finished, username):
    _, history = finished
    body = {"payloads": [json_format.MessageToDict(next(payloads_in(history)))]}
    r = await stack.http.post(DECODE, json=body, headers=await stack.as_officer(username))
    assert r.status_code == 403, r.text


async def test_no_token_or_a_portal_key_gets_no_payloads(stack):
    assert (await stack.http.post(DECODE, json={"payloads": []})).status_code == 401
    r = await stack.http.post(DECODE, json={"payloads": []}, headers={"X-API-Key": "demo-portal-key"})
    assert r.status_code == 401


async def test_the_operators_web_session_cookie_also_opens_payloads(stack):
    token = await stack.login("operator")
    r = await stack.http.post(DECODE, json={"payloads": []}, headers={"Cookie": f"sonod_session={token}"})
    assert r.status_code == 200, r.text
    chairman = await stack.login(f"chairman.{UNION}")
    r = await stack.http.post(DECODE, json={"payloads": []}, headers={"Cookie": f"sonod_session={chairman}"})
    assert r.status_code == 403


async def test_another_namespace_is_refused(stack):
    r = await stack.http.post(DECODE, json={"payloads": []},
                              headers={**await stack.as_officer("operator"), "X-Namespace": "someone-else"})
    assert r.status_code == 403


async def test_a_preflight_from_another_origin_gets_no_cors_allow_header(stack):
    r = await stack.http.options(DECODE, headers={"Origin": "https://evil.example",
                                                  "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "authorization,x-namespace"})
    assert "access-control-allow-origin" not in r.headers


async def test_the_web_uis_origin_may_call_the_codec_from_the_browser(stack, settings):
    origin = settings.temporal_ui_url.rstrip("/")
    r = await stack.http.options(DECODE, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "authorization,x-namespace"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origin
    assert "x-namespace" in r.headers["access-control-allow-headers"].lower()


async def test_other_routes_answer_no_cross_origin_requests(stack, settings):
    r = await stack.http.get("/api/v1/certificate-types", headers={"Origin": settings.temporal_ui_url})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


async def test_the_temporal_cli_shows_the_history_decoded_through_the_endpoint(stack, finished, settings, temporal_env):
    """The protocol as Temporal's own tools speak it: `temporal workflow show --codec-endpoint ... --codec-auth`."""
    import asyncio

    from tests.stack import TEMPORAL_BIN

    person, history = finished
    started = next(e for e in history.events if e.HasField("workflow_execution_started_event_attributes"))
    app_id = (await temporal_env.client.list_workflows(
        f"RunId = '{started.workflow_execution_started_event_attributes.original_execution_run_id}'").__anext__()).id
    token = await stack.login("operator")
    endpoint = str(stack.http.base_url).rstrip("/") + "/api/v1/codec"

    async def show(*codec: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            str(TEMPORAL_BIN), "workflow", "show", "--workflow-id", app_id, "--output", "json",
            "--address", settings.temporal_address, *codec,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, (codec, err.decode())
        return out.decode()

    def contents(shown: str) -> bytes:
        """The data of every payload in `temporal workflow show --output json`."""
        found = []

        def walk(node):
            if isinstance(node, dict):
                if "metadata" in node and "data" in node:
                    found.append(base64.b64decode(node["data"]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
        walk(json.loads(shown))
        return b"\n".join(found)

    nid = person["nid"].encode()
    assert nid not in contents(await show())
    assert nid in contents(await show("--codec-endpoint", endpoint, "--codec-auth", f"Bearer {token}"))
