"""The OCR stage against raw Tesseract: throughput, and quality on real and degraded pages.

    .venv/bin/python bench/bench_ocr.py [--pages 40] [--quick] [--json] [--skip-speed]

1. Throughput: `pipeline.stages.ocr.recognise.read_page` in a pool of 2 processes over N generated
   300-dpi A4 PNG pages (tests/factories/degrade.py: Vietnamese administrative text), against the
raw
   `tesseract PAGE OUT -l vie` CLI, 2 processes at a time, OMP_THREAD_LIMIT=1, on the same
   files. Both pools are started (and sohoa's imports done) before the clock starts, as in a
   long-running worker. The ratio is sohoa ÷ raw pages per minute.
2. Quality on the real gov_docs pages (../shared/data/ocr-vie/gov_docs, 200-dpi PNG with
   human-verified ground truth): word recall (bag of words) and CER after NFC and canonical
   tone placement (bench/textmetrics.py), raw `tesseract PAGE stdout -l vie` beside sohoa
   `read_page`, and beside sohoa + `pipeline.stages.vietnamese.correction.correct_page` when that
module
   exists. Also the text layer of the born-digital source PDF of one page, for information.
3. Degraded scans: one generated page per damage kind (skew, uneven light, blur, noise, JPEG,
   rotated 90/180, a seal and signature over the text) and seed, CER of raw Tesseract and of
   sohoa on the same PNG.

Quick mode: 6 pages for throughput, one seed per damage kind.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, Stopwatch, emit, load_average, log, parser, row, scratch
from bench.textmetrics import cer, word_recall

GOV = REPO.parent / "shared" / "data" / "ocr-vie" / "gov_docs"
WORKERS = 2
_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


# --- workers (module level: they run in pool processes) -----------------------------------------


def _warm(_: int = 0) -> str:
    from pipeline.stages.tools.tesseract import tesseract_version

    return tesseract_version()


def _limits():
    from tests.factories.samples import LIMITS

    return LIMITS


def _sohoa_text(path: str, media_type: str = "image/png") -> tuple[str, str | None]:
    """(sohoa's text, the text after Vietnamese correction or None without that module)."""
    from pipeline.stages.ocr.recognise import OcrParams, read_page

    page = read_page(Path(path), media_type, 0, OcrParams(), _limits())
    corrector = _corrector()
    return page.text, corrector(page).text if corrector else None


def _corrector() -> Callable | None:
    try:
        from pipeline.stages.vietnamese.correction import correct_page  # another helper's module
    except ImportError:
        return None
    return correct_page


def _raw_text(path: str) -> str:
    cmd = ["tesseract", path, "stdout", "-l", "vie"]
    done = subprocess.run(cmd, capture_output=True, env=_ENV, check=True)
    return done.stdout.decode("utf-8")


def _raw_file(path: str) -> None:
    """The CLI as a person runs it: image in, .txt out."""
    cmd = ["tesseract", path, str(Path(path).with_suffix("")), "-l", "vie"]
    subprocess.run(cmd, capture_output=True, env=_ENV, check=True)


def _sohoa_page(path: str) -> int:
    from pipeline.stages.ocr.recognise import OcrParams, read_page

    return len(read_page(Path(path), "image/png", 0, OcrParams(), _limits()).words)


# --- 1. throughput ------------------------------------------------------------------------------


def bench_speed(folder: Path, pages: int) -> list[dict]:
    from tests.factories.degrade import render_page

    files = []
    for i in range(pages):
        path = folder / f"page-{i:03d}.png"
        render_page(dpi=300, size="A4", seed=i).save(path, dpi=(300, 300))
        files.append(str(path))
    log(f"throughput: {pages} pages of 300-dpi A4, {WORKERS} workers")
    with ThreadPoolExecutor(WORKERS) as threads, Stopwatch() as before:
        list(threads.map(_raw_file, files))
    with ProcessPoolExecutor(WORKERS) as pool:
        list(pool.map(_warm, range(WORKERS)))  # start the workers, do the imports
        with Stopwatch() as ours:
            words = list(pool.map(_sohoa_page, files))
    with ThreadPoolExecutor(WORKERS) as threads, Stopwatch() as after:
        list(threads.map(_raw_file, files))
    raw_rate, our_rate = 60 * pages / ((before.s + after.s) / 2), 60 * pages / ours.s
    log(f"raw before {60 * pages / before.s:.1f}, after {60 * pages / after.s:.1f} pages/min")
    log(f"raw {raw_rate:.1f} pages/min, sohoa {our_rate:.1f} pages/min, {sum(words)} words")
    return [
        row(
            "OCR stage throughput, 2 workers",
            "pages/min",
            our_rate,
            raw_rate,
            aim="ratio ≥ 0.9",
            note=f"{pages} generated 300-dpi A4 pages; read_page (load, preprocess, one "
            "Tesseract pass with hOCR) in 2 processes vs `tesseract PAGE OUT -l vie`, "
            "2 at a time, OMP_THREAD_LIMIT=1, run before and after sohoa (mean of the two)",
        )
    ]


# --- 2. real pages -------------------------------------------------------------------------------


def bench_gov() -> list[dict]:
    pngs = sorted(GOV.glob("*_p1.png"))
    if not pngs:
        log(f"gov_docs: {GOV} is absent, skipped")
        return []
    truths = [p.with_name(p.name.replace(".png", ".gt.txt")).read_text("utf-8") for p in pngs]
    log(f"gov_docs: {len(pngs)} real pages")
    with ProcessPoolExecutor(WORKERS) as pool:
        raw = list(pool.map(_raw_text, map(str, pngs)))
        ours = list(pool.map(_sohoa_text, map(str, pngs)))
    note = f"{len(pngs)} real 200-dpi pages with ground truth; NFC + canonical tones"
    rows = _quality_rows("gov_docs", [t for t, _ in ours], raw, truths, note)
    corrected = [c for _, c in ours]
    if all(c is not None for c in corrected):
        rows += _quality_rows("gov_docs + correction", corrected, raw, truths, note)
    for name, text, truth in zip(pngs, [t for t, _ in ours], truths, strict=True):
        log(f"  {name.stem}: recall {word_recall(text, truth):.3f}, CER {cer(text, truth):.3f}")
    return rows + _text_layer_rows(truths[pngs.index(GOV / "real_hanoi_qd_2280_water_p1.png")])


def _quality_rows(
    what: str, ours: list[str], raw: list[str], truths: list[str], note: str
) -> list[dict]:
    def mean(metric: Callable, texts: list[str]) -> float:
        return statistics.mean(metric(t, g) for t, g in zip(texts, truths, strict=True))

    return [
        row(
            f"{what}: word recall",
            "share",
            mean(word_recall, ours),
            mean(word_recall, raw),
            aim="sohoa ≥ 0.95",
            note=note,
        ),
        row(f"{what}: CER", "share", mean(cer, ours), mean(cer, raw), aim="ratio ≤ 1.0", note=note),
    ]


def _text_layer_rows(truth: str) -> list[dict]:
    pdf = GOV / "source_full_hanoi_qd_2280_water.pdf"
    if not pdf.exists():
        return []
    text, _ = _sohoa_text(str(pdf), "application/pdf")
    return [
        row(
            "born-digital PDF text layer: word recall",
            "share",
            word_recall(text, truth),
            None,
            note="page 1 of the Hà Nội QĐ 2280 source PDF: its text layer is kept (no OCR)",
        )
    ]


# --- 3. degraded pages ---------------------------------------------------------------------------


def bench_degraded(folder: Path, seeds: int) -> list[dict]:
    from tests.factories.degrade import KINDS, degrade, page_text, render_page

    cases = []
    for kind in KINDS:
        for seed in range(seeds):
            path = folder / f"{kind}-{seed}.png"
            degrade(render_page(dpi=300, seed=100 + seed), kind, seed).save(path, dpi=(300, 300))
            cases.append((kind, str(path), page_text(100 + seed)))
    log(f"degraded: {len(cases)} pages ({', '.join(KINDS)})")
    with ProcessPoolExecutor(WORKERS) as pool:
        raw = list(pool.map(_raw_text, [p for _, p, _ in cases]))
        ours = [t for t, _ in pool.map(_sohoa_text, [p for _, p, _ in cases])]
    rows = []
    for kind in KINDS:
        picks = [i for i, c in enumerate(cases) if c[0] == kind]
        raw_cer = statistics.mean(cer(raw[i], cases[i][2]) for i in picks)
        our_cer = statistics.mean(cer(ours[i], cases[i][2]) for i in picks)
        rows.append(row(f"degraded {kind}: CER", "share", our_cer, raw_cer, note=""))
    all_raw = statistics.mean(r["baseline"] for r in rows)
    all_ours = statistics.mean(r["sohoa"] for r in rows)
    rows.append(
        row(
            "degraded pages: mean CER",
            "share",
            all_ours,
            all_raw,
            aim="ratio ≤ 1.0",
            note=f"{seeds} generated page(s) per kind; raw `tesseract -l vie` on the same PNG",
        )
    )
    return rows


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--pages", type=int, help="pages for the throughput figure (default 40)")
    p.add_argument("--seeds", type=int, help="pages per damage kind (default 3; quick 1)")
    p.add_argument("--skip-speed", action="store_true", help="only the quality figures")
    p.add_argument("--skip-quality", action="store_true", help="only the throughput figure")
    args = p.parse_args()
    pages = args.pages or (6 if args.quick else 40)
    seeds = args.seeds or (1 if args.quick else 3)
    log(f"bench_ocr: {load_average()}")
    rows: list[dict] = []
    with scratch("ocr") as folder:
        if not args.skip_speed:
            rows += bench_speed(folder, pages)
        if not args.skip_quality:
            rows += bench_gov()
            rows += bench_degraded(folder, seeds)
    log(f"bench_ocr done: {load_average()}")
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
