"""The declared certificate types: each one a data entry (its fields, tables, wording, chain, fees, deadline and
validity) that `sonod.catalogue` turns into a type, with no code of its own.

Adding a type is one `TypeSpec` in `DECLARED`: its fields name entries of `VOCABULARY` (a trailing `?` makes one
optional), its wording is a list of `str.format` paragraphs over the document's context (see
`activities.templates.wording`; "[heirs]", "[members]" and "[plots]" print the tables), and `sample` is what its
sample page (docs/CATALOGUE.md, the tests) prints. The twelve built-in types keep their own models in
`sonod.catalogue`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --- the words certificates share ----------------------------------------------------------------

INTRO_BN = "এই মর্মে প্রত্যয়ন করা যাচ্ছে যে, **{name}**, {lineage}, {address}।"
INTRO_EN = "This is to certify that **{name}**, {lineage}, {address},"
RESIDENT_BN = " তিনি অত্র ইউনিয়নের একজন স্থায়ী বাসিন্দা।"
RESIDENT_EN = " is a permanent resident of this Union."
PURPOSE = ("সনদের উদ্দেশ্য: {purpose}।", "Purpose of this certificate: {purpose}.")
BLESS_BN = "আমি তার সর্বাঙ্গীণ উন্নতি ও মঙ্গল কামনা করি।"
BLESS_EN = "I wish {him} every success and well-being in life."
KNOWN_BN = "আমার জানামতে তিনি রাষ্ট্র ও সমাজবিরোধী কোনো কাজে জড়িত নন।"
KNOWN_EN = "To the best of my knowledge, {he} is not involved in any activity against the state or society."
DECEASED_AT_BN = ("এই মর্মে প্রত্যয়ন করা যাচ্ছে যে, মৃত **{deceased}**{deceased_id}, {address}, "
                  "অত্র ইউনিয়নের একজন স্থায়ী বাসিন্দা ছিলেন। তিনি {date_of_death} তারিখে মৃত্যুবরণ করেন "
                  "(মৃত্যু নিবন্ধন নং: {death_registration_no})।")
DECEASED_AT_EN = ("This is to certify that the late **{deceased}**{deceased_id}, {address}, was a permanent "
                  "resident of this Union. The deceased died on {date_of_death} "
                  "(death registration no. {death_registration_no}).")


def resident(bn: str, en: str, *more: tuple[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The common shape: the holder, a permanent resident, what the type certifies (then `more` paragraphs, each
    (bn, en), left out when their fields are empty), its purpose and a blessing."""
    return ((INTRO_BN + RESIDENT_BN + " " + bn, *(m[0] for m in more), PURPOSE[0], BLESS_BN),
            (INTRO_EN + RESIDENT_EN + " " + en, *(m[1] for m in more), PURPOSE[1], BLESS_EN))


# --- fields -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One field of `details`: its kind (a key of `sonod.catalogue.KINDS`) and its labels."""

    kind: str
    label_bn: str
    label_en: str


