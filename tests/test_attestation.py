"""A free-text attestation (বিবিধ প্রত্যয়নপত্র, issue 16): the secretary writes its text and approves it with it;
the chairman reads it on the dashboard and approves it as written; the certificate prints it as its body."""

from __future__ import annotations

from api.pages.common import TOKEN_COOKIE
from sonod.domain import Status
from tests.certificates_kit import application, download, own_union
from tests.stack import Api

TYPE = "misc_attestation"
TEXT = "তিনি ২০১৯ সাল থেকে কৈকোনা বাজারে একটি মুদি দোকান পরিচালনা করছেন এবং স্থানীয়ভাবে সুপরিচিত।"
TEXT_EN = "Since 2019 the holder has run a grocery shop in Kaikona market and is well known locally."
APPLICANT_SAYS = {"statement_bn": "আমি একটি মুদি দোকান চালাই।", "purpose": "ব্যাংক ঋণ"}


async def decide(stack: Api, username: str, application_id: str, **body) -> tuple[int, dict]:
    r = await stack.http.post(f"/api/v1/applications/{application_id}/decision",
                              json={"decision": "approve", **body}, headers=await stack.as_officer(username))
    return r.status_code, r.json()


async def test_the_secretary_approves_only_with_the_text_and_the_certificate_prints_it(stack, settings, tmp_path):
    union = await own_union(settings, "attest-text")
    app_id = await stack.submitted(application(union, 31, TYPE, APPLICANT_SAYS))
    await stack.wait_for(app_id, Status.AWAITING_VERIFICATION)
    secretary = {TOKEN_COOKIE: await stack.login(f"secretary.{union}")}
    page = await stack.http.get(f"/dashboard/applications/{app_id}", cookies=secretary)
    assert '<textarea id="text" name="text"' in page.text  # the secretary's step writes it

    code, answer = await decide(stack, f"secretary.{union}", app_id)
    assert code == 422 and answer["detail"][0]["loc"] == ["body", "text"], answer
    code, answer = await decide(stack, f"secretary.{union}", app_id, text="   ")
    assert code == 422, answer
    assert (await stack.get(app_id))["status"] == Status.AWAITING_VERIFICATION.value

    code, answer = await decide(stack, f"secretary.{union}", app_id, text=TEXT)
    assert code == 200, answer
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    chairman = {TOKEN_COOKIE: await stack.login(f"chairman.{union}")}
    page = await stack.http.get(f"/dashboard/applications/{app_id}", cookies=chairman)
    assert page.status_code == 200 and TEXT in page.text  # what he approves as written
    assert 'name="text"' not in page.text  # and does not rewrite
    assert APPLICANT_SAYS["statement_bn"] not in page.text  # what will print is the approved text, not the draft

    code, answer = await decide(stack, f"chairman.{union}", app_id)
    assert code == 200, answer
    app = await stack.wait_for(app_id, Status.ISSUED)
    printed = await download(stack, tmp_path, app["certificate_no"])
    flat = " ".join(printed.text.split())
    assert "কৈকোনা বাজারে একটি মুদি দোকান" in flat
    assert "আমি একটি মুদি দোকান চালাই" not in flat  # the applicant's draft is not what the union attests


async def test_an_english_attestation_needs_the_text_in_english_too(stack, settings, tmp_path):
    union = await own_union(settings, "attest-english")
    app_id = await stack.submitted(application(union, 32, TYPE, APPLICANT_SAYS) | {"language": "both"})
    await stack.wait_for(app_id, Status.AWAITING_VERIFICATION)
    code, answer = await decide(stack, f"secretary.{union}", app_id, text=TEXT)
    assert code == 422 and answer["detail"][0]["loc"] == ["body", "text_en"], answer
    code, answer = await decide(stack, f"secretary.{union}", app_id, text=TEXT, text_en=TEXT_EN)
    assert code == 200, answer
    await stack.wait_for(app_id, Status.AWAITING_DECISION)
    assert (await decide(stack, f"chairman.{union}", app_id))[0] == 200
    app = await stack.wait_for(app_id, Status.ISSUED)
    english = await download(stack, tmp_path, f"{app['certificate_no']}-EN")
    assert TEXT_EN.split(" locally")[0] in " ".join(english.text.split())
