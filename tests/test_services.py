"""The API's layers (issue 13): handlers translate HTTP to service calls, a request commits once at its boundary,
and a rule the workflow enforces is not written again in a page, which still says its refusal in Bengali."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest

from api.pages.common import TOKEN_COOKIE
from sonod.domain import Status
from tests.stack import citizen

API = Path(__file__).resolve().parent.parent / "api"
# where a transaction may end: the request's boundary, and the one named early commit (before Temporal, refusals)
COMMITTERS = {API / "deps.py", API / "services" / "transaction.py"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def test_only_the_boundary_commits():
    """`.commit` is named (called, or handed to a thread) in api/deps.py and api/services/transaction.py only."""
    found = sorted(f"{path.relative_to(API.parent)}:{node.lineno}" for path in API.rglob("*.py")
                   if path not in COMMITTERS
                   for node in ast.walk(_tree(path)) if isinstance(node, ast.Attribute) and node.attr == "commit")
    assert found == []


def test_pages_and_routers_call_services_not_routes():
    """No page imports a router, and no router another: a route is never called as a library."""
    found = []
    for path in [*(API / "pages").glob("*.py"), *(API / "routers").glob("*.py")]:
        for node in ast.walk(_tree(path)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            imported = [*names, *(f"{names[0]}.{a.name}" for a in getattr(node, "names", []) if names)]
            if any(n == "api.routers" or n.startswith("api.routers.") for n in imported):
                found.append(f"{path.relative_to(API.parent)}:{node.lineno}")
    assert found == []


async def _form_token(browser: httpx.AsyncClient, url: str) -> str:
    page = await browser.get(url)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


@pytest.mark.asyncio(loop_scope="session")
async def test_the_dashboard_says_in_bengali_that_a_rejection_needs_a_reason(stack):
    """The workflow refuses a reject without a reason (422 on the reason, as API v1 gets it); the dashboard shows
    that refusal in the officer's words, and the application still waits on the chairman."""
    application_id = await stack.submitted(citizen("kathi", 5))
    await stack.wait_for(application_id, Status.AWAITING_DECISION)
    api = await stack.decide("chairman.kathi", application_id, "reject", "  ")
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["body", "reason"], api.text
    url = f"/dashboard/applications/{application_id}"
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30,
                                 cookies={TOKEN_COOKIE: await stack.login("chairman.kathi")}) as browser:
        token = await _form_token(browser, url)
        r = await browser.post(f"{url}/decision", data={"csrf": token, "decision": "reject", "reason": ""})
    assert r.status_code == 422, r.text
    assert "নামঞ্জুর বা ফেরত পাঠাতে কারণ লিখতে হবে।" in r.text
    assert (await stack.get(application_id))["status"] == Status.AWAITING_DECISION
