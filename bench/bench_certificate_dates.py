"""Issue dates on generated certificate photos: are the wrong ones sent to review, and the right
ones left alone?

    .venv/bin/python bench/bench_certificate_dates.py [--n 10] [--quick] [--json] [--dump F]

The signing page of generated certificates (tests/factories/certificates.py; page II of the
2009–2024 booklet, page 1 of the 2025 sheet), at 2/3 size as the photo tests take it, photographed
five ways by tests/factories/certificate_photos.py: an ordinary phone photo, the same passed on at
1024 px long side (`low_resolution`) and at 800 px, a photo of a screen and a blurred photo. Each
is read as the fields job reads a photo (`read_certificate_image`, the Vietnamese correction,
`extract_certificate` with the capture received on 2026-01-01). A date read is right or wrong
against the certificate's; flagged when its verdict `needs_review`. Rows per kind of photo: wrong
dates flagged / wrong dates (aim ≥ 0.9), right dates flagged / right dates (as low as can be); and
each right date's reading with one digit slipped, as its second reading flags it (`slip_row`: wrong
dates are few). `--dump F` writes each date's signals (the second reading's digits and least
margin, the page words' confidence, the verdict) as JSON, to choose a rule on. Generated data only:
the development set for choosing thresholds.
"""

from __future__ import annotations

import json
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, load_average, log, parser, row

FORMS = ("2009-2024", "2025")
KINDS = ("ordinary", "low-resolution", "800 px", "photo of screen", "blurred")
FIRST_SEED = 4000
RECEIVED = date(2026, 1, 1)


def _photo(form: str, seed: int, kind: str):
    from tests.factories import certificate_photos as photos
    from tests.factories.certificates import make_certificate

    pages, expected = make_certificate(form, seed=seed)
    page = pages[1 if form == "2009-2024" else 0]
    page = page.resize((page.width * 2 // 3, page.height * 2 // 3))
    if kind == "ordinary":
        image = photos.photograph(page, seed)
    elif kind == "low-resolution":
        image = photos.low_resolution(photos.photograph(page, seed))
    elif kind == "800 px":
        image = photos.low_resolution(photos.photograph(page, seed), 800)
    elif kind == "photo of screen":
        image = photos.photo_of_screen(page, seed)
    else:
        image = photos.blurred(page, seed)
    return image, expected["fields"]["issue_date"]


def _read(job: tuple[str, int, str]) -> dict[str, Any]:
    """One photo read in a worker process: its issue date, verdict and date signals."""
    from pipeline.errors import InputRejectedError
    from pipeline.stages.certificate.photoread import read_certificate_image
    from pipeline.stages.certificate.sections import extract_certificate
    from pipeline.stages.ocr.recognise import OcrParams
    from pipeline.stages.vietnamese.correction import correct_page

    form, seed, kind = job
    image, want = _photo(form, seed, kind)
    out: dict[str, Any] = {"form": form, "seed": seed, "kind": kind, "want": want}
    try:
        text, _ = read_certificate_image(image, OcrParams(), page=0, dpi=300)
    except InputRejectedError as e:
        return {**out, "got": None, "refused": str(e)}
    checks = text.params.get("date_checks", [])
    got = extract_certificate([correct_page(text)], received=RECEIVED).to_json()
    review = got.get("review", {}).get("issue_date", {})
    return {
        **out,
        "got": got.get("fields", {}).get("issue_date"),
        "raw": review.get("raw"),
        "flagged": bool(review.get("needs_review")),
        "codes": review.get("codes", []),
        "confidence": review.get("confidence"),
        "checks": checks,
    }


def rows_of(records: list[dict]) -> list[dict]:
    rows = []
    for kind in (*KINDS, "all"):
        mine = [r for r in records if kind in ("all", r["kind"])]
        read = [r for r in mine if r.get("got")]
        wrong = [r for r in read if r["got"] != r["want"]]
        right = [r for r in read if r["got"] == r["want"]]
        caught = sum(r["flagged"] for r in wrong)
        bothered = sum(r["flagged"] for r in right)
        note = f"{len(mine)} photos, {len(mine) - len(read)} with no date read"
        share = caught / len(wrong) if wrong else 1.0
        note = f"{caught}/{len(wrong)}; {note}"
        rows.append(row(f"{kind}: wrong dates flagged", "share", share, None, "sohoa ≥ 0.9", note))
        share = bothered / len(right) if right else 0.0
        note = f"{bothered}/{len(right)}"
        rows.append(row(f"{kind}: right dates flagged", "share", share, None, "", note))
    return rows


SLIPS = {"0": "8", "1": "7", "2": "7", "3": "5", "4": "1", "5": "3", "6": "8", "7": "1", "8": "6",
         "9": "8"}  # fmt: skip
"""An OCR-typical misreading of each digit."""


def slip_row(records: list[dict]) -> dict:
    """Each right date's page reading with one digit slipped (`SLIPS`, every position in turn,
    its confidence left as read): how many the second reading of the same photo flags. Wrong
    dates are few on generated photos; this is the many a threshold must catch."""
    from pipeline.stages.certificate.digits import date_sureness
    from pipeline.stages.certificate.validate import REVIEW_BELOW

    caught = tried = 0
    for r in records:
        if not r.get("got") or r["got"] != r["want"]:
            continue
        raw = re.sub(r"\D", "", r.get("raw") or "")
        for check in r["checks"]:
            read = re.sub(r"\D", "", check["read"])
            if check["second"] is None or (read not in raw and raw not in read):
                continue
            for i, digit in enumerate(read):
                slipped = read[:i] + SLIPS[digit] + read[i + 1 :]
                sure = date_sureness(slipped, (check["second"], check["margin"]))
                tried += 1
                caught += min(check["page_conf"], sure) < 100 * REVIEW_BELOW
    note = f"{caught}/{tried} one-digit slips of the right dates read, second reading as recorded"
    return row(
        "simulated slips flagged", "share", caught / max(1, tried), None, "sohoa ≥ 0.9", note
    )


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, help="certificates per form (default 10; quick 1)")
    p.add_argument("--dump", type=Path, help="write each date's signals to this JSON file")
    args = p.parse_args()
    n = args.n or (1 if args.quick else 10)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    log(f"bench_certificate_dates: {load_average()}")
    jobs = [(f, FIRST_SEED + s, k) for f in FORMS for s in range(n) for k in KINDS]
    with ProcessPoolExecutor(2) as pool:
        records = list(pool.map(_read, jobs))
    if args.dump:
        args.dump.write_text(json.dumps(records, ensure_ascii=False, indent=1))
    log(f"bench_certificate_dates done: {load_average()}")
    rows = [*rows_of(records), slip_row(records)]
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
