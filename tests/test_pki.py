"""The sonod PKI: root, issuing CAs, TSA and the unions' PDF-signing certificates (sonod/pki.py)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sonod import db, pki

MASTER = base64.b64encode(bytes(range(32))).decode()


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
