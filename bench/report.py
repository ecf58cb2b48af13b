"""Run every benchmark and print one table: figure | unit | sohoa | baseline | ratio | aim | met?

    .venv/bin/python bench/report.py [--quick] [--only ingest,events,jobs] [--json]

Each script runs as a subprocess with `--json` (and `--quick` when given); its progress goes
to stderr as it runs. `--quick` scales everything down (100 MB ingest, a 200 MB big file,
20k events, 100 jobs, one round of the text pipeline beside its peers) and keeps to a budget
(`--budget-s`, 300 s when quick): a script still running when the budget is spent is stopped,
and it and the scripts after it are listed as not run, so a quick report never takes longer
than it says. Each script's time is logged. Exit code 1 if a script failed.

Peers (OCRmyPDF) are installed by `make bench-setup`, never by `make demo`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, load_average, log, met, parser, table

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "ingest": "bench_ingest.py",
    "events": "bench_events.py",
    "jobs": "bench_jobs.py",
    "ocr": "bench_ocr.py",
    "text": "bench_text_pipeline.py",
    "correction": "bench_correction.py",
    "web": "bench_web.py",
    "search": "bench_search.py",
    "certificates": "bench_certificates.py",
    "photogrammetry": "bench_photogrammetry.py",
    "3d": "bench_3d.py",
    "load": "bench_load.py",
    "iiif": "bench_iiif.py",
    "portal": "bench_portal.py",
    "import": "bench_import.py",
    "lineage": "bench_lineage.py",
    "ops": "bench_ops.py",
    "review": "bench_certificate_review.py",
    "scale": "bench_scale.py",
    "bounded": "bench_bounded.py",
    "dates": "bench_certificate_dates.py",
}


QUICK_BUDGET_S = 300.0


class OverBudgetError(RuntimeError):
    """The report's time budget ran out while a script was running."""


def run(name: str, quick: bool, timeout_s: float | None = None) -> list[dict]:
    module = "bench." + SCRIPTS[name].removesuffix(".py")  # as a module: the repo on sys.path
    cmd = [sys.executable, "-m", module, "--json", *(["--quick"] if quick else [])]
    log(f"running {' '.join(cmd[1:])}")
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, cwd=HERE.parent, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise OverBudgetError(f"{SCRIPTS[name]} stopped: the time budget ran out") from None
    log(f"{name}: {time.monotonic() - started:.0f} s")
    if done.returncode != 0:
        raise RuntimeError(f"{SCRIPTS[name]} exited with {done.returncode}")
    return json.loads(done.stdout)


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--only", help="comma-separated subset of: " + ", ".join(SCRIPTS))
    p.add_argument(
        "--budget-s", type=float, help=f"stop after this long ({QUICK_BUDGET_S:.0f} quick)"
    )
    args = p.parse_args()
    budget = args.budget_s or (QUICK_BUDGET_S if args.quick else None)
    deadline = None if budget is None else time.monotonic() + budget
    names = args.only.split(",") if args.only else list(SCRIPTS)
    unknown = set(names) - set(SCRIPTS)
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    log(f"report: {load_average()}")
    rows: list[dict] = []
    failed, skipped = [], []
    for name in names:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            skipped.append(name)
            continue
        try:
            rows += run(name, args.quick, left)
        except OverBudgetError as e:
            log(f"{name}: {e}")
            skipped.append(name)
        except (RuntimeError, json.JSONDecodeError) as e:
            log(f"{name}: FAILED: {e}")
            failed.append(name)
    log(f"report done: {load_average()}")
    if args.json:
        emit([{**r, "met": met(r)} for r in rows], True)
    else:
        print(table(rows, with_met=True))
        if skipped:
            print(f"\nNOT RUN (time budget of {budget:.0f} s spent): {', '.join(skipped)}")
        if failed:
            print(f"\nFAILED: {', '.join(failed)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
