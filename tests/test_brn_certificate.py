"""A certificate of a holder with a birth registration number prints it under its own label; an NID holder's signed
content is as it was before the field existed."""

import subprocess

from activities.render import CertificateRenderer, Holder, sample_document

BRN = "20123517123456789"


def text_of(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_an_english_certificate_prints_the_birth_registration_number_and_no_nid_label():
    doc = sample_document("citizenship", "en")
    doc = doc.model_copy(update={"holder": doc.holder.model_copy(update={"nid": None, "brn": BRN})})
    text = " ".join(text_of(CertificateRenderer().render(doc)).split())
    assert f"Birth registration No.: {BRN}" in text
    assert "NID No." not in text


def test_an_nid_holders_dump_has_no_brn_key_so_its_content_hash_is_unchanged():
    holder = Holder(name_bn="নাম", name_en="Name", nid="1234567890")
    assert "brn" not in holder.model_dump(mode="json")
    assert Holder(name_bn="নাম", name_en="Name", brn=BRN).model_dump(mode="json")["brn"] == BRN
