"""Public: the sonod PKI's certificates and CRLs at stable URLs (sonod/pki.py), and the root's key as a JWK.

A certificate is DER (`application/pkix-cert`), a CRL DER (`application/pkix-crl`), fresh at every request. The
URLs are those the certificates name in their CRL distribution points and authority information access."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from api.deps import DbSession, SettingsDep
from api.errors import NotFound
from sonod import pki

router = APIRouter(tags=["pki"])
CERT, CRL = "application/pkix-cert", "application/pkix-crl"
CACHE = {"Cache-Control": "public, max-age=300"}
Name = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")]


def _answer(der: bytes | None, media_type: str, what: str) -> Response:
    if der is None:
        raise NotFound(f"no {what}")
    return Response(der, media_type=media_type, headers=CACHE)


@router.get("/pki/root.crt", response_class=Response, responses={200: {"content": {CERT: {}}}})
def root_certificate(session: DbSession, settings: SettingsDep) -> Response:
    """The sonod root: the one certificate a verifier trusts."""
    return _answer(pki.root_certificate_der(session, settings.master_key), CERT, "root")


@router.get("/pki/root.crl", response_class=Response, responses={200: {"content": {CRL: {}}}})
def root_crl(session: DbSession, settings: SettingsDep) -> Response:
    pki.ensure_root(session, settings.master_key)
    return _answer(pki.crl_der(session, settings.master_key, pki.ROOT), CRL, "root")


@router.get("/pki/tsa.crt", response_class=Response, responses={200: {"content": {CERT: {}}}})
def tsa_certificate(session: DbSession) -> Response:
    return _answer(pki.certificate_der(session, pki.TSA), CERT, "time-stamping authority")


@router.get("/pki/ca/{name}.crt", response_class=Response, responses={200: {"content": {CERT: {}}}})
def ca_certificate(name: Name, session: DbSession) -> Response:
    return _answer(pki.certificate_der(session, f"ca/{name}"), CERT, f"issuing CA {name!r}")


@router.get("/pki/ca/{name}.crl", response_class=Response, responses={200: {"content": {CRL: {}}}})
def ca_crl(name: Name, session: DbSession, settings: SettingsDep) -> Response:
    return _answer(pki.crl_der(session, settings.master_key, f"ca/{name}"), CRL, f"issuing CA {name!r}")


@router.get("/pki/unions/{slug}.crt", response_class=Response, responses={200: {"content": {CERT: {}}}})
def union_certificate(slug: Name, session: DbSession) -> Response:
    """The certificate that signs the union's PDFs (made with the union's first signed PDF)."""
    return _answer(pki.certificate_der(session, f"union/{slug}"), CERT, f"certificate of union {slug!r}")


@router.get("/pki/chairmen/{slug}.crt", response_class=Response, responses={200: {"content": {CERT: {}}}})
def chairman_certificate(slug: Name, session: DbSession) -> Response:
    return _answer(pki.certificate_der(session, f"chairman/{slug}"), CERT, f"chairman's certificate of {slug!r}")


@router.get("/.well-known/sonod-root.jwk")
def root_jwk(session: DbSession, settings: SettingsDep) -> dict[str, str]:
    """The root's public key (P-256) as a JWK; `kid` names it in the signed trust list's header."""
    return pki.root_public_jwk(session, settings.master_key)
