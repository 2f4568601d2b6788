"""sonod's time-stamping authority (infra/tsa): RFC 3161 over HTTP, its token signed by the sonod PKI's TSA
certificate. `sonod dev` runs it; the worker's PDF signatures ask it for their timestamps."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
from unittest import mock

import httpx
import pytest
from asn1crypto import algos, core, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.common_utils import handle_tsp_response
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from activities.pades import HttpTimeStamper
from sonod import db, pki
from sonod.settings import Settings
from sonod.tsa import POLICY, QUERY_TYPE, REPLY_TYPE
from tests.stack import Simulator, free_port


class Tsa(Simulator):
    module = "infra.tsa"


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    env = {"SONOD_DATABASE_URL": database_url, "SONOD_VAR_DIR": str(tmp_path_factory.mktemp("tsa"))}
    with mock.patch.dict(os.environ, env):  # the TSA reads its key from this database
        tsa = Tsa(free_port())
    yield tsa.url
    tsa.proc.terminate()
    assert tsa.proc.wait(timeout=10) == 0  # SIGTERM: a clean stop


def query(digest: bytes, algorithm: str = "sha256", nonce: int = 12345, cert_req: bool = True) -> bytes:
    return tsp.TimeStampReq({
        "version": "v1", "message_imprint": {"hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}),
                                             "hashed_message": digest},
        "nonce": nonce, "cert_req": cert_req,
    }).dump()


def root_certificate(database_url) -> asn1_x509.Certificate:
    engine = db.make_engine(database_url)
    with db.make_session_factory(engine).begin() as session:
        der = pki.root_certificate_der(session, Settings().master_key)
    engine.dispose()
    return asn1_x509.Certificate.load(der)


def test_a_query_gets_a_token_over_its_digest_signed_by_the_tsa_under_the_root(server, database_url):
    digest = hashlib.sha256(b"a certificate's signature").digest()
    r = httpx.post(server, content=query(digest), headers={"Content-Type": QUERY_TYPE})
    assert r.status_code == 200 and r.headers["content-type"] == REPLY_TYPE
    reply = tsp.TimeStampResp.load(r.content)
    assert reply["status"]["status"].native == "granted"
    token = reply["time_stamp_token"]
    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["nonce"].native == 12345 and info["policy"].dotted == POLICY
    status = TimestampSignatureStatus(**asyncio.run(validate_tst_signed_data(
        token["content"], ValidationContext(trust_roots=[root_certificate(database_url)], allow_fetching=False),
        lambda _algorithm: digest)))  # pyHanko's check of a token: the TSA's extended key usage included
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.extended_key_usage_value.native == ["time_stamping"]


def test_pyhankos_client_accepts_the_answer_nonce_and_all(server):
    stamper = HttpTimeStamper(server)
    nonce, req = stamper.request_cms(hashlib.sha256(b"x").digest(), "sha256")
    r = httpx.post(server, content=req.dump(), headers={"Content-Type": QUERY_TYPE})
    handle_tsp_response(tsp.TimeStampResp.load(r.content), nonce)  # raises on a wrong nonce or a refusal


@pytest.mark.parametrize("body,failure", [
    (b"not DER at all", "bad_data_format"),
    (query(hashlib.sha1(b"x").digest(), "sha1"), "bad_alg"),
    (query(b"\x00" * 20, "sha256"), "bad_alg"),  # the imprint's length does not match its algorithm
])
def test_a_malformed_or_weak_query_is_refused_with_its_reason(server, body, failure):
    r = httpx.post(server, content=body, headers={"Content-Type": QUERY_TYPE})
    assert r.status_code == 200
    # a refusal carries no token, which asn1crypto's TimeStampResp cannot parse: the PKIStatusInfo alone
    status = tsp.PKIStatusInfo.load(core.Sequence.load(r.content).contents)
    assert status["status"].native == "rejection" and failure in status["fail_info"].native


@pytest.mark.parametrize("headers,content,code", [
    ({"Content-Type": "application/json"}, query(hashlib.sha256(b"x").digest()), 415),
    ({"Content-Type": QUERY_TYPE}, b"x" * 20_000, 413),
])
def test_the_http_boundary_refuses_what_is_not_a_small_time_stamp_query(server, headers, content, code):
    assert httpx.post(server, content=content, headers=headers).status_code == code


def test_it_publishes_its_certificate(server, database_url):
    der = httpx.get(f"{server}/tsa.crt").content
    engine = db.make_engine(database_url)
    with db.make_session_factory(engine)() as session:
        assert der == pki.certificate_der(session, pki.TSA)
    engine.dispose()


def test_the_worker_signs_pdfs_with_timestamps_from_it_over_http(server, database_url, tmp_path):
    """As `sonod dev` wires it: SONOD_TSA_URL set, the worker's sealer asks the TSA over HTTP."""
    import datetime as dt

    from activities.pades import sealer_for
    from activities.render import CertificateRenderer, sample_document

    engine = db.make_engine(database_url)
    sealer = sealer_for(Settings(database_url=database_url, tsa_url=server), db.make_session_factory(engine))
    assert isinstance(sealer.timestamper, HttpTimeStamper)
    material = sealer.material("paikkandi")
    pdf, place = CertificateRenderer().render_with_seal(
        sample_document("character").model_copy(update={"seal": material.view(dt.datetime.now(dt.UTC))}))
    path = tmp_path / "signed.pdf"
    path.write_bytes(sealer.seal(pdf, place, material, reason="test"))
    engine.dispose()
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature is Valid" in out and "Total document signed" in out, out
