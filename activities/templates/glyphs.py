"""The glyph plan: the same one-byte codes for the templates' glyphs in every certificate.

reportlab numbers a TrueType font's glyphs in the order a document first uses them, in subsets of 256,
and embeds in each document a subset font of those glyphs. So every certificate numbered its glyphs
afresh, cut the font files again (reading and writing TrueType tables, then compressing them), and even
its unchanging text came out as new bytes.

A plan fixes subset 0 of each font: the glyphs of the templates' own text (their wording, every union's
masthead, the sample documents) at fixed codes, with 0 for .notdef and 32 for the space as reportlab
wants them. Each document starts with that subset assigned (`GlyphPlan.seed`); a glyph outside the plan
(a rare conjunct in a name) gets a code in subset 1 onwards, in order of use, as before. Then:
- subset 0 of a font is the same in every document, so its embedded font program, widths and ToUnicode
  map are built and compressed once per process (`PlannedFont.addObjects`);
- a paragraph whose glyphs are all in subset 0 draws the same operators in every document, so
  `layout.TextPara` draws it once and replays its operators (`replayable`).
The price is that every certificate embeds the whole of subset 0 of each of the four fonts, also the glyphs
of other types' wording: for the 25 sample PDFs of bench/pdf.py, 64 KB on average, against 47 KB with subsets
of only the glyphs used and 71 KB with reportlab's default subsets (which embed all of ASCII in every font).
There is one plan per language, so that a Bengali certificate does not carry the English wording's glyphs.

The words of a certificate's paragraphs are mostly the same from one certificate to the next, so their
shaping is remembered too (`shape_frag_word`).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import uharfbuzz
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    ShapedFragWord,
    ShapedStr,
    TTFont,
    makeToUnicodeCMap,
)
from reportlab.platypus import paragraph

SLOTS = [code for code in range(1, 256) if code != 32]  # 0 is .notdef and 32 the space, in every subset
_FONT_USE = re.compile(r"/F\d+\+(\d+) [\d.]+ Tf")
_ANY_FONT = re.compile(r" Tf\b")
_FEATURES = {"kern": True, "liga": True, "dlig": True}  # reportlab's


class PlannedFont(TTFont):
    """A TrueType font whose subset 0, in a document seeded by a `GlyphPlan`, is embedded from a cache.

    In any other document (no plan) it is reportlab's `TTFont`, with per-document subsets of only the
    glyphs used (no ASCII block reserved in each subset).
    """

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename, asciiReadable=0)
        self._embedded: dict[tuple[int, ...], _Embedded] = {}

    def addObjects(self, doc) -> None:  # reportlab's name
        state = self.state.get(doc)
        if not getattr(state, "planned", False):
            return super().addObjects(doc)
        state.frozen = 1
        fonts = doc.idToObject["BasicFonts"].dict
        for n, subset in enumerate(state.subsets):
            internal = self.getSubsetInternalName(n, doc)[1:]
            base = b"".join((SUBSETN(n), b"+", self.face.name, self.face.subfontNameX)).decode("pdfdoc")
            key = tuple(subset)
            embedded = self._embedded.get(key) if n == 0 else None
            if embedded is None:
                embedded = _Embedded.build(self, subset, base)
                if n == 0:  # a few plans per process (one for each language of each font set)
                    if len(self._embedded) >= 8:
                        self._embedded.clear()
                    self._embedded[key] = embedded
            pdf_font = pdfdoc.PDFTrueTypeFont()
            pdf_font.__Comment__ = f"Font {self.fontName} subset {n}"
            pdf_font.Name, pdf_font.BaseFont = internal, base
            pdf_font.FirstChar, pdf_font.LastChar = 0, len(subset) - 1
            pdf_font.Widths = embedded.widths
            pdf_font.ToUnicode = doc.Reference(_compressed(embedded.to_unicode), "toUnicodeCMap:" + base)
            font_file = doc.Reference(_compressed(embedded.font_file, Length1=embedded.font_file_length),
                                      f"fontFile:{self.face.filename}({base})")
            pdf_font.FontDescriptor = doc.Reference(
                pdfdoc.PDFDictionary({**embedded.descriptor, "FontFile2": font_file}), "fontDescriptor:" + base)
            doc.Reference(pdf_font, internal)
            fonts[internal] = pdf_font
        del self.state[doc]


class _Bytes(pdfdoc.PDFObject):
    """An already formatted PDF value."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document) -> bytes:
        return self.data


