"""The mutant batch (issue 20) through ingest and then the job loop, on the embedded defaults.

About 1,300 mutants of small real files of every accepted format
(`tests.factories.hostile.build_mutants`:
cut at every length up to 64 bytes and at random points, bytes flipped, runs zeroed) and two good
control pages are ingested as one batch (the `sohoa ingest` code path); then the job loop
(dispatcher, workers: inspection, page loading and OCR, 3D readers in their isolated child) runs
until every ingested capture reaches a final state.

Prints: ingest files/s and verdicts by kind; job-loop seconds, captures by final state and
failures by stage; captures without a final state (aim: 0); whether the controls went through;
peak RSS of this process and of its children (the isolated 3D readers).

    python -m bench.bench_mutants [--timeout S] [--json]
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

from bench.common import load_average, log, parser, scratch

TIMEOUT_S = 1800.0


def _peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--timeout", type=float, default=TIMEOUT_S, help="job loop limit, seconds")
    args = p.parse_args(argv)

    from pipeline.bootstrap import bootstrap
    from pipeline.settings import Settings
    from scanners.cli.ingest import ingest_paths
    from tests.factories import hostile
    from workers.runtime import Runtime

    figures: dict = {"load": load_average()}
    with scratch("mutants") as root:
        mutants, controls = hostile.build_mutants(root / "batch")
        files = len(mutants) + len(controls)
        svc = bootstrap(Settings.from_env({"SOHOA_DATA_DIR": str(root / "data")}))
        log(f"ingesting {files} files")
        started = time.perf_counter()
        results = ingest_paths(svc, [root / "batch"], None, None, as_json=False)
        ingest_s = time.perf_counter() - started
        verdicts = Counter(r.status for r in results)
        internal = [r for r in results if (r.error or "").startswith("internal error")]
        ids = {UUID(r.capture_id) for r in results if r.status == "ingested"}
        controls_ok = all(
            any(r.path == str(c) and r.status == "ingested" for r in results) for c in controls
        )
        figures |= {
            "files": files,
            "ingest_s": round(ingest_s, 2),
            "ingest_files_per_s": round(files / ingest_s, 1),
            "verdicts": dict(verdicts),
            "internal_errors": len(internal),
            "controls_ingested": controls_ok,
            "captures": len(ids),
        }

        log(f"job loop for {len(ids)} captures")
        started = time.perf_counter()
        states: dict[UUID, str] = {}
        with Runtime(svc, workers=True, follow=True) as runtime:
            try:
                states = runtime.wait_until_settled(ids, timeout_s=args.timeout)
            except TimeoutError as e:
                log(str(e))
            loop_s = time.perf_counter() - started
            pending = [cid for cid in ids if cid not in states]
            late = _still_serving(svc, runtime, root)
        failures = Counter(
            f"{f['stage'].split('/')[0]}: {'permanent' if f['permanent'] else 'transient'}"
            + (" (internal error)" if f["message"].startswith("internal error") else "")
            for cid in ids
            for f in svc.store.capture(cid).failures
        )
        figures |= {
            "loop_s": round(loop_s, 1),
            "loop_captures_per_s": round(len(ids) / loop_s, 2) if loop_s else None,
            "final_states": dict(Counter(states.values())),
            "without_final_state": len(pending),
            "failures_by_stage": dict(failures),
            "worker_serves_after": late,
            "peak_rss_mib": round(_peak_mib(resource.RUSAGE_SELF)),
            "peak_rss_children_mib": round(_peak_mib(resource.RUSAGE_CHILDREN)),
        }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
    else:
        for key, value in figures.items():
            print(f"{key:<24} {value}")
    ok = figures["without_final_state"] == 0 and controls_ok and not internal and late == "done"
    return 0 if ok else 1


def _still_serving(svc, runtime, root: Path) -> str:
    """A good page ingested after the batch: the workers must still take it to `done`."""
    from pipeline.usecases.inputs import collect
    from scanners.cli.ingest import ingestor, is_zip
    from tests.factories import samples

    page = samples.make_png(root / "late.png", 80, 60)
    [result] = ingestor(svc).ingest(collect([page], None, is_zip, svc.settings.limits))
    if result.capture_id is None:
        return f"not ingested: {result.error}"
    try:
        states = runtime.wait_until_settled({UUID(result.capture_id)}, timeout_s=300)
    except TimeoutError:
        return "pending after 300 s"
    return next(iter(states.values()))


if __name__ == "__main__":
    sys.exit(main())
