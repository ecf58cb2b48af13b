"""Scanned pages to searchable text: sohoa beside OCRmyPDF and raw Tesseract, same pages, same run.

    .venv/bin/python bench/bench_text_pipeline.py [--pages 16] [--rounds 2] [--quick] [--json]
    .venv/bin/python bench/bench_text_pipeline.py --setup      # installs the OCRmyPDF peer

"What would I pick instead?" Three ways to turn the same scanned pages into text, each given
every core (C = os.cpu_count()), run one after another in every round so a busy machine slows
them alike:

- **sohoa**: `sohoa ingest --wait` of one PDF of the pages, on embedded defaults (SQLite, local
  blobs, in-process broker; no SOHOA_* variable but the data folder, fresh each round): every
  job (inspection, one `ocr` job per page, the full text and a searchable PDF) has finished
  when the command returns.
- **OCRmyPDF** (installed by `--setup` into var/bench/ocrmypdf-venv, never by `make demo`):
  `ocrmypdf --jobs C -l vie --output-type pdf` of the same PDF (`pdf`, not the default PDF/A,
  needs no Ghostscript), giving a searchable PDF.
- **raw Tesseract**: `tesseract PAGE OUT -l vie` (text only) over the same pages as PNG files,
  C processes at a time, OMP_THREAD_LIMIT=1: the floor any Tesseract pipeline stands on.

Each is timed from its command's start to its end (start-up included) and its CPU time is the
user + system time of the command and of every process it started (`RUSAGE_CHILDREN`, with
this script the reaper of orphans, so a pool's server that outlives its command counts too);
the CPU note also splits sohoa's between its processes (the CLI, the pool's fork server, the
processes pages are read in), read from /proc while it runs.
Pages: generated 300-dpi A4 Vietnamese administrative pages (tests/factories/degrade.py, seeds
0…N-1), never evaluation pages. Figures: pages/min and CPU-s over all rounds together, sohoa ÷
peer; the note gives each round's ratio.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, emit, load_average, log, parser, row, scratch

OCRMYPDF_VERSION = "17.13.0"
OCRMYPDF_VENV = REPO / "var" / "bench" / "ocrmypdf-venv"
OCRMYPDF = OCRMYPDF_VENV / "bin" / "ocrmypdf"
SOHOA = REPO / ".venv" / "bin" / "sohoa"
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    by_process: dict[str, float] | None = None
    """sohoa's CPU seconds by role (the CLI process, the fork server, the page pool's
    processes), as last seen in /proc while the command ran (a little under the total)."""


def setup_ocrmypdf() -> bool:
    """OCRmyPDF in its own venv under var/bench/ (a peer, not one of sohoa's dependencies)."""
    if OCRMYPDF.exists():
        return True
    log(f"installing OCRmyPDF {OCRMYPDF_VERSION} into {OCRMYPDF_VENV}")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(OCRMYPDF_VENV)], check=True)
        pip = [str(OCRMYPDF_VENV / "bin" / "pip"), "install", "-q"]
        subprocess.run([*pip, f"ocrmypdf=={OCRMYPDF_VERSION}"], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        log(f"OCRmyPDF could not be installed: {e}")
        shutil.rmtree(OCRMYPDF_VENV, ignore_errors=True)
        return False
    return OCRMYPDF.exists()


def make_pages(folder: Path, pages: int) -> tuple[Path, list[Path]]:
    """(one PDF of the pages as 300-dpi grey JPEG scans, one PNG per page of the same pixels)."""
    from io import BytesIO

    from PIL import Image

    from tests.factories.degrade import render_page

    scans, pngs = [], []
    for i in range(pages):
        buf = BytesIO()
        render_page(seed=i).convert("L").save(buf, "JPEG", quality=85, dpi=(300, 300))
        scan = Image.open(BytesIO(buf.getvalue()))
        scans.append(scan)
        png = folder / f"page-{i:03d}.png"
        scan.save(png, dpi=(300, 300))
        pngs.append(png)
    pdf = folder / "register.pdf"
    scans[0].save(pdf, save_all=True, append_images=scans[1:], resolution=300.0)
    return pdf, pngs


def adopt_orphans() -> None:
    """Make this process the reaper of its descendants' orphans (Linux PR_SET_CHILD_SUBREAPER):
    a process pool's server outlives the command that started it, and its CPU time (its
    workers' included) would otherwise be counted nowhere."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)


def reap_orphans(within_s: float = 30.0) -> None:
    """Wait for every adopted orphan to end, so its CPU time joins RUSAGE_CHILDREN."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.02)
    log("an orphaned process did not end: its CPU time is not counted")


def timed(fn) -> Run:
    """Wall and CPU seconds of `fn()`, every process it started included (the wall time ends
    with `fn`; the CPU time counts orphans that end after it)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
    return {**env, **extra}


def run_sohoa(pdf: Path, data: Path) -> Run:
    env = _env(SOHOA_DATA_DIR=str(data))
    cmd = [str(SOHOA), "ingest", "--wait", "--json", str(pdf)]

    seen: dict[str, float] = {}

    def go() -> None:
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        watcher = threading.Thread(target=watch_cpu, args=(child, seen), daemon=True)
        watcher.start()
        _, err = child.communicate()
        watcher.join()
        if child.returncode != 0:
            raise RuntimeError(f"sohoa ingest --wait failed: {err.decode()[-2000:]}")

    run = timed(go)
    check_sohoa(data)
    return Run(run.wall_s, run.cpu_s, by_role(seen))


def watch_cpu(child: subprocess.Popen, seen: dict[str, float], every_s: float = 0.2) -> None:
    """Until `child` ends: the CPU seconds of it and each of its descendants ("pid role" →
    user + system, own time only), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    while child.poll() is None:
        stats = {}
        for entry in os.scandir("/proc"):
            try:
                stat = Path(entry.path, "stat").read_text() if entry.name.isdigit() else ""
            except OSError:
                continue
            if stat:
                fields = stat[stat.rindex(")") + 2 :].split()
                stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])))
        family = {child.pid: "cli"}
        for _ in range(3):  # the CLI → the fork server → the pool's processes
            for pid, (parent, _) in stats.items():
                if parent in family and pid not in family:
                    family[pid] = {"cli": "fork server"}.get(family[parent], "pool")
        for pid, role in family.items():
            if pid in stats:
                seen[f"{pid} {role}"] = max(seen.get(f"{pid} {role}", 0), stats[pid][1] / tick)
        time.sleep(every_s)


