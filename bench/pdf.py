"""How long a certificate PDF takes to render, per type and language.

Each timed render gets a document of its own (another holder, number and QR payload), so caches help
only with what is really static. The baseline, in the same run, is a bare reportlab page with one
shaped Bengali Paragraph in the same font file, registered as reportlab's plain `TTFont` (sonod's fonts keep
a glyph plan, see activities/templates/glyphs.py); `qr_matrix` is timed alone too, as it is part of every render.

    .venv/bin/python bench/pdf.py [--quick] [-n N]

Then what signing the PDF (PAdES, activities/pades.py) adds to a render, in the same run (bench/signing.py;
`--no-sign` leaves it out), and what a certificate costs in a print batch of 500 against the single render, in the
same run (bench/printing.py; `--batch N` for another size, `--batch 0` leaves it out). Prints a table, then one JSON
object on the last line.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from activities.render import CertificateDocument, CertificateRenderer, Fonts, sample_document
from activities.templates.samples import qr_payload
from bench.printing import batch_cost
from bench.printing import report as batch_report
from bench.signing import report as signing_report
from bench.signing import signing_cost
from sonod.catalogue import CATALOGUE
from sonod.qr import qr_matrix

GOAL_MS = 15.0
NAMES = ["মোঃ আব্দুর রহিম", "মোছাঃ কৃষ্ণা ক্ষেত্রী", "শ্রী প্রদীপ কুমার বিশ্বাস", "মোছাঃ সুমাইয়া আক্তার",
         "মোঃ তৌহিদুল ইসলাম খান", "অনন্যা সরকার", "মোঃ ইকবাল হোসেন মোল্লা", "রত্না রানী মণ্ডল"]


def variant(doc: CertificateDocument, i: int) -> CertificateDocument:
    number = f"{doc.certificate_no}-{i:05d}"
    holder = doc.holder.model_copy(update={"name_bn": f"{NAMES[i % len(NAMES)]} {i}", "name_en": f"Person {i}"})
    return doc.model_copy(update={"certificate_no": number, "qr_text": qr_payload(number), "holder": holder})


def timed(fn, n: int, warmup: int) -> list[float]:
    for i in range(warmup):
        fn(-1 - i)
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def alternated(fn, bare, n: int, warmup: int) -> tuple[list[float], list[float], list[float]]:
    """`fn` timed in turn with the bare page, so that both see the same load on a shared machine:
    (wall ms of fn, CPU ms of fn, wall ms of the bare page)."""
    for i in range(warmup):
        bare()
        fn(-1 - i)
    wall, cpu, base = [], [], []
    for i in range(n):
        t = time.perf_counter()
        bare()
        t0, c0 = time.perf_counter(), time.process_time()
        fn(i)
        t1, c1 = time.perf_counter(), time.process_time()
        base.append((t0 - t) * 1000)
        wall.append((t1 - t0) * 1000)
        cpu.append((c1 - c0) * 1000)
    return wall, cpu, base


def bare_font() -> str:
    """The renderer's Bengali font file as a plain reportlab `TTFont` with its default settings, of its own:
    `registerFont` would hand back the renderer's font of the same face, with sonod's caches."""
    path = Fonts.locate().bengali
    name = f"Bare-{path.stem}"
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics._fonts[name] = TTFont(name, str(path))
        pdfmetrics.registerFontFamily(name)
    return name


def bare_page(font: str) -> bytes:
    style = ParagraphStyle("bare", fontName=font, fontSize=12.5, leading=21, shaping=1)
    buf = io.BytesIO()
    canv = Canvas(buf, invariant=1)
    p = Paragraph("এই মর্মে প্রত্যয়ন করা যাচ্ছে যে, মোছাঃ কৃষ্ণা ক্ষেত্রী অত্র ইউনিয়নের একজন স্থায়ী বাসিন্দা।", style)
    p.wrap(495, 700)
    p.drawOn(canv, 50, 700)
    canv.showPage()
    canv.save()
    return buf.getvalue()


def pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer renders: done in well under a minute")
    ap.add_argument("-n", type=int, default=None, help="timed renders per type and language")
    ap.add_argument("--no-sign", action="store_true", help="leave out the signing cost (bench/signing.py)")
    ap.add_argument("--batch", type=int, default=500, metavar="N",
                    help="certificates in the print batch timed (bench/printing.py); 0 leaves it out")
    args = ap.parse_args()
    n = args.n or (12 if args.quick else 60)
    warmup = 3 if args.quick else 8

    t0 = time.perf_counter()
    renderer = CertificateRenderer()
    init_ms = (time.perf_counter() - t0) * 1000
    font = bare_font()
    bare = statistics.median(timed(lambda i: bare_page(font), n, warmup))
    payloads = {i: qr_payload(f"bench-{i}") for i in range(-warmup, n)}
    qr_ms = statistics.median(timed(lambda i: qr_matrix(payloads[i]), n, warmup))

    rows, results = [], {}
    cases = [(t.code, lang, 5) for t in CATALOGUE for lang in ("bn", "en")] + [("warish", "bn", 40)]
    for code, lang, heirs in cases:
        base = sample_document(code, lang, heirs=heirs)
        docs = {i: variant(base, i) for i in range(-warmup, n)}
        last = {}

        def render(i: int) -> None:
            last["pdf"] = renderer.render(docs[i])  # noqa: B023 - called within this iteration only

        wall, cpu, base = alternated(render, lambda: bare_page(font), n, warmup)
        ms, cpu_ms, bare_ms = map(statistics.median, (wall, cpu, base))
        label = code if heirs == 5 else f"{code}[{heirs} heirs]"
        npages = pages(last["pdf"])
        rows.append((label, lang, npages, ms, ms / npages, cpu_ms / npages, bare_ms, ms / npages / bare_ms,
                     len(last["pdf"])))
        results[f"{label}/{lang}"] = {"ms": round(ms, 2), "pages": npages, "ms_per_page": round(ms / npages, 2),
                                      "cpu_ms_per_page": round(cpu_ms / npages, 2), "bare_ms": round(bare_ms, 2),
                                      "ratio_to_bare": round(ms / npages / bare_ms, 2)}

    print(f"renderer init (fonts, styles, glyph plans): {init_ms:.0f} ms; bare reportlab page with one Paragraph: "
          f"{bare:.2f} ms alone, and timed in turn with each type's renders (bare ms, x bare); qr_matrix alone: "
          f"{qr_ms:.2f} ms; median of {n} renders after {warmup} warm-up")
    print(f"{'type':26} {'lang':4} {'pages':>5} {'ms':>8} {'ms/page':>8} {'cpu/page':>8} {'bare ms':>7} {'x bare':>6} "
          f"{'bytes':>8}")
    for label, lang, npages, ms, per_page, cpu_page, bare_ms, ratio, size in rows:
        print(f"{label:26} {lang:4} {npages:5d} {ms:8.2f} {per_page:8.2f} {cpu_page:8.2f} {bare_ms:7.2f} {ratio:6.1f} "
              f"{size:8d}")
    per_page = [r[4] for r in rows]
    summary = {
        "bench": "pdf", "n": n, "warmup": warmup, "goal_ms_per_page": GOAL_MS,
        "bare_page_ms": round(bare, 2), "qr_matrix_ms": round(qr_ms, 2), "init_ms": round(init_ms, 1),
        "median_ms_per_page": round(statistics.median(per_page), 2), "max_ms_per_page": round(max(per_page), 2),
        "median_cpu_ms_per_page": round(statistics.median(r[5] for r in rows), 2),
        "max_cpu_ms_per_page": round(max(r[5] for r in rows), 2),
        "median_ratio_to_bare": round(statistics.median(r[7] for r in rows), 2),
        "max_ratio_to_bare": round(max(r[7] for r in rows), 2),
        "median_ms_per_page_without_qr": round(statistics.median(per_page) - qr_ms, 2),
        "meets_goal": max(per_page) <= GOAL_MS, "types": results,
    }
    print(f"median {summary['median_ms_per_page']} ms/page (goal {GOAL_MS}), worst {summary['max_ms_per_page']}; "
          f"CPU median {summary['median_cpu_ms_per_page']}, worst {summary['max_cpu_ms_per_page']}; "
          f"{summary['median_ratio_to_bare']}x the bare page (worst {summary['max_ratio_to_bare']}x); "
          f"QR encoding is {qr_ms:.1f} ms of each")
    if not args.no_sign:  # bench/signing.py: the PDF's own signature beside the render, in the same run
        summary["signing"] = signing_cost(renderer, variant, n, warmup)
        print(signing_report(summary["signing"]))
    if args.batch:  # bench/printing.py: a certificate in a union office's print batch, beside the single render
        summary["print_batch"] = batch_cost(renderer, variant, args.batch, 1 if args.quick else 3)
        print(batch_report(summary["print_batch"]))
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
