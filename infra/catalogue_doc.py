"""docs/CATALOGUE.md and its sample pages (docs/catalogue/<code>.png), written from the catalogue itself:

    .venv/bin/python -m infra.catalogue_doc

Every type with its names, fields (and their labels), tables, default chain, fee lines, deadline, validity, a sample
page in Bengali and its sources. Needs pdftoppm (poppler-utils).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from activities.render import CertificateRenderer, sample_document
from sonod.catalogue import CATALOGUE, LABELS, CertificateType
from sonod.licences import CATEGORIES, TRADE_LICENCE
from sonod.printed import DETAILS

ROOT = Path(__file__).resolve().parent.parent
DOC, PAGES = ROOT / "docs" / "CATALOGUE.md", ROOT / "docs" / "catalogue"
TABLES = {"heirs": "heirs", "members": "family members", "plots": "plots"}
DEFAULT_SOURCES = ("the certificate as union parishads word it today (their citizen charters and issued "
                   "certificates), written for sonod in sonod/catalogue_data.py",)
HEAD = """# The certificate catalogue

Written by `python -m infra.catalogue_doc` from `sonod/catalogue.py` (the twelve built-in types) and
`sonod/catalogue_data.py` (the declared types); do not edit by hand. A union overrides a type's chain, fee lines,
deadline and validity (`sonod admin add-union --chain/--fee/--deadline/--valid`); `--disable` turns a type off.
`GET /api/v1/certificate-types` publishes each type's fields as JSON Schema (declared fields titled in Bengali).

**Adding a type** is one `TypeSpec` in `sonod/catalogue_data.py`: its code and names, its fields (keys of
`VOCABULARY`, a trailing `?` for an optional one; add a vocabulary entry for a new field, with its kind and Bengali and
English labels), its wording in Bengali and English (`str.format` paragraphs; `[heirs]`, `[members]` and `[plots]`
print those tables), its default chain, fee lines, deadline and validity, and a sample. The form, the PDF, the JSON
Schema and this page follow; `tests/test_catalogue_types.py::test_adding_a_type_is_a_data_entry_and_its_wording`
adds one. After an upgrade that adds types, `sonod catalogue sync` gives every existing union their default rules.

**Languages and free text.** Every type is issued in Bengali and, when the applicant asks (`language`: `en` or
`both`), also in English: a certificate of its own numbered `<number>-EN` (docs/CERTIFICATES.md). A free-text
attestation (`misc_attestation`) prints the text that the secretary (where the chain has none, its last officer)
writes with the approval (`text`, and `text_en` for an English certificate); the applicant's `statement_bn` is a draft.

| # | Code | Name | Fields | Chain | Deadline | Valid | Fee lines |
|---|------|------|--------|-------|----------|-------|-----------|
"""


def label(key: str) -> str:
    if key in LABELS:
        return LABELS[key].label_bn
    return DETAILS.get(key, (key, key))[0]


def fields_of(t: CertificateType) -> str:
    schema = t.fields_schema()
    required = set(schema.get("required", []))
    return "<br>".join(f"`{k}`{'' if k in required else '?'} {label(k)}" + (" (table)" if k in TABLES else "")
                       for k in schema.get("properties", {}))


def row(n: int, t: CertificateType) -> str:
    fees = ", ".join(f"{f.name_en} {f.amount}" for f in t.fee_lines) or "free"
    valid = "to 30 June" if t.code == TRADE_LICENCE else f"{t.valid_days} days" if t.valid_days else "—"
    return (f"| {n} | [`{t.code}`](#{t.code}) | {t.name_bn}<br>{t.name_en} | {fields_of(t)} | "
            f"{' → '.join(r.value for r in t.chain)} | {t.deadline_days} days | {valid} | {fees} |")


def section(t: CertificateType) -> str:
    sources = t.sources + DEFAULT_SOURCES
    year = LICENCE_YEAR if t.code == TRADE_LICENCE else ""
    return (f"\n### {t.code}\n\n**{t.name_bn}** ({t.name_en}). Sources: {'; '.join(sources)}.\n\n"
            f"![{t.name_en}, sample page](catalogue/{t.code}.png)\n{year}")


LICENCE_YEAR = """
**The licence's year.** A trade licence is issued for a fiscal year (July to June) and is valid to 30 June, signed
(the QR's `exp`): unrenewed, it verifies `expired` from 1 July. Its licence number (`PAIKKANDI-TL-00012`, the union's
own sequence, printed and signed) is kept from year to year; each year's certificate has its own certificate number.

- **Fee** (computed at admission, `sonod/licences.py`): the licence fee of the business category
  (`business_category`; the union's own, `sonod catalogue licence-fees --union SLUG --fee CATEGORY=TAKA`, published at
  `GET /api/v1/licences/fees?union=`, else the defaults below; without a category, the union's licence fee line), the
  union's signboard tax, the arrears (the fees of the years between the licence's last year and this one), and VAT at
  15 % of those, half a taka up.
- **Renewal**: `GET /api/v1/licences/{licence_no}/renewal` (the desk: `/desk/renew/{licence_no}`) gives the
  application filled in from last year's (`details.renews` names the licence; only this year's holding tax receipt
  is asked again). On issue the licence keeps its number, and last year's certificate is revoked "superseded by
  <number>".
- **Register**: `GET /api/v1/licences?union=&state=current|due|expired|revoked&cursor=`, `GET /api/v1/licences.csv`
  (audited), and `/dashboard/licences`. A licence is due in June, the last month of its year; on 1 June a Temporal
  Schedule (`licence-renewal-reminders`) tells each holder by SMS, once a year.

| Category (`business_category`) | খাত | Default fee (Tk a year) |
|---|---|---|
""" + "".join(f"| `{c.code}` {c.name_en} | {c.name_bn} | {c.fee} |\n" for c in CATEGORIES)


def main() -> int:
    PAGES.mkdir(parents=True, exist_ok=True)
    renderer = CertificateRenderer()
    with tempfile.TemporaryDirectory() as tmp:
        for t in CATALOGUE:
            pdf = Path(tmp) / f"{t.code}.pdf"
            pdf.write_bytes(renderer.render(sample_document(t.code, "bn")))
            subprocess.run(["pdftoppm", "-png", "-r", "50", "-singlefile", str(pdf), str(PAGES / t.code)], check=True)
    text = HEAD + "\n".join(row(n, t) for n, t in enumerate(CATALOGUE, 1)) + "\n\n## Sample pages\n"
    DOC.write_text(text + "".join(section(t) for t in CATALOGUE), encoding="utf-8")
    print(f"{DOC.relative_to(ROOT)}: {len(CATALOGUE)} types")
    return 0


if __name__ == "__main__":
    sys.exit(main())
