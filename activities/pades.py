"""The PDF's own signature: PAdES baseline B-LT, by the union's certificate of the sonod PKI (sonod/pki.py).

    1. the validation data (the signer's chain up to the root, the TSA's certificate, the CAs' current CRLs) go
       into the document's DSS, taken from the database: nothing is fetched at signing time;
    2. pyHanko signs in the same revision (ETSI.CAdES.detached), the signature field's widget covering the block
       that reportlab drew (activities/templates/seal.py), with an empty appearance of its own;
    3. the signature is time-stamped by the TSA (RFC 3161, SONOD_TSA_URL; infra/tsa/ in development).

So the one signature covers the whole file, validation data included, and the file validates offline at the
time of its timestamp for as long as SHA-256 and P-256 hold (a document timestamp, PAdES B-LTA, could extend that).

asn1crypto re-encodes what it has parsed, slowly: certificates, keys and the signer's attributes are kept as DER
(SealMaterial) and loaded afresh for each signature (`_Signer`), which takes 40% off the signing time.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from asn1crypto import algos, cms, tsp
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import CMSAttributeProvider, SigningCertificateV2Provider
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore
from sqlalchemy.orm import sessionmaker

from activities.render import SealBox, SealView
from sonod import db, pki
from sonod.settings import Settings

FIELD = "SonodSeal"
RESERVED = 12 * 1024  # bytes for the CMS: the chain, the signature and the timestamp token take about 3 KiB
CRL_REFRESH = dt.timedelta(hours=1)
SIGNER_NAMES = {  # (Bengali, English) of the office that signs, by the role of its certificate
    "union": ("{bn} ইউনিয়ন পরিষদ", "{en} Union Parishad"),
    "chairman": ("চেয়ারম্যান, {bn} ইউনিয়ন পরিষদ", "Chairman, {en} Union Parishad"),
}


@dataclass(frozen=True)
class SealMaterial:
    """What signing one union's PDFs needs, as DER: its certificate and key, the chain, the TSA and the CRLs."""

    signer: bytes
    key: bytes  # PKCS#8
    chain: tuple[bytes, ...]  # issuing CA, root
    tsa: bytes
    crls: tuple[bytes, ...]
    signer_bn: str
    signer_en: str
    location: str
    made_at: dt.datetime
    signing_certificate_v2: bytes  # the signed attribute naming the signer's certificate (RFC 5035), DER
    issuer_and_serial: bytes  # the SignerInfo's sid, DER

    def view(self, at: dt.datetime) -> SealView:
        return SealView(signer_bn=self.signer_bn, signer_en=self.signer_en, signed_at=at)


class HttpTimeStamper(TimeStamper):
    """RFC 3161 over HTTP with one kept-alive client (pyHanko's own opens a connection for every request)."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        super().__init__()
        self.url = url
        self.http = httpx.Client(timeout=timeout_s)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            answer = self.http.post(self.url, content=req.dump(),
                                    headers={"Content-Type": "application/timestamp-query"})
        except httpx.HTTPError as exc:
            raise TimestampRequestError(f"the time-stamping authority at {self.url} did not answer: {exc}") from exc
        if answer.status_code != 200 or answer.headers.get("content-type") != "application/timestamp-reply":
            raise TimestampRequestError(f"the time-stamping authority answered {answer.status_code}")
        return tsp.TimeStampResp.load(answer.content)


class LocalTimeStamper(TimeStamper):
    """A TSA in this process (dev mode without SONOD_TSA_URL, tests, the benchmark): `responder()` gives, once, the
    function that maps a DER request to a DER response."""

    def __init__(self, responder: Callable[[], Callable[[bytes], bytes]]) -> None:
        super().__init__()
        self._responder = responder
        self._respond: Callable[[bytes], bytes] | None = None

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        if self._respond is None:
            self._respond = self._responder()
        return tsp.TimeStampResp.load(self._respond(req.dump()))


class PdfSealer:
    def __init__(self, sessions: sessionmaker, master_key_b64: str, timestamper: TimeStamper,
                 public_url: str = pki.DEV_URL) -> None:
        """`public_url`: where the PKI's certificates and CRLs are published (kept in certificates made here)."""
        self.sessions, self.master_key, self.timestamper = sessions, master_key_b64, timestamper
        self.public_url = public_url
        self._materials: dict[str, SealMaterial] = {}
        self._lock = threading.Lock()

    def material(self, union_slug: str, now: dt.datetime | None = None) -> SealMaterial:
        """The union's signing material, read (and made on first use) at most once per CRL_REFRESH."""
        now = now or dt.datetime.now(dt.UTC)
        known = self._materials.get(union_slug)
        if known is not None and now - known.made_at < CRL_REFRESH:
            return known
        with self._lock, self.sessions.begin() as session:
            made = self._load(session, union_slug, now)
        self._materials[union_slug] = made
        return made

    def _load(self, session, union_slug: str, now: dt.datetime) -> SealMaterial:
        union = session.get(db.Union, union_slug)
        if union is None:
            raise LookupError(f"no union {union_slug!r}")
        role = union.pdf_signer if union.pdf_signer in pki.OFFICES else "union"
        signer = pki.union_signer(session, self.master_key, union, role, self.public_url)
        ca = pki.issuing_ca(session, self.master_key, union.upazila_slug, union.upazila_en, self.public_url)
        root, tsa = pki.ensure_root(session, self.master_key), pki.tsa(session, self.master_key, self.public_url)
        names = SIGNER_NAMES[role]
        loaded = asn1_x509.Certificate.load(_der(signer))
        return SealMaterial(
            signer=_der(signer), key=signer.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()),
            chain=(_der(ca), _der(root)), tsa=_der(tsa),
            crls=tuple(pki.crl(session, issuer, now).public_bytes(Encoding.DER) for issuer in (ca, root)),
            signer_bn=names[0].format(bn=union.name_bn), signer_en=names[1].format(en=union.name_en),
            location=f"{union.upazila_en}, {union.district_en}, Bangladesh", made_at=now,
            signing_certificate_v2=as_signing_certificate_v2(loaded).dump(),
            issuer_and_serial=cms.IssuerAndSerialNumber(
                {"issuer": loaded.issuer, "serial_number": loaded.serial_number}).dump(),
        )

    def seal(self, pdf: bytes, place: SealBox, material: SealMaterial, reason: str) -> bytes:
        """`pdf` signed (PAdES B-LT), its signature field over `place`."""
        cert = asn1_x509.Certificate.load
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        DocumentSecurityStore.supply_dss_in_writer(
            writer, None, certs=[cert(material.signer), *map(cert, material.chain), cert(material.tsa)],
            crls=[asn1_crl.CertificateList.load(der) for der in material.crls])
        signer = _Signer(material)
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=False, use_pades_lta=False, reason=reason, location=material.location,
            name=material.signer_en)
        pdf_signer = signers.PdfSigner(
            meta, signer, timestamper=self.timestamper, stamp_style=StaticStampStyle(border_width=0),
            new_field_spec=fields.SigFieldSpec(FIELD, on_page=place.page, box=_covering(place.box)))
        return pdf_signer.sign_pdf(writer, bytes_reserved=RESERVED).getvalue()


