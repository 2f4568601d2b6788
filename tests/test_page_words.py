"""The pages' words: every refusal of the workflow (`workflows.refusals.Refusal`) has its Bengali in the bn catalogue,
and the refusals its validators send (taken from the validators themselves) are said in Bengali on a Bengali page, by
their code, and as they are on an English one."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.errors import ApiError, NotFound, from_update_failure
from api.pages.i18n import N_, Words
from sonod.domain import STEP_STATUS, DecisionKind, Role, Status
from workflows.application import CertificateApplication
from workflows.attestation import ATTESTATION
from workflows.messages import (
    Actor,
    Amendment,
    Applicant,
    ApplicationInput,
    Cancellation,
    Contact,
    Decision,
    Escalation,
    Fee,
    NidRecord,
    PaymentIn,
    Resend,
    Revocation,
    Submission,
    Timing,
    UnionView,
)
from workflows.refusals import Refusal, refusal_of
from workflows.revocation import check_revoker

UNION = UnionView(slug="paikkandi", name_bn="পাইককান্দি", name_en="Paikkandi", upazila_bn="গোপালগঞ্জ সদর",
                  upazila_en="Gopalganj Sadar", upazila_slug="gopalganj-sadar", district_bn="গোপালগঞ্জ",
                  district_en="Gopalganj")
NOW = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)
LATIN = re.compile(r"[A-Za-z]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


STEP = {status: role for role, status in STEP_STATUS.items()}
SUBMITTER = Actor(username="portal:web", role=Role.PORTAL)


def application(status: Status, chain: tuple[Role, ...] = (Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN),
                fee: int = 0) -> CertificateApplication:
    """The workflow object as its validators see it, outside a worker (they read only its fields): admitted under
    these rules, the NID record in ward 3 of the union, and waiting on the officer whose step `status` is."""
    submission = Submission(
        application_id="A260105-00000001", union=UNION.slug, certificate_type="warish",
        applicant=Applicant(nid="6445698652", date_of_birth=dt.date(1961, 7, 27), name_bn="রহিম", name_en="Rahim"),
        contact=Contact(mobile="01711000000"), details={}, submitted_by=SUBMITTER, submitted_at=NOW)
    workflow = CertificateApplication(submission)
    workflow.app = ApplicationInput(
        **submission.model_dump(exclude={"union", "process"}), union=UNION, chain=list(chain), fee=Fee(amount=fee),
        timing=Timing(deadline_days=7, reminder_every=dt.timedelta(days=1), escalate_after=dt.timedelta(days=3),
                      payment_expiry=dt.timedelta(days=7), correction_expiry=dt.timedelta(days=30)),
        escalation_roles=[Role.ACTING_CHAIRMAN])
    workflow.identity = NidRecord(union=UNION.slug, ward_no=3)
    workflow.status, workflow.waiting_on = status, STEP.get(status)
    return workflow


def officer(role: Role, union: str = "paikkandi", ward_no: int | None = None) -> Actor:
    return Actor(username=f"{role.value}.{union}", role=role, union=union, ward_no=ward_no)


def refusal(check, arg) -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        check(arg)
    return refused.value


def attestation(language: str = "bn") -> CertificateApplication:
    """A free-text attestation waiting on the secretary, who writes its text."""
    workflow = application(Status.AWAITING_VERIFICATION, chain=(Role.SECRETARY, Role.CHAIRMAN))
    workflow.app = workflow.admitted().model_copy(update={"certificate_type": ATTESTATION, "language": language})
    return workflow


CITIZEN = Actor(username="citizen", role=Role.CITIZEN, mobile="01711000000")
REFUSALS = {
    "another union": lambda: refusal(application(Status.AWAITING_DECISION).check_decision,
                                     Decision(kind=DecisionKind.APPROVE, actor=officer(Role.CHAIRMAN, "kajulia"))),
    "not in the chain": lambda: refusal(application(Status.AWAITING_DECISION, chain=(Role.CHAIRMAN,)).check_decision,
                                        Decision(kind=DecisionKind.APPROVE, actor=officer(Role.SECRETARY))),
    "another ward": lambda: refusal(application(Status.AWAITING_RECOMMENDATION).check_decision,
                                    Decision(kind=DecisionKind.APPROVE, actor=officer(Role.WARD_MEMBER, ward_no=5))),
    "not awaited": lambda: refusal(application(Status.AWAITING_DECISION).check_decision,
                                   Decision(kind=DecisionKind.APPROVE, actor=officer(Role.SECRETARY))),
    "not awaiting payment": lambda: refusal(application(Status.AWAITING_DECISION, fee=690).check_payment,
                                            PaymentIn(transaction_id="t", amount=690)),
    "wrong amount": lambda: refusal(application(Status.AWAITING_PAYMENT, fee=690).check_payment,
                                    PaymentIn(transaction_id="t", amount=100)),
    "not returned": lambda: refusal(application(Status.AWAITING_DECISION).check_amendment, Amendment(actor=CITIZEN)),
    "not for the applicant": lambda: refusal(application(Status.RETURNED).check_amendment,
                                             Amendment(actor=officer(Role.CHAIRMAN))),
    "too late to cancel": lambda: refusal(application(Status.ISSUING).check_cancellation,
                                          Cancellation(reason="x", actor=CITIZEN)),
    "escalation by hand": lambda: refusal(application(Status.AWAITING_DECISION).check_escalation,
                                          Escalation(reason="x", actor=officer(Role.CHAIRMAN))),
    "escalation not awaited": lambda: refusal(application(Status.AWAITING_VERIFICATION).check_escalation,
                                              Escalation(reason="x", actor=Actor(username="ops", role=Role.OPERATOR))),
    "resend by hand": lambda: refusal(application(Status.AWAITING_DECISION).check_resend,
                                      Resend(actor=officer(Role.CHAIRMAN))),
    "nothing to resend": lambda: refusal(application(Status.AWAITING_DECISION).check_resend,
                                         Resend(actor=Actor(username="ops", role=Role.OPERATOR))),
    "another mobile number": lambda: refusal(application(Status.RETURNED).check_amendment, Amendment(
        actor=CITIZEN.model_copy(update={"mobile": "01811000000"}))),
    "corrected by this officer": lambda: refusal(
        changed(application(Status.AWAITING_DECISION), amended_by="chairman.paikkandi").check_decision,
        Decision(kind=DecisionKind.APPROVE, actor=officer(Role.CHAIRMAN))),
    "not admitted yet": lambda: refusal(changed(application(Status.SUBMITTED), app=None).check_cancellation,
                                        Cancellation(reason="x", actor=CITIZEN)),
    "no reason to reject": lambda: refusal(application(Status.AWAITING_DECISION).check_decision,
                                           Decision(kind=DecisionKind.REJECT, actor=officer(Role.CHAIRMAN))),
    "being cancelled": lambda: refusal(
        changed(application(Status.AWAITING_DECISION), cancellation=Cancellation(reason="x", actor=CITIZEN)
                ).check_decision, Decision(kind=DecisionKind.APPROVE, actor=officer(Role.CHAIRMAN))),
    "an attestation without its text": lambda: refusal(
        attestation().check_decision, Decision(kind=DecisionKind.APPROVE, actor=officer(Role.SECRETARY))),
    "an English attestation without its English": lambda: refusal(
        attestation("both").check_decision,
        Decision(kind=DecisionKind.APPROVE, actor=officer(Role.SECRETARY), text="তিনি একজন কৃষক।")),
    "not the revoker": lambda: refusal(check_revoker, Revocation(certificate_no="PAIKKANDI-2026-000001",
                                                                 union="paikkandi", reason="x",
                                                                 actor=officer(Role.SECRETARY))),
}


def changed(workflow: CertificateApplication, **fields) -> CertificateApplication:
    for name, value in fields.items():
        setattr(workflow, name, value)
    return workflow


def as_api_error(error: ApplicationError) -> ApiError:
    """What a page gets: the API error of the refusal, its code and parameters carried along."""
    return from_update_failure(WorkflowUpdateFailedError(error))


def test_the_validators_cases_cover_every_refusal():
    assert {refusal_of(make())[0] for make in REFUSALS.values()} == set(Refusal)


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refusal_of_the_workflow_is_said_in_bengali_on_a_bengali_page(case):
    """Translated by its code: no Latin letter is left but those of the identifiers it names (a username, a
    union's slug); the English page says the refusal's own message."""
    error = as_api_error(REFUSALS[case]())
    bengali = Words("bn")(error)
    identifiers = [str(v) for v in (error.params or {}).values()]
    assert bengali != error.detail and not LATIN.search(_without(bengali, identifiers)), (error.detail, bengali)
    assert Words("en")(error) == error.detail


def _without(text: str, parts: list[str]) -> str:
    for part in parts:
        text = text.replace(part, "")
    return text


@pytest.mark.parametrize("refusal", list(Refusal))
def test_every_refusal_has_its_bengali_with_the_same_parameters(refusal):
    bengali = Words("bn").gettext(refusal.text)
    assert bengali != refusal.text
    assert set(PLACEHOLDER.findall(bengali)) == set(PLACEHOLDER.findall(refusal.text))
    assert Words("en").gettext(refusal.text) == refusal.text


def test_a_refusal_names_the_status_and_the_role_in_bengali():
    words = Words("bn")
    assert words.filled(Refusal.NOT_AWAITING_OFFICER.text, {"status": "issuing", "role": "secretary"}) == \
        "আবেদনটি এখন «সনদ তৈরি হচ্ছে» অবস্থায় আছে, সচিব পদের সিদ্ধান্তের অপেক্ষায় নেই।"
    assert words.filled(Refusal.WRONG_FEE.text, {"fee": 1500, "currency": "BDT", "amount": 100,
                                                 "paid_currency": "BDT"}) == "ফি ১,৫০০ টাকা, ১০০ টাকা নয়।"
    assert words.filled(Refusal.REASON_REQUIRED.text, {"decision": "return"}) == \
        "আবেদন সংশোধনে ফেরত পাঠাতে কারণ লিখুন।"


def test_unknown_text_stays_as_it_is_and_an_error_said_with_parameters_is_translated_by_its_template():
    assert Words("bn")("something new went wrong") == "something new went wrong"
    error = NotFound.said(N_("no application {application_id}"), application_id="A260105-00000001")
    assert error.detail == "no application A260105-00000001"
    assert Words("bn")(error) == "A260105-00000001 নম্বরে কোনো আবেদন নেই।"
    assert Words("en")(error) == error.detail
