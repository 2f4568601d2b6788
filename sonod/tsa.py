"""sonod's time-stamping authority (RFC 3161): answers an `application/timestamp-query` with a token signed by the
TSA certificate of the sonod PKI (sonod/pki.py: ECDSA P-256, extended key usage timeStamping, under the root).

`TimeStampAuthority.respond` is the whole protocol, without HTTP: infra/tsa (`sonod tsa`) serves it for `make run`,
and the worker uses it in-process in dev mode when SONOD_TSA_URL is empty; production points SONOD_TSA_URL at a TSA.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from asn1crypto import algos, cms, core, tsp, x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_QUERY_BYTES = 16 * 1024
# A private arc for sonod's demo policy: time from this host's clock, to the second.
POLICY = "1.3.6.1.4.1.32473.17.1"
DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}


class TimeStampAuthority:
    def __init__(self, certificate_der: bytes, key: ec.EllipticCurvePrivateKey) -> None:
        cert = x509.Certificate.load(certificate_der)
        self.key = key
        # asn1crypto re-encodes what it has parsed: the constant parts are kept as DER and loaded afresh (lazily)
        self._der = {
            "certificate": certificate_der,
            "subject": cert.subject.dump(),
            "issuer_and_serial": cms.IssuerAndSerialNumber(
                {"issuer": cert.issuer, "serial_number": cert.serial_number}).dump(),
            "essv2": tsp.SigningCertificateV2({"certs": [tsp.ESSCertIDv2({
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "cert_hash": hashlib.sha256(certificate_der).digest(),
                "issuer_serial": {"issuer": [x509.GeneralName({"directory_name": cert.issuer})],
                                  "serial_number": cert.serial_number},
            })]}).dump(),
        }

    @property
    def certificate_der(self) -> bytes:
        return self._der["certificate"]

    def respond(self, query: bytes, now: dt.datetime | None = None) -> bytes:
        """The DER TimeStampResp to a DER TimeStampReq: granted, or rejected with the reason (never raises)."""
        try:
            req = tsp.TimeStampReq.load(query, strict=True)
            imprint = req["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            digest = imprint["hashed_message"].native
            nonce, cert_req, version = req["nonce"].native, req["cert_req"].native, req["version"].native
        except (ValueError, TypeError, KeyError):
            return _refusal("bad_data_format", "not a TimeStampReq")
        if version != "v1":
            return _refusal("bad_request", "only version 1 requests")
        if DIGESTS.get(algorithm) != len(digest or b""):
            return _refusal("bad_alg", "the imprint must be SHA-256, SHA-384 or SHA-512 of its length")
        if req["req_policy"].native not in (None, POLICY):
            return _refusal("unaccepted_policy", f"this TSA answers under policy {POLICY} only")
        if req["extensions"].native:
            return _refusal("unaccepted_extension", "no extensions are accepted")
        at = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        info = {
            "version": "v1",
            "policy": POLICY,
            "message_imprint": tsp.MessageImprint.load(imprint.dump()),  # afresh: see __init__
            "serial_number": secrets.randbits(64),
            "gen_time": at,
            "accuracy": {"seconds": 1},
            "tsa": x509.GeneralName({"directory_name": x509.Name.load(self._der["subject"])}),
        }
        if nonce is not None:
            info["nonce"] = nonce
        token = self._sign(tsp.TSTInfo(info).dump(), at, bool(cert_req))
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()

    def _sign(self, tst_info: bytes, at: dt.datetime, with_certificate: bool) -> cms.ContentInfo:
        attrs = cms.CMSAttributes([
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": core.UTCTime(at)})]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(tst_info).digest()]}),
            cms.CMSAttribute({"type": "signing_certificate_v2",
                              "values": [tsp.SigningCertificateV2.load(self._der["essv2"])]}),
        ])
        signed_attrs = attrs.dump()
        signature = self.key.sign(signed_attrs, ec.ECDSA(hashes.SHA256()))
        sha256 = algos.DigestAlgorithm({"algorithm": "sha256"})
        signer = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber.load(
                self._der["issuer_and_serial"])}),
            "digest_algorithm": sha256,
            "signed_attrs": cms.CMSAttributes.load(signed_attrs),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
            "signature": signature,
        })
        signed = {
            "version": "v3",
            "digest_algorithms": [sha256],
            "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(tst_info)},
            "signer_infos": [signer],
        }
        if with_certificate:
            certificate = x509.Certificate.load(self._der["certificate"])
            signed["certificates"] = [cms.CertificateChoices({"certificate": certificate})]
        return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed)})


def _refusal(failure: str, text: str) -> bytes:
    """TimeStampResp ::= SEQUENCE { status PKIStatusInfo } (asn1crypto insists on a token: the SEQUENCE by hand)."""
    status = tsp.PKIStatusInfo({"status": "rejection", "status_string": [text],
                                "fail_info": tsp.PKIFailureInfo({failure})}).dump()
    return core.Sequence(contents=status).dump()

