"""IIIF Content Search inside a 500-page register: latency through the app.

    .venv/bin/python bench/bench_iiif.py [--pages 500] [--words 250] [--requests 200]
                                         [--quick] [--json]

A document capture of `--pages` pages (a small multi-page TIFF, ingested and inspected) is
linked to a published site; each page gets a text run outcome as OCR would record it (no OCR is
run): a PageText of `--words` seeded Vietnamese words with boxes on a 2480 × 3508 page
(A4 at 300 dpi), stored as a blob, and one shared page image. A few pages carry the phrase
"Quốc Tử Giám".

Timed: `GET /iiif/{id}/search?q=…` through the app (Starlette's TestClient: routing, the public
check that loads the capture and its records from the event store, the search, the JSON), for
`--requests` requests over a mix of queries (a rare phrase with and without diacritics, a
common word whose hits are capped at 1000, a word that is not there); p50 and p95. The first
request builds the document's index (reading every page's words): reported on its own row.
Baseline: a plain scan of the stored words for each query, as a route without an index would
do (read each page's PageText blob, mask, fold, match), on the same document.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys
import time
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Stopwatch, emit, load_average, log, parser, percentile, row, scratch

SYLLABLES = [
    "văn",
    "bản",
    "số",
    "ngày",
    "tháng",
    "năm",
    "quyết",
    "định",
    "ủy",
    "ban",
    "nhân",
    "dân",
    "thành",
    "phố",
    "hà",
    "nội",
    "phường",
    "quận",
    "huyện",
    "thửa",
    "đất",
    "tờ",
    "bản",
    "đồ",
    "diện",
    "tích",
    "mục",
    "đích",
    "sử",
    "dụng",
    "thời",
    "hạn",
    "nguồn",
    "gốc",
    "giao",
    "đất",
    "có",
    "thu",
    "tiền",
    "đình",
    "chùa",
    "đền",
    "miếu",
    "di",
    "tích",
    "lịch",
    "sử",
    "kiến",
    "trúc",
    "nghệ",
    "thuật",
    "cấp",
    "quốc",
    "gia",
    "xếp",
    "hạng",
    "bia",
    "đá",
    "tiến",
    "sĩ",
    "khoa",
    "thi",
    "triều",
    "lê",
    "nguyễn",
    "trùng",
    "tu",
    "năm",
    "sửa",
    "chữa",
    "mái",
    "ngói",
    "cột",
    "gỗ",
    "lim",
    "hoành",
    "phi",
    "câu",
    "đối",
]
PHRASE = "Quốc Tử Giám"
QUERIES = ("quốc tử giám", "quoc tu giam", "QUỐC TỬ", "văn", "không có")
PAGE = (2480, 3508)


def build(svc, tmp: Path, pages: int, words: int) -> UUID:
    """The register: ingested, inspected, linked to a published site, its pages 'read'."""
    from PIL import Image

    from models.ids import site_id
    from pipeline.jobs.execute import Attempt
    from pipeline.jobs.inspection import run_inspect
    from pipeline.stages.pages.pagetext import PageText, Word
    from scanners.cli.ingest import ingest_paths
    from tests.factories import samples
    from tests.web.records import site

    site(svc.store, "01-500", "Sổ địa bạ")
    tiff = samples.make_tiff(tmp / "register.tif", pages, 40, 56, compression="raw")
    [r] = ingest_paths(svc, [tiff], None, None, True)
    cid = UUID(r.capture_id)
    svc.store.update(cid, lambda c: c.link_record(record_id=site_id("01-500")))
    svc.store.update(site_id("01-500"), lambda rec: rec.link_capture(capture_id=cid))
    run_inspect(svc, cid, Attempt(1, False))
    buf = io.BytesIO()
    Image.new("L", PAGE, 255).save(buf, "JPEG", quality=50)
    image_key = svc.blobs.put_bytes(buf.getvalue()).key
    rng = random.Random(500)
    planted = {7, pages // 2, pages - 1}
    texts = []
    for index in range(pages):
        chosen = [rng.choice(SYLLABLES) for _ in range(words)]
        if index in planted:
            chosen[40:43] = PHRASE.split()
        page_words, lines = [], []
        for n in range(0, words, 12):
            line = chosen[n : n + 12]
            lines.append(" ".join(line))
            x = 150
            for w in line:
                box = (x, 200 + 60 * (n // 12), x + 28 * len(w), 240 + 60 * (n // 12))
                page_words.append(Word(w, box, 90.0, 0, n // 12))
                x = box[2] + 20
        text = PageText(
            index, "\n".join(lines), page_words, *PAGE, 300, 90.0, "ocr", "tesseract 5", "vie"
        )
        texts.append(text.text)
        key = svc.blobs.put_bytes(json.dumps(text.to_json(), ensure_ascii=False).encode()).key
        outcome = {
            "job_key": f"bench-ocr-{index}", "run": 1, "page": index, "text_key": key,
            "hocr_key": None, "image_key": image_key, "chars": len(text.text),
            "mean_conf": 90.0, "source": "ocr", "engine": "tesseract 5", "lang": "vie",
            "params": {},
        }  # fmt: skip
        svc.store.update(cid, lambda c, kw=outcome: c.record_page(**kw))
    full = svc.blobs.put_bytes("\f".join(texts).encode()).key
    svc.store.update(
        cid,
        lambda c: c.record_text(
            job_key="bench-text", run=1, text_key=full, pdf_key=None, pages=pages,
            pages_failed=[], chars=sum(map(len, texts)), mean_conf=90.0,
        ),
    )  # fmt: skip
    return cid


def plain_scan(svc, cid: UUID, q: str) -> int:
    """The baseline: every page's stored words read, masked, folded and matched per query."""
    from web import pages as web_pages
    from web.portal import content_search, derivatives
    from web.portal.records import public_capture

    capture, records = public_capture(svc, cid)
    limits = web_pages.restrictions(capture, records)
    pages = [
        content_search.Page(p.n, derivatives.public_words(p, limits))
        for p in web_pages.pages(svc, capture)
        if p.text is not None
    ]
    _hits, total = content_search.DocumentWords(pages).find(content_search.terms(q))
    return total


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=500)
    p.add_argument("--words", type=int, default=250)
    p.add_argument("--requests", type=int, default=200)
    args = p.parse_args()
    if args.quick:
        args.requests = min(args.requests, 60)

    from fastapi.testclient import TestClient

    from pipeline.settings import WebSettings
    from tests.helpers import make_services
    from web.app import create_app

    with scratch("iiif") as tmp:
        svc = make_services(tmp)
        try:
            log(f"building a {args.pages}-page register of {args.words} words a page")
            with contextlib.redirect_stdout(sys.stderr):  # ingest prints a line per file
                cid = build(svc, tmp, args.pages, args.words)
            client = TestClient(create_app(svc, WebSettings(search_rate_per_min=10**6)))
            url = f"/iiif/{cid}/search"
            with Stopwatch() as cold:
                first = client.get(url, params={"q": QUERIES[0]})
            assert first.status_code == 200 and first.json()["items"], first.text[:300]
            times = []
            for i in range(args.requests):
                q = QUERIES[i % len(QUERIES)]
                start = time.perf_counter()
                r = client.get(url, params={"q": q})
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200
            baseline = []
            for i in range(max(5, args.requests // 20)):
                start = time.perf_counter()
                plain_scan(svc, cid, QUERIES[i % len(QUERIES)])
                baseline.append((time.perf_counter() - start) * 1000)
        finally:
            svc.close()
    note = (
        f"{args.pages} pages × {args.words} words, {args.requests} requests over "
        f"{len(QUERIES)} queries through the app (TestClient); baseline: a plain scan of the "
        f"stored words per query ({len(baseline)} scans); {load_average()}"
    )
    rows = [
        row("content search p50", "ms", percentile(times, 50), percentile(baseline, 50), note=note),
        row(
            "content search p95",
            "ms",
            percentile(times, 95),
            percentile(baseline, 95),
            "sohoa ≤ 50",
        ),
        row(
            "first search (builds the index)",
            "ms",
            cold.s * 1000,
            percentile(baseline, 50),
            note="reads every page's words once; later searches use the index",
        ),
    ]
    emit(rows, args.json)


if __name__ == "__main__":
    main()
