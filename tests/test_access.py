"""Issue #5: every endpoint enforces the caller's role and union, and a union's address shows that union only.

The matrix walks every role (a portal key, each officer of a union, the upazila's administrator, the operator)
over every endpoint, once on the caller's own union and once on a foreign one, on the real stack. The unions are
the test's own (`acl-home`, `acl-away` in Gopalganj Sadar, `acl-far` in Kotalipara), so nothing here touches
another test's union.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from sonod.domain import Status
from tests.stack import PORTAL_KEY, people
from tests.unions_kit import add_portal, add_union, person, portal, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="session")

HOME, AWAY, FAR = "acl-home", "acl-away", "acl-far"
OTHER_PORTAL_KEY = "acl-other-portal-key"
WARD = people("paikkandi")[0]["ward_no"]

# role -> (username or None for the portal, its own union, a foreign union)
CALLERS = {
    "portal": (None, HOME, AWAY),
    "udc": (f"udc.{HOME}", HOME, AWAY),
    "ward_member": (f"ward{WARD}.{HOME}", HOME, AWAY),
    "secretary": (f"secretary.{HOME}", HOME, AWAY),
    "chairman": (f"chairman.{HOME}", HOME, AWAY),
    "acting_chairman": (f"acting.{HOME}", HOME, AWAY),
    "upazila_admin": ("uno.gopalganj-sadar", HOME, FAR),
    "operator": ("operator", HOME, FAR),
}
ENDPOINTS = ("submit", "get", "list", "decision", "cancel", "certificate", "pdf", "revoke")
OK, NO = "ok", 403

# (role, endpoint) -> (on its own union, on a foreign union). For the portal, "own" is what it submitted and
# "foreign" is what another portal submitted (a portal serves every union, so it submits anywhere). A UDC operator
# reads only what they submitted, and the applicant's side cancels only what it submitted (issue 12): for them and
# the secretary, "own" is then an application they submitted in their union (`test_only_the_submitter_...` shows
# the union's other applications refused to them).
EXPECTED: dict[tuple[str, str], tuple[object, object]] = {
    **{(role, "submit"): (NO, NO) for role in CALLERS},
    ("portal", "submit"): (OK, OK), ("udc", "submit"): (OK, NO), ("secretary", "submit"): (OK, NO),
    **{(role, e): (OK, NO) for role in CALLERS for e in ("get", "certificate", "pdf")},
    ("operator", "get"): (OK, OK), ("operator", "certificate"): (OK, OK), ("operator", "pdf"): (OK, OK),
    **{(role, "list"): (OK, NO) for role in CALLERS},
    ("portal", "list"): (NO, NO), ("udc", "list"): (NO, NO), ("operator", "list"): (OK, OK),
    **{(role, e): (NO, NO) for role in CALLERS for e in ("decision", "revoke")},
    ("chairman", "decision"): (OK, NO), ("chairman", "revoke"): (OK, NO),
    **{(role, "cancel"): (NO, NO) for role in CALLERS},
    ("portal", "cancel"): (OK, NO), ("udc", "cancel"): (OK, NO), ("secretary", "cancel"): (OK, NO),
    ("operator", "cancel"): (OK, OK),
}
SUCCESS = {"submit": 202}


@dataclass
class World:
    """What the matrix acts on: per union, an application awaiting the chairman and an issued certificate."""

    open: dict[str, str]        # union -> application awaiting the chairman (demo portal's)
    issued: dict[str, dict]     # union -> issued application (demo portal's)
    other_open: str             # another portal's application awaiting the chairman, in HOME
    other_issued: dict          # another portal's issued application, in HOME
    udc_open: str               # HOME's UDC operator's application awaiting the chairman
    udc_issued: dict            # HOME's UDC operator's issued application


async def submit(stack, union: str, index: int = 0, key: str = PORTAL_KEY, caller: dict | None = None) -> str:
    """An application submitted by a portal (its key) or by an officer (`caller`: their headers)."""
    r = await stack.http.post("/api/v1/applications", json=person(index, union=union), headers=caller or portal(key))
    assert r.status_code == 202, r.text
    return r.json()["application_id"]


async def issued(stack, union: str, index: int = 0, key: str = PORTAL_KEY, caller: dict | None = None) -> dict:
    app_id = await awaiting(stack, union, index, key, caller)
    assert (await stack.decide(f"chairman.{union}", app_id)).status_code == 200
    return await wait_for(stack.http, app_id, Status.ISSUED, headers=caller or {"X-API-Key": key})


async def awaiting(stack, union: str, index: int = 0, key: str = PORTAL_KEY, caller: dict | None = None) -> str:
    app_id = await submit(stack, union, index, key, caller)
    await wait_for(stack.http, app_id, Status.AWAITING_DECISION, headers=caller or {"X-API-Key": key})
    return app_id


@pytest.fixture(scope="module")
async def world(stack, settings) -> World:
    for union, upazila in ((HOME, "gopalganj-sadar"), (AWAY, "gopalganj-sadar"), (FAR, "kotalipara")):
        await asyncio.to_thread(add_union, settings.db_url, union, upazila)
    await asyncio.to_thread(add_portal, settings.db_url, "acl-other", OTHER_PORTAL_KEY)
    unions = (HOME, AWAY, FAR)
    udc = await stack.as_officer(f"udc.{HOME}")
    opened = await asyncio.gather(*(awaiting(stack, u, 1) for u in unions), awaiting(stack, HOME, 2, OTHER_PORTAL_KEY),
                                  awaiting(stack, HOME, 8, caller=udc))
    done = await asyncio.gather(*(issued(stack, u, 3) for u in unions), issued(stack, HOME, 4, OTHER_PORTAL_KEY),
                                issued(stack, HOME, 9, caller=udc))
    return World(open=dict(zip(unions, opened[:3], strict=True)), issued=dict(zip(unions, done[:3], strict=True)),
                 other_open=opened[3],
                 other_issued=done[3], udc_open=opened[4], udc_issued=done[4])


async def headers_of(stack, role: str) -> dict:
    username = CALLERS[role][0]
    return portal() if username is None else await stack.as_officer(username)


async def call(stack, world: World, role: str, endpoint: str, own: bool) -> httpx.Response:
    """One cell of the matrix: `role` calls `endpoint` on its own union's record or a foreign one."""
    union = CALLERS[role][1 if own else 2]
    headers = await headers_of(stack, role)
    foreign_portal = role == "portal" and not own
    udc_own = role == "udc" and own  # what this UDC operator submitted
    open_app = world.other_open if foreign_portal else world.udc_open if udc_own else world.open[union]
    cert = (world.other_issued if foreign_portal else world.udc_issued if udc_own
            else world.issued[union])["certificate_no"]
    http = stack.http
    match endpoint:
        case "submit":
            return await http.post("/api/v1/applications", json=person(5, union=union), headers=headers)
        case "get":
            return await http.get(f"/api/v1/applications/{open_app}", headers=headers)
        case "list":
            return await http.get("/api/v1/applications", params={"union": union}, headers=headers)
        case "decision":
            if (role, own) == ("chairman", True):
                open_app = await awaiting(stack, union, 6)
            return await http.post(f"/api/v1/applications/{open_app}/decision", headers=headers,
                                   json={"decision": "approve", "reason": "matrix"})
        case "cancel":
            if EXPECTED[(role, "cancel")][0 if own else 1] == OK:  # each success takes an application of its own,
                # submitted by the caller when the caller is of the applicant's side (the operator's: any)
                submitter = headers if role in ("udc", "secretary") else None
                open_app = await awaiting(stack, union, 7, caller=submitter)
            return await http.post(f"/api/v1/applications/{open_app}/cancel", headers=headers,
                                   json={"reason": "matrix"})
        case "certificate":
            return await http.get(f"/api/v1/certificates/{cert}", headers=headers)
        case "pdf":
            return await http.get(f"/api/v1/certificates/{cert}/pdf", headers=headers)
        case "revoke":
            return await http.post(f"/api/v1/certificates/{cert}/revoke", headers=headers,
                                   json={"reason": "issued in error"})
    raise AssertionError(endpoint)


