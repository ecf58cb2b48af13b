"""`sohoa` start-up: wall time of `--version`, `--help`, `status --help` and `status`.

    .venv/bin/python bench/bench_cli.py [--runs 10] [--quick] [--json]

Each case runs `python -m scanners.cli ARGS` in a fresh process, `--runs` times, the cases
interleaved (hyperfine-like, without its warm-up statistics); the figure is the median. `status`
runs on embedded defaults over an empty scratch data folder. Baseline: the same interpreter
importing click and exiting (`python -c "import click"`), the floor any click CLI pays.
"""

from __future__ import annotations

import os
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
}
FLOOR = [sys.executable, "-c", "import click"]


def _once(command: list[str], env: dict[str, str]) -> float:
    with Stopwatch() as t:
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True)
    if done.returncode:
        log(f"{' '.join(command[1:])}: exit {done.returncode}, timed all the same")
    return t.s * 1000


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10, help="runs of each case")
    args = p.parse_args()
    runs = 3 if args.quick else args.runs
    log(load_average())
    with scratch("cli") as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_")}
        env["SOHOA_DATA_DIR"] = str(data)
        commands = {name: [sys.executable, "-m", "scanners.cli", *a] for name, a in CASES.items()}
        for command in commands.values():  # untimed: the store is created, bytecode cached
            _once(command, env)
        times: dict[str, list[float]] = {name: [] for name in [*CASES, "floor"]}
        for _ in range(runs):
            for name, command in [*commands.items(), ("floor", FLOOR)]:
                times[name].append(_once(command, env))
    floor = statistics.median(times["floor"])
    rows = [
        row(
            f"start-up, {name}",
            "ms",
            statistics.median(times[name]),
            floor,
            note=f"median of {runs} fresh processes; baseline: python -c 'import click'",
        )
        for name in CASES
    ]
    log(load_average())
    emit(rows, args.json)


if __name__ == "__main__":
    main()