def _compressed(data: bytes, **extra) -> pdfdoc.PDFStream:
    """A stream of compressed `data`: reportlab writes it as it is (it skips a stream that has a Filter).

    A new object for each document: reportlab names an object when a document refers to it."""
    dictionary = pdfdoc.PDFDictionary({**extra, "Filter": pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])})
    return pdfdoc.PDFStream(dictionary, data)


@dataclass(frozen=True)
class _Embedded:
    """One subset's PDF objects, as reportlab's `TTFont.addObjects` makes them, formatted and compressed."""

    widths: _Bytes
    to_unicode: bytes  # compressed
    font_file: bytes  # compressed
    font_file_length: int
    descriptor: dict

    @classmethod
    def build(cls, font: TTFont, subset: list[int], base: str) -> _Embedded:
        face = font.face
        program = face.makeSubset(subset)
        return cls(
            widths=_Bytes(pdfdoc.PDFArray([face.getCharWidth(c) for c in subset]).format(None)),
            to_unicode=zlib.compress(makeToUnicodeCMap(base, subset).encode()),
            font_file=zlib.compress(program),
            font_file_length=len(program),
            descriptor={
                "Type": "/FontDescriptor", "Ascent": face.ascent, "CapHeight": face.capHeight,
                "Descent": face.descent, "Flags": face.flags & ~FF_NONSYMBOLIC | FF_SYMBOLIC,
                "FontBBox": pdfdoc.PDFArray(face.bbox), "FontName": pdfdoc.PDFName(base),
                "ItalicAngle": face.italicAngle, "StemV": face.stemV, "MissingWidth": face.defaultWidth,
            },
        )


class GlyphPlan:
    """Subset 0 of each planned font: character codes (reportlab's, private ones for ligatures) by slot."""

    def __init__(self, subsets: dict[str, list[int]]) -> None:
        self.subsets = subsets  # font name -> the subset's list: index is the code, value the character

    @classmethod
    def build(cls, words: Iterable[tuple[str, str]]) -> GlyphPlan:
        """The plan for (font name, word) pairs: each font's most used glyphs, in order of first use."""
        counts: dict[str, Counter[int]] = {}
        hb_fonts = {}
        for font_name, word in dict.fromkeys(words):
            if font_name not in hb_fonts:
                font = pdfmetrics.getFont(font_name)
                hb_fonts[font_name] = font, font.hbFont(10)  # also makes `font.hbAddPrivate`
            chars = _shaped(*hb_fonts[font_name], word)
            counts.setdefault(font_name, Counter()).update(c for c in chars if c not in (32, 0xA0))
        subsets = {}
        for font_name, used in counts.items():
            kept = set(sorted(used, key=lambda c: -used[c])[: len(SLOTS)])  # stable: ties keep first use
            planned = [c for c in used if c in kept]  # a Counter keeps the order of first use
            subset = [0] * 256
            subset[32] = 32
            for slot, char in zip(SLOTS, planned, strict=False):  # fewer glyphs than slots
                subset[slot] = char
            subsets[font_name] = subset[: max(33, SLOTS[len(planned) - 1] + 1 if planned else 0)]
        return cls(subsets)

    def seed(self, doc) -> None:
        """Give `doc` the planned subsets, and the fonts their internal names in a fixed order."""
        for font_name, subset in self.subsets.items():
            font = pdfmetrics.getFont(font_name)
            state = TTFont.State(0, font)
            state.subsets = [list(subset)]
            state.assignments = {char: code for code, char in enumerate(subset) if code == 0 or char}
            state.nextCode = 256  # glyphs outside the plan start subset 1
            state.planned = True
            font.state[doc] = state
            font.getSubsetInternalName(0, doc)


def _shaped(font: TTFont, hb_font: uharfbuzz.Font, word: str) -> list[int]:
    """The characters reportlab draws `word` with: HarfBuzz's glyphs, each as the first character that maps to it,
    or for a glyph no character maps to (a conjunct, a ligature) the private one reportlab gives it.

    `reportlab.pdfbase.ttfonts.shapeFragWord` does the same and more (positions, fragments), at 4 times the cost."""
    buf = uharfbuzz.Buffer()
    buf.cluster_level = uharfbuzz.BufferClusterLevel.MONOTONE_CHARACTERS
    buf.add_str(word)
    buf.guess_segment_properties()
    uharfbuzz.shape(hb_font, buf, _FEATURES)
    to_char = font.face.glyphToChar
    return [to_char[info.codepoint][0] if info.codepoint in to_char
            else font.hbAddPrivate(hb_font.glyph_to_string(info.codepoint), info.codepoint, pos.x_advance)
            for info, pos in zip(buf.glyph_infos, buf.glyph_positions, strict=True) if info.codepoint]