def by_role(seen: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, cpu in seen.items():
        role = key.split(" ", 1)[1]
        out[role] = out.get(role, 0.0) + cpu
    return out


def check_sohoa(data: Path) -> None:
    """Every page read and a searchable PDF made: a fast run that skipped work is no result."""
    from pipeline.bootstrap import bootstrap
    from pipeline.settings import Settings

    svc = bootstrap(Settings.from_env(_env(SOHOA_DATA_DIR=str(data))))
    try:
        captures = [svc.store.capture(i) for i in svc.store.capture_ids()]
        texts = [c.text for c in captures if c.text]
        if len(texts) != 1 or texts[0].get("pages_failed") or not texts[0].get("pdf_key"):
            raise RuntimeError(f"sohoa did not read every page: {texts}")
    finally:
        svc.close()


def run_ocrmypdf(pdf: Path, out: Path) -> Run:
    cmd = [str(OCRMYPDF), "--jobs", str(CORES), "-l", "vie", "--output-type", "pdf", "-q"]
    cmd += [str(pdf), str(out)]
    return timed(lambda: subprocess.run(cmd, check=True, capture_output=True, env=_env()))


def run_raw(pngs: list[Path], out: Path) -> Run:
    env = _env(OMP_THREAD_LIMIT="1")

    def one(png: Path) -> None:
        cmd = ["tesseract", str(png), str(out / png.stem), "-l", "vie"]
        subprocess.run(cmd, check=True, capture_output=True, env=env)

    def go() -> None:
        with ThreadPoolExecutor(CORES) as pool:
            list(pool.map(one, pngs))

    return timed(go)


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--pages", type=int, default=16)
    p.add_argument("--rounds", type=int, help="rounds of the three (default 2; quick 1)")
    p.add_argument("--setup", action="store_true", help="install the OCRmyPDF peer and stop")
    args = p.parse_args()
    if args.setup:
        sys.exit(0 if setup_ocrmypdf() else 1)
    rounds = args.rounds or (1 if args.quick else 2)
    have_ocrmypdf = setup_ocrmypdf()
    adopt_orphans()
    log(f"text pipeline: {args.pages} pages × {rounds} rounds, {CORES} cores; {load_average()}")
    runs: dict[str, list[Run]] = {"sohoa": [], "ocrmypdf": [], "raw": []}
    with scratch("text") as folder:
        pdf, pngs = make_pages(folder, args.pages)
        for n in range(rounds):
            work = folder / f"round-{n}"
            work.mkdir()
            runs["raw"].append(run_raw(pngs, work))
            if have_ocrmypdf:
                runs["ocrmypdf"].append(run_ocrmypdf(pdf, work / "ocrmypdf.pdf"))
            runs["sohoa"].append(run_sohoa(pdf, work / "sohoa"))
            shown = {
                k: f"{v[-1].wall_s:.1f} s, {v[-1].cpu_s:.1f} CPU-s" for k, v in runs.items() if v
            }
            log(f"round {n + 1}: {shown}; {load_average()}")
    return rows(runs, args.pages, args.json)


def rows(runs: dict[str, list[Run]], pages: int, as_json: bool) -> list[dict]:
    def rate(rs: list[Run]) -> float:
        return pages * len(rs) * 60 / sum(r.wall_s for r in rs)

    def cpu(rs: list[Run]) -> float:
        return sum(r.cpu_s for r in rs) / len(rs)

    what = f"{pages} A4 pages at 300 dpi, {CORES} cores, {len(runs['sohoa'])} round(s)"
    out = []
    for peer, name, speed_aim, cpu_aim in (
        ("ocrmypdf", f"OCRmyPDF {OCRMYPDF_VERSION} --jobs {CORES}", 1.0, 1.0),
        ("raw", f"raw tesseract ×{CORES}", 0.9, 1.11),
    ):
        theirs = runs[peer]
        if not theirs:
            out.append(
                row(
                    f"text pipeline vs {name}",
                    "pages/min",
                    rate(runs["sohoa"]),
                    None,
                    note="peer not installed: run make bench-setup",
                )
            )
            continue
        per_round = ", ".join(
            f"{t.wall_s / s.wall_s:.2f}" for s, t in zip(runs["sohoa"], theirs, strict=True)
        )
        out.append(
            row(
                f"text pipeline vs {name}",
                "pages/min",
                rate(runs["sohoa"]),
                rate(theirs),
                aim=f"ratio ≥ {speed_aim}",
                note=f"sohoa ingest --wait, embedded defaults; {what}; ratio per round {per_round}",
            )
        )
        out.append(
            row(
                f"text pipeline CPU vs {name}",
                "CPU-s",
                cpu(runs["sohoa"]),
                cpu(theirs),
                aim=f"ratio ≤ {cpu_aim}",
                note=f"user+system seconds of every process, per run of the {pages} pages"
                + split(runs["sohoa"]),
            )
        )
    emit(out, as_json)
    return out


def split(runs: list[Run]) -> str:
    """ "; sohoa by process: cli 2.1, fork server 0.3, pool 14.9" (means over the rounds)."""
    roles: dict[str, list[float]] = {}
    for r in runs:
        for role, cpu in (r.by_process or {}).items():
            roles.setdefault(role, []).append(cpu)
    shown = ", ".join(f"{k} {sum(v) / len(runs):.1f}" for k, v in roles.items())
    return f"; sohoa by process: {shown}" if shown else ""


if __name__ == "__main__":
    main()
