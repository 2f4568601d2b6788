"""sonod's PKI for signed PDFs, Bangladesh's CCA hierarchy in miniature.

    sonod root (self-signed, the stand-in for the national root)
      ├─ issuing CA per upazila ("ca/<upazila slug>")
      │    ├─ union signing certificate ("union/<slug>"): subject names the union and its office
      │    └─ chairman's certificate ("chairman/<slug>"), where the union wants one
      └─ time-stamping authority ("tsa"), extended key usage timeStamping

Every key is ECDSA P-256; its 32-byte private scalar is sealed under the master key like the unions' Ed25519
signing keys (sonod.signing.seal_private_key, the entity's name as associated data), in `pki_certificates`.
Entities are made on first use in the caller's session, which must commit (as a request, an activity or the TSA's
start do); two processes making the same one at once keep whichever row was committed first.

The root also signs JSON documents (ES256, raw r||s as JWS wants): `root_public_jwk` and `sign_with_root`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session

from sonod import db
from sonod.signing import open_private_key, seal_private_key

ROOT = "root"
DEV_URL = "http://127.0.0.1:8000"  # SONOD_PUBLIC_URL's default: where the CRLs are published
TSA = "tsa"
RENEW_BEFORE = dt.timedelta(days=30)
RENEWED = ("union", "chairman", "tsa")  # the root's and the CAs' lives (30, 20 years) are renewed by hand
_LIFETIMES = {  # years
    "root": 30, "ca": 20, "tsa": 15, "union": 10, "chairman": 10,
}


@dataclass(frozen=True)
class Entity:
    """A certificate of the sonod PKI with its opened private key."""

    name: str
    role: str
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    issuer: str | None


def _master(master_key_b64: str | bytes) -> bytes:
    return master_key_b64 if isinstance(master_key_b64, bytes) else base64.b64decode(master_key_b64)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _subject(common_name: str, **more: str) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "BD")]
    if "org" in more:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, more["org"]))
    if "unit" in more:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, more["unit"]))
    if "locality" in more:
        attrs.append(x509.NameAttribute(NameOID.LOCALITY_NAME, more["locality"]))
    if "title" in more:
        attrs.append(x509.NameAttribute(NameOID.TITLE, more["title"]))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def crl_path(issuer: str) -> str:
    """Where an issuer's CRL is published under the public URL: /pki/root.crl, /pki/ca/<upazila>.crl."""
    return "/pki/root.crl" if issuer == ROOT else f"/pki/{issuer}.crl"


def certificate_path(name: str) -> str:
    """Where a certificate is published: /pki/root.crt, /pki/ca/<upazila>.crt, /pki/unions/<slug>.crt, ..."""
    role, _, rest = name.partition("/")
    return {"root": "/pki/root.crt", "tsa": "/pki/tsa.crt", "ca": f"/pki/ca/{rest}.crt",
            "union": f"/pki/unions/{rest}.crt", "chairman": f"/pki/chairmen/{rest}.crt"}[role]


def _build(
    name: str,
    role: str,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: Entity | None,
    now: dt.datetime,
    base_url: str,
) -> x509.Certificate:
    """A certificate for `key`, issued by `issuer` (self-signed when None), with the extensions its role needs:
    below the root, where its issuer's CRL and certificate are published (so validators check revocation)."""
    not_before = now.replace(microsecond=0) - dt.timedelta(minutes=5)
    years = _LIFETIMES[role]
    not_after = not_before.replace(year=not_before.year + years, day=min(not_before.day, 28))
    if issuer is not None:
        not_after = min(not_after, issuer.certificate.not_valid_after_utc)
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    signer = key if issuer is None else issuer.key
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        ).add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(base_url.rstrip("/") + crl_path(issuer.name))], None, None, None)]),
            critical=False,
        ).add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            x509.AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(base_url.rstrip("/") + certificate_path(issuer.name)))]), critical=False)
    is_ca = role in ("root", "ca")
    builder = builder.add_extension(
        x509.BasicConstraints(ca=is_ca, path_length=None if role == "root" else (0 if is_ca else None)),
        critical=True,
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=not is_ca, content_commitment=role in ("union", "chairman"), key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=is_ca, crl_sign=is_ca,
            encipher_only=False, decipher_only=False,
        ),
        critical=True,
    )
    if role == "tsa":
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(signer, hashes.SHA256())


