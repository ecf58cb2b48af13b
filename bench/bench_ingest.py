"""Ingest throughput against `cp -r`, and peak memory while ingesting one very large file.

    .venv/bin/python bench/bench_ingest.py [--size-mb 1024] [--big-mb 2048] [--quick] [--json]

1. A folder of generated PNG/JPEG/TIFF/PDF/PLY files (~1 GB, mostly 8–40 MB each, a tenth in
   files of 0.2–2 MB) is ingested in this process through `scanners.cli.ingest.ingest_paths`
   on a fresh SOHOA_DATA_DIR with embedded defaults (SQLite, local blobs, memory:// broker,
   no --wait). Baseline: `cp -r` of the same folder, run before and after the ingest.
2. `sohoa ingest FILE` of one ~2 GB uncompressed multi-page greyscale TIFF, as a subprocess,
   and its peak RSS (ru_maxrss from wait4, taken by a small launcher that forks it). Baseline:
   the peak RSS of `sohoa --help` (interpreter and CLI imports) and `cp` of the same file.

Page cache: nothing is dropped from caches. The generated sources are fsynced (untimed) after
generation and are still in the page cache (RAM permitting) when cp and sohoa read them, so both
read from memory. cp only writes into the page cache; sohoa fsyncs every blob and commits each
capture to SQLite, so a `cp + fsync of the copy` figure is shown too. Copies are fsynced and
deleted between steps so that one step's writeback does not land on the next. An untimed cp
runs first: on a VM, the first writes into never-used guest RAM can be several times slower
than later ones, which would otherwise penalise whichever step runs first (or after the blobs
have taken the warm memory; they are deleted before the second cp for the same reason).
"""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import sys
import zlib
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    MB,
    REPO,
    Stopwatch,
    emit,
    fsync_tree,
    load_average,
    log,
    parser,
    row,
    scratch,
    tree_bytes,
)

# --- generated inputs ---------------------------------------------------------------------------


def _rng(seed: int):
    import numpy as np

    return np.random.Generator(np.random.SFC64(seed))


