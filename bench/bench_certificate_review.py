"""Certificate review: does a wrong value ever pass as confident, and how much right work is sent
to a person? On generated certificates with known values.

    .venv/bin/python bench/bench_certificate_review.py [--n 3] [--quick] [--json]

1. `--n` certificates of each form (2009–2024, 2025), drawn by tests/factories/certificates.py
   with seeds 3000 + i (the checks' thresholds were chosen on seeds 2000–2003: these were not
   looked at), each read clean and degraded through the pipeline's OCR stage (Tesseract
   `-l vie` and Vietnamese correction), then `extract_certificate` with the capture received
   today; and "confident slips": the clean Tesseract output with an OCR-typical slip injected
   into 8 % of its words (8→6, 3→5, ư→u, a stray "~" …) at the confidence the word was read
   with, then Vietnamese correction as the pipeline runs it: the case a confidence threshold
   cannot see (fault injection on generated pages, like the rest). The
   2025 form's page 1 carries a real QR code naming its serial, parcel, sheet and area
   (tests/factories/certificate_qr.py), decoded with zxing-cpp as the fields job does.
   For each of the 13 fields: is the stored value right (as bench_certificates.py scores it),
   and is the field flagged `needs_review`?
   - wrong values flagged: of the stored values that are not the printed one (None included),
     the share flagged (aim ≥ 0.9);
   - right values left alone: of the stored values that are right, the share not flagged.
   Baseline, measured on the same readings: no checks, a field flagged only when its OCR
   confidence is under 0.7 (`validate.REVIEW_BELOW`) or it was not read, values stored as read.
2. Non-certificate pages (decisions naming a parcel, its area and purpose in prose; clean and
   degraded): fields invented (aim 0).
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Stopwatch, emit, load_average, log, parser, row

FORMS = ("2009-2024", "2025")
CONDITIONS = ("clean", "degraded", "confident slips")
FIRST_SEED = 3000
SLIP_RATE = 0.08
"""Share of words given one OCR-typical slip, their confidence left as read ("confident
slips": what a confidence threshold alone cannot see)."""
_SLIPS = {"8": "6", "6": "8", "3": "5", "5": "3", "1": "7", "7": "1", "0": "O", "4": "A",
          "B": "8", "S": "5", "ư": "u", "ơ": "o", "ă": "a", "ộ": "ô", "ệ": "ê", "đ": "d",
          "i": "l", "n": "m", "h": "b"}  # fmt: skip


def _read(job: tuple[Any, int]):
    from tests.factories.certificates import ocr_page

    image, page = job
    return ocr_page(image, page)


def with_slips(pages: list, seed: int) -> list:
    """The OCR'd pages with one OCR-typical slip in `SLIP_RATE` of their words (a confusable
    character swapped, or a stray symbol appended), word confidences unchanged."""
    import random
    from dataclasses import replace

    rng = random.Random(seed)
    out = []
    for page in pages:
        words = []
        for w in page.words:
            spots = [i for i, c in enumerate(w.text) if c in _SLIPS]
            if rng.random() < SLIP_RATE:
                if spots and rng.random() < 0.8:
                    i = rng.choice(spots)
                    text = w.text[:i] + _SLIPS[w.text[i]] + w.text[i + 1 :]
                else:
                    text = w.text + rng.choice("~^*#")
                w = replace(w, text=text)
            words.append(w)
        out.append(replace(page, words=words))
    return out


def certificate_pages(form: str, seed: int, condition: str) -> tuple[list, dict, list]:
    """The pages as scanned, the expected values, and the QR codes on them (2025 form)."""
    from pipeline.stages.certificate.qr import read_qr_codes
    from tests.factories.certificate_qr import qr_text, with_qr
    from tests.factories.certificates import degrade, make_certificate

    images, expected = make_certificate(form, seed=seed)
    if form == "2025":
        images[0], _ = with_qr(images[0], qr_text(expected["fields"]))
    if condition == "degraded":  # "confident slips" start from the clean pages
        images = [degrade(im, seed=seed * 10 + i) for i, im in enumerate(images)]
    codes = [c for i, im in enumerate(images) for c in read_qr_codes(im, i)]
    return images, expected, codes


def tally(result, expected: dict) -> dict[str, list[tuple[bool, bool]]]:
    """Per scheme, (right?, flagged?) for every field: the checks, and the confidence-only
    baseline on the unchecked values."""
    from pipeline.stages.certificate.validate import REVIEW_BELOW
    from tests.factories.certificates import score

    checked = result.to_json()
    marks = score(checked, {"fields": expected["fields"]})
    raw_fields = {
        k: (f.value if f else None) for k, f in ((k, result.fields.get(k)) for k in marks)
    }
    raw_marks = score({"fields": raw_fields}, {"fields": expected["fields"]})
    out: dict[str, list[tuple[bool, bool]]] = {"checks": [], "baseline": []}
    for name in marks:
        out["checks"].append((marks[name], checked["review"][name]["needs_review"]))
        found = result.fields.get(name)
        low = found is None or found.value is None or found.confidence < REVIEW_BELOW
        out["baseline"].append((raw_marks[name], low))
    return out


def shares(pairs: list[tuple[bool, bool]]) -> tuple[float | None, float | None, int, int]:
    """(share of wrong values flagged, share of right values unflagged, counts); None for a
    share of nothing."""
    wrong = [flag for ok, flag in pairs if not ok]
    right = [flag for ok, flag in pairs if ok]
    caught = sum(wrong) / len(wrong) if wrong else None
    left = sum(not f for f in right) / len(right) if right else None
    return caught, left, len(wrong), len(right)


def bench_generated(pool: ProcessPoolExecutor, n: int) -> tuple[list[dict], float]:
    from pipeline.stages.certificate.sections import extract_certificate
    from pipeline.stages.vietnamese.correction import correct_page

    rows, everything = [], {"checks": [], "baseline": []}
    qr_found = qr_pages = 0
    cache: dict[tuple, list] = {}
    seconds = 0.0
    for form in FORMS:
        for condition in CONDITIONS:
            pairs: dict[str, list] = {"checks": [], "baseline": []}
            for seed in range(FIRST_SEED, FIRST_SEED + n):
                images, expected, codes = certificate_pages(form, seed, condition)
                key = (form, seed, "degraded" if condition == "degraded" else "clean")
                if key not in cache:
                    cache[key] = list(pool.map(_read, [(im, i) for i, im in enumerate(images)]))
                pages = cache[key]
                if condition == "confident slips":
                    pages = [correct_page(p) for p in with_slips(pages, seed)]
                with Stopwatch() as t:
                    result = extract_certificate(pages, received=date.today(), qr=codes)
                seconds += t.s
                if form == "2025" and condition != "confident slips":
                    qr_pages += 1
                    qr_found += bool(codes)
                for scheme, got in tally(result, expected).items():
                    pairs[scheme] += got
                waiting = sorted(
                    k for k, v in result.to_json()["review"].items() if v["needs_review"]
                )
                log(f"{form} {condition} seed {seed}: needs review {waiting or 'none'}")
            rows += _share_rows(f"{form} form, {condition}", pairs, n)
            for scheme in everything:
                everything[scheme] += pairs[scheme]
    rows = _share_rows("all generated", everything, n * len(FORMS) * len(CONDITIONS)) + rows
    rows.append(
        row(
            "QR codes decoded (2025 form page 1)",
            "fraction",
            qr_found / qr_pages if qr_pages else 0.0,
            None,
            "sohoa ≥ 0.9",
            f"{qr_pages} pages with a real 2 cm QR code, clean and degraded; zxing-cpp",
        )
    )
    return rows, seconds


def _share_rows(label: str, pairs: dict[str, list], n: int) -> list[dict]:
    caught, left, wrong, right = shares(pairs["checks"])
    b_caught, b_left, b_wrong, _ = shares(pairs["baseline"])
    note = (
        f"{n} certificates × 13 fields: {wrong} wrong values ({b_wrong} without the checks), "
        f"{right} right; baseline = OCR confidence < 0.7 alone, values unchecked"
    )
    return [
        row(f"wrong values flagged needs_review, {label}", "fraction", caught, b_caught,
            "sohoa ≥ 0.9", note),
        row(f"right values left unflagged, {label}", "fraction", left, b_left, "sohoa ≥ 0.85",
            note),
    ]  # fmt: skip


def bench_other(pool: ProcessPoolExecutor) -> list[dict]:
    from pipeline.stages.certificate.sections import extract_certificate
    from tests.factories.certificates import degrade, make_decree_page

    images = [make_decree_page(seed) for seed in range(2)]
    images += [degrade(im, seed=7 + i) for i, im in enumerate(images)]
    pages = list(pool.map(_read, [(im, 0) for im in images]))
    invented = 0
    for page in pages:
        got = extract_certificate([page], received=date.today()).to_json()
        invented += (got["kind"] != "other") + sum(v is not None for v in got["fields"].values())
        invented += len(got["review"])
    return [
        row(
            "non-certificate pages: fields invented",
            "count",
            float(invented),
            None,
            "sohoa ≤ 0",
            f"{len(pages)} pages of decisions naming a parcel, sheet, area and purpose in prose "
            "(2 clean, 2 degraded); a field counts whether stored or sent to review",
        )
    ]


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, help="certificates per form and condition (default 3; quick 1)")
    args = p.parse_args()
    n = args.n or (1 if args.quick else 3)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    log(f"bench_certificate_review: {load_average()}")
    with ProcessPoolExecutor(2) as pool:
        rows, seconds = bench_generated(pool, n)
        rows.append(
            row(
                "field extraction and checks",
                "ms/certificate",
                1000 * seconds / (n * len(FORMS) * len(CONDITIONS)),
                None,
                "",
                "extract_certificate with validation, after OCR (OCR time not included)",
            )
        )
        rows += bench_other(pool)
    log(f"bench_certificate_review done: {load_average()}")
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
