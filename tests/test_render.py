"""Certificate PDFs: every type in both languages, read back the way a person or a verifier would."""

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pydantic
import pytest

from activities.render import CertificateDocument, CertificateRenderer, FontNotFound, Fonts, sample_document
from activities.templates.layout import rich
from sonod.catalogue import CATALOGUE
from tests.stack import ZBARIMG

TYPES = [t.code for t in CATALOGUE]
CASES = [(code, lang) for code in TYPES for lang in ("bn", "en")]
HARD_NAMES = ["মোছাঃ কৃষ্ণা ক্ষেত্রী", "কৈলাশ চন্দ্র কর্মকার", "সম্প্রীতি কীর্তনীয়া", "শ্রী প্রদ্যুম্ন মণ্ডল"]


@pytest.fixture(scope="module")
def renderer():
    return CertificateRenderer()


@pytest.fixture(scope="module")
def rendered(renderer, tmp_path_factory):
    """Every type in both languages, rendered once: (code, lang) -> (document, path of the PDF)."""
    out = tmp_path_factory.mktemp("pdf")
    result = {}
    for code, lang in CASES:
        doc = sample_document(code, lang)
        path = out / f"{code}-{lang}.pdf"
        path.write_bytes(renderer.render(doc))
        result[code, lang] = doc, path
    return result


def run(*cmd) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def text_of(path) -> str:
    return run("pdftotext", "-layout", str(path), "-")


def info_of(path) -> dict[str, str]:
    lines = run("pdfinfo", str(path)).splitlines()
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def qr_of(path, tmp_path, page: int = 1) -> str:
    png = tmp_path / "page"
    run("pdftoppm", "-png", "-r", "200", "-f", str(page), "-l", str(page), "-singlefile", str(path), str(png))
    return subprocess.run([*ZBARIMG, f"{png}.png"], capture_output=True, text=True).stdout.rstrip("\n")


@pytest.mark.parametrize("code, lang", CASES)
def test_every_type_renders_as_a_one_page_pdf(rendered, code, lang):
    _, path = rendered[code, lang]
    assert path.read_bytes().startswith(b"%PDF-")
    assert info_of(path)["Pages"] == "1"


@pytest.mark.parametrize("code, lang", CASES)
def test_the_text_copies_back_with_the_bengali_name_and_the_number(rendered, code, lang):
    doc, path = rendered[code, lang]
    text = text_of(path)
    assert doc.holder.name_bn in text
    assert doc.certificate_no in text


@pytest.mark.parametrize("code, lang", CASES)
def test_the_qr_decodes_to_the_signed_payload(rendered, code, lang, tmp_path):
    doc, path = rendered[code, lang]
    assert len(doc.qr_text) > 300
    assert qr_of(path, tmp_path) == doc.qr_text


@pytest.mark.parametrize("lang", ["bn", "en"])
@pytest.mark.parametrize("name", HARD_NAMES)
def test_names_with_conjuncts_and_pre_base_vowels_copy_back_exactly(renderer, tmp_path, name, lang):
    doc = sample_document("citizenship", lang)
    doc = doc.model_copy(update={"holder": doc.holder.model_copy(update={"name_bn": name})})
    path = tmp_path / "c.pdf"
    path.write_bytes(renderer.render(doc))
    assert name in text_of(path)


def test_the_header_carries_union_dates_and_numbers(rendered):
    _doc, path = rendered["citizenship", "bn"]
    text = text_of(path)
    for expected in ["গণপ্রজাতন্ত্রী বাংলাদেশ সরকার", "পাইককান্দি ইউনিয়ন পরিষদ", "উপজেলা: গোপালগঞ্জ সদর",
                     "স্মারক নং: ৪৬.৩৫.৩২৮৩", "সনদ নং:", "২৮ নভেম্বর ২০২৬", "১৩ অগ্রহায়ণ ১৪৩৩ বঙ্গাব্দ",
                     "ডিজিটাল স্বাক্ষরিত", "২৮/১১/২০২৬ ০৮:৩০", "যাচাই করতে স্ক্যান করুন / Scan to verify",
                     "এই মর্মে প্রত্যয়ন করা যাচ্ছে যে", "জন্মসূত্রে বাংলাদেশের নাগরিক",
                     "আমি তার সর্বাঙ্গীণ উন্নতি ও মঙ্গল কামনা করি।"]:
        assert expected in text, expected


def test_the_english_certificate_says_this_is_to_certify(rendered):
    text = text_of(rendered["citizenship", "en"][1])
    for expected in ["Government of the People's Republic of Bangladesh", "Paikkandi Union Parishad",
                     "This is to certify that", "Digitally signed", "১৩ অগ্রহায়ণ ১৪৩৩ বঙ্গাব্দ"]:
        assert expected in text, expected


def test_every_signatory_of_the_chain_has_a_block(rendered):
    doc, path = rendered["warish", "bn"]
    text = text_of(path)
    assert [s.role.value for s in doc.signatories] == ["ward_member", "secretary", "chairman"]
    for s in doc.signatories:
        assert s.name_bn in text and s.title_bn in text
    assert text.count("ডিজিটাল স্বাক্ষরিত") == 3


def test_the_trade_licence_lists_fees_fiscal_year_and_expiry(rendered):
    text = text_of(rendered["trade_licence", "bn"][1])
    for expected in ["লাইসেন্স ফি", "সাইনবোর্ড কর", "ভ্যাট (১৫%)", "সর্বমোট", "৬৯০", "২০২৬-২০২৭",
                     "২৮ নভেম্বর ২০২৭ পর্যন্ত", "৩,৫০,০০০ টাকা", "HT-2026/0457"]:
        assert expected in text, expected