def noise(n: int, seed: int) -> bytes:
    return _rng(seed).bytes(n)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: Path, size: int, seed: int) -> None:
    """A valid greyscale PNG of noise, deflate level 0 (stored), about `size` bytes."""
    import numpy as np

    width = 4000
    stride = width + 1  # a filter byte per row
    height = max(1, size // stride)
    rng = _rng(seed)
    deflate = zlib.compressobj(level=0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        for start in range(0, height, 512):
            rows = min(512, height - start)
            block = np.frombuffer(rng.bytes(rows * stride), dtype=np.uint8).reshape(rows, stride)
            block = block.copy()
            block[:, 0] = 0  # filter type None
            if data := deflate.compress(block.tobytes()):
                f.write(_png_chunk(b"IDAT", data))
        f.write(_png_chunk(b"IDAT", deflate.flush()))
        f.write(_png_chunk(b"IEND", b""))


_JPEG_BYTES_PER_PIXEL: list[float] = []


def write_jpeg(path: Path, size: int, seed: int) -> None:
    """A valid RGB JPEG of noise (quality 95), about `size` bytes (Pillow encodes it)."""
    from PIL import Image

    if not _JPEG_BYTES_PER_PIXEL:
        buf = io.BytesIO()
        Image.frombytes("RGB", (512, 512), noise(512 * 512 * 3, 1)).save(buf, "JPEG", quality=95)
        _JPEG_BYTES_PER_PIXEL.append(len(buf.getvalue()) / (512 * 512))
    pixels = size / _JPEG_BYTES_PER_PIXEL[0]
    width = min(6000, max(64, int(pixels**0.5 * 4 / 3)))
    height = max(64, int(pixels / width))
    im = Image.frombytes("RGB", (width, height), noise(width * height * 3, seed))
    im.save(path, "JPEG", quality=95, dpi=(300, 300))


def write_tiff(
    path: Path, pages: int, width: int, height: int, seed: int, rows_per_strip: int = 64
) -> None:
    """An uncompressed 8-bit greyscale multi-page TIFF, written page by page.

    One page of noise is held in memory and written again for every page with the page number
    stamped into its first bytes, so pages differ and memory stays at one page.
    """
    page = noise(width * height, seed)
    view = memoryview(page)
    strips = -(-height // rows_per_strip)
    with open(path, "wb") as f:
        f.write(b"II*\x00\x00\x00\x00\x00")
        next_pointer = 4
        for number in range(pages):
            data_at = f.tell()
            f.write(struct.pack("<QQ", seed, number))
            f.write(view[16:])
            offsets = [data_at + i * rows_per_strip * width for i in range(strips)]
            counts = [
                min(rows_per_strip, height - i * rows_per_strip) * width for i in range(strips)
            ]
            offsets_at = f.tell()
            f.write(struct.pack(f"<{strips}I", *offsets))
            counts_at = f.tell()
            f.write(struct.pack(f"<{strips}I", *counts))
            if f.tell() % 2:
                f.write(b"\x00")
            ifd_at = f.tell()
            short, long_ = 3, 4
            entries = [
                (256, long_, 1, width),
                (257, long_, 1, height),
                (258, short, 1, 8),  # bits per sample
                (259, short, 1, 1),  # no compression
                (262, short, 1, 1),  # black is zero
                (273, long_, strips, offsets_at if strips > 1 else offsets[0]),
                (277, short, 1, 1),  # samples per pixel
                (278, long_, 1, rows_per_strip),
                (279, long_, strips, counts_at if strips > 1 else counts[0]),
                (284, short, 1, 1),  # planar configuration: chunky
            ]
            f.write(struct.pack("<H", len(entries)))
            for tag, kind, count, value in entries:
                if kind == short and count == 1:
                    f.write(struct.pack("<HHIHH", tag, kind, count, value, 0))
                else:
                    f.write(struct.pack("<HHII", tag, kind, count, value))
            pointer_at = f.tell()
            f.write(b"\x00\x00\x00\x00")
            f.seek(next_pointer)
            f.write(struct.pack("<I", ifd_at))
            f.seek(0, os.SEEK_END)
            next_pointer = pointer_at


def write_tiff_of_size(path: Path, size: int, seed: int) -> None:
    page = 5 * MB if size >= 5 * MB else size
    width = 2000 if page >= 2000 * 64 else 256
    write_tiff(path, max(1, round(size / page)), width, max(1, page // width), seed)


def write_pdf(path: Path, size: int, seed: int) -> None:
    """A valid PDF whose pages each show one uncompressed greyscale image of noise."""
    per_page = min(size, 4 * MB)
    pages = max(1, round(size / per_page))
    width = 2000 if per_page >= 2000 * 64 else 256
    height = max(1, per_page // width)
    offsets: list[int] = []
    with open(path, "wb") as f:

        def obj(body: bytes, stream: bytes | None = None) -> None:
            offsets.append(f.tell())
            f.write(f"{len(offsets)} 0 obj\n".encode() + body)
            if stream is not None:
                f.write(b"\nstream\n")
                f.write(stream)
                f.write(b"\nendstream")
            f.write(b"\nendobj\n")

        f.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(pages))
        obj(b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
        draw = b"q 612 0 0 792 0 0 cm /Im0 Do Q"
        for i in range(pages):
            page, content, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
            assert len(offsets) + 1 == page
            obj(
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                f"/Resources << /XObject << /Im0 {image} 0 R >> >> >>".encode()
            )
            obj(f"<< /Length {len(draw)} >>".encode(), draw)
            pixels = noise(width * height, seed * 10_000 + i)
            obj(
                f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
                f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Length {len(pixels)} >>".encode(),
                pixels,
            )
        xref_at = f.tell()
        f.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
        f.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
        f.write(
            f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n"
            "%%EOF\n".encode()
        )


def write_ply(path: Path, size: int, seed: int) -> None:
    """A binary little-endian PLY point cloud (xyz float, rgb uchar) of noise."""
    header_template = (
        "ply\nformat binary_little_endian 1.0\ncomment sohoa bench {seed}\n"
        "element vertex {n:012d}\nproperty float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    )
    header_len = len(header_template.format(seed=seed, n=0))
    points = max(1, (size - header_len) // 15)
    import numpy as np

    point = np.dtype([("xyz", "<f4", 3), ("rgb", "u1", 3)])  # 15 bytes, packed
    rng = _rng(seed)
    with open(path, "wb") as f:
        f.write(header_template.format(seed=seed, n=points).encode())
        for start in range(0, points, 1_000_000):
            chunk = np.empty(min(1_000_000, points - start), dtype=point)
            chunk["xyz"] = rng.random((len(chunk), 3), dtype=np.float32) * 100
            chunk["rgb"] = rng.integers(0, 256, (len(chunk), 3), dtype=np.uint8)
            f.write(chunk.tobytes())


WRITERS = {
    "tiff": ("tif", write_tiff_of_size),
    "png": ("png", write_png),
    "pdf": ("pdf", write_pdf),
    "jpeg": ("jpg", write_jpeg),
    "ply": ("ply", write_ply),
}


def plan_mix(total: int, seed: int = 7) -> list[tuple[str, int]]:
    """(type, bytes) for every file: nine tenths in files of 8–40 MB, the rest in 0.2–2 MB."""
    rng = random.Random(seed)
    kinds = list(WRITERS)
    files: list[tuple[str, int]] = []
    for share, low, high in ((0.9, 8 * MB, 40 * MB), (0.1, 200_000, 2 * MB)):
        target, acc = int(total * share), 0
        while acc < target:
            size = min(rng.randint(low, high), max(low // 2, target - acc))
            kind = kinds[len(files) % len(kinds)]
            if kind == "jpeg":
                size = min(size, 16 * MB)  # Pillow's default pixel guard: keep JPEGs modest
            files.append((kind, size))
            acc += size
    return files


def generate_mix(folder: Path, total: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i, (kind, size) in enumerate(plan_mix(total)):
        ext, writer = WRITERS[kind]
        sub = folder / f"box-{i % 4}"
        sub.mkdir(parents=True, exist_ok=True)
        writer(sub / f"scan-{i:04d}.{ext}", size, 1000 + i)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


# --- measuring ----------------------------------------------------------------------------------


def timed_cp(src: Path, dst: Path) -> tuple[float, float]:
    """(seconds of `cp -r src dst`, seconds to fsync the copy afterwards); the copy is removed."""
    import shutil

    with Stopwatch() as t:
        subprocess.run(["cp", "-r", str(src), str(dst)], check=True)
    synced = fsync_tree(dst)
    if dst.is_dir():
        shutil.rmtree(dst)
    else:
        dst.unlink()
    return t.s, synced


def sohoa_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without SOHOA_* settings: embedded defaults in `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    env["SOHOA_DATA_DIR"] = str(data_dir)
    return env


# A small launcher forks the command and reports its child's ru_maxrss. Measuring the command
# as our own child would not do: Linux carries the pre-exec memory of the forking process into
# ru_maxrss, and this process (numpy, the store, …) is larger than what is being measured.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[int, float, int, str]:
    """(exit code, wall seconds, peak RSS in bytes, its output) of one command."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "maxrss"
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(rss_file)]
        with Stopwatch() as t:
            done = subprocess.run(
                [*launcher, *cmd],
                env=env,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        rss = int(rss_file.read_text()) * 1024
    return done.returncode, t.s, rss, done.stdout.decode(errors="replace")


def ingest_once(src: Path, data_dir: Path, files: int, total: int) -> float:
    """Seconds of `ingest_paths` of `src` into a fresh `data_dir` (checked, then removed)."""
    import shutil

    from pipeline.bootstrap import bootstrap
    from pipeline.settings import Settings
    from scanners.cli.ingest import ingest_paths

    settings = Settings.from_env({"SOHOA_DATA_DIR": str(data_dir)})  # embedded defaults
    svc = bootstrap(settings)
    try:
        with redirect_stdout(sys.stderr), Stopwatch() as t:
            results = ingest_paths(svc, [src], None, None, False)
    finally:
        svc.close()
    statuses = {r.status for r in results}
    if statuses != {"ingested"} or len(results) != files:
        bad = [r for r in results if r.status != "ingested"][:5]
        raise SystemExit(f"ingest did not take every file: {statuses}, e.g. {bad}")
    stored = tree_bytes(settings.data_dir / "blobs" / "sha256")
    assert stored == total, (stored, total)
    shutil.rmtree(data_dir)  # so that the next step writes into the same memory
    return t.s


def bench_mix(size_mb: int) -> list[dict]:
    rows = []
    with scratch("ingest") as root:
        src = root / "inbox"
        log(f"generating ~{size_mb} MB of mixed files in {src}")
        with Stopwatch() as gen:
            counts = generate_mix(src, size_mb * MB)
        total = tree_bytes(src)
        files = sum(counts.values())
        log(f"generated {files} files, {total / MB:.0f} MB in {gen.s:.1f} s; fsyncing them")
        fsync_tree(src)

        log("cp -r (warm-up, untimed: first writes into never-used memory)")
        warm, _ = timed_cp(src, root / "copy-0")
        cps, ingests = [], []
        for n in (1, 2):
            log(f"cp -r ({'before' if n == 1 else 'after'})")
            cps.append(timed_cp(src, root / f"copy-{n}"))
            log(f"ingest_paths #{n} into a fresh SOHOA_DATA_DIR (embedded defaults)")
            ingests.append(ingest_once(src, root / f"data-{n}", files, total))

    (best_cp, best_sync), sohoa_s = min(cps), min(ingests)
    mbps = total / MB / sohoa_s
    mix = ", ".join(f"{n} {k.upper()}" for k, n in counts.items())
    note = (
        f"{files} files ({mix}), {total / MB:.0f} MB; sources in page cache (generated, "
        f"fsynced, caches not dropped). Order: warm-up cp (untimed, {warm:.2f} s), cp, "
        f"sohoa, cp, sohoa; the better of each is shown: cp -r {cps[0][0]:.2f} / "
        f"{cps[1][0]:.2f} s, sohoa {ingests[0]:.2f} / {ingests[1]:.2f} s (ingest_paths only, "
        f"bootstrap excluded, fresh data dir each; sha256 of every byte while the kernel copies "
        f"it (copy_file_range), every blob and its folder fsynced, "
        f"one SQLite commit per capture). cp copies in the kernel (copy_file_range) and does "
        f"not fsync. First writes into RAM the VM has not used lately are slow (balloon), "
        f"hence the warm-up"
    )
    rows.append(
        row(
            f"ingest {total / MB:.0f} MB mixed files",
            "MB/s",
            mbps,
            total / MB / best_cp,
            "",
            note,
        )
    )
    rows.append(
        row(
            "ingest vs durable copy (cp -r + fsync)",
            "MB/s",
            mbps,
            total / MB / (best_cp + best_sync),
            "ratio ≥ 0.5",
            f"same ingest; baseline is the better cp -r plus fsync of each copied file "
            f"({best_sync:.2f} s), i.e. a copy as durable as sohoa's",
        )
    )
    return rows


def bench_big(big_mb: int) -> list[dict]:
    page_w, page_h = 5000, 4000  # 20 MB per page, 20 Mpx (limit 600 Mpx)
    pages = max(1, round(big_mb * MB / (page_w * page_h)))
    cli = [sys.executable, "-m", "scanners.cli"]
    with scratch("big") as root:
        path = root / "register.tif"
        log(f"writing a {pages}-page {page_w}x{page_h} greyscale TIFF ({pages * 20} MB) to {path}")
        with Stopwatch() as gen:
            write_tiff(path, pages, page_w, page_h, seed=42)
        size = path.stat().st_size
        fsync_tree(path)
        log(f"written in {gen.s:.1f} s; cp of it (an untimed warm-up, then timed)")
        warm, _ = timed_cp(path, root / "copy.tif")
        cp_s, cp_sync = timed_cp(path, root / "copy.tif")

        log("sohoa --help (baseline RSS)")
        code, _, help_rss, out = run_measured([*cli, "--help"], sohoa_env(root / "data-help"), REPO)
        if code != 0:
            raise SystemExit(f"sohoa --help failed:\n{out}")
        log("sohoa ingest of the big file (subprocess)")
        code, ingest_s, ingest_rss, out = run_measured(
            [*cli, "ingest", str(path)], sohoa_env(root / "data"), REPO
        )
        if code != 0 or "1 ingested" not in out:
            raise SystemExit(f"sohoa ingest failed ({code}):\n{out[-2000:]}")

    note = (
        f"{size / MB:.0f} MB TIFF of {pages} pages; peak RSS = ru_maxrss (wait4) of the "
        f"command, forked by a small launcher so this process's memory is not counted; "
        f"baseline = peak RSS of `sohoa --help` in the same run (ratio = sohoa ÷ baseline)"
    )
    return [
        row(
            f"peak RSS, `sohoa ingest` of one {size / 1e9:.1f} GB file",
            "MB",
            ingest_rss / MB,
            help_rss / MB,
            "sohoa ≤ 150",
            note,
        ),
        row(
            f"`sohoa ingest` of one {size / 1e9:.1f} GB file",
            "MB/s",
            size / MB / ingest_s,
            size / MB / cp_s,
            "",
            f"sohoa {ingest_s:.2f} s wall including interpreter start and imports; "
            f"cp {cp_s:.2f} s from page cache without fsync (+{cp_sync:.2f} s to fsync the copy; "
            f"untimed warm-up cp {warm:.2f} s)",
        ),
    ]


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--size-mb", type=int, help="total of the mixed files (default 1024; quick 100)")
    p.add_argument("--big-mb", type=int, help="size of the one big file (default 2048; quick 200)")
    p.add_argument("--skip-mix", action="store_true", help="only the big-file figures")
    p.add_argument("--skip-big", action="store_true", help="only the mixed-files figures")
    args = p.parse_args()
    size_mb = args.size_mb or (100 if args.quick else 1024)
    big_mb = args.big_mb or (200 if args.quick else 2048)
    if args.json:
        os.environ["TQDM_DISABLE"] = "1"  # before tqdm is imported: no progress bars
    log(f"bench_ingest: {load_average()}")
    rows = []
    if not args.skip_mix:
        rows += bench_mix(size_mb)
    if not args.skip_big:
        rows += bench_big(big_mb)
    log(f"bench_ingest done: {load_average()}")
    emit(rows, args.json)


if __name__ == "__main__":
    main()
