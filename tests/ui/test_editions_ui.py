"""Issue 16 in a real browser: the application form asks the certificate's language and the certificate it corrects;
the secretary writes a free-text attestation's text in the decision form and approves it with it; the chairman reads
it as written. Screenshots under artifacts/screenshots/ (editions-*)."""

from __future__ import annotations

from sonod.domain import Status
from tests.certificates_kit import application, own_union
from tests.ui.conftest import wait_for_status

TEXT = "তিনি ২০২০ সাল থেকে অত্র ইউনিয়নের কৈকোনা গ্রামে একটি দর্জির দোকান পরিচালনা করছেন।"


async def test_the_form_asks_the_language_and_the_certificate_it_corrects(stack, settings, visitors):
    union = await own_union(settings, "ui-editions-form")
    citizen = await visitors()
    await citizen.go(f"/unions/{union}/apply/citizenship")
    language = citizen.page.get_by_label("সনদের ভাষা")
    assert await language.input_value() == "bn"
    await language.select_option("both")
    assert await citizen.page.get_by_label("সংশোধনের জন্য সনদ নং (শুধু প্রদত্ত সনদ সংশোধন করতে)").count() == 1
    await citizen.check("editions-apply-form")


async def test_the_secretary_writes_the_attestation_and_the_chairman_reads_it(stack, settings, visitors):
    union = await own_union(settings, "ui-editions-attest")
    app_id = await stack.submitted(application(union, 35, "misc_attestation",
                                               {"statement_bn": "আমি দর্জির কাজ করি।", "purpose": "ব্যাংক হিসাব"}))
    await wait_for_status(stack, app_id, Status.AWAITING_VERIFICATION, officer=f"secretary.{union}")
    secretary = await visitors()
    await secretary.login(f"secretary.{union}")
    await secretary.go(f"/dashboard/applications/{app_id}")
    text = secretary.page.get_by_label("প্রত্যয়নের বক্তব্য (বাংলায়)")
    assert await text.input_value() == "আমি দর্জির কাজ করি।"  # the applicant's words to start from
    await text.fill("")
    await secretary.page.get_by_role("button", name="যাচাই সম্পন্ন").click()
    await secretary.page.wait_for_load_state()
    assert "অনুমোদন করতে প্রত্যয়নের বক্তব্য লিখুন" in await secretary.page.inner_text("#problem")
    await secretary.check("editions-attestation-refused")
    await secretary.page.get_by_label("প্রত্যয়নের বক্তব্য (বাংলায়)").fill(TEXT)
    await secretary.page.get_by_role("button", name="যাচাই সম্পন্ন").click()
    await wait_for_status(stack, app_id, Status.AWAITING_DECISION, officer=f"secretary.{union}")

    chairman = await visitors()
    await chairman.login(f"chairman.{union}")
    await chairman.go(f"/dashboard/applications/{app_id}")
    assert TEXT in await chairman.page.inner_text("#attestation")
    assert await chairman.page.locator("textarea[name=text]").count() == 0
    await chairman.check("editions-attestation-chairman")
