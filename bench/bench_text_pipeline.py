"""Text throughput of the whole pipeline against raw Tesseract, on the same pages.

    .venv/bin/python bench/bench_text_pipeline.py [--pages 40] [--quick] [--json]

Pages: generated 300-dpi A4 Vietnamese administrative pages (`tests/degrade.render_page`),
written as 4 multi-page TIFFs. sohoa: the documents are ingested into a fresh data folder on
embedded defaults, then the job loop runs with 2 worker threads (SOHOA_WORKER_THREADS=2, the
default): inspection, one `ocr` job per page (text-layer check, preprocessing, orientation,
Tesseract with hOCR, Vietnamese correction), then full text and a searchable PDF per document;
timed from the start of the workers until every capture has settled. Baseline: the `tesseract`
CLI (`-l vie`, text output) over the same pages as PNG files, 2 processes at a time,
OMP_THREAD_LIMIT=1 for both.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["OMP_THREAD_LIMIT"] = "1"

from bench.common import emit, load_average, log, parser, row

DOCUMENTS = 4


def make_pages(folder: Path, pages: int) -> tuple[list[Path], list[Path]]:
    """(multi-page TIFFs for sohoa, one PNG per page for the baseline)."""
    from tests.factories.degrade import render_page

    images = [render_page(seed=i) for i in range(pages)]
    pngs = []
    for i, im in enumerate(images):
        p = folder / f"page-{i:03d}.png"
        im.copy().save(p, dpi=(300, 300))  # a copy: saving sets encoder state on the image
        pngs.append(p)
    tiffs = []
    per = -(-pages // DOCUMENTS)
    for d in range(DOCUMENTS):
        chunk = images[d * per : (d + 1) * per]
        if chunk:
            t = folder / f"register-{d}.tif"
            chunk[0].save(t, save_all=True, append_images=chunk[1:], dpi=(300, 300))
            tiffs.append(t)
    return tiffs, pngs


def raw_tesseract(pngs: list[Path], out: Path) -> float:
    def one(p: Path) -> None:
        subprocess.run(
            ["tesseract", str(p), str(out / p.stem), "-l", "vie"],
            check=True,
            capture_output=True,
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, pngs))
    return time.perf_counter() - start


def pipeline(tiffs: list[Path], data: Path) -> tuple[float, dict[str, int]]:
    from collections import Counter

    from pipeline.bootstrap import bootstrap
    from pipeline.settings import Settings
    from scanners.cli.ingest import ingest_paths
    from workers.runtime import Runtime, wait_until_settled

    svc = bootstrap(Settings.from_env({"SOHOA_DATA_DIR": str(data), "SOHOA_WORKER_THREADS": "2"}))
    with contextlib.redirect_stdout(sys.stderr):  # stdout is the bench's table or JSON
        results = ingest_paths(svc, tiffs, "document", None, as_json=True)
    ids = [UUID(r.capture_id) for r in results if r.capture_id]
    start = time.perf_counter()
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, ids, timeout_s=3600)
    seconds = time.perf_counter() - start
    svc.close()
    return seconds, dict(Counter(states.values()))


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--pages", type=int, default=40)
    args = p.parse_args()
    pages = 8 if args.quick else args.pages
    log(f"text pipeline: {pages} pages; {load_average()}")
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-text-") as tmp:
        folder = Path(tmp)
        (folder / "raw").mkdir()
        tiffs, pngs = make_pages(folder, pages)
        raw_s = raw_tesseract(pngs, folder / "raw")
        log(f"raw tesseract: {raw_s:.1f} s")
        sohoa_s, states = pipeline(tiffs, folder / "data")
        log(f"pipeline: {sohoa_s:.1f} s, states {states}")
    rows = [
        row(
            "text pipeline, 2 workers",
            "pages/min",
            pages * 60 / sohoa_s,
            pages * 60 / raw_s,
            aim="ratio ≥ 0.9",
            note=f"baseline: tesseract CLI, 2 processes; {pages} A4 pages at 300 dpi; {states}",
        )
    ]
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