def _entity(row: db.PkiCertificate, master_key: bytes) -> Entity:
    scalar = open_private_key(row.sealed_private_key, master_key, f"pki:{row.name}")
    return Entity(
        name=row.name,
        role=row.role,
        certificate=x509.load_der_x509_certificate(row.certificate),
        key=ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1()),
        issuer=row.issuer,
    )


def ensure_entity(
    session: Session,
    master_key_b64: str | bytes,
    name: str,
    role: str,
    subject: x509.Name,
    issuer: Entity | None,
    now: dt.datetime | None = None,
    base_url: str = DEV_URL,
) -> Entity:
    """The entity `name`, made (key, certificate issued by `issuer`) if the database has none yet; `base_url`: the
    public URL its issuer's CRL and certificate are published under (kept in the certificate). A signer's or the
    TSA's certificate near its end (RENEW_BEFORE) is kept as `<name>#<serial>` and replaced."""
    master_key = _master(master_key_b64)
    now = now or dt.datetime.now(dt.UTC)
    row = session.get(db.PkiCertificate, name)
    if row is not None and row.role in RENEWED and row.not_after - RENEW_BEFORE <= now:
        row.name = f"{name}#{row.serial}"
        session.flush()
        row = None
    if row is None:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _build(name, role, subject, key, issuer, now, base_url)
        scalar = key.private_numbers().private_value.to_bytes(32, "big")
        db.upsert(session, db.PkiCertificate, {
            "name": name, "role": role, "issuer": None if issuer is None else issuer.name,
            "serial": format(cert.serial_number, "x"), "certificate": cert.public_bytes(Encoding.DER),
            "sealed_private_key": seal_private_key(scalar, master_key, f"pki:{name}"),
            "not_before": cert.not_valid_before_utc, "not_after": cert.not_valid_after_utc, "revoked_at": None,
        }, keys=["name"])
        row = session.get(db.PkiCertificate, name, populate_existing=True)
        assert row is not None  # written just now, or by whoever won the race
    return _entity(row, master_key)


def ensure_root(session: Session, master_key_b64: str | bytes, now: dt.datetime | None = None) -> Entity:
    return ensure_entity(session, master_key_b64, ROOT, "root", _subject("Sonod Root CA", org="sonod"), None, now)


# --- the root's JSON signatures (formats agreed in issue 17) ----------------------------------------


def public_jwk(certificate: x509.Certificate) -> dict[str, str]:
    """The certificate's P-256 key as a JWK; kid = base64url(first 16 bytes of SHA-256(SubjectPublicKeyInfo DER))."""
    public = certificate.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(public.curve, ec.SECP256R1):
        raise ValueError("not a P-256 certificate")
    numbers = public.public_numbers()
    spki = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
        "kid": _b64url(hashlib.sha256(spki).digest()[:16]),
    }


def root_public_jwk(session: Session, master_key_b64: str | bytes) -> dict[str, str]:
    """The sonod root's public key as a JWK (the root is made on first use)."""
    return public_jwk(ensure_root(session, master_key_b64).certificate)


def es256_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 with SHA-256 over `data`, as JWS wants it: raw r||s, 64 bytes."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_with_root(session: Session, master_key_b64: str | bytes, data: bytes) -> bytes:
    """ES256 signature (raw r||s, 64 bytes) of `data` by the sonod root, e.g. a JWS signing input."""
    return es256_sign(ensure_root(session, master_key_b64).key, data)


def root_certificate_der(session: Session, master_key_b64: str | bytes) -> bytes:
    return ensure_root(session, master_key_b64).certificate.public_bytes(Encoding.DER)


# --- the hierarchy -----------------------------------------------------------------------------------

