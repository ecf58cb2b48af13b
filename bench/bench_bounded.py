"""Big bad inputs in bounded memory: a 2,000-page PDF, a 2 GB TIFF, a ZIP of 50,000 images.

    .venv/bin/python bench/bench_bounded.py [--quick] [--only pdf,tiff,zip] [--json]

Each input is generated with some bad parts, then taken through what happens before OCR, as a
user would, each step a subprocess whose process tree's peak RSS is sampled every 50 ms
(psutil):

1. `sohoa ingest --json FILE` on a fresh SOHOA_DATA_DIR (embedded defaults: SQLite, local
   blobs; no --wait, so no OCR). Its rate is beside `cp` of the same input plus an fsync of
   the copy (for the ZIP: `unzip` of it plus an fsync of every file), run just before.
2. Splitting (PDF and TIFF): every page loaded as the OCR job loads it
   (`pipeline.stages.pages.images.load_page`, 150 dpi), one after another in one process;
   pages that cannot be read are counted with their reasons. OCR itself is not run here
   (bench_text_pipeline gives what a page costs).

- PDF: 2,000 pages (quick: 200), each a 200 dpi JPEG scan; three pages are broken (a scan that is
  not a JPEG, a scan cut short, a page whose content refers to an object that does not exist).
- TIFF: 2 GB (quick: 200 MB), uncompressed greyscale pages of 5 MB (no bad part here; a TIFF
  cut short after its first page is ingested with its cut pages failed, tests/pipeline/media).
- ZIP: 50,000 small PNGs (quick: 2,000), stored; 1 % each truncated, empty, and not an image
  (text named .png). Ingesting it takes SOHOA_MAX_ZIP_MEMBERS above its size (the default is
  10,000): the bench sets it as a user would.

Baseline of the peak-RSS rows: `sohoa --help` (the interpreter and the CLI's imports).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ingest import write_tiff_of_size
from bench.common import MB, REPO, emit, fsync_tree, load_average, log, parser, row, scratch


def pdf_broken(pages: int) -> dict[int, str]:
    """1-based pages of the generated PDF that are broken, and how."""
    return {7: "not a JPEG", pages // 4: "cut short", 3 * pages // 4: "missing object"}


# --- generated inputs ---------------------------------------------------------------------------


def _jpeg(seed: int, size: tuple[int, int] = (1700, 2200)) -> bytes:
    """A small page-like JPEG: lines of dark marks on paper."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    page = np.full(size[::-1], 235, np.uint8)
    for y in range(160, size[1] - 160, 60):
        for x in range(160, size[0] - 160, 36):
            if rng.random() < 0.8:
                page[y : y + 24, x : x + 28] = rng.integers(10, 80)
    page += rng.integers(0, 12, page.shape, dtype=np.uint8)  # paper grain
    out = io.BytesIO()
    Image.fromarray(page).save(out, "JPEG", quality=60)
    return out.getvalue()


def write_pdf(path: Path, pages: int) -> list[int]:
    """A PDF of `pages` pages (at least 12), each one JPEG scan; returns the broken pages."""
    from PIL import Image

    from tests.factories.broken_pdf import write_scan_pdf

    broken = pdf_broken(pages)
    kinds = [broken.get(number, "good") for number in range(1, pages + 1)]
    write_scan_pdf(path, kinds, Image.open(io.BytesIO(_jpeg(1))))
    return sorted(broken)


_SIDE = 64
_ROWS = b"".join(b"\0" + bytes((y * 13 + x) % 256 for x in range(_SIDE)) for y in range(_SIDE))


def _png(n: int) -> bytes:
    """A tiny greyscale PNG, different for every n (its index in the first row)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    head = n.to_bytes(4, "big") * 16
    rows = b"\0" + head + _ROWS[1 + len(head) :]
    ihdr = struct.pack(">IIBBBBB", _SIDE, _SIDE, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def write_zip(path: Path, members: int) -> dict[str, int]:
    """A ZIP of `members` PNGs; every 100th is truncated, empty or not an image (in turn)."""
    bad: Counter[str] = Counter()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for n in range(members):
            data = _png(n)
            if n % 100 == 50:
                how = ("truncated", "empty", "not an image")[(n // 100) % 3]
                data = {"truncated": data[: len(data) // 2], "empty": b""}.get(
                    how, b"not a PNG\n" * 20
                )
                bad[how] += 1
            z.writestr(f"box-{n // 1000:03d}/page-{n:06d}.png", data)
    return dict(bad)


# --- measuring ----------------------------------------------------------------------------------


def run_sampled(cmd: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[float, int, str]:
    """(seconds, peak RSS of the process tree, stdout) of a command."""
    import psutil

    out_path = Path(env.get("SOHOA_DATA_DIR", "/tmp")) / f"stdout-{time.monotonic_ns()}.txt"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.DEVNULL)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                total = 0
                try:
                    p = psutil.Process(proc.pid)
                    for q in [p, *p.children(recursive=True)]:
                        total += q.memory_info().rss
                except psutil.Error:
                    pass
                peak[0] = max(peak[0], total)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    return seconds, peak[0], out_path.read_text()


def env_for(data: Path, **more: str) -> dict[str, str]:
    return {**os.environ, "SOHOA_DATA_DIR": str(data), "TQDM_DISABLE": "1", **more}


def help_rss(tmp: Path) -> int:
    cmd = [sys.executable, "-m", "scanners.cli", "--help"]
    return run_sampled(cmd, env_for(tmp / "help"))[1]


def start_seconds(tmp: Path) -> float:
    """`sohoa ingest` of one tiny PNG: the command's fixed cost (start, imports, store)."""
    path = tmp / "tiny.png"
    path.write_bytes(_png(0))
    return ingest(path, tmp / "tiny-data")[0]


