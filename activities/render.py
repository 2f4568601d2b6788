"""The certificate PDF: the document the registry hands over, the fonts, and the renderer.

A4, one page unless a table of heirs or family members runs on. Bengali is shaped by HarfBuzz and every
line copies back as the typed text (see `activities.templates.layout`). The union's header is laid out
once per union and language and drawn into each PDF as a Form XObject that every page reuses. Each PDF
starts from the glyph plan of its language (`activities.templates.glyphs`), so that what is the same in
every certificate (the embedded fonts, the paragraphs of planned glyphs) is built once per process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from reportlab import rl_config
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, Spacer

from activities.templates import CAPTION, Body, Grid, Para, compose, masthead, samples
from activities.templates import layout as L
from activities.templates.glyphs import GlyphPlan, PlannedFont
from activities.templates.seal import seal_text
from activities.templates.wording import local
from sonod.catalogue import BY_CODE, Details
from sonod.domain import Role
from sonod.printed import validity
from sonod.qr import qr_matrix
from sonod.unions import GOPALGANJ_SADAR

D = TypeVar("D", bound=Details)

# --- the document ------------------------------------------------------------------------------


class Signatory(BaseModel):
    role: Role
    name_bn: str
    name_en: str
    title_bn: str
    title_en: str
    signed_at: dt.datetime | None = None


class SealView(BaseModel):
    """The visible block of the PDF's own signature (activities/pades.py signs over it)."""

    signer_bn: str
    signer_en: str
    signed_at: dt.datetime


@dataclass(frozen=True)
class SealBox:
    """Where the seal's block was drawn: page (from 0) and rectangle (x1, y1, x2, y2) in points."""

    page: int
    box: tuple[float, float, float, float]


