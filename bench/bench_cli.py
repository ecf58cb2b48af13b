"""`sohoa` start-up: wall and CPU time of `--version`, `--help`, `status --help`, `status`, and
of ingesting one small page with and without `--wait`.

    .venv/bin/python bench/bench_cli.py [--runs 10] [--quick] [--json]

Each case runs `python -m scanners.cli ARGS` in a fresh process, `--runs` times, the cases
interleaved (hyperfine-like, without its warm-up statistics); the figures are medians. CPU is
user + system of the process and the children it waited for (the page pool, Tesseract), the
figure a loaded machine does not bend. Everything runs on embedded defaults in a scratch data
folder; each ingest gets a page of its own (a one-line PNG, never a duplicate), and `--wait`
reads it (inspect, OCR, text). Bytecode is cached as an installed sohoa has it (in a scratch
PYTHONPYCACHEPREFIX, even when PYTHONDONTWRITEBYTECODE is set here): the first, untimed run of
each case writes it. Baseline: the same interpreter importing click and exiting
(`python -c "import click"`), the floor any click CLI pays.
"""

from __future__ import annotations

import itertools
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO, Stopwatch, emit, load_average, log, parser, row, scratch

CASES = {
    "sohoa --version": ["--version"],
    "sohoa --help": ["--help"],
    "sohoa status --help": ["status", "--help"],
    "sohoa status": ["status"],
    "sohoa ingest PAGE": ["ingest", "{page}"],
    "sohoa ingest PAGE --wait": ["ingest", "{page}", "--wait"],
}
FLOOR = [sys.executable, "-c", "import click"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one run."""
    cpu = _children_cpu()
    with Stopwatch() as t:
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True)
    if done.returncode:
        log(f"{' '.join(command[1:])}: exit {done.returncode}, timed all the same")
    return t.s * 1000, (_children_cpu() - cpu) * 1000


def _page(folder: Path, i: int) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("L", (480, 100), 255)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 30)
    ImageDraw.Draw(im).text((12, 30), f"Thửa đất số {i}, tờ số 7", font=font, fill=0)
    path = folder / f"trang-{i:04d}.png"
    im.save(path, dpi=(300, 300))
    return path


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10, help="runs of each case")
    args = p.parse_args()
    runs = 3 if args.quick else args.runs
    log(load_average())
    with scratch("cli") as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env |= {"SOHOA_DATA_DIR": str(data / "data"), "PYTHONPYCACHEPREFIX": str(data / "pyc")}
        (data / "pages").mkdir()
        pages = itertools.count()

        def command(case: str) -> list[str]:
            argv = [
                str(_page(data / "pages", next(pages))) if a == "{page}" else a for a in CASES[case]
            ]
            return [sys.executable, "-m", "scanners.cli", *argv]

        for case in CASES:  # untimed: the store is created, bytecode cached
            _once(command(case), env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in [*CASES, "floor"]}
        for _ in range(runs):
            for case in CASES:
                times[case].append(_once(command(case), env))
            times["floor"].append(_once(FLOOR, env))
    wall = {name: statistics.median(t[0] for t in got) for name, got in times.items()}
    cpu = {name: statistics.median(t[1] for t in got) for name, got in times.items()}
    note = f"median of {runs} fresh processes; baseline: python -c 'import click'"
    rows = []
    for name in CASES:
        rows.append(row(f"start-up, {name}", "ms", wall[name], wall["floor"], note=note))
        rows.append(row(f"start-up CPU, {name}", "ms", cpu[name], cpu["floor"], note=note))
    log(load_average())
    emit(rows, args.json)


if __name__ == "__main__":
    main()