def ingest(path: Path, data: Path, **env: str) -> tuple[float, int, Counter, list[str]]:
    """`sohoa ingest --json`: (seconds, peak RSS, verdicts counted, the first reasons)."""
    cmd = [sys.executable, "-m", "scanners.cli", "ingest", "--json", str(path)]
    seconds, peak, out = run_sampled(cmd, env_for(data, **env))
    results = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    verdicts = Counter(r["status"] for r in results)
    reasons = Counter(
        r["error"].split(":")[0][:60] for r in results if r["status"] in ("rejected", "failed")
    )
    return seconds, peak, verdicts, [f"{n}× {why}" for why, n in reasons.most_common(4)]


SPLIT = """
import json, sys
from pathlib import Path
from pipeline.errors import InputRejectedError
from pipeline.settings import Settings
from pipeline.stages.pages.images import load_page, page_count
path, media_type = Path(sys.argv[1]), sys.argv[2]
limits = Settings.from_env().limits
bad, blank = [], []
pages = page_count(path, media_type, limits)
for i in range(pages):
    try:
        page = load_page(path, media_type, i, dpi=150, limits=limits)
    except InputRejectedError as e:
        bad.append([i + 1, str(e)])
        continue
    low, high = page.image.convert("L").getextrema()
    if low == high:
        blank.append(i + 1)
print(json.dumps({"pages": pages, "bad": bad, "blank": blank}))
"""


def split(path: Path, media_type: str, data: Path) -> tuple[float, int, dict]:
    """Every page loaded as the OCR job loads it: (seconds, peak RSS, pages and bad pages)."""
    cmd = [sys.executable, "-c", SPLIT, str(path), media_type]
    seconds, peak, out = run_sampled(cmd, env_for(data, OMP_THREAD_LIMIT="1"))
    return seconds, peak, json.loads(out.strip().splitlines()[-1])


def durable_copy(path: Path, tmp: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["cp", str(path), str(tmp / "copy")], check=True)
    fsync_tree(tmp / "copy")
    seconds = time.perf_counter() - start
    (tmp / "copy").unlink()
    return seconds


def durable_unzip(path: Path, tmp: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["unzip", "-q", str(path), "-d", str(tmp / "unzipped")], check=False)
    fsync_tree(tmp / "unzipped")
    seconds = time.perf_counter() - start
    subprocess.run(["rm", "-rf", str(tmp / "unzipped")], check=True)
    return seconds


# --- the three inputs ---------------------------------------------------------------------------


def bench_pdf(tmp: Path, pages: int, base_rss: int, start_s: float) -> list[dict]:
    path = tmp / "book.pdf"
    log(f"writing a {pages:,}-page PDF")
    broken = write_pdf(path, pages)
    size = path.stat().st_size
    copy_s = durable_copy(path, tmp)
    log("ingesting it")
    seconds, peak, verdicts, _ = ingest(path, tmp / "pdf-data")
    log("splitting it into pages")
    split_s, split_peak, facts = split(path, "application/pdf", tmp / "pdf-split")
    found = [n for n, _ in facts["bad"]]
    hows = ", ".join(pdf_broken(pages).values())
    what = f"{pages:,}-page PDF, {size / MB:,.0f} MB, pages {broken} broken ({hows})"
    return [
        row(f"{pages:,}-page PDF: ingest peak RSS", "MB", peak / MB, base_rss / MB,
            note=f"{what}; `sohoa ingest`: {dict(verdicts)} (a PDF is one capture: its pages are "
            f"judged when split); baseline: `sohoa --help`"),
        row(f"{pages:,}-page PDF: ingest rate ÷ durable copy", "MB/s",
            size / max(seconds - start_s, 1e-3) / MB, size / copy_s / MB,
            note=f"{seconds:.2f} s less the command's start ({start_s:.2f} s: `sohoa ingest` of "
            f"a 64×64 PNG); baseline cp + fsync {copy_s:.2f} s"),
        row(f"{pages:,}-page PDF: splitting peak RSS", "MB", split_peak / MB, base_rss / MB,
            note=f"every page loaded at 150 dpi in one process; bad pages reported: {found} "
            f"({'; '.join(f'{n}: {why}' for n, why in facts['bad'][:3])}); pages that came "
            f"out blank (one grey level), not reported: {facts['blank'][:10]}"),
        row(f"{pages:,}-page PDF: pages split per second", "1/s", facts["pages"] / split_s, None,
            note=f"{split_s:.1f} s for {facts['pages']:,} pages (before OCR)"),
    ]  # fmt: skip


