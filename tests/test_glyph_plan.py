"""What the renderer does once per process (glyph plans, embedded fonts, replayed paragraphs, shaped words) must
not change a certificate's bytes: a PDF is the same whatever was rendered before it in the process."""

import io
import subprocess

import pytest
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import paragraph

from activities.render import CertificateRenderer, sample_document
from activities.templates import glyphs
from sonod.catalogue import CATALOGUE

NAMES = ["মোছাঃ কৃষ্ণা ক্ষেত্রী", "ঋত্বিক জ্ঞানেন্দ্র হ্লাদিনী", "শ্রী প্রদ্যুম্ন মণ্ডল", "Md. Tauhidul Islam Khan"]


def with_holder(doc, i: int):
    holder = doc.holder.model_copy(update={"name_bn": NAMES[i % len(NAMES)], "name_en": f"Person {i}"})
    return doc.model_copy(update={"holder": holder, "certificate_no": f"{doc.certificate_no}-{i}"})


@pytest.fixture(scope="module")
def warm():
    """A renderer that has rendered every type in both languages with several holders."""
    renderer = CertificateRenderer()
    for t in CATALOGUE:
        for lang in ("bn", "en"):
            for i in range(3):
                renderer.render(with_holder(sample_document(t.code, lang), i))
    return renderer


def fresh_render(doc, monkeypatch) -> bytes:
    """`doc` drawn from scratch: new paragraphs (nothing to replay) and shaping without the cache."""
    with monkeypatch.context() as m:
        m.setattr(paragraph, "shapeFragWord", glyphs.shape_word)
        return CertificateRenderer().render(doc)


@pytest.mark.parametrize("lang", ["bn", "en"])
@pytest.mark.parametrize("code", [t.code for t in CATALOGUE])
def test_a_certificate_is_the_same_bytes_after_other_renders_as_from_scratch(warm, monkeypatch, code, lang):
    doc = with_holder(sample_document(code, lang), 7)
    assert warm.render(doc) == fresh_render(doc, monkeypatch)


def test_languages_rendered_in_turn_give_the_same_bytes_as_alone(warm, monkeypatch):
    docs = [with_holder(sample_document("warish", lang, heirs=40), 1) for lang in ("bn", "en", "bn", "en")]
    assert [warm.render(d) for d in docs] == [fresh_render(d, monkeypatch) for d in docs]


def test_the_second_certificate_of_a_kind_replays_its_unchanging_paragraphs(monkeypatch):
    renderer = CertificateRenderer()
    drawn = []
    original = paragraph.Paragraph.drawPara
    monkeypatch.setattr(paragraph.Paragraph, "drawPara", lambda self, *a: drawn.append(self) or original(self, *a))
    renderer.render(with_holder(sample_document("character", "bn"), 0))
    first, drawn[:] = len(drawn), []
    renderer.render(with_holder(sample_document("character", "bn"), 1))
    assert 0 < len(drawn) <= 3 < first  # the holder's paragraphs and the number, not the masthead or signatures


def test_a_glyph_outside_the_plan_goes_to_a_subset_of_its_own_and_copies_back(warm, tmp_path):
    doc = with_holder(sample_document("citizenship", "bn"), 1)  # ঋত্বিক জ্ঞানেন্দ্র হ্লাদিনী: rare conjuncts
    path = tmp_path / "c.pdf"
    path.write_bytes(warm.render(doc))
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    assert "AAAAAB+NotoSerifBengali-Bold" in fonts or "AAAAAB+NotoSansBengali-Bold" in fonts
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert doc.holder.name_bn in text


def test_a_planned_font_in_a_plain_reportlab_document_is_a_plain_truetype_font(warm):
    buf = io.BytesIO()
    canvas = Canvas(buf)
    p = paragraph.Paragraph("এই মর্মে প্রত্যয়ন করা যাচ্ছে যে", ParagraphStyle("p", fontName=warm.fonts.bn, shaping=1))
    p.wrap(400, 100)
    p.drawOn(canvas, 50, 700)
    canvas.save()
    assert buf.getvalue().startswith(b"%PDF-") and b"AAAAAA+" in buf.getvalue()
