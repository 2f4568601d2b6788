"""Issue 17: the PDF itself is signed (PAdES B-LT) by the union's certificate of the sonod PKI, time-stamped by the
TSA, its validation data embedded. Checked by two implementations: pyHanko's validator and poppler's `pdfsig`."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore, async_validate_pdf_signature, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from activities.pades import FIELD, LocalTimeStamper, PdfSealer
from activities.render import CertificateRenderer, SealView, sample_document
from sonod import db, pki
from sonod.catalogue import CATALOGUE
from sonod.settings import Settings
from sonod.tsa import TimeStampAuthority

MASTER = Settings().master_key  # the worker's and the API's in the tests: the modules share one database
UNION = "paikkandi"


@pytest.fixture(scope="module")
def sessions(database_url):
    engine = db.make_engine(database_url)
    yield db.make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def authority(sessions) -> TimeStampAuthority:
    with sessions.begin() as session:
        tsa = pki.tsa(session, MASTER)
    return TimeStampAuthority(tsa.certificate.public_bytes(Encoding.DER), tsa.key)


@pytest.fixture(scope="module")
def sealer(sessions, authority) -> PdfSealer:
    return PdfSealer(sessions, MASTER, LocalTimeStamper(lambda: authority.respond))


@pytest.fixture(scope="module")
def renderer() -> CertificateRenderer:
    return CertificateRenderer()


def signed_pdf(sealer: PdfSealer, renderer: CertificateRenderer, code: str = "citizenship",
               union: str = UNION) -> tuple[bytes, tuple]:
    material = sealer.material(union)
    doc = sample_document(code).model_copy(update={"seal": material.view(dt.datetime.now(dt.UTC))})
    pdf, place = renderer.render_with_seal(doc)
    assert place is not None
    return sealer.seal(pdf, place, material, reason="test"), place.box


@pytest.fixture(scope="module")
def signed(sealer, renderer, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pades") / "signed.pdf"
    path.write_bytes(signed_pdf(sealer, renderer)[0])
    return path


def root_der(sessions) -> bytes:
    with sessions() as session:
        der = pki.certificate_der(session, pki.ROOT)
    assert der is not None
    return der


def trusting_only_the_root(sessions) -> ValidationContext:
    """Nothing but the sonod root: the chain must come from the signature; no fetching (revocation: next test)."""
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(root_der(sessions))], allow_fetching=False)


def pdfsig(path: Path) -> str:
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout


def one_byte_changed(data: bytes) -> bytes:
    """One byte of the certificate's text changed: a digit of its number in the document's title."""
    at = data.index(b"PKK-2026-00100") + len(b"PKK-2026-00100")
    assert data[at:at + 1].isdigit()
    return data[:at] + (b"7" if data[at:at + 1] != b"7" else b"8") + data[at + 1:]


# --- pyHanko --------------------------------------------------------------------------------------------------------


def test_pyhanko_finds_the_signature_intact_and_trusted_by_the_sonod_root(sessions, signed):
    with signed.open("rb") as f:
        [sig] = PdfFileReader(f).embedded_signatures
        status = validate_pdf_signature(sig, trusting_only_the_root(sessions))
    assert sig.field_name == FIELD
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"  # the validation data are inside what is signed
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    signer = x509.load_der_x509_certificate(status.signing_cert.dump())
    assert f"{UNION.capitalize()} Union Parishad" in signer.subject.rfc4514_string()


def test_the_file_validates_at_its_timestamp_from_its_own_validation_data(sessions, signed):
    """B-LT: the chain and the CRLs of the signer and of the TSA are in the file (its DSS); the validator is given
    nothing but the root, fetches nothing, and validates at the time the TSA vouches for, as it would years later."""
    with signed.open("rb") as f:
        reader = PdfFileReader(f)
        [sig] = reader.embedded_signatures
        at = validate_pdf_signature(sig, trusting_only_the_root(sessions)).timestamp_validity.timestamp
        own = DocumentSecurityStore.read_dss(reader).as_validation_context({
            "trust_roots": [asn1_x509.Certificate.load(root_der(sessions))], "allow_fetching": False,
            "revocation_mode": "hard-fail", "moment": at})
        assert len(own.crls) == 2
        status = validate_pdf_signature(sig, own)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted


def test_a_revoked_union_certificate_is_not_trusted(sessions, sealer, renderer, tmp_path):
    union = "kajulia"
    with sessions.begin() as session:
        pki.union_signer(session, MASTER, session.get(db.Union, union))
    signed_before = tmp_path / "before.pdf"
    signed_before.write_bytes(signed_pdf(sealer, renderer, union=union)[0])
    with sessions.begin() as session:
        pki.revoke(session, f"union/{union}", dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        ca = pki.issuing_ca(session, MASTER, "gopalganj-sadar", "Gopalganj Sadar")
        crl = asn1_crl.CertificateList.load(pki.crl(session, ca).public_bytes(Encoding.DER))
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(root_der(sessions))], crls=[crl],
                                allow_fetching=False, revocation_mode="hard-fail")
    with signed_before.open("rb") as f:
        [sig] = PdfFileReader(f).embedded_signatures
        status = validate_pdf_signature(sig, context)
    assert status.intact and not status.trusted, status.pretty_print_details()


# --- poppler ---------------------------------------------------------------------------------------------------------


def test_pdfsig_finds_the_signature_valid_over_the_whole_document(signed):
    out = pdfsig(signed)
    assert "Signature Validation: Signature is Valid." in out, out
    assert "Total document signed" in out, out
    assert "Signature Type: ETSI.CAdES.detached" in out, out
    assert f"Signer Certificate Common Name: {UNION.capitalize()} Union Parishad" in out, out


# --- one byte changed ------------------------------------------------------------------------------------------------


def test_one_byte_changed_is_caught_by_pyhanko_and_by_pdfsig(sessions, signed, tmp_path):
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(one_byte_changed(signed.read_bytes()))
    with changed.open("rb") as f:
        [sig] = PdfFileReader(f).embedded_signatures
        status = validate_pdf_signature(sig, trusting_only_the_root(sessions))
    assert not status.intact and not status.bottom_line  # the digest no longer matches
    out = pdfsig(changed)
    assert "Signature is Valid" not in out, out
    assert re.search(r"Signature Validation: (Digest Mismatch|Signature is Invalid)", out), out


# --- the visible block -----------------------------------------------------------------------------------------------


def test_the_signature_widget_covers_the_printed_block(sealer, renderer, tmp_path):
    data, box = signed_pdf(sealer, renderer, "warish")
    path = tmp_path / "warish.pdf"
    path.write_bytes(data)
    with path.open("rb") as f:
        reader = PdfFileReader(f)
        [sig] = reader.embedded_signatures
        rect = [float(v) for v in sig.sig_field["/Rect"]] if "/Rect" in sig.sig_field else \
            [float(v) for v in sig.sig_field["/Kids"][0]["/Rect"]]
    x1, y1, x2, y2 = box
    assert rect[0] <= x1 < rect[0] + 1 and rect[1] <= y1 < rect[1] + 1
    assert rect[2] - 1 < x2 <= rect[2] and rect[3] - 1 < y2 <= rect[3]
    crop = ["-x", str(int(x1)), "-y", str(int(842 - y2)), "-W", str(int(x2 - x1) + 1), "-H", str(int(y2 - y1) + 1)]
    text = subprocess.run(["pdftotext", "-r", "72", *crop, str(path), "-"], capture_output=True, text=True,
                          timeout=60).stdout
    assert "ডিজিটাল স্বাক্ষরিত" in text and "Digitally signed" in text, text
    assert "Paikkandi Union Parishad" in text and "পাইককান্দি ইউনিয়ন পরিষদ" in text, text


@pytest.mark.parametrize("language", ["bn", "en"])
def test_the_block_costs_no_certificate_a_page(renderer, language):
    """It sits in the room above the officers' notes: a one-page certificate stays one page (an English trade
    licence took two with a block stacked above the notes)."""
    seal = SealView(signer_bn="পাইককান্দি ইউনিয়ন পরিষদ", signer_en="Paikkandi Union Parishad",
                    signed_at=dt.datetime.now(dt.UTC))
    for kind in CATALOGUE:
        doc = sample_document(kind.code, language)
        plain, sealed = renderer.render(doc), renderer.render(doc.model_copy(update={"seal": seal}))
        assert plain.count(b"/Type /Page\n") == sealed.count(b"/Type /Page\n"), kind.code


def test_an_unsealed_document_renders_no_block():
    pdf, place = CertificateRenderer().render_with_seal(sample_document("citizenship"))
    assert place is None and b"Digitally signed" not in pdf


# --- the union's setting and the whole stack -------------------------------------------------------------------------


def test_a_union_that_wants_it_signs_with_its_chairmans_certificate(sessions, sealer, renderer, tmp_path):
    union = "gopinathpur"
    with sessions.begin() as session:
        session.get(db.Union, union).pdf_signer = "chairman"
    path = tmp_path / "chairman.pdf"
    path.write_bytes(signed_pdf(sealer, renderer, union=union)[0])
    out = pdfsig(path)
    assert "Signature is Valid" in out and "Common Name: Gopinathpur Union Parishad, Chairman" in out, out
    assert "title=Chairman" in out and "OU=Office of the Chairman" in out, out


@pytest.mark.asyncio(loop_scope="session")
async def test_a_certificate_issued_through_the_stack_is_signed_by_its_union(stack, settings, sessions, tmp_path):
    from tests.certificates_kit import issue, own_union

    union = await own_union(settings, "pades-e2e")
    issued = await issue(stack, settings, tmp_path, union, 4)
    out = pdfsig(issued.pdf)
    assert "Signature is Valid" in out and "Total document signed" in out, out
    assert "Common Name: Paikkandi (pades-e2e) Union Parishad" in out, out
    assert "Digitally signed" in issued.text and "Digitally signed: পাইককান্দি (pades-e2e)" in issued.text
    with issued.pdf.open("rb") as f:
        reader = PdfFileReader(f)
        [sig] = reader.embedded_signatures
        at = (await async_validate_pdf_signature(sig, trusting_only_the_root(sessions))).timestamp_validity.timestamp
        own = DocumentSecurityStore.read_dss(reader).as_validation_context({
            "trust_roots": [asn1_x509.Certificate.load(root_der(sessions))], "allow_fetching": False,
            "revocation_mode": "hard-fail", "moment": at})
        status = await async_validate_pdf_signature(sig, own)
    assert status.intact and status.trusted and status.timestamp_validity.trusted, status.pretty_print_details()