def verdict(endpoint: str, r: httpx.Response) -> object:
    if r.status_code == SUCCESS.get(endpoint, 200):
        return OK
    return r.status_code


async def test_every_role_on_every_endpoint_in_its_own_and_a_foreign_union(stack, world):
    wrong = []
    # denials first: a success may change what later cells act on (a decision, a revocation)
    cells = sorted(((role, e, own) for role in CALLERS for e in ENDPOINTS for own in (True, False)),
                   key=lambda c: (EXPECTED[(c[0], c[1])][0 if c[2] else 1] == OK, ENDPOINTS.index(c[1])))
    for role, endpoint, own in cells:
        r = await call(stack, world, role, endpoint, own)
        expected = EXPECTED[(role, endpoint)][0 if own else 1]
        if verdict(endpoint, r) != expected:
            wrong.append(f"{role:16} {endpoint:12} {'own' if own else 'foreign':8} expected {expected}, "
                         f"got {r.status_code}: {r.text[:160]}")
        if endpoint == "pdf" and r.status_code == 200:
            assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert not wrong, "\n" + "\n".join(wrong)


async def test_only_the_submitter_cancels_and_a_udc_operator_reads_only_their_own(stack, world):
    """The applicant's side is whoever submitted: the union's UDC operator and secretary may not cancel a portal's
    application, nor the secretary the UDC operator's; the UDC operator does not read the portal's (issue 12)."""
    udc, secretary = await stack.as_officer(f"udc.{HOME}"), await stack.as_officer(f"secretary.{HOME}")
    for app_id, headers in ((world.open[HOME], udc), (world.open[HOME], secretary), (world.udc_open, secretary)):
        r = await stack.http.post(f"/api/v1/applications/{app_id}/cancel", headers=headers, json={"reason": "x"})
        assert r.status_code == 403, (app_id, r.text)
    for path in (f"/api/v1/applications/{world.open[HOME]}",
                 f"/api/v1/certificates/{world.issued[HOME]['certificate_no']}"):
        assert (await stack.http.get(path, headers=udc)).status_code == 403
    assert (await stack.get(world.open[HOME]))["status"] == Status.AWAITING_DECISION
    assert (await wait_for(stack.http, world.udc_open, Status.AWAITING_DECISION, headers=udc))


