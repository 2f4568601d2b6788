"""The catalogue as data (issue 16, part 1): at least 36 types, each a data entry with its fields (JSON Schema with
Bengali labels), tables, wording, chain, fee lines, deadline and validity; a new type added in a test renders."""

from __future__ import annotations

import subprocess

import pydantic
import pytest

from activities.render import CertificateRenderer, sample_document
from activities.templates.certificates import WORDINGS, wording_of
from api.pages.forms import fields_from_schema
from sonod.bootstrap import Overrides, RuleError
from sonod.catalogue import BY_CODE, CATALOGUE, declared
from sonod.catalogue_data import INTRO_BN, INTRO_EN, PURPOSE, TypeSpec
from sonod.domain import Role

# the types the issue names, by their Bengali names (the twelve and the ones it asks for)
NAMED = ["উত্তরাধিকারী", "বিবিধ প্রত্যয়নপত্র", "প্রতিবন্ধী", "অনাপত্তি", "আর্থিক অস্বচ্ছলতা", "পশু মালিকানা", "বিবাহিত",
         "তালাকপ্রাপ্ত/তালাকপ্রাপ্তা", "বিধবা", "এতিম", "অভিভাবকত্ব", "অভিভাবকের অনুমতি-পত্র",
         "আর্থিক সাহায্য উত্তোলনের প্রত্যয়ন", "সাময়িক পরিচিতি", "কৃষক", "বেকারত্ব", "নদী ভাঙন", "ক্ষুদ্র নৃ-গোষ্ঠী",
         "মুক্তিযোদ্ধা উত্তরাধিকার", "জমি উত্তরাধিকার", "গৃহ/বসতবাড়ি মালিকানা", "নতুন বাসিন্দা / স্থানান্তর",
         "এনআইডি সংশোধন", "জন্ম নিবন্ধন সংশোধন প্রত্যয়ন", "পাসপোর্ট প্রত্যয়ন", "ব্যাংক হিসাব প্রত্যয়ন",
         "বিদ্যুৎ সংযোগ অনাপত্তি"]
BUILT_IN = ["citizenship", "character", "permanent_resident", "same_person", "warish", "family", "unmarried",
            "not_remarried", "income", "landless", "death", "trade_licence"]


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())  # lines joined: a phrase may wrap


@pytest.fixture(scope="module")
def renderer():
    return CertificateRenderer()


def test_the_catalogue_keeps_the_twelve_first_and_holds_at_least_36_types():
    codes = [t.code for t in CATALOGUE]
    assert codes[:12] == BUILT_IN  # the issuer numbers types by their place: the twelve keep theirs
    assert len(codes) >= 36 and len(set(codes)) == len(codes)
    names = [t.name_bn for t in CATALOGUE]
    assert [n for n in NAMED if not any(n in name for name in names)] == []


def test_every_type_has_wording_a_chain_ending_with_the_chairman_and_a_sample_that_validates():
    for t in CATALOGUE:
        assert t.code in WORDINGS, t.code
        assert t.chain and t.chain[-1] == Role.CHAIRMAN, t.code
        assert t.deadline_days in range(1, 31), t.code
        sample = sample_document(t.code).details
        t.details.model_validate(sample)


def test_a_declared_types_fields_are_a_json_schema_with_bengali_labels():
    schema = BY_CODE["land_inheritance"].fields_schema()
    assert schema["required"] == ["deceased", "heirs", "plots"]
    assert schema["properties"]["plots"]["title"] == "জমির তফসিল"
    plot = schema["$defs"]["Plot"]
    assert plot["properties"]["dag_no"]["title"] == "দাগ নং"
    assert set(plot["required"]) == {"mouza_bn", "khatian_no", "dag_no", "area_decimal"}
    widow = BY_CODE["widow"].fields_schema()
    assert widow["properties"]["late_spouse_name_bn"]["title"] == "প্রয়াত স্বামীর নাম"
    assert "purpose" not in widow["required"]  # "purpose?" is optional


def test_a_declared_type_refuses_what_its_schema_refuses():
    model = BY_CODE["land_inheritance"].details
    good = sample_document("land_inheritance").details
    with pytest.raises(pydantic.ValidationError):
        model.model_validate({**good, "plots": []})  # at least one plot
    with pytest.raises(pydantic.ValidationError):
        model.model_validate({**good, "extra": "x"})
    with pytest.raises(pydantic.ValidationError):
        BY_CODE["river_erosion"].details.model_validate({"river_bn": "মধুমতি", "erosion_year": "24",
                                                         "loss_bn": "বসতবাড়ি"})


