"""Issue 17: the signed status lists and trust list that offline verifiers download (api/routers/status_lists.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sonod import db, pki
from sonod.keys import KeyStore
from sonod.offline import MIN_BITS, read_status_list, read_trust_list
from sonod.settings import Settings
from sonod.signing import jwks, trusted_keys_from_jwks
from tests.stack import api_in_process
from tests.unions_kit import add_union, cli, database

pytestmark = pytest.mark.asyncio(loop_scope="session")

UNION = "status-lists"
NO_CERTIFICATES = "status-none"


def certificate(seq: int, year: int = 2026, revoked: bool = False) -> db.Certificate:
    at = datetime(year, 3, 1, tzinfo=UTC)
    return db.Certificate(certificate_no=f"{UNION.upper()}-{year}-{seq:06d}", application_id=f"sl-{year}-{seq}",
                          union_slug=UNION, year=year, seq=seq, certificate_type="citizenship", issued_at=at,
                          revoked_at=at if revoked else None, revoke_reason="test" if revoked else None)


@pytest.fixture(scope="module")
async def http(database_url, tmp_path_factory):
    add_union(database_url, UNION)
    add_union(database_url, NO_CERTIFICATES)
    with database(database_url) as session:
        if session.get(db.Certificate, f"{UNION.upper()}-2026-000001") is None:
            session.add_all([certificate(1), certificate(2, revoked=True), certificate(3), certificate(9, revoked=True),
                             certificate(1, year=2025, revoked=True)])
    async with api_in_process(Settings(database_url=database_url, var_dir=tmp_path_factory.mktemp("var"))) as client:
        yield client


def union_keys(http):
    keys: KeyStore = http.app.state.keys
    return trusted_keys_from_jwks(jwks(keys.trusted_keys()))  # as a verifier reads them


async def test_the_trust_list_is_the_jwks_signed_by_the_root(http, database_url):
    with database(database_url) as session:
        root = pki.root_public_jwk(session, http.app.state.settings.master_key)
    r = await http.get("/.well-known/sonod-trust-list.jws")
    assert r.status_code == 200 and r.headers["content-type"] == "application/jose"
    listed = read_trust_list(r.text, root)
    assert listed.keys == union_keys(http)
    assert (await http.get("/.well-known/jwks.json")).json() == jwks(listed.keys.values())


async def test_the_index_names_every_union_year_with_certificates(http):
    r = await http.get("/api/v1/status-lists")
    assert r.status_code == 200
    mine = [(e["union"], e["year"], e["url"]) for e in r.json()["lists"] if e["union"] == UNION]
    assert mine == [(UNION, year, f"/api/v1/status-lists/{UNION}/{year}") for year in (2025, 2026)]
    assert all(e["union"] != NO_CERTIFICATES for e in r.json()["lists"])


async def test_the_status_list_is_signed_by_the_union_and_sets_the_revoked_bits(http):
    r = await http.get(f"/api/v1/status-lists/{UNION}/2026")
    assert r.status_code == 200 and r.headers["content-type"] == "application/jose"
    listed = read_status_list(r.text, union_keys(http))
    assert (listed.union, listed.year, listed.size) == (UNION, 2026, MIN_BITS)
    assert [seq for seq in range(20) if listed.revoked(seq)] == [2, 9]


async def test_each_year_has_its_own_list(http):
    r = await http.get(f"/api/v1/status-lists/{UNION}/2025")
    listed = read_status_list(r.text, union_keys(http))
    assert [seq for seq in range(20) if listed.revoked(seq)] == [1]


async def test_a_union_year_without_certificates_is_404(http):
    assert (await http.get(f"/api/v1/status-lists/{NO_CERTIFICATES}/2026")).status_code == 404
    assert (await http.get(f"/api/v1/status-lists/{UNION}/2024")).status_code == 404


@pytest.mark.parametrize("path", ["Bad_Slug/2026", f"{UNION}/twenty", f"{UNION}/99999"])
async def test_a_malformed_union_or_year_is_422(http, path):
    assert (await http.get(f"/api/v1/status-lists/{path}")).status_code == 422


async def test_the_revocation_list_of_the_contract_still_answers(http):
    r = await http.get("/api/v1/revocations")
    assert r.status_code == 200 and r.json()["type"] == "sonod-revocation-list"


def test_sonod_keys_root_prints_the_root_verifiers_pin(database_url, tmp_path):
    with database(database_url) as session:
        root = pki.root_public_jwk(session, Settings().master_key)
    printed = cli(database_url, "keys", "root")
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == root
    pinned = cli(database_url, "keys", "root", "--out", str(tmp_path / "root.jwk"))
    assert pinned.exit_code == 0 and json.loads((tmp_path / "root.jwk").read_text()) == root
