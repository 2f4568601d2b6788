"""The union's rules, as the workflow admits an application under them (`activities/registry.rules_for`): each union's
own code for its memo numbers, its timing, its escalation's roles and whom an escalation tells."""

from __future__ import annotations

import datetime as dt

import pytest
from temporalio.exceptions import ApplicationError

from activities.issuer import memo_number
from activities.registry import rules_for
from sonod import db
from sonod.domain import Role
from sonod.settings import Settings
from tests.unions_kit import add_union, database, kit_union_code
from workflows.messages import Actor, Applicant, Contact, Submission


def submission(union: str, certificate_type: str = "citizenship") -> Submission:
    return Submission(application_id="A261206-0000000000000001", union=union, certificate_type=certificate_type,
                      applicant=Applicant(nid="6445698652", date_of_birth=dt.date(1961, 7, 27), name_bn="ক",
                                          name_en="K"),
                      contact=Contact(), details={}, submitted_by=Actor(username="portal:x", role=Role.PORTAL),
                      submitted_at=dt.datetime(2026, 12, 6, tzinfo=dt.UTC))


def admitted(url: str, union: str, certificate_type: str = "citizenship"):
    with database(url) as session:
        return rules_for(session, Settings(database_url=url), submission(union, certificate_type))


def test_two_unions_number_their_memos_from_their_own_codes(database_url):
    paikkandi, kajulia = admitted(database_url, "paikkandi"), admitted(database_url, "kajulia")
    assert paikkandi.union.code != kajulia.union.code
    for app in (paikkandi, kajulia):
        assert memo_number(app.union.code, "citizenship", 2026, 15) == f"{app.union.code}.01.2026.000015"


def test_a_union_made_later_has_a_code_of_its_own_too(database_url):
    add_union(database_url, "rules-later")
    assert admitted(database_url, "rules-later").union.code == kit_union_code("rules-later")


def test_an_escalation_tells_whom_the_union_names(database_url):
    add_union(database_url, "rules-notify")
    assert admitted(database_url, "rules-notify").escalation_notify == [Role.UPAZILA_ADMIN]  # the seed's
    with database(database_url) as session:
        session.get(db.Union, "rules-notify").escalation = {"after_days": 2, "roles": ["acting_chairman"],
                                                            "notify": ["secretary"]}
    app = admitted(database_url, "rules-notify")
    assert (app.escalation_notify, app.escalation_roles) == ([Role.SECRETARY], [Role.ACTING_CHAIRMAN])
    assert app.timing.escalate_after == dt.timedelta(days=2)


def test_a_type_the_union_does_not_issue_is_refused_for_good(database_url):
    with pytest.raises(ApplicationError) as refused:
        admitted(database_url, "paikkandi", "no_such_type")
    assert refused.value.type == "NotIssued" and refused.value.non_retryable