_SHAPE_FRAG_WORD = paragraph.shapeFragWord
_SHAPED: dict[tuple, tuple | None] = {}  # (word class, font, size, text) -> (class, width, shaped text), None: as is
_SHAPED_MAX = 20_000


def shape_frag_word(word, *args, **kwargs):
    """`shape_word` (reportlab's `shapeFragWord`, the dari pulled in), remembered per process for a word in one
    planned font.

    A certificate's paragraphs are mostly the same words (the wording, the union, the officers), and shaping
    one costs about as much in Python as drawing it. reportlab's `Paragraph` calls the module's
    `shapeFragWord` for every word when it breaks lines; words in other fonts are shaped as before.
    """
    if args or kwargs or len(word) != 2 or isinstance(word, ShapedFragWord):
        return shape_word(word, *args, **kwargs)
    frag, text = word[1]
    if hasattr(frag, "cbDefn") or not isinstance(pdfmetrics.getFont(frag.fontName), PlannedFont):
        return shape_word(word)
    key = (word.__class__, frag.fontName, frag.fontSize, text)
    try:
        kept = _SHAPED[key]
    except KeyError:
        shaped = shape_word(word)
        if shaped is not word and (len(shaped) != 2 or shaped[1][0] is not frag):
            return shaped  # not one fragment: not kept
        if len(_SHAPED) >= _SHAPED_MAX:
            _SHAPED.clear()
        kept = _SHAPED[key] = None if shaped is word else (shaped.__class__, shaped[0], shaped[1][1])
    if kept is None:
        return word
    cls, width, text = kept
    return cls([width, (frag, text)])  # a new list: reportlab may change it, never the shaped text


paragraph.shapeFragWord = shape_frag_word

DARI = "\u0964"  # ।, the Bengali full stop
DARI_ROOM = 130  # thousandths of an em between the dari's origin and its stroke
_DARI_PULL: dict[str, float] = {}


def _dari_pull(font: TTFont) -> float:
    """How far (in thousandths of an em) to pull a font's dari back so that its stroke stands `DARI_ROOM` from its
    origin. Noto's dari is the Devanagari danda, drawn a third of an em from its origin: set as it comes, it reads
    as "শেষ ।", a space before the full stop; pulled right against the word, it touches a final consonant's line."""
    if font.fontName not in _DARI_PULL:
        hb_font = font.hbFont(1000)
        glyph = hb_font.get_nominal_glyph(ord(DARI))
        pull = 0.0
        if glyph:
            ext = hb_font.get_glyph_extents(glyph)
            pull = max(0.0, font.pdfScale(ext.x_bearing) - DARI_ROOM)
        _DARI_PULL[font.fontName] = pull
    return _DARI_PULL[font.fontName]


def shape_word(word, *args, **kwargs):
    """reportlab's `shapeFragWord`, with the dari of a word in one TrueType font pulled against the word."""
    if args or kwargs or len(word) != 2 or isinstance(word, ShapedFragWord):
        return _SHAPE_FRAG_WORD(word, *args, **kwargs)
    frag, text = word[1]
    font = None if hasattr(frag, "cbDefn") else pdfmetrics.getFont(frag.fontName)
    if DARI not in text or not isinstance(font, TTFont):
        return _SHAPE_FRAG_WORD(word)
    shaped = _SHAPE_FRAG_WORD(word, force=True)  # forced: positions for every glyph, also when HarfBuzz moved none
    return _dari_tightened(shaped, font, frag.fontSize) if len(shaped) == 2 else shaped


def _dari_tightened(shaped, font: TTFont, size: float):
    """A shaped word (forced, so that it has positions) with each dari drawn `_dari_pull` to the left and its
    advance shortened as much, so that it sits against the word it ends."""
    frag, text = shaped[1]
    data = getattr(text, "__shapeData__", None)
    pull = _dari_pull(font)
    if not data or not pull:
        return shaped
    pulled = [sd._replace(x_advance=sd.x_advance - pull, x_offset=sd.x_offset - pull) if char == DARI else sd
              for char, sd in zip(text, data, strict=True)]
    width = shaped[0] - pull * size / 1000 * text.count(DARI)
    return shaped.__class__([width, (frag, ShapedStr(str(text), shapeData=pulled))])


def replayable(operators: str) -> bool:
    """Whether drawn operators use only planned subsets (subset 0 of a planned font), so that they are the same
    bytes in every seeded document."""
    uses = _FONT_USE.findall(operators)
    return all(n == "0" for n in uses) and len(uses) == len(_ANY_FONT.findall(operators))
