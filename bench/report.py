"""Run every benchmark and print one table: figure | unit | sohoa | baseline | ratio | aim | met?

    .venv/bin/python bench/report.py [--quick] [--only ingest,events,jobs] [--json]

Each script runs as a subprocess with `--json` (and `--quick` when given); its progress goes
to stderr as it runs. `--quick` scales everything down (100 MB ingest, a 200 MB big file,
20k events, 100 jobs) to finish in a couple of minutes. Exit code 1 if a script failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
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
}


def run(name: str, quick: bool) -> list[dict]:
    cmd = [sys.executable, str(HERE / SCRIPTS[name]), "--json", *(["--quick"] if quick else [])]
    log(f"running {' '.join(cmd[1:])}")
    done = subprocess.run(cmd, stdout=subprocess.PIPE, cwd=HERE.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{SCRIPTS[name]} exited with {done.returncode}")
    return json.loads(done.stdout)


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--only", help="comma-separated subset of: " + ", ".join(SCRIPTS))
    args = p.parse_args()
    names = args.only.split(",") if args.only else list(SCRIPTS)
    unknown = set(names) - set(SCRIPTS)
    if unknown:
        p.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    log(f"report: {load_average()}")
    rows: list[dict] = []
    failed = []
    for name in names:
        try:
            rows += run(name, args.quick)
        except (RuntimeError, json.JSONDecodeError) as e:
            log(f"{name}: FAILED: {e}")
            failed.append(name)
    log(f"report done: {load_average()}")
    if args.json:
        emit([{**r, "met": met(r)} for r in rows], True)
    else:
        print(table(rows, with_met=True))
        if failed:
            print(f"\nFAILED: {', '.join(failed)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
