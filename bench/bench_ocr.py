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

4. `--split`: the development set beside the report-only set (bench/ocr_sets.py: the split of
   issue 19), every recogniser side by side on the same pages in the same run: raw
   Tesseract with each model (Debian `vie` fast; `vie_best_int`, the 4.0.0_best_int model of
   npm @tesseract.js-data/vie; Debian's `Vietnamese` script model; combinations) and the
   sohoa pipeline (preprocessing, second pass, Vietnamese correction). Per set and reader:
   word recall, word precision, CER, CER without diacritics (the rest are diacritic errors),
   seconds per page (one process per page, 2 at a time), and for the corrector the words it
   turned right→wrong and wrong→right. Development pages are corrected with a model built
   without their own document. Models missing from `--tessdata` are skipped with a note.
   Development pages also get a CER against their text in reading order (the PDF's content
   order: header and footer blocks whole), and `--generated N` generated signed decisions
   (bench/ocr_sets.generated_pages, truth in reading order) are a development set of their own.

       nice .venv/bin/python bench/bench_ocr.py --split [--engines vie,vie_best_int,sohoa]
           [--tessdata var/tessdata] [--limit N] [--json]

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


# --- 4. development vs report only, recognisers side by side --------------------------------------

ENGINES = ("vie", "vie_best_int", "Vietnamese", "vie_best_int+Vietnamese", "sohoa")
SOHOA_PREFIX = "sohoa"


def _engine_text(job: tuple[str, str, str | None, str | None]) -> tuple[str, str | None, float]:
    """(text, corrected text or None, seconds) of one page read by one engine."""
    import time

    engine, path, tessdata, model_path = job
    started = time.perf_counter()
    if engine.startswith(SOHOA_PREFIX):
        text, fixed = _sohoa_read(path, engine, tessdata, model_path)
        return text, fixed, time.perf_counter() - started
    cmd = ["tesseract", path, "stdout", "-l", engine]
    if tessdata:
        cmd[1:1] = ["--tessdata-dir", tessdata]
    done = subprocess.run(cmd, capture_output=True, env=_ENV, check=True)
    return done.stdout.decode("utf-8"), None, time.perf_counter() - started


def _sohoa_read(
    path: str, engine: str, tessdata: str | None, model_path: str | None
) -> tuple[str, str]:
    from pipeline.stages.ocr.recognise import read_page
    from pipeline.stages.vietnamese.correction import correct_page

    page = read_page(Path(path), "image/png", 0, sohoa_params(engine, tessdata), _limits())
    return page.text, correct_page(page, _model(model_path)).text


def sohoa_params(engine: str, tessdata: str | None):
    """OcrParams of an engine name "sohoa[:LANG[:key=value...]]"; keys of PreprocessParams
    take a "pp." prefix ("sohoa::second_pass=0:pp.denoise=off")."""
    from dataclasses import fields, replace

    from pipeline.stages.ocr.recognise import OcrParams

    _, _, rest = engine.partition(":")
    lang, *pairs = rest.split(":") if rest else [""]
    params = OcrParams(lang=lang or "vie", tessdata=tessdata if lang not in ("", "vie") else None)
    for pair in pairs:
        key, _, value = pair.partition("=")
        target = params.preprocess if key.startswith("pp.") else params
        kind = {f.name: f.type for f in fields(target)}[key.removeprefix("pp.")]
        casts = {"bool": lambda v: v not in ("0", "false", "False"), "float": float, "int": int}
        typed = casts.get(str(kind), str)(value)
        if key.startswith("pp."):
            params = replace(params, preprocess=replace(params.preprocess, **{key[3:]: typed}))
        else:
            params = replace(params, **{key: typed})
    return params


@__import__("functools").cache
def _model(path: str | None):
    from pipeline.stages.vietnamese.model import load_model, read_model

    return load_model() if path is None else read_model(Path(path))


def _available(engine: str, tessdata: str | None) -> bool:
    if engine.startswith(SOHOA_PREFIX):
        langs = engine.split(":")[1] if ":" in engine else ""
    else:
        langs = engine
    if not langs:
        return True
    cmd = ["tesseract", "--list-langs"] + (["--tessdata-dir", tessdata] if tessdata else [])
    have = subprocess.run(cmd, capture_output=True, text=True).stdout.split()
    return all(lang in have for lang in langs.split("+"))


def bench_split(
    folder: Path,
    engines: list[str],
    tessdata: str | None,
    limit: int | None,
    dev_only: bool,
    generated: int = 6,
):
    from bench.ocr_sets import (
        DEV_LABEL,
        GEN_LABEL,
        REPORT_LABEL,
        development_pages,
        generated_pages,
        report_only_pages,
    )
    from pipeline.stages.vietnamese.lexicon import build

    pages = development_pages(folder, limit) + generated_pages(folder, generated)
    pages += [] if dev_only else report_only_pages()
    models: dict[str | None, str | None] = {None: None}
    for page in pages:
        if page.exclude not in models:
            out = folder / f"model-{len(models)}"
            models[page.exclude] = str(build.build(out, [page.exclude]))
    rows: list[dict] = []
    for engine in engines:
        dirs = tessdata if ("best_int" in engine or engine.startswith(SOHOA_PREFIX)) else None
        if not _available(engine, dirs):
            log(f"split: {engine} is not installed (tessdata {dirs}), skipped")
            continue
        jobs = [(engine, str(p.image), dirs, models[p.exclude]) for p in pages]
        try:
            with ProcessPoolExecutor(WORKERS) as pool:
                results = list(pool.map(_engine_text, jobs))
        except Exception as e:  # one engine's failure is reported, the others still run
            log(f"split: {engine} failed: {type(e).__name__}: {e}")
            continue
        for label in (DEV_LABEL, GEN_LABEL, REPORT_LABEL):
            picks = [i for i, p in enumerate(pages) if p.set == label]
            if picks:
                rows += _split_rows(
                    engine, label, [pages[i] for i in picks], [results[i] for i in picks]
                )
    return rows


def _split_rows(engine: str, label: str, pages: list, results: list) -> list[dict]:
    from bench.textmetrics import corrections, folded_cer, word_precision

    truths = [p.truth for p in pages]
    readings = [("raw" if results[0][1] is None else "read", [r[0] for r in results])]
    if results[0][1] is not None:
        readings.append(("corrected", [r[1] for r in results]))
    seconds = statistics.mean(r[2] for r in results)
    rows = []
    for how, texts in readings:
        name = engine if how == "raw" else f"{engine} ({how})"

        def mean(metric, texts=texts):
            return statistics.mean(metric(t, g) for t, g in zip(texts, truths, strict=True))

        c, f = mean(cer), mean(folded_cer)
        note = (
            f"{label}: {len(pages)} pages; CER {c:.3f} = {f:.3f} letters + {c - f:.3f} diacritics"
        )
        rows.append(
            row(f"[{label}] {name}: word recall", "share", mean(word_recall), None, note=note)
        )
        rows.append(row(f"[{label}] {name}: word precision", "share", mean(word_precision), None))
        rows.append(row(f"[{label}] {name}: CER", "share", c, None))
        if any(p.reading and p.reading != p.truth for p in pages):
            ordered = [p.reading or p.truth for p in pages]
            in_order = statistics.mean(cer(t, g) for t, g in zip(texts, ordered, strict=True))
            rows.append(row(f"[{label}] {name}: CER (reading order)", "share", in_order, None))
        rows.append(row(f"[{label}] {name}: CER without diacritics", "share", f, None))
        rows.append(row(f"[{label}] {name}: seconds/page", "s", seconds, None))
    if len(readings) == 2:
        moves = [corrections(r[0], r[1], p.truth) for r, p in zip(results, pages, strict=True)]
        good, bad, changed = (sum(m[i] for m in moves) for i in range(3))
        rows.append(
            row(
                f"[{label}] {engine}: corrector right→wrong",
                "words",
                bad,
                None,
                note=f"wrong→right {good}, words changed {changed}",
            )
        )
    for p, r in zip(pages, results, strict=True):
        text = r[1] or r[0]
        log(
            f"  [{label}] {engine} {p.name}: recall {word_recall(text, p.truth):.3f}, "
            f"precision {word_precision_of(text, p.truth):.3f}, CER {cer(text, p.truth):.3f}"
            + (f", in reading order {cer(text, p.reading):.3f}" if p.reading else "")
        )
    return rows


def word_precision_of(text: str, truth: str) -> float:
    from bench.textmetrics import word_precision

    return word_precision(text, truth)


def _marks_page(job: tuple[int, bool]) -> tuple[float, float, list]:
    from bench.ocr_sets import damage
    from bench.textmetrics import word_precision
    from pipeline.stages.ocr.recognise import OcrParams, ocr_image
    from tests.factories.degrade import add_marks, page_text, render_page

    seed, suppress = job
    image, _ = damage(add_marks(render_page(dpi=300, seed=seed), seed), "scanner", seed)
    page, _ = ocr_image(image, OcrParams(suppress_marks=suppress), dpi=300)
    truth = page_text(seed)
    regions = page.params.get("suppressed", [])
    return word_recall(page.text, truth), word_precision(page.text, truth), regions


def bench_marks(seeds: int) -> list[dict]:
    """Generated signed pages (tests/degrade.add_marks: seal, stamp, signature, logo, rules;
    scanner damage): word precision and recall with and without mark suppression."""
    jobs = [(seed, on) for on in (False, True) for seed in range(200, 200 + seeds)]
    with ProcessPoolExecutor(WORKERS) as pool:
        out = list(pool.map(_marks_page, jobs))
    off, on = out[:seeds], out[seeds:]
    kinds: dict[str, int] = {}
    for _, _, regions in on:
        for r in regions:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    note = f"{seeds} generated signed pages; regions suppressed: {kinds}"
    return [
        row(
            "[generated marks] word precision",
            "share",
            statistics.mean(o[1] for o in on),
            statistics.mean(o[1] for o in off),
            note=note + "; baseline = suppression off",
        ),
        row(
            "[generated marks] word recall",
            "share",
            statistics.mean(o[0] for o in on),
            statistics.mean(o[0] for o in off),
        ),
    ]


BEST_INT_URL = "https://registry.npmjs.org/@tesseract.js-data/vie/-/vie-1.0.0.tgz"
BEST_INT_TGZ_SHA256 = "4f0a17b39722269c1c5e5f10d7aa3acd9a74fe46b109621973450caa4d9fe19f"
BEST_INT_SHA256 = "112f6fd1d04ab4cb0208cad9cada8de214ae33a1e4db3750ffcda69262aef0a8"


def install_best_int(tessdata: Path) -> Path:
    """`vie_best_int.traineddata` (Tesseract's 4.0.0_best_int Vietnamese model, as npm's
    @tesseract.js-data/vie 1.0.0 ships it: package MIT, model Apache-2.0) in `tessdata`, package and
    model checked by sha256; nothing is fetched when it is already there."""
    import gzip
    import hashlib
    import io
    import tarfile
    import urllib.request

    target = tessdata / "vie_best_int.traineddata"
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == BEST_INT_SHA256:
        log(f"{target} is installed")
        return target
    log(f"fetching {BEST_INT_URL}")
    with urllib.request.urlopen(BEST_INT_URL, timeout=120) as answer:
        package = answer.read()
    if hashlib.sha256(package).hexdigest() != BEST_INT_TGZ_SHA256:
        raise SystemExit(f"{BEST_INT_URL}: sha256 is not the pinned {BEST_INT_TGZ_SHA256}")
    with tarfile.open(fileobj=io.BytesIO(package)) as tar:
        member = tar.extractfile("package/4.0.0_best_int/vie.traineddata.gz")
        model = gzip.decompress(member.read())
    if hashlib.sha256(model).hexdigest() != BEST_INT_SHA256:
        raise SystemExit(f"vie_best_int.traineddata: sha256 is not the pinned {BEST_INT_SHA256}")
    tessdata.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(model)
    partial.replace(target)
    log(f"installed {target}")
    return target


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--pages", type=int, help="pages for the throughput figure (default 40)")
    p.add_argument("--seeds", type=int, help="pages per damage kind (default 3; quick 1)")
    p.add_argument("--skip-speed", action="store_true", help="only the quality figures")
    p.add_argument("--skip-quality", action="store_true", help="only the throughput figure")
    p.add_argument("--split", action="store_true", help="only development vs report only")
    p.add_argument("--engines", default=",".join(ENGINES), help="for --split, comma-separated")
    p.add_argument("--tessdata", help="for --split: folder with vie_best_int.traineddata")
    p.add_argument("--limit", type=int, help="for --split: development pages (default all)")
    p.add_argument("--marks", action="store_true", help="only generated pages with seals etc.")
    p.add_argument("--dev-only", action="store_true", help="for --split: ablations, tuning")
    p.add_argument(
        "--generated", type=int, default=6, help="for --split: generated signed decisions"
    )
    p.add_argument("--check-corpus", action="store_true", help="only the corpus hygiene check")
    p.add_argument("--setup", action="store_true", help="install vie_best_int into var/tessdata")
    args = p.parse_args()
    if args.setup:
        install_best_int(REPO / "var" / "tessdata")
        return []
    if args.check_corpus:
        from bench.ocr_sets import check_corpus

        bad = check_corpus()
        log("corpus holds no report-only phrase" if not bad else "\n".join(bad))
        sys.exit(1 if bad else 0)
    if args.marks:
        rows = bench_marks(args.seeds or 6)
        emit(rows, args.json)
        return rows
    if args.split:
        log(f"bench_ocr --split: {load_average()}")
        with scratch("ocr-split") as folder:
            engines = args.engines.split(",")
            rows = bench_split(
                folder, engines, args.tessdata, args.limit, args.dev_only, args.generated
            )
        emit(rows, args.json)
        return rows
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
