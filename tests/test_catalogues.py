"""The translation catalogues (api/locale, `make i18n`): complete, with every placeholder kept, compiled, and holding
every message the code and the templates mark."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from api.pages.i18n import DOMAIN, LANGS, LOCALE

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}|%\((\w+)\)s")


def po(lang: str):
    with open(LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        return read_po(f, locale=lang)


def entries(lang: str):
    return [m for m in po(lang) if m.id]


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("lang", LANGS)
def test_no_entry_is_untranslated_or_fuzzy(lang):
    assert [m.id for m in entries(lang) if not m.string or m.fuzzy] == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_placeholder_of_a_msgid_is_in_its_msgstr(lang):
    assert [(m.id, m.string) for m in entries(lang) if not placeholders(m.id) <= placeholders(m.string)] == []


@pytest.mark.parametrize("lang", LANGS)
def test_the_compiled_catalogue_says_what_the_po_file_says(lang):
    with open(LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = [m.id for m in entries(lang)
             if (compiled.pgettext(m.context, m.id) if m.context else compiled.gettext(m.id)) != m.string]
    assert stale == [], "run `make i18n`"


def test_the_catalogues_hold_every_message_the_code_and_the_templates_mark():
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    keywords = DEFAULT_KEYWORDS | {"NP_": ((1, "c"), 2)}
    marked = {(context, message if isinstance(message, str) else message[0])
              for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, options_map, keywords)}
    assert marked, "babel.cfg finds no message"
    translated = {(m.context, m.id) for m in entries("bn")}
    assert marked - translated == set(), "run `make i18n` and translate the new messages"
