"""Vietnamese correction of OCR text: raw `tesseract -l vie` vs corrected, on real pages.

    .venv/bin/python bench/bench_correction.py [--dev] [--json]

Two sets (bench/ocr_sets.py, issue 19), labelled in every row:

- **report only**: the 3 government pages of ../shared/data/ocr-vie/gov_docs (200 dpi PNG +
  human ground truth), corrected with the shipped model. Nothing is chosen on them; the model
  is never built from them (pipeline/stages/vietnamese/lexicon/corpus/SOURCES.md).
- **development** (`--dev`): the born-digital development pages, drawn and damaged as a
  scanner or phone would (bench/ocr_sets.py), their own text layers as truth, each corrected
  with a model rebuilt *without* its own document, so the figures are held out. The costs and
  margins in `pipeline/stages/vietnamese/correction.py` are to be tuned here only.

Per page and overall: bag-of-words recall and CER after NFC + new-style tone placement
(`bench/textmetrics.py`), raw and corrected, the words the correction turned right→wrong;
plus the correction speed in characters per second (model loaded; loading timed apart).
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, Stopwatch, emit, load_average, log, parser, row, scratch
from bench.textmetrics import cer, word_recall, words
from models.language.text import fold
from pipeline.stages.vietnamese import correction as vietnamese
from pipeline.stages.vietnamese import model as vietnamese_model
from pipeline.stages.vietnamese.lexicon import build

GOV = REPO.parent / "shared" / "data" / "ocr-vie" / "gov_docs"
PAGES = ("real_qd_729_ttg_p1", "real_cv_3722_metro_p1", "real_hanoi_qd_2280_water_p1")
REPORT, DEV = "report only", "development"


def tesseract(image: Path) -> str:
    """Plain `tesseract IMAGE - -l vie`, one thread (as the pipeline runs it)."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out = subprocess.run(
        ["tesseract", str(image), "-", "-l", "vie"], capture_output=True, check=True, env=env
    )
    return out.stdout.decode("utf-8")


def ocr_all(images: list[Path]) -> list[str]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(tesseract, images))


def score_rows(
    label: str, raws: list[str], truths: list[str], names: list[str], model: vietnamese_model.Model
) -> tuple[list[dict], list[str]]:
    """Recall and CER per page and for all pages joined, raw (baseline) vs corrected."""
    fixed = [vietnamese.correct_text(t, model) for t in raws]
    return score_texts(label, raws, fixed, truths, names), fixed


def score_texts(
    label: str, raws: list[str], fixed: list[str], truths: list[str], names: list[str]
) -> list[dict]:
    from bench.textmetrics import corrections

    rows = []
    for name, raw, fix, truth in zip(names, raws, fixed, truths, strict=True):
        rows.append(
            row(
                f"[{label}] {name} word recall",
                "share",
                word_recall(fix, truth),
                word_recall(raw, truth),
            )
        )
        rows.append(row(f"[{label}] {name} CER", "share", cer(fix, truth), cer(raw, truth)))
    raw_all, fix_all, truth_all = "\n".join(raws), "\n".join(fixed), "\n".join(truths)
    rows.append(
        row(
            f"[{label}] all pages word recall",
            "share",
            word_recall(fix_all, truth_all),
            word_recall(raw_all, truth_all),
            note="baseline = raw tesseract -l vie; bag of words, lower case, NFC, new-style tones",
        )
    )
    rows.append(
        row(f"[{label}] all pages CER", "share", cer(fix_all, truth_all), cer(raw_all, truth_all))
    )
    fixed_marks, fixed_other = residual_misses(fixed, truths)
    raw_marks, raw_other = residual_misses(raws, truths)
    rows.append(row(f"[{label}] words missed: diacritics only", "words", fixed_marks, raw_marks))
    rows.append(
        row(
            f"[{label}] words missed: other",
            "words",
            fixed_other,
            raw_other,
            note="absent after folding: layout, reading order, split/merged words, "
            "wrong letters, truth ≠ page",
        )
    )
    moves = [corrections(r, f, t) for r, f, t in zip(raws, fixed, truths, strict=True)]
    rows.append(
        row(
            f"[{label}] corrector right→wrong",
            "words",
            sum(m[1] for m in moves),
            None,
            aim="sohoa ≤ 2",
            note=f"wrong→right {sum(m[0] for m in moves)}, changed {sum(m[2] for m in moves)}",
        )
    )
    return rows