def test_the_generated_form_has_a_table_for_heirs_plots_and_members():
    for code, table in (("land_inheritance", "heirs"), ("land_inheritance", "plots"),
                        ("financial_hardship", "members")):
        fields = {f.key: f for f in fields_from_schema(BY_CODE[code].fields_schema(), "details")}
        assert fields[table].kind == "table", (code, table)
        assert fields[table].children, (code, table)
    plots = {f.key: f for f in fields_from_schema(BY_CODE["land_inheritance"].fields_schema(), "details")}["plots"]
    assert [c.key for c in plots.children] == ["mouza_bn", "jl_no", "khatian_no", "dag_no", "land_class_bn",
                                               "area_decimal"]
    assert plots.min_rows == 1


def test_fee_lines_are_the_ones_unions_publish_and_a_union_overrides_them():
    lines = [f.code for f in BY_CODE["electricity_noc"].fee_lines]
    assert lines == ["application_fee", "revenue_fee", "vat"]
    o = Overrides()
    o.fee("electricity_noc", "vat", 15)
    o.deadline("land_inheritance", 14)
    o.chain("misc_attestation", ["secretary", "chairman"])
    assert o.fees == {"electricity_noc": {"vat": 15}}
    with pytest.raises(RuleError):
        o.fee("electricity_noc", "signboard_tax", 10)


def test_the_land_schedule_prints_each_plot_and_the_total(renderer, tmp_path):
    text = text_of(renderer.render(sample_document("land_inheritance")), tmp_path)
    for expected in ["জমি উত্তরাধিকার সনদ", "মৌজা", "খতিয়ান নং", "দাগ নং", "৪৫৬", "৪৫৭", "৮.৫", "৪১.৫", "সর্বমোট",
                     "ওয়ারিশের নাম", "মোঃ তৌহিদুল ইসলাম", "নাবালক"]:
        assert expected in text, expected


def test_words_follow_the_holders_gender_and_an_optional_fields_sentence_is_left_out(renderer, tmp_path):
    divorced = text_of(renderer.render(sample_document("divorced")), tmp_path)
    assert "তিনি তালাকপ্রাপ্তা;" in divorced  # the sample holder is a woman
    doc = sample_document("married", "en")
    doc = type(doc).model_validate(doc.model_dump() | {"details": {"partner_name_bn": "মোঃ রাশেদুল ইসলাম"}})
    text = text_of(renderer.render(doc), tmp_path)
    assert "married to" in text and "Date of marriage" not in text and "Purpose of this" not in text


def test_the_free_text_attestation_prints_the_text_it_was_given_and_its_english_falls_back(renderer, tmp_path):
    doc = sample_document("misc_attestation", "en")
    statement = "তিনি কৈকোনা বাজার কমিটির কোষাধ্যক্ষ।"
    doc = type(doc).model_validate(doc.model_dump() | {"details": {"statement_bn": statement}})
    assert statement in text_of(renderer.render(doc), tmp_path)


def test_adding_a_type_is_a_data_entry_and_its_wording(renderer, tmp_path, monkeypatch):
    spec = TypeSpec("tree_planting", "বৃক্ষরোপণ প্রত্যয়ন", "Tree Planting Attestation", ("crops_bn", "purpose?"),
                    (INTRO_BN + " তিনি তার বাড়ির আঙিনায় {crops_bn} রোপণ করেছেন।", PURPOSE[0]),
                    (INTRO_EN + " has planted {crops_bn} around {his} home.", PURPOSE[1]),
                    chain=("secretary", "chairman"), deadline_days=3, valid_days=30,
                    sample={"crops_bn": "আম ও কাঁঠালের চারা", "purpose": "পরিবেশ পুরস্কার"})
    kind = declared(spec)
    monkeypatch.setitem(BY_CODE, kind.code, kind)
    monkeypatch.setitem(WORDINGS, kind.code, wording_of(kind))
    assert kind.fields_schema()["properties"]["crops_bn"]["title"] == "চাষের ফসল"
    assert [r.value for r in kind.chain] == ["secretary", "chairman"] and kind.valid_days == 30
    doc = sample_document("tree_planting")
    text = text_of(renderer.render(doc), tmp_path)
    for expected in ["বৃক্ষরোপণ প্রত্যয়ন", "আম ও কাঁঠালের চারা রোপণ করেছেন", "সনদের উদ্দেশ্য: পরিবেশ পুরস্কার",
                     "বৈধ", "প্রশান্ত কুমার বিশ্বাস"]:
        assert expected in text, expected