CRL_VALIDITY = dt.timedelta(days=7)
OFFICES = {  # the office a union's certificate names, by role
    "union": ("Union Parishad Office", "ইউনিয়ন পরিষদ কার্যালয়"),
    "chairman": ("Office of the Chairman", "চেয়ারম্যানের কার্যালয়"),
}


def issuing_ca(session: Session, master_key_b64: str | bytes, upazila_slug: str, upazila_en: str,
               base_url: str = DEV_URL) -> Entity:
    """The issuing CA of an upazila, under the root."""
    root = ensure_root(session, master_key_b64)
    subject = _subject(f"Sonod Issuing CA {upazila_en}", org="sonod", unit=f"{upazila_en} Upazila")
    return ensure_entity(session, master_key_b64, f"ca/{upazila_slug}", "ca", subject, root, base_url=base_url)


def tsa(session: Session, master_key_b64: str | bytes, base_url: str = DEV_URL) -> Entity:
    """The time-stamping authority's certificate (extended key usage timeStamping, critical), under the root."""
    root = ensure_root(session, master_key_b64)
    return ensure_entity(session, master_key_b64, TSA, "tsa", _subject("Sonod Time-Stamping Authority", org="sonod"),
                         root, base_url=base_url)


def union_signer(session: Session, master_key_b64: str | bytes, union: db.Union, role: str = "union",
                 base_url: str = DEV_URL) -> Entity:
    """The union's PDF-signing certificate (`role` "union"), or its chairman's ("chairman"), issued by its upazila's
    CA; the subject names the union and the office, never a person."""
    if role not in OFFICES:
        raise ValueError(f"a union's signing certificate is 'union' or 'chairman', not {role!r}")
    ca = issuing_ca(session, master_key_b64, union.upazila_slug, union.upazila_en, base_url)
    office = OFFICES[role][0]
    subject = _subject(f"{union.name_en} Union Parishad" + (", Chairman" if role == "chairman" else ""),
                       org=f"{union.name_en} Union Parishad", unit=office,
                       locality=f"{union.upazila_en}, {union.district_en}", **({"title": "Chairman"} if
                                                                                 role == "chairman" else {}))
    return ensure_entity(session, master_key_b64, f"{role}/{union.slug}", role, subject, ca, base_url=base_url)


def crl(session: Session, issuer: Entity, now: dt.datetime | None = None) -> x509.CertificateRevocationList:
    """The issuer's certificate revocation list as of `now`: every certificate it issued that is revoked."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    revoked = session.scalars(select(db.PkiCertificate).where(
        db.PkiCertificate.issuer == issuer.name, db.PkiCertificate.revoked_at.is_not(None)).order_by(
        db.PkiCertificate.name))
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + CRL_VALIDITY)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
    )
    for row in revoked:
        assert row.revoked_at is not None
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(int(row.serial, 16)).revocation_date(row.revoked_at).build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


def revoke(session: Session, name: str, at: dt.datetime | None = None) -> str:
    """Put a certificate of the PKI on its issuer's CRL (the caller commits). It is kept as `<name>#<serial>`, so
    that the next use of `name` makes a new certificate; that name is returned."""
    row = session.get(db.PkiCertificate, name)
    if row is None or row.revoked_at is not None:
        raise LookupError(f"no PKI certificate {name!r} in force")
    if row.role not in ("union", "chairman", "tsa"):
        raise ValueError("only a union's, a chairman's or the TSA's certificate is revoked here")
    row.revoked_at = at or dt.datetime.now(dt.UTC)
    row.name = f"{name}#{row.serial}"
    session.flush()
    return row.name


def certificate_der(session: Session, name: str) -> bytes | None:
    """The DER certificate published at a stable URL (no key is opened), or None."""
    row = session.get(db.PkiCertificate, name)
    return None if row is None else row.certificate


def crl_der(session: Session, master_key_b64: str | bytes, issuer: str) -> bytes | None:
    """The current CRL of an issuer of the PKI (the root or an issuing CA), DER; None if there is no such issuer."""
    row = session.get(db.PkiCertificate, issuer)
    if row is None or row.role not in ("root", "ca"):
        return None
    return crl(session, _entity(row, _master(master_key_b64))).public_bytes(Encoding.DER)
