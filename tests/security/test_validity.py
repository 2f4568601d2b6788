"""Issue 12, item 6: signed validity. A certificate whose type has a validity (a trade licence: to 30 June, the end of
its fiscal year; issue 16) carries its end among the signed claims of its QR, the CWT `exp` (RFC 8392, key 4, epoch
seconds): the end of the last day the paper prints, in Bangladesh time. Once it has passed, the certificate verifies
`expired`: online (`POST /api/v1/verify`), offline (`sonod verify`), on the `/verify` page and in its metadata.
Before, an expired licence verified as valid everywhere.

A licence issued a year ago is issued here by the worker's own activities (the number, then the issuer), with the
workflow's issue time 400 days in the past, for that day's fiscal year: exactly what the worker signed for a licence
decided last year.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import cbor2
import pytest

from activities.issuer import Issuer
from activities.registry import Registry, rules_for
from activities.render import CertificateRenderer
from api.schemas import ApplicationIn
from api.services import applications
from sonod import db
from sonod.bengali import DHAKA, format_date_bn
from sonod.db import make_engine, make_session_factory
from sonod.domain import DecisionKind, Role
from sonod.keys import KeyStore
from sonod.licences import fiscal_year_of
from sonod.signing import verify_qr_text
from tests.certificates_kit import (
    PORTAL,
    REGISTRY_UNION,
    Issued,
    application,
    cose_of,
    details_for,
    download,
    issue,
    own_union,
    revoke,
    verify,
)
from tests.stack import people
from tests.test_certificates import sonod_verify
from workflows.messages import Actor, Decision, IssueRequest, NumberRequest

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXP, ISSUED_ON = 4, -6  # the CWT claim `exp`; sonod's issue date (days since 1970-01-01)
LONG_AGO = dt.timedelta(days=400)
NOT_FOR_VOTERS = ("household_id", "relation")  # what the NID gateway never returns of a person


@pytest.fixture(scope="module")
def sessions(settings):
    engine = make_engine(settings.db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
async def union(settings) -> str:
    return await own_union(settings, "val-expiry")


@pytest.fixture(scope="module")
async def licence(stack, settings, union, tmp_path_factory) -> Issued:
    """A trade licence issued today through the whole stack."""
    return await issue(stack, settings, tmp_path_factory.mktemp("licence"), union, 21, "trade_licence")


@pytest.fixture(scope="module")
def issuer(settings, sessions) -> Issuer:
    """The issuer as the worker builds it."""
    return Issuer(sessions, KeyStore(sessions, settings.master_key), CertificateRenderer(), settings.pdf_dir,
                  f"{settings.public_url}/verify")


async def issued_long_ago(stack, settings, sessions, issuer: Issuer, union: str, index: int, tmp) -> Issued:
    """A trade licence of the registry's person `index` whose workflow decided to issue it 400 days ago."""
    issued_at = db.utcnow() - LONG_AGO
    person = people(REGISTRY_UNION)[index]
    app_id = applications.new_application_id(issued_at)
    body = ApplicationIn.model_validate(application(union, index, "trade_licence", details_for("trade_licence") | {
        "fiscal_year": fiscal_year_of(issued_at.date())}))
    chairman = Actor(username=f"chairman.{union}", role=Role.CHAIRMAN, union=union)

    def work() -> str:
        with sessions() as session:  # what the API submits, with the union's rules as the workflow reads them
            portal = Actor(username="portal:demo-portal", role=Role.PORTAL)
            submitted = applications.submission(session, body, portal, None, app_id, issued_at)
            app = rules_for(session, settings, submitted)
        number = Registry(sessions, settings).allocate_number(NumberRequest(
            application_id=app_id, union=union, certificate_type="trade_licence", issued_at=issued_at))
        return issuer.issue(IssueRequest(
            application=app, identity={k: v for k, v in person.items() if k not in NOT_FOR_VOTERS},
            certificate_no=number.certificate_no, issued_at=issued_at,
            decisions=[Decision(kind=DecisionKind.APPROVE, actor=chairman)])).certificate_no

    return await download(stack, tmp, await asyncio.to_thread(work), person)


@pytest.fixture(scope="module")
async def expired(stack, settings, sessions, issuer, union, tmp_path_factory) -> Issued:
    return await issued_long_ago(stack, settings, sessions, issuer, union, 23, tmp_path_factory.mktemp("expired"))


