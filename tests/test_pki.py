"""The sonod PKI: root, issuing CAs, TSA and the unions' PDF-signing certificates (sonod/pki.py)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from sonod import db, pki
from sonod.settings import Settings

MASTER = Settings().master_key  # the API's and the worker's in the tests: every test module shares one database


@pytest.fixture
def session(database_url):
    engine = db.make_engine(database_url)
    with db.make_session_factory(engine)() as session:
        yield session
        session.rollback()
    engine.dispose()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_root_jwk_names_the_roots_key_and_its_kid(session):
    jwk = pki.root_public_jwk(session, MASTER)
    cert = pki.ensure_root(session, MASTER).certificate
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert set(jwk) == {"kty", "crv", "x", "y", "kid"}
    assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
    assert jwk["kid"] == base64.urlsafe_b64encode(hashlib.sha256(spki).digest()[:16]).decode().rstrip("=")
    numbers = cert.public_key().public_numbers()
    assert int.from_bytes(_unb64url(jwk["x"]), "big") == numbers.x
    assert int.from_bytes(_unb64url(jwk["y"]), "big") == numbers.y
    assert pki.root_public_jwk(session, MASTER) == jwk  # made once, then read back


def test_root_is_a_self_signed_p256_ca(session):
    cert = pki.ensure_root(session, MASTER).certificate
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(cert.public_key().curve, ec.SECP256R1)


def test_root_signature_is_raw_es256_over_the_bytes(session):
    signature = pki.sign_with_root(session, MASTER, b"header.payload")
    assert len(signature) == 64
    public = pki.ensure_root(session, MASTER).certificate.public_key()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public.verify(der, b"header.payload", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(Exception):  # noqa: B017 - InvalidSignature
        public.verify(der, b"header.payloaD", ec.ECDSA(hashes.SHA256()))


def test_root_key_is_sealed_under_the_master_key(session):
    pki.ensure_root(session, MASTER)
    row = session.get(db.PkiCertificate, pki.ROOT)
    scalar = pki.ensure_root(session, MASTER).key.private_numbers().private_value.to_bytes(32, "big")
    assert scalar not in row.sealed_private_key
    from sonod.signing import KeyUnsealError
    with pytest.raises(KeyUnsealError):
        pki.ensure_root(session, base64.b64encode(bytes(32)).decode())


# --- the hierarchy and its publication --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def http(database_url, tmp_path_factory):
    from tests.stack import api_in_process

    async with api_in_process(Settings(database_url=database_url, var_dir=tmp_path_factory.mktemp("var"))) as client:
        yield client


def paikkandi_signer(database_url) -> tuple[x509.Certificate, x509.Certificate]:
    engine = db.make_engine(database_url)
    with db.make_session_factory(engine).begin() as session:
        union = session.get(db.Union, "paikkandi")
        signer = pki.union_signer(session, MASTER, union).certificate
        ca = pki.issuing_ca(session, MASTER, union.upazila_slug, union.upazila_en).certificate
    engine.dispose()
    return signer, ca


def test_a_union_certificate_names_the_union_and_its_office_and_chains_to_the_root(database_url):
    signer, ca = paikkandi_signer(database_url)
    subject = signer.subject.rfc4514_string()
    assert "CN=Paikkandi Union Parishad" in subject and "OU=Union Parishad Office" in subject
    assert not signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    signer.verify_directly_issued_by(ca)
    engine = db.make_engine(database_url)
    with db.make_session_factory(engine)() as session:
        ca.verify_directly_issued_by(pki.ensure_root(session, MASTER).certificate)
    engine.dispose()


def test_the_tsa_certificate_is_for_time_stamping_only(database_url):
    engine = db.make_engine(database_url)
    with db.make_session_factory(engine).begin() as session:
        tsa = pki.tsa(session, MASTER).certificate
        tsa.verify_directly_issued_by(pki.ensure_root(session, MASTER).certificate)
    engine.dispose()
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]


@pytest.mark.asyncio(loop_scope="session")
async def test_the_urls_a_certificate_names_serve_its_issuers_certificate_and_crl(http, database_url):
    signer, ca = paikkandi_signer(database_url)
    [point] = signer.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    crl_url = point.full_name[0].value
    [access] = signer.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert crl_url == "http://127.0.0.1:8000/pki/ca/gopalganj-sadar.crl"
    r = await http.get(access.access_location.value.removeprefix("http://127.0.0.1:8000"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(r.content) == ca
    r = await http.get(crl_url.removeprefix("http://127.0.0.1:8000"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(r.content)
    assert crl.is_signature_valid(ca.public_key()) and crl.issuer == ca.subject
    r = await http.get("/pki/unions/paikkandi.crt")
    assert x509.load_der_x509_certificate(r.content) == signer


@pytest.mark.asyncio(loop_scope="session")
async def test_a_revoked_certificate_is_on_its_issuers_published_crl(http, database_url):
    engine = db.make_engine(database_url)
    with db.make_session_factory(engine).begin() as session:
        union = session.get(db.Union, "borashi")
        serial = pki.union_signer(session, MASTER, union).certificate.serial_number
        pki.revoke(session, "union/borashi")
    with db.make_session_factory(engine).begin() as session:
        renewed = pki.union_signer(session, MASTER, session.get(db.Union, "borashi")).certificate
    engine.dispose()
    crl = x509.load_der_x509_crl((await http.get("/pki/ca/gopalganj-sadar.crl")).content)
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl.get_revoked_certificate_by_serial_number(renewed.serial_number) is None  # the next signs from now on
    assert x509.load_der_x509_certificate((await http.get("/pki/unions/borashi.crt")).content) == renewed


@pytest.mark.asyncio(loop_scope="session")
async def test_the_root_is_published_as_a_certificate_and_as_the_jwk_its_kid_names(http):
    cert = x509.load_der_x509_certificate((await http.get("/pki/root.crt")).content)
    jwk = (await http.get("/.well-known/sonod-root.jwk")).json()
    assert jwk == pki.public_jwk(cert)
    assert (await http.get("/pki/root.crl")).status_code == 200


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path,status", [("/pki/ca/nowhere.crt", 404), ("/pki/ca/nowhere.crl", 404),
                                         ("/pki/unions/no-such-union.crt", 404), ("/pki/ca/Bad..Name.crl", 422)])
async def test_an_unknown_or_malformed_name_is_refused(http, path, status):
    assert (await http.get(path)).status_code == status


# --- `sonod pki` ------------------------------------------------------------------------------------------------------


def test_the_cli_sets_a_unions_signer_and_audits_it(database_url):
    from tests.unions_kit import add_union, cli, database

    add_union(database_url, "pki-cli")
    assert "union's certificate" in cli(database_url, "pki", "signer", "pki-cli").output
    run = cli(database_url, "pki", "signer", "pki-cli", "chairman")
    assert run.exit_code == 0 and "chairman's certificate" in run.output
    with database(database_url) as session:
        assert session.get(db.Union, "pki-cli").pdf_signer == "chairman"
        actions = session.scalars(select(db.AuditEntry.action).where(db.AuditEntry.union_slug == "pki-cli")).all()
    assert "pki.signer" in actions
    assert cli(database_url, "pki", "signer", "pki-cli", "secretary").exit_code != 0
    assert cli(database_url, "pki", "signer", "no-such-union").exit_code == 1


def test_the_cli_revokes_a_unions_certificate_and_the_next_is_new(database_url):
    from tests.unions_kit import add_union, cli, database

    add_union(database_url, "pki-revoke")
    with database(database_url) as session:
        first = pki.union_signer(session, MASTER, session.get(db.Union, "pki-revoke")).certificate.serial_number
    run = cli(database_url, "pki", "revoke", "pki-revoke")
    assert run.exit_code == 0, run.output
    assert f"union/pki-revoke#{first:x}" in cli(database_url, "pki", "list").output
    with database(database_url) as session:
        second = pki.union_signer(session, MASTER, session.get(db.Union, "pki-revoke")).certificate.serial_number
    assert second != first
    assert cli(database_url, "pki", "revoke", "pki-revoke", "--chairman").exit_code == 1  # it has none


def test_a_union_certificate_near_its_end_is_replaced_and_kept(database_url):
    from tests.unions_kit import add_union, database

    add_union(database_url, "pki-renew")
    with database(database_url) as session:
        union = session.get(db.Union, "pki-renew")
        old = pki.union_signer(session, MASTER, union).certificate
        later = old.not_valid_after_utc - pki.RENEW_BEFORE + dt.timedelta(days=1)
        ca = pki.issuing_ca(session, MASTER, union.upazila_slug, union.upazila_en)
        new = pki.ensure_entity(session, MASTER, "union/pki-renew", "union", old.subject, ca, later).certificate
        assert new.serial_number != old.serial_number and new.subject == old.subject
        assert session.get(db.PkiCertificate, f"union/pki-renew#{old.serial_number:x}").revoked_at is None
        assert pki.union_signer(session, MASTER, union).certificate == new  # and it stays the one in use
