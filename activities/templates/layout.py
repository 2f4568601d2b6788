"""The shared page frame and the flowables every certificate is built from.

Text goes through `TextPara`: a reportlab Paragraph shaped by HarfBuzz, whose every line is wrapped in a
marked-content span carrying the line's logical text as /ActualText, so that copying or `pdftotext`
gives back the typed Bengali and not the code points of shaped glyphs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from activities.templates.glyphs import replayable

PAGE_W, PAGE_H = A4
MARGIN_X = 50.0
FRAME_W = PAGE_W - 2 * MARGIN_X
HEADER_BOTTOM = PAGE_H - 146.0  # the flow frame starts under the masthead
FRAME_BOTTOM = 40.0
QR_SIZE = 85.04  # 3 cm, the symbol without its quiet zone

GREEN = Color(0, 0.416, 0.306)  # the green of the flag
RED = Color(0.957, 0.165, 0.255)
PALE_GREEN = Color(0.91, 0.96, 0.93)
GREY = Color(0.35, 0.35, 0.35)

_BENGALI = re.compile(r"[\u0980-\u09ff\u0964\u0965]")
HAIR_SPACE = "\u200a"
_SCRIPT_RUN = re.compile(r"[\u0980-\u09ff\u0964\u0965]+|[^\u0980-\u09ff\u0964\u0965]+")
_BREAKING_SPACE = re.compile(r"[ \t\r\f\v]+")
_TOKEN = re.compile(r"\n|[ \t\r\f\v]+|[^ \t\r\f\v\n]+")
_DARK_RUN = re.compile(b"\x01+")  # in bytes(row) of a QR matrix's row


@dataclass(frozen=True)
class FontSet:
    """Registered reportlab font names; `bn` must be a shapable TrueType font."""

    bn: str
    bn_bold: str
    latin: str
    latin_bold: str
    bn_chars: frozenset[int]


# --- text --------------------------------------------------------------------------------------


def rich(text: str, fonts: FontSet, base: str) -> tuple[str, str]:
    """Paragraph markup and plain text for `text`, where `**` toggles bold and a newline breaks the line."""
    runs, plain = font_runs(text, fonts, base)
    markup = "".join(face if not s else f'<font face="{face}">{escape(s)}</font>' for face, s in runs)
    return markup, plain


def font_runs(text: str, fonts: FontSet, base: str) -> tuple[list[list[str]], str]:
    """`text` as runs of [font, text] (["<br/>", ""] for a newline), and as plain text; see `rich`.

    HarfBuzz shapes a whole word with the font of its first fragment, so every word goes wholly into one
    font: bold if any of it is, Bengali if it has Bengali letters, Latin if it has characters the
    Bengali font lacks, and the document's base font if it is only digits and punctuation.
    """
    parts = text.split("**")
    plain = "".join(parts)
    bold = [i % 2 == 1 for i, part in enumerate(parts) for _ in part]
    runs: list[list[str]] = []  # [font, text] or ["<br/>", ""]
    for m in _TOKEN.finditer(plain):
        token = m.group()
        if token == "\n":
            runs.append(["<br/>", ""])
            continue
        if token.isspace():
            pieces = [(runs[-1][0] if runs and runs[-1][1] else _face(fonts, base, False, ""), token)]
        else:
            is_bold = any(bold[m.start() : m.end()])
            pieces = [(_face(fonts, base, is_bold, p), p) for p in _SCRIPT_RUN.findall(token)]
            # HarfBuzz shapes a word in one font: a hair space makes each script its own word
            pieces = [(face, piece if i == 0 or face == pieces[i - 1][0] else HAIR_SPACE + piece)
                      for i, (face, piece) in enumerate(pieces)]
        for face, piece in pieces:
            if runs and runs[-1][0] == face:
                runs[-1][1] += piece
            else:
                runs.append([face, piece])
    return runs, plain


def _face(fonts: FontSet, base: str, bold: bool, word: str) -> str:
    if _BENGALI.search(word):
        bengali = True
    elif any(ord(c) not in fonts.bn_chars for c in word):
        bengali = False
    else:
        bengali = base == "bn"
    if bengali:
        return fonts.bn_bold if bold else fonts.bn
    return fonts.latin_bold if bold else fonts.latin


def actual_text(s: str) -> str:
    return f"/Span <</ActualText <FEFF{s.encode('utf-16-be').hex().upper()}>>> BDC"


class _SpanTextObject(PDFTextObject):
    """A text object that opens an ActualText span at each line's first glyphs and closes it at T*."""

    def __init__(self, canvas, x, y, lines: list[str]):
        super().__init__(canvas, x, y)
        self._lines = iter(lines)
        self._open = False

    def _textOut(self, text, TStar=0):
        if not self._open:
            line = next(self._lines, None)
            if line is not None:
                self._code.append(actual_text(line))
                self._open = True
        self._code.append(self._formatText(text))
        if TStar:
            self._close()
            self._code.append("T*")

    def _close(self) -> None:
        if self._open:
            self._code.append("EMC")
            self._open = False

    def getCode(self):
        self._close()
        return super().getCode()