def speed_rows(texts: list[str], model: vietnamese_model.Model) -> list[dict]:
    vietnamese.correct_text(texts[0], model)  # warm
    chars = sum(len(t) for t in texts)
    best = float("inf")
    for _ in range(3):
        with Stopwatch() as t:
            for text in texts:
                vietnamese.correct_text(text, model)
        best = min(best, t.s)
    page = ("\n".join(texts) * 2)[:3000]
    with Stopwatch() as one:
        vietnamese.correct_text(page, model)
    vietnamese_model.load_model.cache_clear()
    with Stopwatch() as load:
        vietnamese_model.load_model()
    return [
        row("correction speed", "chars/s", chars / best, None, note="best of 3, model loaded"),
        row("one 3,000-character page", "ms", one.s * 1000, None, aim="sohoa ≤ 1000"),
        row("model load (once per process)", "ms", load.s * 1000, None),
    ]


def dev_rows(tmp: Path) -> list[dict]:
    """The development pages: OCR, each corrected with a model built without its document."""
    from bench.ocr_sets import development_pages

    pages = development_pages(tmp)
    raws = ocr_all([p.image for p in pages])
    models: dict[str, vietnamese_model.Model] = {}
    fixed = []
    for page, raw in zip(pages, raws, strict=True):
        if page.exclude not in models:
            out = tmp / f"model-{len(models)}"
            models[page.exclude] = vietnamese_model.read_model(build.build(out, [page.exclude]))
        fixed.append(vietnamese.correct_text(raw, models[page.exclude]))
    truths, names = [p.truth for p in pages], [p.name for p in pages]
    return score_texts(DEV, raws, fixed, truths, names)


def residual_misses(fixed: list[str], truths: list[str]) -> tuple[int, int]:
    """Truth words the corrected text still misses: (fixable by marks alone, other).

    A miss counts as a diacritics miss when the reading has an unmatched word that folds to
    the same letters; otherwise the word is absent (reading order, split or merged words,
    wrong letters, or ground truth that differs from the page).
    """
    marks = other = 0
    for fix, truth in zip(fixed, truths, strict=True):
        ref, hyp = Counter(words(truth)), Counter(words(fix))
        spare = Counter(fold(w) for w, n in (hyp - ref).items() for _ in range(n))
        for w, n in (ref - hyp).items():
            for _ in range(n):
                if spare[fold(w)] > 0:
                    spare[fold(w)] -= 1
                    marks += 1
                else:
                    other += 1
    return marks, other


def changed_words(raw: str, fixed: str) -> int:
    """Raw words the correction changed, aligned by difflib (a split "ngày23" is one)."""
    matcher = difflib.SequenceMatcher(a=raw.split(), b=fixed.split(), autojunk=False)
    return sum(i2 - i1 for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal")


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--dev", action="store_true", help="also the development pages (held out)")
    args = p.parse_args()
    if not GOV.is_dir():
        sys.exit(f"no report-only pages at {GOV}")
    log(load_average())
    model = vietnamese_model.load_model()
    log(f"model {model.version}; OCR of {len(PAGES)} pages")
    started = time.perf_counter()
    raws = ocr_all([GOV / f"{name}.png" for name in PAGES])
    log(f"OCR took {time.perf_counter() - started:.1f} s")
    truths = [(GOV / f"{name}.gt.txt").read_text(encoding="utf-8") for name in PAGES]
    rows, fixed = score_rows(REPORT, raws, truths, list(PAGES), model)
    log(f"words changed on report-only pages: {sum(map(changed_words, raws, fixed))}")
    if args.dev:
        with scratch("correction") as tmp:
            rows += dev_rows(tmp)
    rows += speed_rows(raws, model)
    emit(rows, args.json)


if __name__ == "__main__":
    main()