def bench_tiff(tmp: Path, size_mb: int, base_rss: int, start_s: float) -> list[dict]:
    path = tmp / "big.tif"
    log(f"writing a {size_mb:,} MB TIFF")
    write_tiff_of_size(path, size_mb * MB, seed=5)
    size = path.stat().st_size
    copy_s = durable_copy(path, tmp)
    log("ingesting it")
    seconds, peak, verdicts, reasons = ingest(path, tmp / "tiff-data")
    rows = [
        row(f"{size_mb:,} MB TIFF: ingest peak RSS", "MB", peak / MB, base_rss / MB,
            note=f"{size / MB:,.0f} MB uncompressed greyscale, 5 MB pages of noise; no bad "
            f"part (a TIFF cut after page 1 keeps its whole pages: tests/pipeline/media); "
            f"`sohoa ingest`: {dict(verdicts)} {reasons}; baseline: `sohoa --help`"),
        row(f"{size_mb:,} MB TIFF: ingest rate ÷ durable copy", "MB/s",
            size / max(seconds - start_s, 1e-3) / MB, size / copy_s / MB,
            note=f"{seconds:.2f} s less the command's start ({start_s:.2f} s); baseline "
            f"cp + fsync {copy_s:.2f} s"),
    ]  # fmt: skip
    log("splitting it into pages")
    split_s, split_peak, facts = split(path, "image/tiff", tmp / "tiff-split")
    rows.append(
        row(f"{size_mb:,} MB TIFF: splitting peak RSS", "MB", split_peak / MB, base_rss / MB,
            note=f"{facts['pages']} pages loaded one after another at 150 dpi in {split_s:.1f} s; "
            f"bad pages reported: {facts['bad'][:3]}")
    )  # fmt: skip
    return rows


def bench_zip(tmp: Path, members: int, base_rss: int, start_s: float) -> list[dict]:
    path = tmp / "boxes.zip"
    log(f"writing a ZIP of {members:,} PNGs")
    bad = write_zip(path, members)
    size = path.stat().st_size
    unzip_s = durable_unzip(path, tmp)
    log("ingesting it")
    limit = str(max(members + 1, 10_000))
    seconds, peak, verdicts, reasons = ingest(path, tmp / "zip-data", SOHOA_MAX_ZIP_MEMBERS=limit)
    rate, base = members / max(seconds - start_s, 1e-3), members / unzip_s
    return [
        row(f"ZIP of {members:,} images: ingest peak RSS", "MB", peak / MB, base_rss / MB,
            note=f"{size / MB:,.0f} MB, bad members {bad}; `sohoa ingest`: {dict(verdicts)}; "
            f"reasons: {reasons}; baseline: `sohoa --help`"),
        row(f"ZIP of {members:,} images: members per second ÷ unzip", "1/s", rate, base,
            note=f"{seconds:.1f} s less the command's start ({start_s:.2f} s), each member a "
            f"capture (its blob and its folders fsynced, one SQLite commit per capture); "
            f"baseline: unzip + fsync of every file, {unzip_s:.1f} s"),
    ]  # fmt: skip


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--only", help="comma-separated: pdf, tiff, zip (default all)")
    args = p.parse_args()
    only = set((args.only or "pdf,tiff,zip").split(","))
    log(f"bench_bounded: {load_average()}")
    rows: list[dict] = []
    with scratch("bounded") as tmp:
        base_rss = help_rss(tmp)
        start_s = start_seconds(tmp)
        if "pdf" in only:
            rows += bench_pdf(tmp, 200 if args.quick else 2000, base_rss, start_s)
        if "tiff" in only:
            rows += bench_tiff(tmp, 200 if args.quick else 2048, base_rss, start_s)
        if "zip" in only:
            rows += bench_zip(tmp, 2_000 if args.quick else 50_000, base_rss, start_s)
    log(f"bench_bounded done: {load_average()}")
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