class _PresetSigningCertificate(CMSAttributeProvider):
    attribute_type = "signing_certificate_v2"

    def __init__(self, der: bytes) -> None:
        self.der = der

    async def build_attr_value(self, dry_run=False) -> tsp.SigningCertificateV2:
        return tsp.SigningCertificateV2.load(self.der)


class _Signer(signers.SimpleSigner):
    """pyHanko's signer, fed what it would re-encode from parsed certificates (asn1crypto's slow path) as DER
    loaded afresh: the certificates, the signing-certificate attribute, the sid. 25 -> 14 ms CPU a signature."""

    def __init__(self, material: SealMaterial) -> None:
        self.material = material
        super().__init__(signing_cert=None, signing_key=asn1_keys.PrivateKeyInfo.load(material.key),
                         cert_registry=SimpleCertificateStore(),  # unused: `cert_registry` below
                         signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}))

    @property
    def signing_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.material.signer)

    @signing_cert.setter
    def signing_cert(self, _value) -> None:
        pass  # always the material's

    @property
    def cert_registry(self) -> list[asn1_x509.Certificate]:  # type: ignore[override]
        return [asn1_x509.Certificate.load(der) for der in self.material.chain]

    @property
    def subject_name(self) -> str:
        return self.material.signer_en

    def _signed_attr_providers(self, *args, **kwargs):
        for provider in super()._signed_attr_providers(*args, **kwargs):
            preset = isinstance(provider, SigningCertificateV2Provider)
            yield _PresetSigningCertificate(self.material.signing_certificate_v2) if preset else provider

    def signer_info(self, digest_algorithm: str, signed_attrs, signature) -> cms.SignerInfo:
        return cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {"issuer_and_serial_number": cms.IssuerAndSerialNumber.load(self.material.issuer_and_serial)}),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_algorithm}),
            "signature_algorithm": self.get_signature_mechanism_for_digest(digest_algorithm),
            "signed_attrs": signed_attrs,
            "signature": signature,
        })


def _covering(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """pyHanko takes whole points: the smallest such rectangle around the block."""
    x1, y1, x2, y2 = box
    return math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2)


def _der(entity: pki.Entity) -> bytes:
    return entity.certificate.public_bytes(Encoding.DER)


def sealer_for(settings: Settings, sessions: sessionmaker) -> PdfSealer:
    """Signs the PDFs, time-stamped by SONOD_TSA_URL; without one (dev mode only: the settings refuse it otherwise),
    by the sonod PKI's TSA inside this process."""
    if settings.tsa_url:
        return PdfSealer(sessions, settings.master_key, HttpTimeStamper(settings.tsa_url, settings.tsa_timeout_s),
                         settings.public_url)

    def responder() -> Callable[[bytes], bytes]:
        from sonod.tsa import TimeStampAuthority  # lazy: dev mode only

        with sessions.begin() as session:
            tsa = pki.tsa(session, settings.master_key, settings.public_url)
        return TimeStampAuthority(_der(tsa), tsa.key).respond

    return PdfSealer(sessions, settings.master_key, LocalTimeStamper(responder), settings.public_url)
