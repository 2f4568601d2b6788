"""The typed search attributes operators filter on in the Temporal Web UI. None carries personal data."""

from __future__ import annotations

from datetime import datetime

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from sonod.domain import Role, Status

SONOD_STATUS = SearchAttributeKey.for_keyword("SonodStatus")
UNION_SLUG = SearchAttributeKey.for_keyword("UnionSlug")
CERTIFICATE_TYPE = SearchAttributeKey.for_keyword("CertificateType")
SONOD_DEADLINE = SearchAttributeKey.for_datetime("SonodDeadline")
SONOD_OVERDUE = SearchAttributeKey.for_bool("SonodOverdue")
SONOD_WAITING_ON = SearchAttributeKey.for_keyword("SonodWaitingOn")
SONOD_DECIDERS = SearchAttributeKey.for_keyword_list("SonodDeciders")  # who may decide now: the workflow's answer

ALL_KEYS = (SONOD_STATUS, UNION_SLUG, CERTIFICATE_TYPE, SONOD_DEADLINE, SONOD_OVERDUE, SONOD_WAITING_ON,
            SONOD_DECIDERS)


def submitted_attributes(submission) -> TypedSearchAttributes:
    """For `start_workflow`: what is known before the union's rules are read."""
    return TypedSearchAttributes([
        SearchAttributePair(SONOD_STATUS, Status.SUBMITTED.value),
        SearchAttributePair(UNION_SLUG, submission.union),
        SearchAttributePair(CERTIFICATE_TYPE, submission.certificate_type),
    ])


def revoked_attributes(union: str, certificate_type: str) -> TypedSearchAttributes:
    """For the revocation's workflow (`R-<certificate number>`): found by `SonodStatus = "revoked"`."""
    return TypedSearchAttributes([
        SearchAttributePair(SONOD_STATUS, "revoked"),
        SearchAttributePair(UNION_SLUG, union),
        SearchAttributePair(CERTIFICATE_TYPE, certificate_type),
    ])


def search_attributes_for(app, status: Status, deadline_at: datetime, overdue: bool = False,
                          waiting_on: Role | None = None, awaiting=None) -> TypedSearchAttributes:
    """Every attribute at once; `upserts` turns them into one upsert."""
    return TypedSearchAttributes([
        SearchAttributePair(SONOD_STATUS, status.value),
        SearchAttributePair(UNION_SLUG, app.union.slug),
        SearchAttributePair(CERTIFICATE_TYPE, app.certificate_type),
        SearchAttributePair(SONOD_DEADLINE, deadline_at),
        SearchAttributePair(SONOD_OVERDUE, overdue),
        SearchAttributePair(SONOD_WAITING_ON, waiting_on.value if waiting_on else ""),
        SearchAttributePair(SONOD_DECIDERS, [r.value for r in awaiting.deciders] if awaiting else []),
    ])


def upserts(attributes: TypedSearchAttributes) -> list:
    return [pair.key.value_set(pair.value) for pair in attributes]