class TextPara(Paragraph):
    """A shaped Paragraph whose lines copy as their logical text (see the module's docstring)."""

    _lines: list[str] | None = None
    # (glyph plan, width) -> the operators drawn: one per paragraph, replaced, never updated in place
    _replay: Mapping[tuple, list[str]] = MappingProxyType({})

    def __init__(self, text: str, style: ParagraphStyle, fonts: FontSet, base: str = "bn"):
        markup, self.plain = rich(text, fonts, base)
        super().__init__(markup, style)

    def wrap(self, availWidth, availHeight):
        # breaking shaped lines is the costly part; the text never changes, so keep the last result
        if getattr(self, "_wrapped_at", None) != availWidth:
            super().wrap(availWidth, availHeight)
            self._wrapped_at = availWidth
        return self.width, self.height

    def split(self, availWidth, availHeight):
        return []  # certificate paragraphs move to the next page whole

    def _line_texts(self) -> list[str] | None:
        words = [w for line in self.plain.split("\n") for w in _BREAKING_SPACE.split(line.strip()) if w]
        counts = [line.wordCount if self.blPara.kind else len(line[1]) for line in self.blPara.lines]
        if sum(counts) != len(words):  # a word split by reportlab: one span for the whole paragraph
            return None
        texts, k = [], 0
        for n in counts:
            texts.append(" ".join(words[k : k + n]).replace("\xa0", " "))
            k += n
        return texts

    def beginText(self, x, y):
        if self._lines is None:
            return self.canv.beginText(x, y)
        return _SpanTextObject(self.canv, x, y, self._lines)

    def draw(self):
        # in a document seeded with a glyph plan, a paragraph of planned glyphs draws the same operators every time
        key = (getattr(self.canv, "glyph_plan", None), getattr(self, "_wrapped_at", None))
        if key[0] is not None and key in self._replay:
            self.canv._code.extend(self._replay[key])
            return
        start = len(self.canv._code)
        self._lines = self._line_texts()
        if self._lines is None:
            self.canv.addLiteral(actual_text(" ".join(self.plain.split()).replace("\xa0", " ")))
        super().draw()
        if self._lines is None:
            self.canv.addLiteral("EMC")
        drawn = self.canv._code[start:]
        if key[0] is not None and replayable("\n".join(drawn)):
            self._replay = {key: drawn}


# --- styles ------------------------------------------------------------------------------------


class Styles:
    """The paragraph styles of one font set; the base font is always the shapable Bengali one."""

    def __init__(self, fonts: FontSet):
        def style(name, size, leading, align=TA_LEFT, **kw):
            return ParagraphStyle(name, fontName=fonts.bn, fontSize=size, leading=leading, alignment=align,
                                  shaping=1, splitLongWords=0, **kw)

        self.gov = style("gov", 12, 16, TA_CENTER)
        self.union = style("union", 21, 27, TA_CENTER, textColor=GREEN)
        self.place = style("place", 11, 15, TA_CENTER)
        self.meta = style("meta", 10.5, 15)
        self.meta_right = style("meta_right", 10.5, 15, TA_RIGHT)
        self.title = style("title", 17, 22, TA_CENTER, textColor=GREEN)
        self.cert_no = style("cert_no", 11, 16, TA_CENTER)
        self.body = style("body", 12.5, 21, TA_JUSTIFY, firstLineIndent=28, spaceAfter=6)
        self.cell = style("cell", 10, 13.5)
        self.cell_center = style("cell_center", 10, 13.5, TA_CENTER)
        self.cell_right = style("cell_right", 10, 13.5, TA_RIGHT)
        self.signature = style("signature", 8.8, 12, TA_CENTER)
        self.seal = style("seal", 8, 11, TA_LEFT)
        self.caption = style("caption", 7.2, 9.5, TA_CENTER, textColor=GREY)
        self.footer = style("footer", 8, 10, TA_RIGHT, textColor=GREY)


