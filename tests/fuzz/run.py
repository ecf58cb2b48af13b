"""Run the fuzz targets: `python tests/fuzz/run.py [--seconds N] [--jobs J] [TARGET ...]`.

Each target runs in its own process (`tests.fuzz.harness`) for N seconds, starting from its seed
corpus (generated sample files, plus every regression input) and the corpus earlier runs grew
under `var/fuzz/<target>/`. Per target it prints executions, seconds, the coverage libFuzzer
reached (`cov:`, edges of our own code) and crashes. Every crash, timeout or out-of-memory input
is copied to `tests/fuzz/regressions/<target>/` (replayed by `test_regressions.py`). Exit code 1
when any target crashed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REGRESSIONS = HERE / "regressions"
ARTIFACT_KINDS = ("crash", "timeout", "oom", "leak")


def targets() -> list[str]:
    return sorted(p.stem.removeprefix("fuzz_") for p in HERE.glob("fuzz_*.py"))


@dataclass
class Figures:
    target: str
    executions: int = 0
    seconds: float = 0.0
    coverage: int = 0
    features: int = 0
    crashes: list[str] | None = None
    error: str = ""

    def line(self) -> str:
        crashes = self.crashes or []
        shown = f"{len(crashes)}" + (f" ({', '.join(crashes)})" if crashes else "")
        return (
            f"{self.target:<16} {self.executions:>10,} {self.seconds:>7.1f} {self.coverage:>6} "
            f"{self.features:>7}  {shown}{'  ' + self.error if self.error else ''}"
        )


HEADER = f"{'target':<16} {'execs':>10} {'seconds':>7} {'cov':>6} {'ft':>7}  crashes"


def seed_corpus(target: str, corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(f"tests.fuzz.fuzz_{target}")
    for data in module.seeds():
        (corpus / f"seed-{hashlib.sha1(data).hexdigest()}").write_bytes(data)


def run_target(
    target: str, seconds: int, workdir: Path, save: bool, runs: int = 0, seed: int = 0
) -> Figures:
    """Fuzz one target for `seconds`, or for exactly `runs` inputs from `seed` (repeatable:
    the same inputs every time, which is what a CI gate needs; exploring is `make fuzz`)."""
    home = workdir / target
    corpus, artifacts = home / "corpus", home / "artifacts"
    seed_corpus(target, corpus)
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    regressions = REGRESSIONS / target
    cmd = [
        sys.executable,
        "-m",
        "tests.fuzz.harness",
        target,
        *([f"-runs={runs}", f"-seed={seed or 1}"] if runs else [f"-max_total_time={seconds}"]),
        "-timeout=20",
        "-rss_limit_mb=3072",
        "-max_len=65536",
        "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/",
        str(corpus),
        *([str(regressions)] if regressions.is_dir() else []),
    ]
    started = time.perf_counter()
    try:
        out = subprocess.run(
            cmd,
            cwd=REPO,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=(seconds or 60) + 300,
        )
        log = out.stdout + out.stderr
    except subprocess.TimeoutExpired as e:
        log = f"{e.stdout or ''}{e.stderr or ''}\nrunner: the target did not stop in time"
    figures = _figures(target, log, time.perf_counter() - started)
    (home / "last.log").write_text(log, encoding="utf-8")
    figures.crashes = _keep_artifacts(target, artifacts, save)
    if figures.crashes:
        figures.error = _first_exception(log)
    return figures


def _figures(target: str, log: str, seconds: float) -> Figures:
    f = Figures(target, seconds=seconds)
    if m := re.search(r"stat::number_of_executed_units:\s*(\d+)", log):
        f.executions = int(m.group(1))
    elif runs := re.findall(r"^#(\d+)\s", log, re.MULTILINE):
        f.executions = int(runs[-1])
    if cov := re.findall(r"cov: (\d+) ft: (\d+)", log):
        f.coverage, f.features = map(int, cov[-1])
    if "did not stop in time" in log:
        f.error = "hung"
    return f


def _keep_artifacts(target: str, artifacts: Path, save: bool) -> list[str]:
    kept = []
    for path in sorted(artifacts.iterdir()):
        kind = path.name.split("-", 1)[0]
        if kind not in ARTIFACT_KINDS:
            continue
        data = path.read_bytes()
        name = f"{kind}-{hashlib.sha1(data).hexdigest()[:16]}"
        if save:
            (REGRESSIONS / target).mkdir(parents=True, exist_ok=True)
            (REGRESSIONS / target / name).write_bytes(data)
        kept.append(name)
    return kept


def _first_exception(log: str) -> str:
    """The last line of the Python traceback libFuzzer printed (the exception itself)."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "Uncaught Python exception" in line:
            for rest in lines[i + 1 :]:
                if rest and not rest.startswith((" ", "Traceback")):
                    return rest.strip()[:200]
    for line in lines:
        if "ERROR: libFuzzer" in line:
            return line.split("ERROR: ", 1)[1][:200]
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="default: all")
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument(
        "--runs", type=int, default=0, help="exactly this many inputs per target, not --seconds"
    )
    parser.add_argument("--seed", type=int, default=1, help="with --runs (default 1)")
    parser.add_argument("--jobs", type=int, default=1, help="targets run at once (default 1)")
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "fuzz")
    parser.add_argument(
        "--no-save", action="store_true", help="do not copy crashes to tests/fuzz/regressions"
    )
    args = parser.parse_args(argv)
    names = args.targets or targets()
    unknown = sorted(set(names) - set(targets()))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(targets())}")
    print(HEADER, flush=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = [
            pool.submit(
                run_target,
                n,
                args.seconds,
                args.workdir,
                not args.no_save,
                args.runs,
                args.seed,
            )
            for n in names
        ]
        results = []
        for run in runs:
            results.append(run.result())
            print(results[-1].line(), flush=True)
    crashed = [r for r in results if r.crashes or r.error]
    total = sum(r.executions for r in results)
    print(
        f"{len(results)} targets, {total:,} executions in {time.perf_counter() - started:.0f} s; "
        f"{len(crashed)} with crashes"
        + (f" (inputs kept in {REGRESSIONS.relative_to(REPO)}/)" if crashed else ""),
        flush=True,
    )
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