def claims_of(issued: Issued) -> dict:
    return cbor2.loads(cose_of(issued.payload)[2])


# --- the signed validity --------------------------------------------------------------------------------------------


async def test_a_licence_signs_its_validity_as_the_end_of_its_last_printed_day_in_bangladesh(licence):
    claims = claims_of(licence)
    assert EXP in claims, claims
    end = dt.datetime.fromtimestamp(claims[EXP], DHAKA)
    assert end.time() == dt.time(0, 0)  # midnight in Bangladesh: the last valid day has ended
    last_day = (end - dt.timedelta(days=1)).date()
    assert last_day == dt.date(2027, 6, 30)  # the sample licence's fiscal year, 2026-2027, ends on 30 June
    assert f"{format_date_bn(last_day)} পর্যন্ত" in licence.text  # what the paper says


async def test_a_fresh_licence_verifies_valid_with_its_validity_end(stack, licence):
    answer = await verify(stack, licence.qr)
    assert answer["status"] == "valid", answer
    valid_until = dt.datetime.fromisoformat(answer["certificate"]["valid_until"])
    assert valid_until.timestamp() == claims_of(licence)[EXP]


async def test_the_validity_ends_at_exp_to_the_second(settings, sessions, licence):
    keys = KeyStore(sessions, settings.master_key).lookup
    end = dt.datetime.fromtimestamp(claims_of(licence)[EXP], dt.UTC)
    before = verify_qr_text(licence.qr, keys, now=end - dt.timedelta(seconds=1))
    at = verify_qr_text(licence.qr, keys, now=end)
    assert before.valid and not before.expired
    assert at.valid and at.expired  # genuine, but its validity is over


async def test_a_type_without_validity_has_no_exp(stack, settings, union, tmp_path):
    citizenship = await issue(stack, settings, tmp_path, union, 22)
    assert EXP not in claims_of(citizenship)
    answer = await verify(stack, citizenship.qr)
    assert answer["status"] == "valid" and answer["certificate"]["valid_until"] is None, answer


# --- an expired licence ---------------------------------------------------------------------------------------------


async def test_an_expired_licence_verifies_expired_online(stack, expired):
    answer = await verify(stack, expired.qr)
    assert answer["status"] == "expired", answer
    assert answer["certificate"]["certificate_no"] == expired.certificate_no
    assert dt.datetime.fromisoformat(answer["certificate"]["valid_until"]) < db.utcnow()


async def test_an_expired_licence_is_expired_for_sonod_verify_online_and_offline(stack, settings, expired, tmp_path):
    trust_list = tmp_path / "trust" / "jwks.json"
    code, answer = await sonod_verify(stack, settings, trust_list, expired.pdf, "--online")
    assert (code, answer["status"]) == (4, "expired"), answer
    code, answer = await sonod_verify(stack, settings, trust_list, expired.qr, "--offline")
    assert (code, answer["status"], answer["mode"]) == (4, "expired", "offline"), answer
    assert answer["certificate"]["valid_until"]


async def test_the_verify_page_says_expired(stack, expired):
    r = await stack.http.get("/verify", params={"c": expired.payload})
    assert r.status_code == 200
    assert 'class="verdict expired"' in r.text and "EXPIRED" in r.text and "মেয়াদ" in r.text
    assert 'class="verdict valid"' not in r.text


async def test_the_metadata_gives_the_validity_end_and_says_expired(stack, expired, licence):
    r = await stack.http.get(f"/api/v1/certificates/{expired.certificate_no}", headers=PORTAL)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "expired" and r.json()["valid_until"], r.json()
    r = await stack.http.get(f"/api/v1/certificates/{licence.certificate_no}", headers=PORTAL)
    assert r.json()["status"] == "valid" and r.json()["valid_until"], r.json()


async def test_a_revoked_and_expired_licence_verifies_revoked(stack, settings, sessions, issuer, union, tmp_path):
    gone = await issued_long_ago(stack, settings, sessions, issuer, union, 24, tmp_path)
    assert (await revoke(stack, f"chairman.{union}", gone.certificate_no)).status_code == 200
    answer = await verify(stack, gone.qr)
    assert answer["status"] == "revoked", answer
    assert answer["certificate"]["valid_until"]