VOCABULARY: dict[str, FieldSpec] = {
    "purpose": FieldSpec("text", "উদ্দেশ্য", "Purpose"),
    "deceased": FieldSpec("deceased", "মৃত ব্যক্তি", "The deceased"),
    "heirs": FieldSpec("heirs", "ওয়ারিশগণ", "Heirs"),
    "members": FieldSpec("members", "পরিবারের সদস্যগণ", "Family members"),
    "plots": FieldSpec("plots", "জমির তফসিল", "Schedule of land"),
    "relation": FieldSpec("relation", "সম্পর্ক", "Relation"),
    "statement_bn": FieldSpec("longtext", "প্রত্যয়নের বক্তব্য (বাংলায়)", "Text of the attestation (Bengali)"),
    "statement_en": FieldSpec("longtext", "প্রত্যয়নের বক্তব্য (ইংরেজিতে)", "Text of the attestation (English)"),
    "disability_bn": FieldSpec("text", "প্রতিবন্ধিতার ধরন", "Kind of disability"),
    "disability_card_no": FieldSpec("code", "প্রতিবন্ধী পরিচয়পত্র (সুবর্ণ নাগরিক) নং", "Disability ID card no."),
    "objection_for_bn": FieldSpec("text", "যে কাজে অনাপত্তি", "What the no-objection is for"),
    "annual_income": FieldSpec("taka", "বার্ষিক আয় (টাকা)", "Annual income (Tk)"),
    "animals_bn": FieldSpec("text", "পশুর বিবরণ (যেমন: ২টি গাভী, ১টি বাছুর)", "The animals (e.g. 2 cows, 1 calf)"),
    "partner_name_bn": FieldSpec("name", "স্বামী/স্ত্রীর নাম", "Spouse's name"),
    "marriage_date": FieldSpec("date", "বিবাহের তারিখ", "Date of marriage"),
    "former_spouse_name_bn": FieldSpec("name", "সাবেক স্বামী/স্ত্রীর নাম", "Former spouse's name"),
    "divorce_date": FieldSpec("date", "তালাক কার্যকর হওয়ার তারিখ", "Date the divorce took effect"),
    "late_spouse_name_bn": FieldSpec("name", "প্রয়াত স্বামীর নাম", "Late husband's name"),
    "spouse_date_of_death": FieldSpec("date", "স্বামীর মৃত্যুর তারিখ", "Husband's date of death"),
    "father_date_of_death": FieldSpec("date", "পিতার মৃত্যুর তারিখ", "Father's date of death"),
    "mother_date_of_death": FieldSpec("date", "মাতার মৃত্যুর তারিখ", "Mother's date of death"),
    "minor_name_bn": FieldSpec("name", "নাবালকের নাম", "The minor's name"),
    "minor_date_of_birth": FieldSpec("date", "নাবালকের জন্ম তারিখ", "The minor's date of birth"),
    "consent_for_bn": FieldSpec("text", "যে কাজে অনুমতি", "What is consented to"),
    "allowance_bn": FieldSpec("text", "ভাতা/সাহায্যের নাম", "The allowance"),
    "allowance_book_no": FieldSpec("code", "ভাতা বই / উপকারভোগী নং", "Allowance book / beneficiary no."),
    "no_nid_reason_bn": FieldSpec("text", "জাতীয় পরিচয়পত্র না থাকার কারণ", "Why there is no NID yet"),
    "cultivable_land_decimal": FieldSpec("decimal", "আবাদি জমি (শতাংশ)", "Cultivable land (decimals)"),
    "homestead_land_decimal": FieldSpec("decimal", "বসতভিটা (শতাংশ)", "Homestead land (decimals)"),
    "crops_bn": FieldSpec("text", "চাষের ফসল", "Crops grown"),
    "education_bn": FieldSpec("text", "শিক্ষাগত যোগ্যতা", "Education"),
    "river_bn": FieldSpec("text", "নদীর নাম", "The river"),
    "erosion_year": FieldSpec("year", "ভাঙনের বছর", "Year of the erosion"),
    "loss_bn": FieldSpec("text", "ক্ষতির বিবরণ", "What was lost"),
    "community_bn": FieldSpec("text", "নৃ-গোষ্ঠীর নাম", "The community"),
    "fighter_name_bn": FieldSpec("name", "মুক্তিযোদ্ধার নাম", "The freedom fighter's name"),
    "gazette_no": FieldSpec("code", "গেজেট নং", "Gazette no."),
    "holding_no": FieldSpec("code", "হোল্ডিং নং", "Holding no."),
    "house_kind_bn": FieldSpec("text", "ঘরের ধরন (পাকা/আধাপাকা/কাঁচা)", "Kind of house"),
    "previous_address_bn": FieldSpec("text", "পূর্বের ঠিকানা", "Previous address"),
    "moved_on": FieldSpec("date", "অত্র ইউনিয়নে আসার তারিখ", "Date of moving here"),
    "record_field_bn": FieldSpec("text", "যে তথ্যটি ভুল", "The item that is wrong"),
    "wrong_value_bn": FieldSpec("text", "ভুল তথ্য", "As wrongly recorded"),
    "correct_value_bn": FieldSpec("text", "সঠিক তথ্য", "The correct value"),
    "brn_no": FieldSpec("brn", "জন্ম নিবন্ধন নং (১৭ অঙ্ক)", "Birth registration no. (17 digits)"),
    "bank_bn": FieldSpec("text", "ব্যাংকের নাম ও শাখা", "Bank and branch"),
    "premises_bn": FieldSpec("text", "সংযোগের স্থান", "Where the connection goes"),
    "connection_kind_bn": FieldSpec("text", "সংযোগের ধরন (আবাসিক/বাণিজ্যিক/সেচ)", "Kind of connection"),
    "utility_bn": FieldSpec("text", "বিদ্যুৎ সরবরাহকারী প্রতিষ্ঠান", "The electricity supplier"),
}