class Holder(BaseModel):
    """What a certificate prints of its holder: the names always, the rest as its type's wording needs."""

    name_bn: str
    name_en: str
    father_name_bn: str | None = None
    mother_name_bn: str | None = None
    father_name_en: str | None = None
    mother_name_en: str | None = None
    spouse_name_bn: str | None = None
    date_of_birth: dt.date | None = None
    nid: str | None = None
    brn: str | None = None  # a birth registration number, when the holder has no NID
    gender: str | None = None
    village_bn: str | None = None
    post_office_bn: str | None = None
    present_address_bn: str | None = None
    permanent_address_bn: str | None = None
    ward_no: int | None = None

    @model_serializer(mode="wrap")
    def _brn_only_when_held(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """An NID holder's dump is as it was before `brn` existed: the signed content's hash stays the same."""
        data = handler(self)
        if data.get("brn") is None:
            data.pop("brn", None)
        return data


class UnionView(BaseModel):
    model_config = ConfigDict(frozen=True)

    slug: str
    name_bn: str
    name_en: str
    upazila_bn: str
    upazila_en: str
    district_bn: str
    district_en: str


class FeeLineView(BaseModel):
    code: str
    name_bn: str
    name_en: str
    amount: int


class CertificateDocument(BaseModel):
    certificate_no: str
    memo_no: str
    certificate_type: str  # a catalogue code
    union: UnionView
    holder: Holder  # what `sonod.printed` lists of the holder, and nothing else
    claims: list[str] = []  # the holder's fields printed on the applicant's word alone: marked on the paper
    details: dict[str, Any]  # validated against the catalogue's model for the type
    fee_lines: list[FeeLineView] = []
    issued_at: dt.datetime
    expires_on: dt.date | None = None
    signatories: list[Signatory]  # the blocks the union's chain requires, in order
    qr_text: str  # the exact text the QR encodes
    language: Literal["bn", "en"] = "bn"
    seal: SealView | None = None  # the PAdES signature's visible block, when the PDF is to be signed

    _parsed: Details = PrivateAttr()

    @model_validator(mode="after")
    def _check_details(self) -> CertificateDocument:
        ctype = BY_CODE.get(self.certificate_type)
        if ctype is None:
            raise ValueError(f"unknown certificate type {self.certificate_type!r}")
        self._parsed = ctype.details.model_validate(self.details)
        return self

    @property
    def parsed_details(self) -> Details:
        return self._parsed

    def details_as(self, model: type[D]) -> D:
        """The parsed details as the model a type's own table reads; a TypeError if the type has another."""
        if not isinstance(self._parsed, model):
            raise TypeError(f"{self.certificate_type} details are {type(self._parsed).__name__}, not {model.__name__}")
        return self._parsed


# --- fonts -------------------------------------------------------------------------------------

DEBIAN_NOTO = Path("/usr/share/fonts/truetype/noto")
# (Bengali regular, Bengali bold, Latin regular, Latin bold) in order of preference; Latin may be absent
FAMILIES = (
    ("NotoSerifBengali-Regular.ttf", "NotoSerifBengali-Bold.ttf", "NotoSerif-Regular.ttf", "NotoSerif-Bold.ttf"),
    ("NotoSansBengali-Regular.ttf", "NotoSansBengali-Bold.ttf", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    ("HindSiliguri-Regular.ttf", "HindSiliguri-Bold.ttf", "HindSiliguri-Regular.ttf", "HindSiliguri-Bold.ttf"),
)
# PyPI font packages (fontpkg's layout: <module>/files/*.ttf); no Noto Bengali one is published yet
FONT_PACKAGES = ("fontpkg_noto_serif_bengali", "fontpkg_noto_sans_bengali", "fontpkg_hind_siliguri")


class FontNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class Fonts:
    bengali: Path
    bengali_bold: Path
    latin: Path | None = None  # None: the PDF's built-in Times
    latin_bold: Path | None = None

    @classmethod
    def locate(cls, font_dir: str | os.PathLike | None = None) -> Fonts:
        """`font_dir`, else $SONOD_FONT_DIR; else Debian's Noto folder, then an installed font package."""
        chosen = font_dir or os.environ.get("SONOD_FONT_DIR")
        places = [Path(chosen)] if chosen else [DEBIAN_NOTO, *_package_dirs()]
        for place in places:
            for bn, bn_bold, latin, latin_bold in FAMILIES:
                if (place / bn).is_file() and (place / bn_bold).is_file():
                    has_latin = latin and (place / latin).is_file() and (place / latin_bold).is_file()
                    return cls(place / bn, place / bn_bold, *((place / latin, place / latin_bold) if has_latin else ()))
        origin = "font_dir" if font_dir else "SONOD_FONT_DIR" if chosen else "the default places"
        wanted = " or ".join(f"{f[0]} + {f[1]}" for f in FAMILIES)
        raise FontNotFound(
            f"no Bengali font found: looked for {wanted} in {', '.join(map(str, places))} ({origin}, "
            f"font packages tried: {', '.join(FONT_PACKAGES)}). Install Debian's fonts-noto-core, "
            "or set SONOD_FONT_DIR to a folder that holds them."
        )


def _package_dirs() -> list[Path]:
    dirs = []
    for name in FONT_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            dirs.append(Path(spec.origin).parent / "files")
    return dirs


def _register(path: Path) -> str:
    """Register a TrueType file once per process, under a name of its own path."""
    name = f"Sonod-{path.stem}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(PlannedFont(name, str(path)))
    return name


def font_set(fonts: Fonts | None = None) -> L.FontSet:
    """The fonts registered with reportlab, as the layout's paragraphs name them (`Fonts.locate()` by default)."""
    fonts = fonts or Fonts.locate()
    bn = _register(fonts.bengali)
    return L.FontSet(
        bn=bn,
        bn_bold=_register(fonts.bengali_bold),
        latin=_register(fonts.latin) if fonts.latin else "Times-Roman",
        latin_bold=_register(fonts.latin_bold) if fonts.latin_bold else "Times-Bold",
        bn_chars=frozenset(pdfmetrics.getFont(bn).face.charToGlyph),
    )


@lru_cache(maxsize=8)
def _glyph_plan(fonts: L.FontSet, language: str) -> GlyphPlan:
    """The plan of the templates' glyphs in one language (see `activities.templates.glyphs`): every type's sample
    document, and every demo union's masthead."""
    texts = [CAPTION, seal_text(SealView(signer_bn="ইউনিয়ন পরিষদ", signer_en="Union Parishad",
                                         signed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)), language)]
    for code in BY_CODE:
        texts += _body_texts(compose(sample_document(code, language)))  # type: ignore[arg-type]
    for u in GOPALGANJ_SADAR:
        union = UnionView(slug=u.slug, name_bn=u.name_bn, name_en=u.name_en, upazila_bn=u.upazila_bn,
                          upazila_en=u.upazila_en, district_bn=u.district_bn, district_en=u.district_en)
        texts += [text for text, _ in masthead(union, language)]
    planned = {name for name in (fonts.bn, fonts.bn_bold, fonts.latin, fonts.latin_bold)
               if isinstance(pdfmetrics.getFont(name), PlannedFont)}
    words = [(face, word) for text in dict.fromkeys(texts) for face, piece in L.font_runs(text, fonts, language)[0]
             if face in planned for word in piece.split()]
    return GlyphPlan.build(words)


def _body_texts(body: Body) -> list[str]:
    """Every text of a certificate's body that the renderer sets as a paragraph."""
    texts = [body.title, body.certificate_no, body.memo, body.dates, body.continued, body.page.format(n=2)]
    for block in body.blocks:
        if isinstance(block, Para):
            texts.append(block.text)
        elif isinstance(block, Grid):
            texts += [*block.header, *(cell for row in block.rows for cell in row)]
    return texts + [text for s in body.signatures for text in (s.note, s.details) if text]


# --- the renderer ------------------------------------------------------------------------------

# reportlab keeps per-document state on its shared font objects, and settings in globals: one render at a time
_REPORTLAB = threading.Lock()


@contextmanager
def reportlab_turn() -> Iterator[None]:
    """This thread's turn to draw a PDF (see `_REPORTLAB`), with binary streams: ASCII85 in pure Python is slow."""
    with _REPORTLAB:
        a85, rl_config.useA85 = rl_config.useA85, 0
        try:
            yield
        finally:
            rl_config.useA85 = a85


def fill_page(canv: Canvas, story: list, top: float = L.HEADER_BOTTOM) -> bool:
    """Draw as much of `story` as fits in the frame under the masthead (or up to `top`), splitting a table; False
    when nothing fitted."""
    frame = Frame(L.MARGIN_X, L.FRAME_BOTTOM, L.FRAME_W, top - L.FRAME_BOTTOM, 0, 0, 0, 0)
    placed = False
    while story:
        if frame.add(story[0], canv, trySplit=0):
            story.pop(0)
            placed = True
            continue
        parts = frame.split(story[0], canv)
        if parts and frame.add(parts[0], canv, trySplit=0):
            story[0:1] = parts[1:]
            placed = True
        break
    return placed


def grid_table(grid: Grid, st: L.Styles, para: Callable[[str, ParagraphStyle, str], L.TextPara], base: str) -> L.Table:
    """A template's table as a ruled table of paragraphs, made by `para(text, style, base language)`."""
    align = {"L": st.cell, "C": st.cell_center, "R": st.cell_right}
    header = [para(f"**{h}**", st.cell_center, base) for h in grid.header]
    rows = [[para(v, align[a], base) for v, a in zip(row, grid.align, strict=True)] for row in grid.rows]
    return L.grid(header, rows, list(grid.widths), total=grid.total)


def store_pdf(pdf_dir: Path, ref: str, pdf: bytes) -> None:
    """Write a PDF at `ref` under the PDF store whole or not at all: a reader never sees half a file."""
    path = pdf_dir / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(pdf)
    os.replace(tmp, path)


def describe_pdf(canv: Canvas, *, title: str, author: str, subject: str, keywords: list[str],
                 at: dt.datetime) -> None:
    """A PDF's metadata, dated `at` in Bangladesh time; never a person's NID."""
    canv.setTitle(title)
    canv.setAuthor(author)
    canv.setSubject(subject)
    canv.setKeywords(", ".join(keywords))
    canv.setCreator("sonod")
    stamp = f"D:{local(at):%Y%m%d%H%M%S}+06'00'"
    canv.setDateFormatter(lambda *_: stamp)


class CertificateRenderer:
    def __init__(self, fonts: Fonts | None = None) -> None:
        self.fonts = font_set(fonts)
        self.styles = L.Styles(self.fonts)
        with _REPORTLAB:  # shaping the templates' text adds the fonts' ligature glyphs
            self.plans = {language: _glyph_plan(self.fonts, language) for language in ("bn", "en")}
        self._caption = L.TextPara(CAPTION, self.styles.caption, self.fonts)
        self._masthead = lru_cache(maxsize=256)(self._build_masthead)
        # paragraphs recur across certificates (labels, wording, officers): keep them shaped and wrapped
        self._para = lru_cache(maxsize=512)(self._build_para)

    def render(self, doc: CertificateDocument) -> bytes:
        return self.render_with_seal(doc)[0]

    def render_with_seal(self, doc: CertificateDocument) -> tuple[bytes, SealBox | None]:
        """The PDF, and where its seal's block is (None when `doc.seal` is None)."""
        body, qr = compose(doc), qr_matrix(doc.qr_text)
        with reportlab_turn():
            return self._render(doc, body, qr)

    def _render(self, doc: CertificateDocument, body: Body, qr: list[list[bool]]) -> tuple[bytes, SealBox | None]:
        buf = io.BytesIO()
        canv = Canvas(buf, pagesize=(L.PAGE_W, L.PAGE_H), invariant=1, pageCompression=1, initialFontName=self.fonts.bn)
        plan = self.plans[doc.language]
        plan.seed(canv._doc)
        canv.glyph_plan = plan  # lets `L.TextPara` replay what it drew in another certificate
        self._describe(canv, doc)
        canv.beginForm("masthead")
        self._masthead(doc.union, doc.language).draw(canv)
        canv.endForm()
        story = self._story(body, qr)
        if doc.seal is not None:
            story[-1].seal = self._para(seal_text(doc.seal, doc.language), self.styles.seal, doc.language)
        band, page = story[-1], 0
        while story:
            page += 1
            canv.doForm("masthead")
            if not fill_page(canv, story):
                raise RuntimeError(f"{story[0]!r} does not fit on an empty page")
            self._footer(canv, body, page, last=not story)
            canv.showPage()
        canv.save()
        return buf.getvalue(), None if band.seal_box is None else SealBox(page - 1, band.seal_box)

    def _build_masthead(self, union: UnionView, language: str) -> L.Masthead:
        lines = [(text, getattr(self.styles, style)) for text, style in masthead(union, language)]
        return L.Masthead.build(lines, self.fonts, language)

    def _build_para(self, text: str, style, base: str) -> L.TextPara:
        return L.TextPara(text, style, self.fonts, base)

    def _story(self, body: Body, qr: list[list[bool]]) -> list:
        st, base = self.styles, body.language
        story = [
            L.MetaRow(self._para(body.memo, st.meta, base), self._para(body.dates, st.meta_right, base)),
            Spacer(1, 4),
            L.TitleBox(self._para(body.title, st.title, base)),
            self._para(body.certificate_no, st.cert_no, base),
            Spacer(1, 8),
        ]
        for block in body.blocks:
            if isinstance(block, Para):
                story.append(self._para(block.text, st.body, base))
            elif isinstance(block, Grid):
                story += [self._grid(block, base), Spacer(1, 8)]
        lead = [story.pop()] if isinstance(story[-1], L.TextPara) else []
        signatures = [
            (self._para(s.note, st.signature, base) if s.note else None, self._para(s.details, st.signature, base))
            for s in body.signatures
        ]
        story.append(L.ClosingBand(lead, qr, self._caption, signatures))
        return story

    def _grid(self, grid: Grid, base: str) -> L.Table:
        return grid_table(grid, self.styles, self._para, base)

    def _footer(self, canv: Canvas, body: Body, page: int, last: bool) -> None:
        if page == 1 and last:
            return
        text = body.page.format(n=page) if page > 1 else ""
        if not last:
            text = f"{text} · {body.continued}" if text else body.continued
        p = self._para(text, self.styles.footer, body.language)
        p.wrap(L.FRAME_W, 40)
        p.drawOn(canv, L.MARGIN_X, 29)

    def _describe(self, canv: Canvas, doc: CertificateDocument) -> None:
        """The PDF's metadata: type, number, union, issue time; never the holder's NID."""
        ctype, union = BY_CODE[doc.certificate_type], doc.union
        bn = doc.language == "bn"
        describe_pdf(canv, title=f"{ctype.name_bn if bn else ctype.name_en} {doc.certificate_no}",
                     author=f"{union.name_bn} ইউনিয়ন পরিষদ" if bn else f"{union.name_en} Union Parishad",
                     subject=f"{ctype.name_en} {doc.certificate_no}, {union.name_en} Union Parishad, "
                             f"{union.upazila_en}, {union.district_en}",
                     keywords=[doc.certificate_no, doc.memo_no, union.slug, doc.certificate_type, "sonod"],
                     at=doc.issued_at)


# --- many certificates in one PDF, for printing ---------------------------------------------------

# what a certificate's page draws below the masthead: the flow frame and the footer (drawn from y = 29)
CONTENT_BOX = (L.MARGIN_X, 20.0, L.PAGE_W - L.MARGIN_X, L.HEADER_BOTTOM)
COVER_FRAME = (L.MARGIN_X, L.FRAME_BOTTOM, L.FRAME_W, L.PAGE_H - 40.0 - L.FRAME_BOTTOM)  # x, y, width, height


@dataclass(frozen=True)
class Fit:
    """How a certificate's page goes into the room a letterhead leaves: shrunk only to its width (so that the QR
    keeps its size unless the sheet is narrow), centred across, its flow frame as tall as the room (a certificate
    that no longer fits runs on to another page)."""

    scale: float
    dx: float
    dy: float
    top: float  # the flow frame's top, in the page's own coordinates

    @classmethod
    def into(cls, box: tuple[float, float, float, float]) -> Fit:
        sx1, sy1, sx2, _ = CONTENT_BOX
        x1, y1, x2, y2 = box
        scale = min(1.0, (x2 - x1) / (sx2 - sx1))
        return cls(scale, x1 + ((x2 - x1) - (sx2 - sx1) * scale) / 2 - sx1 * scale, y1 - sy1 * scale,
                   sy1 + (y2 - y1) / scale)


class PrintRun:
    """Certificates one after another in one PDF, for a union office's printer (activities/printing.py): the fonts
    and each union's masthead once for the whole file, every certificate from a new page, after a cover of pages
    drawn by `cover`. On a pre-printed letterhead (`letterhead`: the box its margins leave, in points) no masthead
    is drawn and each page's content is fitted into that box. The file is not itself signed: each certificate's
    QR is the one its signed PDF carries."""

    def __init__(self, renderer: CertificateRenderer, *, title: str, author: str, at: dt.datetime,
                 letterhead: tuple[float, float, float, float] | None = None) -> None:
        self.renderer, self.fit = renderer, Fit.into(letterhead) if letterhead else None
        self.buf = io.BytesIO()
        self.canv = Canvas(self.buf, pagesize=(L.PAGE_W, L.PAGE_H), invariant=1, pageCompression=1,
                           initialFontName=renderer.fonts.bn)
        plan = renderer.plans["bn"]
        plan.seed(self.canv._doc)
        self.canv.glyph_plan = plan
        describe_pdf(self.canv, title=title, author=author, subject=title, keywords=["sonod", "print"], at=at)
        self.mastheads: set[tuple[str, str]] = set()
        self.pages = 0

    def cover(self, story: list) -> None:
        """Pages of `story` in the whole page's frame (the batch's list of certificates)."""
        with reportlab_turn():
            while story:
                placed = Frame(*COVER_FRAME, 0, 0, 0, 0)
                progressed = False
                while story:
                    if placed.add(story[0], self.canv, trySplit=0):
                        story.pop(0)
                        progressed = True
                        continue
                    parts = placed.split(story[0], self.canv)
                    if parts and placed.add(parts[0], self.canv, trySplit=0):
                        story[0:1] = parts[1:]
                        progressed = True
                    break
                if not progressed:
                    raise RuntimeError(f"{story[0]!r} does not fit on an empty page")
                self.canv.showPage()
                self.pages += 1

    def add(self, doc: CertificateDocument) -> None:
        if doc.language != "bn":
            raise ValueError("a print run holds Bengali certificates (its glyph plan is the Bengali one)")
        r = self.renderer
        body, qr = compose(doc), qr_matrix(doc.qr_text)
        with reportlab_turn():
            story, page = r._story(body, qr), 0
            form = f"masthead-{doc.union.slug}-{doc.language}"
            if self.fit is None and (doc.union.slug, doc.language) not in self.mastheads:
                self.canv.beginForm(form)
                r._masthead(doc.union, doc.language).draw(self.canv)
                self.canv.endForm()
                self.mastheads.add((doc.union.slug, doc.language))
            while story:
                page += 1
                self.canv.saveState()
                if self.fit is None:
                    self.canv.doForm(form)
                else:
                    self.canv.translate(self.fit.dx, self.fit.dy)
                    self.canv.scale(self.fit.scale, self.fit.scale)
                if not fill_page(self.canv, story, self.fit.top if self.fit else L.HEADER_BOTTOM):
                    raise RuntimeError(f"{story[0]!r} does not fit on an empty page")
                r._footer(self.canv, body, page, last=not story)
                self.canv.restoreState()
                self.canv.showPage()
                self.pages += 1

    def finish(self) -> bytes:
        with reportlab_turn():
            self.canv.save()
        return self.buf.getvalue()


# --- samples -----------------------------------------------------------------------------------


def sample_document(type_code: str, language: Literal["bn", "en"] = "bn", *, heirs: int = 5,
                    claims: tuple[str, ...] = ()) -> CertificateDocument:
    """A realistic document of any catalogue type, for tests and the benchmark."""
    ctype = BY_CODE[type_code]
    details = dict(samples.DETAILS.get(type_code, ctype.sample))
    if type_code == "warish":
        details["heirs"] = samples.warish_heirs(heirs)
    issued = dt.datetime(2026, 11, 28, 4, 30, tzinfo=dt.UTC)
    signatories = [
        Signatory(role=role, name_bn=n_bn, name_en=n_en, title_bn=t_bn, title_en=t_en,
                  signed_at=issued - dt.timedelta(hours=2 * (len(ctype.chain) - i)))
        for i, role in enumerate(ctype.chain)
        for n_bn, n_en, t_bn, t_en in [samples.SIGNATORIES[role.value]]
    ]
    number = f"PKK-2026-{1000 + samples.sample_no(type_code):06d}"
    return CertificateDocument(
        certificate_no=number,
        memo_no=f"46.35.3283.000.{samples.sample_no(type_code):02d}.2026",
        certificate_type=type_code,
        union=UnionView(slug="paikkandi", name_bn="পাইককান্দি", name_en="Paikkandi", upazila_bn="গোপালগঞ্জ সদর",
                        upazila_en="Gopalganj Sadar", district_bn="গোপালগঞ্জ", district_en="Gopalganj"),
        holder=Holder.model_validate(samples.HOLDER | {c: samples.CLAIMS[c] for c in claims}),
        claims=list(claims),
        details=details,
        fee_lines=[FeeLineView(code=f.code, name_bn=f.name_bn, name_en=f.name_en, amount=f.amount)
                   for f in ctype.fee_lines],
        issued_at=issued,
        expires_on=valid.last_day if (valid := validity(issued, ctype.valid_days)) else None,
        signatories=signatories,
        qr_text=samples.qr_payload(number),
        language=language,
    )
