"""The certificate-type catalogue: names, the fields of each type's `details`, and default rules.

The database holds the catalogue as data (seeded from here) together with each union's fees,
deadlines and approval chains; the pydantic models below validate `details` and give the JSON Schema
that `GET /api/v1/certificate-types` publishes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model
from pydantic.json_schema import SkipJsonSchema

from sonod.catalogue_data import DECLARED, PLOT_COLUMNS, VOCABULARY, FieldSpec, TypeSpec
from sonod.domain import Role
from sonod.licences import CATEGORIES

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9০-৯]{10,17}$")]
FiscalYear = Annotated[str, StringConstraints(pattern=r"^20[0-9]{2}-20[0-9]{2}$")]
LicenceNo = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9-]{4,60}$")]
BusinessCategory = Enum("BusinessCategory", {c.code: c.code for c in CATEGORIES}, type=str)  # type: ignore[misc]


class Details(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Purpose(Details):
    purpose: OptText = Field(None, description="what the certificate is needed for")


class PermanentResident(Purpose):
    years_resident: int = Field(ge=0, le=150, description="years lived in the union")


class SamePerson(Details):
    other_name_bn: ShortText = Field(description="the other spelling of the name, in Bengali")
    other_name_en: OptText = None
    other_document_bn: ShortText = Field(description="the document that carries the other name")




RELATION_BN = {
    "son": "পুত্র", "daughter": "কন্যা", "wife": "স্ত্রী", "husband": "স্বামী", "father": "পিতা", "mother": "মাতা",
    "brother": "ভাই", "sister": "বোন", "grandson": "নাতি", "granddaughter": "নাতনি",
}
RelationCode = Literal[
    "son", "daughter", "wife", "husband", "father", "mother", "brother", "sister", "grandson", "granddaughter",
]


class Deceased(Details):
    name_bn: ShortText
    name_en: OptText = None
    nid: Digits | None = None
    date_of_death: dt.date
    death_registration_no: Annotated[str, StringConstraints(pattern=r"^[0-9০-৯]{17}$")] = Field(
        description="17-digit death registration number (a precondition for warish)"
    )


class Heir(Details):
    name_bn: ShortText
    name_en: OptText = None
    relation: RelationCode
    nid: Digits | None = Field(None, description="NID or birth registration number")
    date_of_birth: dt.date | None = None


class Plot(Details):
    """A row of a land schedule: where the plot is in the record of rights, and how much of it."""

    mouza_bn: ShortText = Field(title=PLOT_COLUMNS["mouza_bn"].label_bn)
    jl_no: OptText = Field(None, title=PLOT_COLUMNS["jl_no"].label_bn)
    khatian_no: ShortText = Field(title=PLOT_COLUMNS["khatian_no"].label_bn)
    dag_no: ShortText = Field(title=PLOT_COLUMNS["dag_no"].label_bn)
    land_class_bn: OptText = Field(None, title=PLOT_COLUMNS["land_class_bn"].label_bn)
    area_decimal: float = Field(gt=0, le=100_000, title=PLOT_COLUMNS["area_decimal"].label_bn)


class Warish(Details):
    deceased: Deceased
    heirs: list[Heir] = Field(min_length=1, max_length=60)


class FamilyMember(Details):
    name_bn: ShortText
    relation: RelationCode
    date_of_birth: dt.date | None = None
    nid: Digits | None = None


class Family(Details):
    members: list[FamilyMember] = Field(min_length=1, max_length=30)


class NotRemarried(Details):
    late_spouse_name_bn: ShortText
    spouse_date_of_death: dt.date


class Income(Details):
    annual_income: int = Field(ge=0, le=10_000_000_000, description="yearly income in taka")
    source_bn: ShortText = Field(description="source of income, in Bengali")
    fiscal_year: FiscalYear


class Landless(Details):
    homestead_land_decimal: float = Field(ge=0, le=10_000)
    cultivable_land_decimal: float = Field(ge=0, le=10_000)


class DeathAttestation(Details):
    deceased: Deceased
    place_of_death_bn: ShortText
    relation: RelationCode = Field(description="the applicant's relation to the deceased")


class TradeLicence(Details):
    business_name_bn: ShortText
    business_name_en: OptText = None
    business_type_bn: ShortText
    business_category: BusinessCategory | None = Field(
        None, description="the Model Tax Schedule's category, which sets the licence fee (sonod/licences.py)")
    business_address_bn: ShortText
    fiscal_year: FiscalYear
    holding_tax_receipt_no: ShortText = Field(description="receipt of this year's holding tax (a precondition)")
    capital_taka: int | None = Field(None, ge=0)
    renews: LicenceNo | None = Field(None, description="the licence number, when this renews a licence")
    # the union's licence number, given at issue (activities/licences.py) and signed with the rest; not the applicant's
    licence_no: SkipJsonSchema[LicenceNo | None] = None


@dataclass(frozen=True)
class FeeLine:
    code: str
    name_bn: str
    name_en: str
    amount: int  # taka


@dataclass(frozen=True)
class CertificateType:
    code: str
    name_bn: str
    name_en: str
    details: type[Details]
    chain: tuple[Role, ...]
    deadline_days: int
    fee_lines: tuple[FeeLine, ...] = ()
    valid_days: int | None = None
    summary_en: str = ""
    extra: dict = field(default_factory=dict)
    wording: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # a declared type's paragraphs (bn, en)
    category: str = "person"
    sample: dict = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    @property
    def fee(self) -> int:
        return sum(line.amount for line in self.fee_lines)

    def fields_schema(self) -> dict:
        return self.details.model_json_schema()


W, S, C = Role.WARD_MEMBER, Role.SECRETARY, Role.CHAIRMAN

CATALOGUE: tuple[CertificateType, ...] = (
    CertificateType("citizenship", "নাগরিকত্ব সনদ", "Citizenship Certificate", Purpose, (C,), 3),
    CertificateType("character", "চারিত্রিক সনদ", "Character Certificate", Purpose, (W, C), 5),
    CertificateType("permanent_resident", "স্থায়ী বাসিন্দা সনদ", "Permanent Resident Certificate", PermanentResident,
                    (C,), 5),
    CertificateType("same_person", "একই ব্যক্তির প্রত্যয়ন", "Same Person Certificate", SamePerson, (S, C), 5),
    CertificateType("warish", "ওয়ারিশ সনদ", "Warish (Heirs) Certificate", Warish, (W, S, C), 7),
    CertificateType("family", "পারিবারিক সনদ", "Family Certificate", Family, (W, S, C), 7),
    CertificateType("unmarried", "অবিবাহিত সনদ", "Unmarried Certificate", Purpose, (W, C), 5),
    CertificateType("not_remarried", "পুনর্বিবাহ না হওয়ার সনদ", "Not Remarried Certificate", NotRemarried, (W, C), 5),
    CertificateType("income", "বার্ষিক আয়ের সনদ", "Income Certificate", Income, (S, C), 5),
    CertificateType("landless", "ভূমিহীন সনদ", "Landless Certificate", Landless, (W, S, C), 7),
    CertificateType("death", "মৃত্যু প্রত্যয়নপত্র", "Death Attestation", DeathAttestation, (W, C), 5),
    CertificateType(
        "trade_licence", "ট্রেড লাইসেন্স", "Trade Licence", TradeLicence, (S, C), 7,
        fee_lines=(
            FeeLine("licence_fee", "লাইসেন্স ফি", "Licence fee", 500),
            FeeLine("signboard_tax", "সাইনবোর্ড কর", "Signboard tax", 100),
            FeeLine("vat", "ভ্যাট (১৫%)", "VAT (15%)", 90),
        ),
        valid_days=365,
    ),
)

# --- declared types (sonod.catalogue_data) ------------------------------------------------------

LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
KINDS: dict[str, tuple[Any, dict[str, Any]]] = {  # a FieldSpec's kind: its type and constraints
    "text": (ShortText, {}), "name": (ShortText, {}), "longtext": (LongText, {}), "code": (Code, {}),
    "date": (dt.date, {}), "taka": (int, {"ge": 0, "le": 10_000_000_000}), "decimal": (float, {"ge": 0, "le": 100_000}),
    "year": (str, {"pattern": r"^(19|20|১৯|২০)[0-9০-৯]{2}$"}), "brn": (str, {"pattern": r"^[0-9০-৯]{17}$"}),
    "relation": (RelationCode, {}), "deceased": (Deceased, {}),
    "heirs": (list[Heir], {"min_length": 1, "max_length": 60}),
    "members": (list[FamilyMember], {"min_length": 1, "max_length": 30}),
    "plots": (list[Plot], {"min_length": 1, "max_length": 50}),
}


def details_model(spec: TypeSpec) -> type[Details]:
    """The pydantic model of a declared type's `details`, its fields titled in Bengali."""
    fields: dict[str, Any] = {}
    for name in spec.fields:
        key, optional = name.rstrip("?"), name.endswith("?")
        f = VOCABULARY[key]
        annotation, constraints = KINDS[f.kind]
        info = Field(None if optional else ..., title=f.label_bn, description=f.label_en, **constraints)
        fields[key] = (annotation | None if optional else annotation, info)
    model_name = "".join(part.capitalize() for part in spec.code.split("_")) + "Details"
    return create_model(model_name, __base__=Details, **fields)


def declared(spec: TypeSpec) -> CertificateType:
    return CertificateType(
        spec.code, spec.name_bn, spec.name_en, details_model(spec), tuple(Role(r) for r in spec.chain),
        spec.deadline_days, tuple(FeeLine(f.code, f.name_bn, f.name_en, f.amount) for f in spec.fee_lines),
        spec.valid_days, wording=(spec.bn, spec.en), category=spec.category, sample=spec.sample,
        sources=spec.sources)


CATALOGUE += tuple(declared(spec) for spec in DECLARED)
BY_CODE = {t.code: t for t in CATALOGUE}
LABELS: dict[str, FieldSpec] = {  # the declared fields' labels, by key, and the trade licence's newer ones
    **VOCABULARY, **PLOT_COLUMNS,
    "business_category": FieldSpec("code", "ব্যবসার খাত (আদর্শ কর তফসিল)", "Business category (Model Tax Schedule)"),
    "renews": FieldSpec("code", "নবায়নের ক্ষেত্রে লাইসেন্স নং", "Licence no., when renewing"),
}
