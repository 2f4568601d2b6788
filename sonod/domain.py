"""The words of the process: statuses, roles, decisions and approval steps.

Stdlib only: deterministic workflow code imports this module.
"""

from __future__ import annotations

from enum import StrEnum


def N_(message: str) -> str:
    """Marks an English message for the translation catalogues (`make i18n`); it is translated where it is shown."""
    return message


class Status(StrEnum):
    SUBMITTED = "submitted"
    VERIFYING_NID = "verifying_nid"
    NID_FAILED = "nid_failed"
    AWAITING_PAYMENT = "awaiting_payment"
    AWAITING_RECOMMENDATION = "awaiting_recommendation"
    AWAITING_VERIFICATION = "awaiting_verification"
    AWAITING_DECISION = "awaiting_decision"
    RETURNED = "returned"
    REJECTED = "rejected"
    ISSUING = "issuing"
    ISSUED = "issued"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def awaits_officer(self) -> bool:
        return self in OFFICER_STEPS


FINAL_STATUSES = frozenset({Status.NID_FAILED, Status.REJECTED, Status.ISSUED, Status.CANCELLED})
OFFICER_STEPS = frozenset({Status.AWAITING_RECOMMENDATION, Status.AWAITING_VERIFICATION, Status.AWAITING_DECISION})


class DecisionKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETURN = "return"


class Role(StrEnum):
    CITIZEN = "citizen"  # on the tracking page, with the application number and the mobile number
    PORTAL = "portal"
    UDC = "udc"
    WARD_MEMBER = "ward_member"
    SECRETARY = "secretary"
    CHAIRMAN = "chairman"
    ACTING_CHAIRMAN = "acting_chairman"
    ADMINISTRATOR = "administrator"
    UPAZILA_ADMIN = "upazila_admin"
    OPERATOR = "operator"

    @property
    def needs_totp(self) -> bool:
        """Who signs, decides or administers: the operator also opens every Temporal history (the codec server)."""
        return self in {Role.CHAIRMAN, Role.SECRETARY, Role.ADMINISTRATOR, Role.ACTING_CHAIRMAN, Role.UPAZILA_ADMIN,
                        Role.OPERATOR}

    @property
    def applies_for_citizens(self) -> bool:
        return self in {Role.PORTAL, Role.UDC, Role.SECRETARY}


# Each officer step of a chain: the status it waits in and the role that decides it.
STEP_STATUS: dict[Role, Status] = {
    Role.WARD_MEMBER: Status.AWAITING_RECOMMENDATION,
    Role.SECRETARY: Status.AWAITING_VERIFICATION,
    Role.CHAIRMAN: Status.AWAITING_DECISION,
}

# Who may act for the chairman once the chairman's step has been escalated.
STANDS_IN_FOR_CHAIRMAN = frozenset({Role.ACTING_CHAIRMAN, Role.ADMINISTRATOR})


def normalise_mobile(number: str | None) -> str:
    """A Bangladeshi mobile number as its 11 digits 01XXXXXXXXX (Bengali digits, spaces, dashes, +88 folded)."""
    digits = "".join(str(int(c)) if c.isdigit() else c for c in (number or "").strip())
    digits = digits.replace(" ", "").replace("-", "")
    return digits.removeprefix("+").removeprefix("88") if len(digits) > 11 else digits