PLOT_COLUMNS: dict[str, FieldSpec] = {  # the plots' table (`sonod.catalogue.Plot`)
    "mouza_bn": FieldSpec("text", "মৌজা", "Mouza"),
    "jl_no": FieldSpec("code", "জে.এল. নং", "J.L. no."),
    "khatian_no": FieldSpec("code", "খতিয়ান নং", "Khatian no."),
    "dag_no": FieldSpec("code", "দাগ নং", "Dag (plot) no."),
    "land_class_bn": FieldSpec("text", "জমির শ্রেণি", "Class of land"),
    "area_decimal": FieldSpec("decimal", "পরিমাণ (শতাংশ)", "Area (decimals)"),
}

# --- types --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeSpec:
    code: str
    name_bn: str
    name_en: str
    amount: int = 0  # taka; a union sets its own (`sonod admin add-union --fee TYPE.LINE AMOUNT`)


# The lines unions publish a fee in; every declared type has them, at nothing until the union says otherwise.
STANDARD_FEES = (FeeSpec("application_fee", "আবেদন ফি", "Application fee"),
                 FeeSpec("revenue_fee", "রাজস্ব ফি", "Revenue fee"),
                 FeeSpec("vat", "ভ্যাট", "VAT"))


@dataclass(frozen=True)
class TypeSpec:
    code: str
    name_bn: str
    name_en: str
    fields: tuple[str, ...]  # VOCABULARY keys, in form order; "key?" is optional
    bn: tuple[str, ...]  # the wording's paragraphs
    en: tuple[str, ...]
    chain: tuple[str, ...] = ("ward_member", "chairman")  # roles' values; the last one is the chairman
    deadline_days: int = 5
    fee_lines: tuple[FeeSpec, ...] = STANDARD_FEES
    valid_days: int | None = None
    sample: dict[str, Any] = field(default_factory=dict)
    category: str = "person"  # person, family, property, correction
    holder: str = "all"  # what it prints of the holder: "all", or "names_and_address" (the deceased's papers)
    sources: tuple[str, ...] = ()


WMS, SMC = ("ward_member", "secretary", "chairman"), ("secretary", "chairman")
_DECEASED = {"name_bn": "মোঃ রফিকুল ইসলাম মোল্লা", "name_en": "Md. Rafiqul Islam Molla", "nid": "7654321098",
             "date_of_death": "2026-08-03", "death_registration_no": "20263517100012345"}
_HEIRS = [{"name_bn": "মোছাঃ কৃষ্ণা ক্ষেত্রী", "relation": "daughter", "nid": "1994356710234"},
          {"name_bn": "মোছাঃ রোকেয়া খাতুন", "relation": "wife", "nid": "6535171234567"},
          {"name_bn": "মোঃ তৌহিদুল ইসলাম", "relation": "son", "date_of_birth": "2012-05-14"}]
_MEMBERS = [{"name_bn": "মোঃ প্রদীপ ক্ষেত্রী", "relation": "father", "date_of_birth": "1962-01-05"},
            {"name_bn": "অন্তু ক্ষেত্রী", "relation": "brother", "date_of_birth": "2012-04-02"}]
_PLOTS = [{"mouza_bn": "কৈকোনা", "jl_no": "52", "khatian_no": "১১৮", "dag_no": "৪৫৬", "land_class_bn": "নাল",
           "area_decimal": 33},
          {"mouza_bn": "কৈকোনা", "jl_no": "52", "khatian_no": "১১৮", "dag_no": "৪৫৭", "land_class_bn": "ভিটা",
           "area_decimal": 8.5}]
UNION_WEBSITES = "union parishads' own certificate pages (e.g. <union>.<district>.gov.bd, seba pages)"