# --- flowables ---------------------------------------------------------------------------------


class MetaRow(Flowable):
    """Memo number on the left, dates on the right."""

    def __init__(self, left: Paragraph, right: Paragraph):
        super().__init__()
        self.left, self.right = left, right

    def wrap(self, aw, ah):
        self.width = aw
        _, hl = self.left.wrap(aw * 0.5, ah)
        _, hr = self.right.wrap(aw * 0.5, ah)
        self.height = max(hl, hr) + 8
        return aw, self.height

    def draw(self):
        self.left.drawOn(self.canv, 0, self.height - self.left.height)
        self.right.drawOn(self.canv, self.width * 0.5, self.height - self.right.height)


class TitleBox(Flowable):
    """The certificate's name, centred in a rounded box."""

    def __init__(self, title: Paragraph):
        super().__init__()
        self.title = title

    def wrap(self, aw, ah):
        self.width = aw
        _, h = self.title.wrap(aw - 40, ah)
        self.text_w = max(self.title.getActualLineWidths0())
        self.height = h + 14
        return aw, self.height

    def draw(self):
        c = self.canv
        box_w = self.text_w + 36
        c.saveState()
        c.setStrokeColor(GREEN)
        c.setFillColor(PALE_GREEN)
        c.setLineWidth(1)
        c.roundRect((self.width - box_w) / 2, 2, box_w, self.height - 6, 8, stroke=1, fill=1)
        c.restoreState()
        self.title.drawOn(c, 20, 6)


def grid(header: list[Paragraph], rows: list[list[Paragraph]], widths: list[float], total: int = 0) -> Table:
    """A ruled table whose header row, if any, repeats on every page it runs onto; `total` shaded rows at the end."""
    table = Table([header, *rows] if header else rows, colWidths=[w * FRAME_W for w in widths],
                  repeatRows=1 if header else 0, hAlign="CENTER")
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, GREY),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), PALE_GREEN))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), PALE_GREEN))
    if total:
        commands.append(("BACKGROUND", (0, -total), (-1, -1), PALE_GREEN))
    table.setStyle(TableStyle(commands))
    return table


def qr_operators(matrix: list[list[bool]], x: float, y: float, size: float = QR_SIZE) -> str:
    """PDF operators that fill the dark modules of a QR symbol: one path, one rectangle per run of a row.

    `matrix` is `sonod.qr.qr_matrix`'s, quiet zone included; `size` is the side of the symbol without
    it, and (x, y) its lower-left corner. The path is drawn in module units (one `cm` scales it), so
    that each rectangle is four small integers.
    """
    border = 4
    rows = [row[border:-border] for row in matrix[border:-border]]
    n = len(rows)
    m = size / n
    ops = [f"q 0 g {m:.6f} 0 0 {m:.6f} {x:.3f} {y:.3f} cm"]
    for r, row in enumerate(rows):
        ops += [f"{run.start()} {n - 1 - r} {run.end() - run.start()} 1 re" for run in _DARK_RUN.finditer(bytes(row))]
    ops.append("f Q")
    return "\n".join(ops)