def test_a_warish_with_40_heirs_runs_on_with_the_header_row_repeated(renderer, tmp_path):
    doc = sample_document("warish", "bn", heirs=40)
    path = tmp_path / "warish.pdf"
    path.write_bytes(renderer.render(doc))
    assert int(info_of(path)["Pages"]) >= 2
    text = text_of(path)
    heirs = doc.parsed_details.heirs
    assert all(heir.name_bn in text for heir in heirs)
    pages = [page for page in text.split("\f") if page.strip()]
    listing = [page for page in pages if any(heir.name_bn in page for heir in heirs)]
    assert len(listing) >= 2 and all("ওয়ারিশের নাম" in page for page in listing)
    assert "পরবর্তী পৃষ্ঠায় দেখুন" in pages[0]
    assert qr_of(path, tmp_path, page=len(pages)) == doc.qr_text


def test_a_long_family_table_runs_on_too(renderer, tmp_path):
    data = sample_document("family", "en").model_dump()
    data["details"] = {"members": [{"name_bn": f"সদস্য নং {i}", "relation": "son"} for i in range(30)]}
    path = tmp_path / "family.pdf"
    path.write_bytes(renderer.render(CertificateDocument.model_validate(data)))
    assert int(info_of(path)["Pages"]) >= 2
    text = text_of(path)
    assert all(m["name_bn"] in text for m in data["details"]["members"])


def test_metadata_names_the_certificate_but_not_the_nid(rendered):
    doc, path = rendered["citizenship", "bn"]
    info = info_of(path)
    assert doc.certificate_no in info["Title"] and "নাগরিকত্ব সনদ" in info["Title"]
    assert doc.certificate_no in info["Keywords"] and "paikkandi" in info["Keywords"]
    assert "citizenship" in info["Keywords"]
    assert info["Author"] == "পাইককান্দি ইউনিয়ন পরিষদ"
    assert "Citizenship Certificate" in info["Subject"]
    assert doc.holder.nid not in str(info)


def test_the_same_document_gives_the_same_bytes(renderer):
    doc = sample_document("income", "bn")
    assert renderer.render(doc) == renderer.render(doc)


def test_renders_from_a_thread_pool_match_sequential_ones(renderer):
    docs = [sample_document(code, "bn") for code in TYPES[:8]]
    expected = [renderer.render(d) for d in docs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(renderer.render, docs)) == expected


def test_details_are_checked_against_the_catalogue():
    data = sample_document("warish", "bn").model_dump()
    with pytest.raises(pydantic.ValidationError, match="heirs"):
        CertificateDocument.model_validate({**data, "details": {**data["details"], "heirs": []}})
    with pytest.raises(pydantic.ValidationError, match="unknown certificate type"):
        CertificateDocument.model_validate({**data, "certificate_type": "birth"})


def test_a_missing_font_dir_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("SONOD_FONT_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FontNotFound) as err:
        CertificateRenderer()
    message = str(err.value)
    assert str(tmp_path / "nowhere") in message and "SONOD_FONT_DIR" in message
    assert "NotoSerifBengali-Regular.ttf" in message and "fonts-noto-core" in message


def test_fonts_are_found_in_the_folder_named_by_the_environment(tmp_path, monkeypatch):
    found = Fonts.locate()
    for path in (found.bengali, found.bengali_bold):
        (tmp_path / path.name).symlink_to(path)
    monkeypatch.setenv("SONOD_FONT_DIR", str(tmp_path))
    fonts = Fonts.locate()
    assert fonts.bengali == tmp_path / found.bengali.name and fonts.latin is None
    assert CertificateRenderer(fonts).render(sample_document("unmarried", "en")).startswith(b"%PDF-")


def test_each_word_is_set_in_a_single_font(renderer):
    f = renderer.fonts
    markup, plain = rich("**মোছাঃ কৃষ্ণা**, No. PKK-1 ১২৩\nSecond", f, "bn")
    assert plain == "মোছাঃ কৃষ্ণা, No. PKK-1 ১২৩\nSecond"
    assert f'<font face="{f.bn_bold}">মোছাঃ কৃষ্ণা, </font>' in markup  # the comma joins the bold word
    assert f'<font face="{f.latin}">No. PKK-1 </font><font face="{f.bn}">১২৩</font><br/>' in markup
    assert markup.endswith(f'<font face="{f.latin}">Second</font>')


def test_each_line_of_a_wrapped_paragraph_copies_as_its_own_text(renderer):
    from activities.templates.layout import TextPara

    text = "এই মর্মে প্রত্যয়ন করা যাচ্ছে যে, **মোছাঃ\xa0কৃষ্ণা\xa0ক্ষেত্রী**, পিতা: মোঃ প্রদীপ ক্ষেত্রী। " * 3
    p = TextPara(text, renderer.styles.body, renderer.fonts)
    p.wrap(200, 1000)
    lines = p._line_texts()
    assert lines is not None and len(lines) > 3
    assert " ".join(lines) == " ".join(p.plain.replace("\xa0", " ").split())
    assert any("মোছাঃ কৃষ্ণা ক্ষেত্রী" in line for line in lines)


def test_an_officer_who_has_not_signed_yet_gets_a_blank_signature_line(renderer, tmp_path):
    doc = sample_document("character", "bn")
    ward, chairman = doc.signatories
    doc = doc.model_copy(update={"signatories": [ward, chairman.model_copy(update={"signed_at": None})]})
    path = tmp_path / "c.pdf"
    path.write_bytes(renderer.render(doc))
    text = text_of(path)
    assert text.count("ডিজিটাল স্বাক্ষরিত") == 1 and chairman.name_bn in text