DECLARED: tuple[TypeSpec, ...] = (
    TypeSpec("successor", "উত্তরাধিকারী সনদ", "Successor Certificate", ("deceased", "relation", "purpose?"),
             (DECEASED_AT_BN, "আবেদনকারী **{name}**, {lineage}, মৃত ব্যক্তির {relation} এবং তার একজন বৈধ উত্তরাধিকারী।",
              PURPOSE[0]),
             (DECEASED_AT_EN, "The applicant, **{name}**, {lineage}, is the {relation} of the deceased and one of "
              "the deceased's lawful successors.", PURPOSE[1]),
             chain=WMS, deadline_days=7, category="family",
             sample={"deceased": _DECEASED, "relation": "daughter", "purpose": "ব্যাংকের টাকা উত্তোলন"}),
    TypeSpec("misc_attestation", "বিবিধ প্রত্যয়নপত্র", "Attestation", ("statement_bn", "statement_en?", "purpose?"),
             (INTRO_BN + RESIDENT_BN, "{statement_bn}", PURPOSE[0]),
             (INTRO_EN + RESIDENT_EN, "{statement_en}", PURPOSE[1]),
             chain=SMC, sample={"statement_bn": "তিনি ২০১৮ সাল থেকে কৈকোনা সরকারি প্রাথমিক বিদ্যালয়ের পাশে একটি "
                                                "ঔষধের দোকান পরিচালনা করে আসছেন।",
                                "statement_en": "Since 2018 she has run a pharmacy next to Kaikona Government "
                                                "Primary School.", "purpose": "ঔষধ প্রশাসনের লাইসেন্স"}),
    TypeSpec("disability", "প্রতিবন্ধী প্রত্যয়নপত্র", "Disability Certificate",
             ("disability_bn", "disability_card_no?", "purpose?"),
             *resident("আমার জানামতে তিনি একজন প্রতিবন্ধী ব্যক্তি ({disability_bn})।",
                       "To the best of my knowledge, {he} is a person with a disability ({disability_bn}).",
                       ("প্রতিবন্ধী পরিচয়পত্র (সুবর্ণ নাগরিক কার্ড) নং: {disability_card_no}।",
                        "Disability ID card no.: {disability_card_no}.")),
             sample={"disability_bn": "শারীরিক প্রতিবন্ধিতা", "disability_card_no": "3517101234",
                     "purpose": "প্রতিবন্ধী ভাতা"}),
    TypeSpec("no_objection", "অনাপত্তি পত্র", "No-Objection Certificate", ("objection_for_bn", "purpose?"),
             *resident("{objection_for_bn}-এর বিষয়ে অত্র ইউনিয়ন পরিষদের কোনো আপত্তি নেই।",
                       "This Union Parishad has no objection to {objection_for_bn}."),
             chain=SMC, sample={"objection_for_bn": "বিদেশে চাকরির জন্য গমন", "purpose": "ভিসা আবেদন"}),
    TypeSpec("financial_hardship", "আর্থিক অস্বচ্ছলতা সনদ", "Financial Hardship Certificate",
             ("annual_income", "members?", "purpose?"),
             (INTRO_BN + RESIDENT_BN + " আমার জানামতে তিনি আর্থিকভাবে অস্বচ্ছল; তার পরিবারের বার্ষিক আয় "
              "**{annual_income} টাকা**।", "[members]", PURPOSE[0], BLESS_BN),
             (INTRO_EN + RESIDENT_EN + " To the best of my knowledge, {he} is in financial hardship; {his} "
              "family's annual income is **Tk {annual_income}**.", "[members]", PURPOSE[1], BLESS_EN),
             chain=WMS, deadline_days=7, category="family",
             sample={"annual_income": 48000, "members": _MEMBERS, "purpose": "উপবৃত্তি"}),
    TypeSpec("livestock", "পশু মালিকানা প্রত্যয়ন", "Livestock Ownership Certificate", ("animals_bn", "purpose?"),
             *resident("আমার জানামতে তিনি নিম্নবর্ণিত পশুর প্রকৃত মালিক: {animals_bn}।",
                       "To the best of my knowledge, {he} is the true owner of: {animals_bn}."),
             category="property", sample={"animals_bn": "২টি গাভী (লাল রঙের) ও ১টি বাছুর", "purpose": "হাটে বিক্রয়"}),
    TypeSpec("married", "বিবাহিত সনদ", "Married Status Certificate", ("partner_name_bn", "marriage_date?", "purpose?"),
             *resident("আমার জানামতে তিনি বিবাহিত; তার {spouse_word}র নাম **{partner_name_bn}**।",
                       "To the best of my knowledge, {he} is married to **{partner_name_bn}**.",
                       ("বিবাহের তারিখ: {marriage_date}।", "Date of marriage: {marriage_date}.")),
             sample={"partner_name_bn": "মোঃ রাশেদুল ইসলাম", "marriage_date": "2016-02-19", "purpose": "ভিসা আবেদন"}),
    TypeSpec("divorced", "তালাকপ্রাপ্ত/তালাকপ্রাপ্তা সনদ", "Divorced Status Certificate",
             ("former_spouse_name_bn", "divorce_date", "purpose?"),
             *resident("আমার জানামতে {divorce_date} তারিখে **{former_spouse_name_bn}**-এর সাথে তার বিবাহ বিচ্ছেদ "
                       "হয়েছে এবং তিনি {divorced_bn}; অদ্যাবধি পুনরায় কোনো বিবাহ বন্ধনে আবদ্ধ হননি।",
                       "To the best of my knowledge, {his} marriage to **{former_spouse_name_bn}** was dissolved "
                       "on {divorce_date}, and {he} has not remarried to date."),
             sample={"former_spouse_name_bn": "মোঃ রাশেদুল ইসলাম", "divorce_date": "2023-09-01",
                     "purpose": "আদালতে দাখিল"}),
    TypeSpec("widow", "বিধবা সনদ", "Widow Certificate", ("late_spouse_name_bn", "spouse_date_of_death", "purpose?"),
             *resident("তার স্বামী **{late_spouse_name_bn}** {spouse_date_of_death} তারিখে মৃত্যুবরণ করেন। আমার "
                       "জানামতে তিনি একজন বিধবা এবং অদ্যাবধি পুনরায় কোনো বিবাহ বন্ধনে আবদ্ধ হননি।",
                       "{His} husband, **{late_spouse_name_bn}**, died on {spouse_date_of_death}. To the best of my "
                       "knowledge, {he} is a widow and has not remarried to date."),
             category="family", sample={"late_spouse_name_bn": "মোঃ জাহাঙ্গীর আলম",
                                        "spouse_date_of_death": "2019-06-12", "purpose": "বিধবা ভাতা"}),
    TypeSpec("orphan", "এতিম সনদ", "Orphan Certificate", ("father_date_of_death", "mother_date_of_death?", "purpose?"),
             *resident("তার পিতা {father_date_of_death} তারিখে মৃত্যুবরণ করেন। আমার জানামতে তিনি একজন এতিম।",
                       "{His} father died on {father_date_of_death}. To the best of my knowledge, {he} is an orphan.",
                       ("তার মাতা {mother_date_of_death} তারিখে মৃত্যুবরণ করেন।",
                        "{His} mother died on {mother_date_of_death}.")),
             category="family", sample={"father_date_of_death": "2015-03-09", "purpose": "এতিমখানায় ভর্তি"}),
    TypeSpec("guardianship", "অভিভাবকত্ব সনদ", "Guardianship Certificate",
             ("minor_name_bn", "minor_date_of_birth", "relation", "purpose?"),
             *resident("আমার জানামতে তিনি নাবালক **{minor_name_bn}** (জন্ম তারিখ: {minor_date_of_birth}, তার "
                       "{relation})-এর অভিভাবক এবং তার দেখাশোনা ও ভরণপোষণ করেন।",
                       "To the best of my knowledge, {he} is the guardian of the minor **{minor_name_bn}** (born "
                       "{minor_date_of_birth}, {his} {relation}), and looks after and provides for the minor."),
             chain=WMS, deadline_days=7, category="family",
             sample={"minor_name_bn": "অন্তু ক্ষেত্রী", "minor_date_of_birth": "2012-04-02", "relation": "brother",
                     "purpose": "বিদ্যালয়ে ভর্তি"}),
    TypeSpec("guardian_consent", "অভিভাবকের অনুমতি-পত্র", "Guardian's Consent",
             ("minor_name_bn", "relation", "consent_for_bn", "purpose?"),
             *resident("তিনি তার {relation} **{minor_name_bn}**-কে {consent_for_bn}-এর অনুমতি দিয়েছেন; এ বিষয়ে "
                       "তার কোনো আপত্তি নেই।",
                       "{He} has given {his} {relation}, **{minor_name_bn}**, consent to {consent_for_bn} and has "
                       "no objection to it."),
             category="family", sample={"minor_name_bn": "অন্তু ক্ষেত্রী", "relation": "brother",
                                        "consent_for_bn": "শিক্ষা সফরে অংশগ্রহণ"}),
    TypeSpec("allowance_drawing", "আর্থিক সাহায্য উত্তোলনের প্রত্যয়ন", "Attestation to Draw an Allowance",
             ("allowance_bn", "allowance_book_no?", "purpose?"),
             *resident("আমার জানামতে তিনি {allowance_bn}-এর একজন বৈধ উপকারভোগী এবং উক্ত ভাতা উত্তোলনের যোগ্য।",
                       "To the best of my knowledge, {he} is a rightful beneficiary of the {allowance_bn} and may "
                       "draw it.",
                       ("ভাতা বই / উপকারভোগী নং: {allowance_book_no}।",
                        "Allowance book / beneficiary no.: {allowance_book_no}.")),
             chain=SMC, sample={"allowance_bn": "বয়স্ক ভাতা", "allowance_book_no": "BA-2024/118"}),
    TypeSpec("temporary_identity", "সাময়িক পরিচিতি পত্র", "Temporary Identity Certificate",
             ("no_nid_reason_bn", "purpose?"),
             *resident("{no_nid_reason_bn}। জাতীয় পরিচয়পত্র পাওয়া পর্যন্ত তার পরিচয়ের সাময়িক প্রমাণ হিসেবে এই "
                       "পত্র প্রদান করা হলো।",
                       "{no_nid_reason_bn}. This letter is given as a temporary proof of {his} identity until {he} "
                       "receives {his} National ID card."),
             valid_days=180, sample={"no_nid_reason_bn": "তার জাতীয় পরিচয়পত্র এখনো প্রস্তুত হয়নি",
                                     "purpose": "মোবাইল সিম নিবন্ধন"}),
    TypeSpec("farmer", "কৃষক সনদ", "Farmer Certificate", ("cultivable_land_decimal", "crops_bn?", "purpose?"),
             *resident("আমার জানামতে তিনি একজন প্রকৃত কৃষক; তিনি {cultivable_land_decimal} শতাংশ জমিতে চাষাবাদ "
                       "করেন।",
                       "To the best of my knowledge, {he} is a farmer who cultivates {cultivable_land_decimal} "
                       "decimals of land.", ("চাষের ফসল: {crops_bn}।", "Crops: {crops_bn}.")),
             category="property", sample={"cultivable_land_decimal": 66, "crops_bn": "ধান, পাট ও সরিষা",
                                          "purpose": "কৃষি ঋণ"}),
    TypeSpec("unemployment", "বেকারত্ব সনদ", "Unemployment Certificate", ("education_bn?", "purpose?"),
             *resident("আমার জানামতে তিনি বর্তমানে বেকার; কোনো সরকারি, বেসরকারি বা স্বায়ত্তশাসিত প্রতিষ্ঠানে চাকরি "
                       "বা ব্যবসায় নিয়োজিত নন।",
                       "To the best of my knowledge, {he} is unemployed: not employed by any government, private "
                       "or autonomous body nor in business.",
                       ("শিক্ষাগত যোগ্যতা: {education_bn}।", "Education: {education_bn}.")),
             sample={"education_bn": "স্নাতক (সম্মান)", "purpose": "যুব উন্নয়ন প্রশিক্ষণ"},
             sources=("https://probangla.com/unemployment-certificate/",)),
    TypeSpec("river_erosion", "নদী ভাঙন ক্ষতিগ্রস্ত সনদ", "River Erosion Victim Certificate",
             ("river_bn", "erosion_year", "loss_bn", "purpose?"),
             *resident("আমার জানামতে {erosion_year} সালে {river_bn} নদীর ভাঙনে তার {loss_bn} নদীগর্ভে বিলীন হয়েছে।",
                       "To the best of my knowledge, in {erosion_year} the erosion of the {river_bn} river took "
                       "{his} {loss_bn}."),
             chain=WMS, deadline_days=7, category="property",
             sample={"river_bn": "মধুমতি", "erosion_year": "2024", "loss_bn": "বসতবাড়ি ও ২০ শতাংশ আবাদি জমি",
                     "purpose": "পুনর্বাসন সহায়তা"}),
    TypeSpec("ethnic_community", "ক্ষুদ্র নৃ-গোষ্ঠী সনদ", "Small Ethnic Community Certificate",
             ("community_bn", "purpose?"),
             *resident("আমার জানামতে তিনি {community_bn} ক্ষুদ্র নৃ-গোষ্ঠীর একজন সদস্য।",
                       "To the best of my knowledge, {he} is a member of the {community_bn} community."),
             sample={"community_bn": "সাঁওতাল", "purpose": "কোটায় চাকরির আবেদন"}),
    TypeSpec("freedom_fighter_heir", "মুক্তিযোদ্ধা উত্তরাধিকার সনদ", "Freedom Fighter's Heir Certificate",
             ("fighter_name_bn", "gazette_no", "relation", "purpose?"),
             *resident("তিনি বীর মুক্তিযোদ্ধা **{fighter_name_bn}** (গেজেট নং: {gazette_no})-এর {relation}।",
                       "{He} is the {relation} of the freedom fighter **{fighter_name_bn}** (gazette no. "
                       "{gazette_no})."),
             chain=WMS, deadline_days=7, category="family",
             sample={"fighter_name_bn": "মোঃ প্রদীপ ক্ষেত্রী", "gazette_no": "৩৫১৭", "relation": "daughter",
                     "purpose": "মুক্তিযোদ্ধা কোটা"}),
    TypeSpec("land_inheritance", "জমি উত্তরাধিকার সনদ", "Land Inheritance Certificate", ("deceased", "heirs", "plots"),
             (DECEASED_AT_BN + " মৃত্যুকালে তিনি নিম্নবর্ণিত জমি রেখে যান:", "[plots]",
              "উক্ত জমির ওয়ারিশগণ নিম্নরূপ:", "[heirs]",
              "আমার জানামতে উপরে উল্লিখিত ব্যক্তিগণ ছাড়া মৃত ব্যক্তির আর কোনো ওয়ারিশ নেই। এই সনদ আবেদনকারী **{name}**-এর "
              "আবেদনের প্রেক্ষিতে প্রদান করা হলো।"),
             (DECEASED_AT_EN + " The deceased left the following land:", "[plots]",
              "The heirs of that land are as follows:", "[heirs]",
              "To the best of my knowledge, the deceased has no heirs other than those listed above. This "
              "certificate is issued on the application of **{name}**."),
             chain=WMS, deadline_days=10, category="property", holder="names_and_address",
             sample={"deceased": _DECEASED, "heirs": _HEIRS, "plots": _PLOTS}),
    TypeSpec("house_ownership", "গৃহ/বসতবাড়ি মালিকানা সনদ", "House Ownership Certificate",
             ("holding_no", "house_kind_bn", "homestead_land_decimal", "purpose?"),
             *resident("আমার জানামতে তিনি অত্র ইউনিয়নের হোল্ডিং নং {holding_no}-এর বসতবাড়ির ({house_kind_bn}, "
                       "{homestead_land_decimal} শতাংশ জমির উপর) প্রকৃত মালিক।",
                       "To the best of my knowledge, {he} is the true owner of the house at holding no. {holding_no} "
                       "({house_kind_bn}, on {homestead_land_decimal} decimals of land)."),
             category="property", sample={"holding_no": "৩/১৪৫", "house_kind_bn": "আধাপাকা",
                                          "homestead_land_decimal": 6, "purpose": "বিদ্যুৎ সংযোগ"}),
    TypeSpec("new_resident", "নতুন বাসিন্দা / স্থানান্তর প্রত্যয়ন", "New Resident Certificate",
             ("previous_address_bn", "moved_on", "purpose?"),
             (INTRO_BN + " তিনি {previous_address_bn} থেকে স্থানান্তরিত হয়ে {moved_on} থেকে অত্র ইউনিয়নে বসবাস "
              "করছেন।", PURPOSE[0], BLESS_BN),
             (INTRO_EN + " moved here from {previous_address_bn} and has lived in this Union since {moved_on}.",
              PURPOSE[1], BLESS_EN),
             sample={"previous_address_bn": "গ্রাম: চরভদ্রাসন, উপজেলা: চরভদ্রাসন, জেলা: ফরিদপুর",
                     "moved_on": "2025-01-10", "purpose": "ভোটার এলাকা পরিবর্তন"}),
    TypeSpec("nid_correction", "এনআইডি সংশোধন প্রত্যয়ন", "Letter for an NID Correction",
             ("record_field_bn", "wrong_value_bn", "correct_value_bn"),
             (INTRO_BN + RESIDENT_BN + " তার জাতীয় পরিচয়পত্রে {record_field_bn} ভুলক্রমে **{wrong_value_bn}** "
              "লেখা হয়েছে; আমার জানামতে সঠিক তথ্য **{correct_value_bn}**।",
              "জাতীয় পরিচয়পত্রের তথ্য সংশোধনের আবেদনের সমর্থনে এই প্রত্যয়নপত্র প্রদান করা হলো।"),
             (INTRO_EN + RESIDENT_EN + " {His} National ID card wrongly gives {his} {record_field_bn} as "
              "**{wrong_value_bn}**; to the best of my knowledge it is **{correct_value_bn}**.",
              "This letter is given in support of {his} application to correct the National ID record."),
             chain=SMC, category="correction",
             sample={"record_field_bn": "পিতার নাম", "wrong_value_bn": "মোঃ প্রদিপ খেত্রী",
                     "correct_value_bn": "মোঃ প্রদীপ ক্ষেত্রী"}),
    TypeSpec("brn_correction", "জন্ম নিবন্ধন সংশোধন প্রত্যয়ন", "Letter for a Birth Registration Correction",
             ("brn_no", "record_field_bn", "wrong_value_bn", "correct_value_bn"),
             (INTRO_BN + RESIDENT_BN + " তার জন্ম নিবন্ধন সনদে (নং {brn_no}) {record_field_bn} ভুলক্রমে "
              "**{wrong_value_bn}** লেখা হয়েছে; আমার জানামতে সঠিক তথ্য **{correct_value_bn}**।",
              "জন্ম নিবন্ধনের তথ্য সংশোধনের আবেদনের সমর্থনে এই প্রত্যয়নপত্র প্রদান করা হলো।"),
             (INTRO_EN + RESIDENT_EN + " {His} birth registration (no. {brn_no}) wrongly gives {his} "
              "{record_field_bn} as **{wrong_value_bn}**; to the best of my knowledge it is **{correct_value_bn}**.",
              "This letter is given in support of {his} application to correct the birth registration."),
             chain=SMC, category="correction",
             sample={"brn_no": "19943517123456789", "record_field_bn": "জন্ম তারিখ", "wrong_value_bn": "১৭/০৩/১৯৯৫",
                     "correct_value_bn": "১৭/০৩/১৯৯৪"}),
    TypeSpec("passport", "পাসপোর্ট প্রত্যয়ন", "Attestation for a Passport", ("purpose?",),
             (INTRO_BN + RESIDENT_BN + " আমি তাকে ব্যক্তিগতভাবে চিনি। " + KNOWN_BN + " পাসপোর্ট প্রাপ্তিতে তার "
              "বিষয়ে অত্র ইউনিয়ন পরিষদের কোনো আপত্তি নেই।", PURPOSE[0], BLESS_BN),
             (INTRO_EN + RESIDENT_EN + " I know {him} personally. " + KNOWN_EN + " This Union Parishad has no "
              "objection to {him} being issued a passport.", PURPOSE[1], BLESS_EN),
             sample={"purpose": "নতুন ই-পাসপোর্ট"}),
    TypeSpec("bank_account", "ব্যাংক হিসাব প্রত্যয়ন", "Attestation for a Bank Account", ("bank_bn", "purpose?"),
             *resident("আমি তাকে ব্যক্তিগতভাবে চিনি। {bank_bn}-এ তার নামে হিসাব খোলার বিষয়ে তার পরিচয় সঠিক।",
                       "I know {him} personally and attest {his} identity for opening an account at {bank_bn}."),
             sample={"bank_bn": "সোনালী ব্যাংক, গোপালগঞ্জ শাখা", "purpose": "সঞ্চয়ী হিসাব খোলা"}),
    TypeSpec("electricity_noc", "বিদ্যুৎ সংযোগ অনাপত্তি পত্র", "No-Objection for an Electricity Connection",
             ("premises_bn", "connection_kind_bn", "utility_bn"),
             (INTRO_BN + RESIDENT_BN + " {premises_bn}-এ তার নামে {utility_bn} থেকে {connection_kind_bn} বিদ্যুৎ "
              "সংযোগ প্রদানে অত্র ইউনিয়ন পরিষদের কোনো আপত্তি নেই।", BLESS_BN),
             (INTRO_EN + RESIDENT_EN + " This Union Parishad has no objection to {utility_bn} giving {him} a "
              "{connection_kind_bn} electricity connection at {premises_bn}.", BLESS_EN),
             chain=SMC, category="property", valid_days=90,
             sample={"premises_bn": "গ্রাম: কৈকোনা, হোল্ডিং নং ৩/১৪৫", "connection_kind_bn": "আবাসিক",
                     "utility_bn": "গোপালগঞ্জ পল্লী বিদ্যুৎ সমিতি"}),
)