async def test_without_credentials_every_endpoint_answers_401(stack, world):
    app_id, cert = world.open[HOME], world.issued[AWAY]["certificate_no"]
    calls = [
        ("POST", "/api/v1/applications", person(0, union=HOME)),
        ("GET", f"/api/v1/applications/{app_id}", None),
        ("GET", "/api/v1/applications", None),
        ("POST", f"/api/v1/applications/{app_id}/decision", {"decision": "approve"}),
        ("POST", f"/api/v1/applications/{app_id}/cancel", {"reason": "x"}),
        ("POST", f"/api/v1/applications/{app_id}/amend", {}),
        ("GET", f"/api/v1/certificates/{cert}", None),
        ("GET", f"/api/v1/certificates/{cert}/pdf", None),
        ("POST", f"/api/v1/certificates/{cert}/revoke", {"reason": "xyz"}),
        ("POST", "/api/v1/auth/logout", None),
    ]
    for method, path, body in calls:
        for headers in ({}, {"X-API-Key": "not-a-key"}, {"Authorization": "Bearer not.a.token"}):
            r = await stack.http.request(method, path, json=body, params={"union": HOME}, headers=headers)
            assert r.status_code == 401, (method, path, headers, r.text)
    assert (await stack.get(app_id))["status"] == Status.AWAITING_DECISION


async def test_a_ward_member_recommends_only_for_the_applicants_of_their_ward(stack, world):
    # the ward is the NID record's, and only when the record lives in the application's union (issue 12): so in
    # paikkandi, whose people the registry holds, not in the test's own unions
    union = "paikkandi"
    ward = people(union)[8]["ward_no"]
    other_ward = 1 if ward != 1 else 2
    app_id = await submit_type(stack, union, 8, "character")
    await stack.wait_for(app_id, Status.AWAITING_RECOMMENDATION)
    r = await stack.decide(f"ward{other_ward}.{union}", app_id)
    assert r.status_code == 403 and "ward" in r.json()["detail"], r.text
    r = await stack.decide(f"ward{ward}.{AWAY}", app_id)
    assert r.status_code == 403, r.text
    assert (await stack.decide(f"ward{ward}.{union}", app_id)).status_code == 200
    await stack.wait_for(app_id, Status.AWAITING_DECISION)


async def test_the_upazila_admin_reads_every_union_of_the_upazila_but_decides_nothing(stack, world):
    uno = await stack.as_officer("uno.gopalganj-sadar")
    for union in (HOME, AWAY):
        r = await stack.http.get("/api/v1/applications", params={"union": union}, headers=uno)
        assert r.status_code == 200 and world.open[union] in {a["application_id"] for a in r.json()["items"]}
    r = await stack.http.post(f"/api/v1/applications/{world.open[AWAY]}/decision", headers=uno,
                              json={"decision": "reject", "reason": "no"})
    assert r.status_code == 403, r.text
    far = await stack.http.get("/api/v1/applications", params={"union": FAR}, headers=uno)
    assert far.status_code == 403
    assert (await stack.http.get("/api/v1/applications", params={"union": FAR},
                                 headers=await stack.as_officer("uno.kotalipara"))).status_code == 200


