"""What the workflow refuses, as codes with parameters.

A refusal is an `ApplicationError` whose `type` is its kind (mapped once to an HTTP status by `api/errors.py`) and
whose first detail is `{"code": ..., "params": {...}}`, which pages translate by code through the catalogues
(`make i18n`). The English text, with the parameters filled in, is the error's message: for logs, the CLI and
API v1's `detail`.
"""

from __future__ import annotations

from enum import StrEnum

from temporalio.exceptions import ApplicationError

from sonod.domain import N_

# the kinds: ApplicationError types
WRONG_OFFICER = "WrongOfficer"  # 403
NOT_AWAITING = "NotAwaiting"  # 409
WRONG_AMOUNT = "WrongAmount"  # 422, on the amount
REASON_REQUIRED = "ReasonRequired"  # 422, on the reason
TEXT_REQUIRED = "TextRequired"  # 422, on the attestation's text
TEXT_EN_REQUIRED = "TextEnRequired"  # 422, on its English


class Refusal(StrEnum):
    NOT_THIS_UNION = "not_this_union"
    NOT_IN_CHAIN = "not_in_chain"
    OTHER_WARD = "other_ward"
    NOT_AWAITING_OFFICER = "not_awaiting_officer"
    CORRECTED_BY_OFFICER = "corrected_by_officer"
    REASON_REQUIRED = "reason_required"
    NOT_AWAITING_PAYMENT = "not_awaiting_payment"
    WRONG_FEE = "wrong_fee"
    NOT_RETURNED = "not_returned"
    NOT_CANCELLABLE = "not_cancellable"
    OPERATORS_ONLY = "operators_only"
    NOTHING_SENT = "nothing_sent"
    ADMITTING = "admitting"
    NOT_SUBMITTER = "not_submitter"
    MOBILE_MISMATCH = "mobile_mismatch"
    CANCELLING = "cancelling"
    NOT_REVOKER = "not_revoker"
    TEXT_REQUIRED = "text_required"
    TEXT_EN_REQUIRED = "text_en_required"

    @property
    def kind(self) -> str:
        return KINDS[self]

    @property
    def text(self) -> str:
        """The English message, with `{name}` where a parameter goes."""
        return TEXTS[self]


KINDS = {
    Refusal.NOT_THIS_UNION: WRONG_OFFICER,
    Refusal.NOT_IN_CHAIN: WRONG_OFFICER,
    Refusal.OTHER_WARD: WRONG_OFFICER,
    Refusal.NOT_AWAITING_OFFICER: NOT_AWAITING,
    Refusal.CORRECTED_BY_OFFICER: WRONG_OFFICER,
    Refusal.REASON_REQUIRED: REASON_REQUIRED,
    Refusal.NOT_AWAITING_PAYMENT: NOT_AWAITING,
    Refusal.WRONG_FEE: WRONG_AMOUNT,
    Refusal.NOT_RETURNED: NOT_AWAITING,
    Refusal.NOT_CANCELLABLE: NOT_AWAITING,
    Refusal.OPERATORS_ONLY: WRONG_OFFICER,
    Refusal.NOTHING_SENT: NOT_AWAITING,
    Refusal.ADMITTING: NOT_AWAITING,
    Refusal.NOT_SUBMITTER: WRONG_OFFICER,
    Refusal.MOBILE_MISMATCH: WRONG_OFFICER,
    Refusal.CANCELLING: NOT_AWAITING,
    Refusal.NOT_REVOKER: WRONG_OFFICER,
    Refusal.TEXT_REQUIRED: TEXT_REQUIRED,
    Refusal.TEXT_EN_REQUIRED: TEXT_EN_REQUIRED,
}

TEXTS = {
    Refusal.NOT_THIS_UNION: N_("{union} is not the union of this officer"),
    Refusal.NOT_IN_CHAIN: N_("a {role} does not decide {certificate_type}"),
    Refusal.OTHER_WARD: N_("the applicant lives in another ward"),
    Refusal.NOT_AWAITING_OFFICER: N_("the application is {status}, not awaiting the {role}"),
    Refusal.CORRECTED_BY_OFFICER: N_("an officer who corrected the application does not decide it"),
    Refusal.REASON_REQUIRED: N_("give a reason to {decision} an application"),
    Refusal.NOT_AWAITING_PAYMENT: N_("the application is {status}, not awaiting payment"),
    Refusal.WRONG_FEE: N_("the fee is {fee} {currency}, not {amount} {paid_currency}"),
    Refusal.NOT_RETURNED: N_("the application is {status}, not returned for correction"),
    Refusal.NOT_CANCELLABLE: N_("the application is {status} and can no longer be cancelled"),
    Refusal.OPERATORS_ONLY: N_("only operators {verb}"),
    Refusal.NOTHING_SENT: N_("nothing has been sent yet"),
    Refusal.ADMITTING: N_("the application is being admitted"),
    Refusal.NOT_SUBMITTER: N_("{username} did not submit this application"),
    Refusal.MOBILE_MISMATCH: N_("the mobile number does not match this application"),
    Refusal.CANCELLING: N_("the applicant has cancelled the application"),
    Refusal.NOT_REVOKER: N_("only the union's chairman, or whoever acts for the chairman by delegation, revokes"),
    Refusal.TEXT_REQUIRED: N_("write the text of the attestation to approve it"),
    Refusal.TEXT_EN_REQUIRED: N_("write the attestation's English text too: an English certificate was asked for"),
}


def refuse(refusal: Refusal, **params: str | int) -> ApplicationError:
    """The refusal to raise: `raise refuse(Refusal.OTHER_WARD)`."""
    return ApplicationError(refusal.text.format(**params), {"code": refusal.value, "params": params},
                            type=refusal.kind, non_retryable=True)


def refusal_of(error: ApplicationError) -> tuple[Refusal, dict] | None:
    """The code and parameters of a workflow's refusal, or None for another error."""
    detail = error.details[0] if error.details else None
    if isinstance(detail, dict) and detail.get("code") in Refusal._value2member_map_:
        return Refusal(detail["code"]), dict(detail.get("params") or {})
    return None
