"""Operations figures (issue 21): /metrics scrape time and size, dashboard API and /api/stats
p95 over a large synthetic statistics projection.

    .venv/bin/python -m bench.bench_ops --captures 200000

Synthetic captures (random day over two years, kind, collection, one of 126 wards, 1–20 pages,
a state, an OCR confidence bucket, some failures and certificates) are counted through the
projection's own grains (`_Batch.add`) and saved with `StatsTables.save`, 10,000 at a time.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from bench.common import emit, load_average, log, row
from bench.common import parser as common_parser
from pipeline.projections.follower import stats_tables
from pipeline.projections.stats import CONF_BUCKETS, NAME, StatsProjection, _Batch
from pipeline.usecases.stats import DateRange, dashboard, public_stats
from tests.helpers import make_services
from web.app import create_app

KINDS = ("document", "land-certificate", "photo-set", "scan-set", "model")


def feed(svc, captures: int, chunk: int = 10_000) -> float:
    tables = stats_tables(svc)
    projection = StatsProjection(svc.store, tables)
    rng = random.Random(21)
    start_day = date(2025, 1, 1)
    t0 = time.perf_counter()
    for position, first in enumerate(range(0, captures, chunk)):
        batch = _Batch(projection, [])
        for _ in range(min(chunk, captures - first)):
            day = str(start_day + timedelta(days=rng.randrange(700)))
            row = {
                "kind": rng.choice(KINDS),
                "collection": f"c{rng.randrange(20)}",
                "unit": f"2025:{rng.randrange(126):05d}",
            }
            batch.add(day, "captures", row)
            batch.add(day, "pages", row, n=rng.randrange(1, 20))
            batch.add(day, "state", row, rng.choice(("pending", "done", "done", "failed")))
            batch.add(day, "ocr_conf", row, rng.choice(CONF_BUCKETS)[1])
            if rng.random() < 0.05:
                batch.add(day, "failures", row, f"ocr: E{rng.randrange(8)}")
            if row["kind"] == "land-certificate":
                batch.add(day, "cert_entered", row)
        tables.save(NAME, position, position + 1, batch.counts, [], [])
    return time.perf_counter() - t0


def text_run(folder: Path, pngs: list[Path], metrics_on: bool) -> float:
    """Seconds to ingest and read `pngs` on embedded defaults, with or without the metrics
    (job middleware, ingest counters, the sampler thread and the follower's event counters)."""
    import io
    from contextlib import ExitStack, redirect_stdout
    from unittest import mock
    from uuid import UUID

    from dramatiq.middleware import Middleware

    from scanners.cli.ingest import ingest_paths
    from workers.runtime import Runtime

    class Idle:
        def __init__(self, *_a) -> None: ...
        def start(self, *_a) -> Idle:
            return self

        def stop(self) -> None: ...

    class NoMetrics(Middleware):
        pass

    svc = make_services(folder)
    with ExitStack() as stack:
        stack.enter_context(redirect_stdout(io.StringIO()))  # ingest's verdict lines
        if not metrics_on:
            stack.enter_context(mock.patch("workers.runtime.JobMetrics", NoMetrics))
            stack.enter_context(mock.patch("workers.runtime.Sampler", Idle))
            stack.enter_context(
                mock.patch("pipeline.usecases.ingest.observe_ingest", lambda _r: None)
            )
            stack.enter_context(
                mock.patch("pipeline.projections.follower.observe_events", lambda _e: None)
            )
        start = time.perf_counter()
        with Runtime(svc, workers=True, follow=True) as rt:
            results = ingest_paths(svc, pngs, "document", None, True)
            rt.wait_until_settled([UUID(r.capture_id) for r in results], timeout_s=600)
        took = time.perf_counter() - start
    svc.close()
    return took


def overhead(pages: int, rounds: int) -> tuple[float, float]:
    """Median seconds of a small text-pipeline run without and with the metrics."""
    from bench.bench_text_pipeline import make_pages

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pages").mkdir()
        _pdf, pngs = make_pages(root / "pages", pages)
        runs: dict[bool, list[float]] = {True: [], False: []}
        text_run(root / "warm-up", pngs, True)  # first-run costs (imports, models) paid once
        for i in range(rounds):  # alternated, and which goes first too
            for on in (False, True) if i % 2 == 0 else (True, False):
                runs[on].append(text_run(root / f"run-{i}-{on}", pngs, on))
        off, on = statistics.median(runs[False]), statistics.median(runs[True])
        shown = {k: [round(t, 2) for t in v] for k, v in runs.items()}
        log(f"text pipeline runs (s): without {shown[False]}, with {shown[True]}")
        return off, on


def hook_cost(jobs: int = 20_000) -> tuple[float, float]:
    """What the metrics add to one job (the middleware's two hooks) and to one web request
    (the timing middleware's observation), measured directly."""
    import logging

    import dramatiq

    from pipeline.observability.metrics import HTTP_SECONDS
    from workers.metrics import JobMetrics

    logging.getLogger("pipeline.observability.metrics").setLevel(logging.WARNING)
    middleware = JobMetrics()
    message = dramatiq.Message(
        queue_name="ocr", actor_name="ocr", args=("c",), kwargs={}, options={}
    )
    start = time.perf_counter()
    for _ in range(jobs):
        middleware.before_process_message(None, message)
        middleware.after_process_message(None, message)
    per_job = (time.perf_counter() - start) / jobs
    start = time.perf_counter()
    for _ in range(jobs):
        HTTP_SECONDS.labels("GET", "/api/search", "2xx").observe(0.01)
    per_request = (time.perf_counter() - start) / jobs
    return per_job, per_request


def p95(fn, runs: int = 40) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1000, times[int(0.95 * (runs - 1))] * 1000


def main() -> None:
    parser = common_parser(__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=200_000)
    parser.add_argument("--pages", type=int, default=3, help="text-pipeline pages (0: skip)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", help="keep the fed projection here (and reuse it next time)")
    args = parser.parse_args()
    if args.quick:
        args.captures, args.pages = min(args.captures, 20_000), 0
    log(load_average())
    per_job, per_request = hook_cost()
    rows = [
        row("metrics per job", "µs", per_job * 1e6, None, note="two middleware hooks"),
        row("metrics per web request", "µs", per_request * 1e6, None),
    ]
    if args.pages:
        off, on = overhead(args.pages, args.rounds)
        rows.append(
            row(
                f"text pipeline with metrics, {args.pages} pages",
                "s (median)",
                on,
                off,
                aim="≤ 1.02",
                note="baseline: the same run without metrics",
            )
        )
    if args.captures:
        with tempfile.TemporaryDirectory() as tmp:
            rows += projection_rows(Path(args.data or tmp), args.captures)
    emit(rows, args.json)


def projection_rows(folder: Path, captures: int) -> list[dict]:
    """p95 of the dashboard, /api/stats and /metrics over `captures` synthetic captures."""
    reuse = (folder / "data" / "events.sqlite3").exists()
    svc = make_services(folder)
    fed = 0.0 if reuse else feed(svc, captures)
    count_rows = stats_tables(svc).query("SELECT COUNT(*) AS n FROM {p}stats_count")[0]["n"]
    log(f"fed {captures:,} synthetic captures in {fed:.1f} s -> {count_rows:,} count rows")
    year = DateRange(date(2025, 1, 1), date(2025, 12, 31))
    century = DateRange(date(1926, 1, 1), date(2026, 12, 31))
    today = date(2026, 12, 1)
    client = TestClient(create_app(svc))
    client.get("/metrics")
    rows = []
    for name, fn in (
        ("dashboard, one year, all units", lambda: dashboard(svc, year, today=today)),
        ("dashboard, 100 years", lambda: dashboard(svc, century, today=today)),
        ("dashboard, one unit", lambda: dashboard(svc, year, unit="2025:00004", today=today)),
        ("public stats (uncached)", lambda: public_stats(svc)),
        ("GET /api/stats (cached)", lambda: client.get("/api/stats")),
        ("GET /metrics", lambda: client.get("/metrics")),
    ):
        median, high = p95(fn)
        rows.append(
            row(
                f"{name}, {captures:,} captures",
                "ms p95",
                high,
                None,
                aim="≤ 100",
                note=f"median {median:.1f} ms",
            )
        )
    size = len(client.get("/metrics").content)
    rows.append(row("/metrics size", "bytes", size, None))
    svc.close()
    return rows


if __name__ == "__main__":
    main()