def test_the_catalogue_page_lists_every_type_with_its_sample_page():
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    text = (docs / "CATALOGUE.md").read_text(encoding="utf-8")
    for t in CATALOGUE:
        assert f"[`{t.code}`](#{t.code})" in text and t.name_bn in text, t.code
        assert (docs / "catalogue" / f"{t.code}.png").read_bytes().startswith(b"\x89PNG"), t.code


PATGATI = ["--code", "359101", "--name-bn", "পাটগাতী", "--name-en", "Patgati", "--upazila-bn", "টুঙ্গিপাড়া",
           "--upazila-en", "Tungipara", "--district-bn", "গোপালগঞ্জ", "--district-en", "Gopalganj"]


def test_a_union_sets_its_own_fees_deadline_chain_and_validity_for_a_declared_type(empty_database_url):
    from sqlalchemy import select

    from api.services.unions import catalogue
    from sonod import db
    from sonod.migrate import upgrade
    from tests.unions_kit import cli, database

    upgrade(empty_database_url)
    r = cli(empty_database_url, "admin", "add-union", "patgati", *PATGATI,
            "--fee", "electricity_noc.application_fee=100", "--fee", "electricity_noc.vat=15",
            "--deadline", "land_inheritance=14", "--chain", "misc_attestation=secretary,chairman",
            "--valid", "electricity_noc=30", "--valid", "temporary_identity=0")
    assert r.exit_code == 0, r.output
    bad = cli(empty_database_url, "admin", "add-union", "other", *PATGATI, "--valid", "electricity_noc=-1")
    assert bad.exit_code == 2 and "--valid electricity_noc" in bad.output, bad.output
    with database(empty_database_url) as session:
        rules = {r.certificate_type: r for r in session.scalars(select(db.UnionRule))}
        assert len(rules) == len(CATALOGUE)
        assert [line["amount"] for line in rules["electricity_noc"].fee_lines] == [100, 0, 15]
        assert rules["land_inheritance"].deadline_days == 14
        assert (rules["electricity_noc"].valid_days, rules["temporary_identity"].valid_days) == (30, 0)
        assert rules["passport"].valid_days is None  # the catalogue's
        published = {t["code"]: t for t in catalogue(session, "patgati")}
    assert published["electricity_noc"]["valid_days"] == 30 and published["electricity_noc"]["fee"]["amount"] == 115
    assert published["temporary_identity"]["valid_days"] is None  # no expiry in this union
    assert published["widow"]["fields"]["properties"]["late_spouse_name_bn"]["title"] == "প্রয়াত স্বামীর নাম"


def test_an_upgrade_gives_every_existing_union_the_new_types_and_keeps_its_own_rules(empty_database_url):
    from sqlalchemy import delete, func, select

    from sonod import db
    from sonod.migrate import upgrade
    from tests.unions_kit import audit_rows, cli, database

    upgrade(empty_database_url)
    assert cli(empty_database_url, "admin", "add-union", "patgati", *PATGATI, "--deadline", "warish=10").exit_code == 0
    declared = [t.code for t in CATALOGUE[12:]]
    with database(empty_database_url) as session:  # as a deployment was before the declared types
        session.execute(delete(db.UnionRule).where(db.UnionRule.certificate_type.in_(declared)))
        session.execute(delete(db.CertificateTypeRow).where(db.CertificateTypeRow.code.in_(declared)))
        session.commit()
    r = cli(empty_database_url, "catalogue", "sync")
    assert r.exit_code == 0 and f"{len(declared)} new certificate types" in r.output, r.output
    assert cli(empty_database_url, "catalogue", "sync").output.startswith("0 new")  # idempotent
    with database(empty_database_url) as session:
        rules = {r.certificate_type: r for r in session.scalars(select(db.UnionRule))}
        assert set(rules) == {t.code for t in CATALOGUE}
        assert rules["warish"].deadline_days == 10  # its own rule, kept
        assert session.scalar(select(func.count()).select_from(db.CertificateTypeRow)) == len(CATALOGUE)
    assert [e.action for e in audit_rows(empty_database_url, "patgati")] == ["union.create", "catalogue.sync"]