class ClosingBand(Flowable):
    """The closing words, then the QR (with its caption) and the signature blocks pinned to the page's foot.

    The closing paragraphs travel with the signatures, so that a page never holds signatures alone.
    A signature block is a note above the signature line (the digital signature) and the officer below.
    The PDF's own signature (PAdES), when there is one, is a framed `seal` above the signature blocks; where it was
    drawn, in the page's coordinates, is kept in `seal_box` for the signature field's widget to cover.
    """

    GAP = 18.0
    MAX_COL = 165.0
    SEAL_MIN_W, SEAL_PAD, SEAL_GAP = 330.0, 4.0, 4.0  # the seal sits in the room above the notes

    def __init__(self, lead: list[Paragraph], qr: list[list[bool]], caption: Paragraph,
                 signatures: list[tuple[Paragraph | None, Paragraph]], seal: Paragraph | None = None):
        super().__init__()
        self.lead, self.qr, self.caption, self.signatures, self.seal = lead, qr, caption, signatures, seal
        self.seal_box: tuple[float, float, float, float] | None = None

    def wrap(self, aw, ah):
        self.width = aw
        self.lead_h = sum(p.wrap(aw, ah)[1] + p.style.spaceAfter for p in self.lead)
        _, self.caption_h = self.caption.wrap(QR_SIZE + 30, ah)
        self.col = min(self.MAX_COL, (aw - QR_SIZE - self.GAP) / max(len(self.signatures), 1))
        self.below = self.above = 0.0
        for note, details in self.signatures:
            self.below = max(self.below, details.wrap(self.col - 8, ah)[1])
            if note is not None:
                self.above = max(self.above, note.wrap(self.col - 8, ah)[1])
        self.seal_h = 0.0
        if self.seal is not None:
            self.seal_w = min(aw - QR_SIZE - self.GAP, max(self.SEAL_MIN_W, self.col * len(self.signatures)) - 8)
            self.seal_h = self.seal.wrap(self.seal_w - 2 * self.SEAL_PAD, ah)[1] + 2 * self.SEAL_PAD
        room = max(40.0, 7 + self.SEAL_GAP + self.seal_h + 4) if self.seal is not None else 40.0
        band = max(QR_SIZE + self.caption_h + 6, self.below + self.above + room)
        need = self.lead_h + band + 6
        self.height = ah if ah >= need else need
        return aw, self.height

    def draw(self):
        c = self.canv
        top = self.height
        for p in self.lead:
            top -= p.height
            p.drawOn(c, 0, top)
            top -= p.style.spaceAfter
        c.addLiteral(qr_operators(self.qr, 0, self.caption_h + 4))
        self.caption.drawOn(c, -15, 0)
        line_y = self.below + 3
        c.saveState()
        c.setLineWidth(0.6)
        c.setDash(1.5, 1.5)
        for i, (note, details) in enumerate(self.signatures):
            x = self.width - (len(self.signatures) - i) * self.col + 4
            details.drawOn(c, x, line_y - 3 - details.height)
            c.line(x + 10, line_y, x + self.col - 18, line_y)
            if note is not None:
                note.drawOn(c, x, line_y + 4)
        c.restoreState()
        if self.seal is not None:
            self._draw_seal(line_y + 4 + self.above + self.SEAL_GAP)

    def _draw_seal(self, y: float) -> None:
        assert self.seal is not None
        c, pad = self.canv, self.SEAL_PAD
        x, h = self.width - 4 - self.seal_w, self.seal_h
        c.saveState()
        c.setStrokeColor(GREEN)
        c.setFillColor(PALE_GREEN)
        c.setLineWidth(0.8)
        c.roundRect(x, y, self.seal_w, h, 3, stroke=1, fill=1)
        c.restoreState()
        self.seal.drawOn(c, x + pad, y + pad)
        (x1, y1), (x2, y2) = c.absolutePosition(x, y), c.absolutePosition(x + self.seal_w, y + h)
        self.seal_box = (x1, y1, x2, y2)


@dataclass
class Masthead:
    """The static layer of a union's page in one language: border and header, pre-wrapped once."""

    lines: list[tuple[Paragraph, float]]  # paragraph and its top y

    @classmethod
    def build(cls, texts: list[tuple[str, ParagraphStyle]], fonts: FontSet, base: str) -> Masthead:
        lines, top = [], PAGE_H - 50
        for text, style in texts:
            p = TextPara(text, style, fonts, base)
            _, h = p.wrap(FRAME_W, PAGE_H)
            lines.append((p, top))
            top -= h + 1
        return cls(lines)

    def draw(self, c) -> None:
        c.saveState()
        c.setStrokeColor(GREEN)
        c.setLineWidth(2.2)
        c.rect(22, 22, PAGE_W - 44, PAGE_H - 44)
        c.setLineWidth(0.6)
        c.rect(27, 27, PAGE_W - 54, PAGE_H - 54)
        c.setFillColor(RED)
        c.circle(PAGE_W / 2, HEADER_BOTTOM + 8, 2.2, stroke=0, fill=1)
        c.setStrokeColor(GREEN)
        c.setLineWidth(1)
        c.line(MARGIN_X, HEADER_BOTTOM + 8, PAGE_W / 2 - 8, HEADER_BOTTOM + 8)
        c.line(PAGE_W / 2 + 8, HEADER_BOTTOM + 8, PAGE_W - MARGIN_X, HEADER_BOTTOM + 8)
        c.restoreState()
        for p, top in self.lines:
            p.drawOn(c, MARGIN_X, top - p.height)