async def submit_type(stack, union: str, index: int, certificate_type: str, **overrides) -> str:
    r = await stack.http.post("/api/v1/applications", headers=portal(),
                              json=person(index, union=union, certificate_type=certificate_type, **overrides))
    assert r.status_code == 202, r.text
    return r.json()["application_id"]


# --- tenancy: a union's own address ----------------------------------------------------------------------------


def host(union: str) -> dict:
    return {"Host": f"{union}.sonod.localhost"}


def without_union(index: int) -> dict:
    body = person(index, union=HOME)
    del body["union"]
    return body


async def test_a_portal_submits_by_host_without_naming_the_union(stack, world):
    r = await stack.http.post("/api/v1/applications", json=without_union(9), headers=portal() | host(HOME))
    assert r.status_code == 202, r.text
    app = await stack.wait_for(r.json()["application_id"], Status.AWAITING_DECISION)
    assert app["union"] == HOME


async def test_a_portal_submits_by_path_without_naming_the_union(stack, world):
    r = await stack.http.post(f"/unions/{HOME}/api/v1/applications", json=without_union(10), headers=portal())
    assert r.status_code == 202, r.text
    assert r.json()["status_url"].endswith(f"/unions/{HOME}/api/v1/applications/{r.json()['application_id']}")
    app = await stack.wait_for(r.json()["application_id"], Status.AWAITING_DECISION)
    assert app["union"] == HOME
    again = await stack.http.get(r.json()["status_url"], headers=portal())
    assert again.status_code == 200 and again.json()["union"] == HOME


@pytest.mark.parametrize("route", ["host", "path"])
async def test_officers_list_their_union_by_host_or_path(stack, world, route):
    chairman = await stack.as_officer(f"chairman.{HOME}")
    url, headers = ("/api/v1/applications", host(HOME)) if route == "host" else \
        (f"/unions/{HOME}/api/v1/applications", {})
    r = await stack.http.get(url, headers=chairman | headers, params={"limit": 200})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert world.open[HOME] in {a["application_id"] for a in items}
    assert {a["union"] for a in items} == {HOME}
    foreign_url, foreign_headers = ("/api/v1/applications", host(AWAY)) if route == "host" else \
        (f"/unions/{AWAY}/api/v1/applications", {})
    assert (await stack.http.get(foreign_url, headers=chairman | foreign_headers)).status_code == 403


@pytest.mark.parametrize("route", ["host", "path"])
async def test_an_address_of_one_union_refuses_a_body_naming_another(stack, world, route):
    body = person(11, union=AWAY)
    url, headers = ("/api/v1/applications", host(HOME)) if route == "host" else \
        (f"/unions/{HOME}/api/v1/applications", {})
    r = await stack.http.post(url, json=body, headers=portal() | headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "union"]
    r = await stack.http.get(url, params={"union": AWAY}, headers=headers | await stack.as_officer("operator"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "union"], r.text


async def test_an_address_of_one_union_shows_nothing_of_another(stack, world):
    operator = await stack.as_officer("operator")
    cert = world.issued[AWAY]["certificate_no"]
    for path in (f"/api/v1/applications/{world.open[AWAY]}", f"/api/v1/certificates/{cert}",
                 f"/api/v1/certificates/{cert}/pdf"):
        assert (await stack.http.get(path, headers=operator)).status_code == 200
        assert (await stack.http.get(path, headers=operator | host(HOME))).status_code == 404
        assert (await stack.http.get(f"/unions/{HOME}{path}", headers=operator)).status_code == 404
    r = await stack.http.post(f"/unions/{HOME}/api/v1/applications/{world.open[AWAY]}/decision",
                              headers=await stack.as_officer(f"chairman.{AWAY}"), json={"decision": "approve"})
    assert r.status_code == 404
    assert (await stack.get(world.open[AWAY]))["status"] == Status.AWAITING_DECISION


async def test_one_unions_officers_never_see_anothers_applications_in_lists(stack, world):
    for union, foreign in ((HOME, AWAY), (AWAY, HOME)):
        seen, cursor = set(), None
        while True:
            params = {"limit": 50} | ({"cursor": cursor} if cursor else {})
            r = await stack.http.get(f"/unions/{union}/api/v1/applications", params=params,
                                     headers=await stack.as_officer(f"secretary.{union}"))
            assert r.status_code == 200, r.text
            assert {a["union"] for a in r.json()["items"]} <= {union}
            seen |= {a["application_id"] for a in r.json()["items"]}
            if not (cursor := r.json()["next_cursor"]):
                break
        assert world.open[union] in seen and world.open[foreign] not in seen
        assert world.issued[foreign]["application_id"] not in seen
