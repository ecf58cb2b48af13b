"""The scale run (issue 15, item 3): N synthetic captures on PostgreSQL; `status` and the staff
lists p95 at 10 %, 50 % and 100 % of N, and the captures follower's RSS at those points.

    .venv/bin/python -m bench.bench_scale --captures 200000

Captures are written through the store's own commands (`Capture` aggregates saved 1,000 to a
transaction; no OCR, no blobs): half inspected (done), a third only received (pending), one in
ten failed, the rest inspected with a text run requested (pending OCR). The captures follower
runs in its own process (as in `sohoa follow`) while they are written; at each point the bench
waits for it to catch up, then times what the CLI and the staff home call:
`pipeline.usecases.status.capture_states` (with its catch-up check) and
`web.staff.reads.capture_list` (first page of all, pending and failed; page 100 of all).
The baseline of `status` is what it cost before the projection (every capture loaded and
planned; 1,000 timed, scaled to the count). A plot of the curve is written to
var/bench/scale.png.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from uuid import UUID

from bench.common import REPO, emit, load_average, log, parser, percentile, row, scratch
from models.capture import Capture

POINTS = (0.1, 0.5, 1.0)
CHUNK = 1000
RUNS = 40


def synthetic(i: int, rng: random.Random) -> Capture:
    sha = hashlib.sha256(f"scale-{i}".encode()).hexdigest()
    kind = rng.choice(("document", "document", "land-certificate", "photo-set"))
    c = Capture(
        sha256=sha, blob_key=f"blobs/{sha}", size=rng.randrange(10_000, 5_000_000),
        media_type="image/tiff", kind=kind, original_name=f"scan/{i:07}.tif", source="bench",
        operator="bench", meta={"collection": f"c{rng.randrange(20)}"}, member_count=0, links=[],
    )  # fmt: skip
    roll = rng.random()
    if roll < 0.1:
        c.record_failure(
            job_key=f"inspect-{sha}", stage="inspect", error_class="CorruptImageError",
            message="truncated TIFF", attempt=1, permanent=True,
        )  # fmt: skip
    elif roll < 0.65:
        c.record_inspection(job_key=f"inspect-{sha}", stage="inspect", facts={"pages": 1})
        if roll > 0.6:
            c.request_text(run=1, params={"lang": "vie"}, requested_by="bench")
    return c


def write(store, first: int, last: int, rng: random.Random) -> None:
    for start in range(first, last, CHUNK):
        store.save(*(synthetic(i, rng) for i in range(start, min(start + CHUNK, last))))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(fn, runs: int = RUNS) -> float:
    """p95 milliseconds of `fn()` over `runs` calls."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return percentile(times, 95)


def wait_caught_up(svc, follower: subprocess.Popen) -> float:
    """Seconds until the follower's position reaches the log's end."""
    from pipeline.projections.captures import capture_tables

    t0 = time.perf_counter()
    end = svc.store.max_notification_id()
    while capture_tables(svc).position() < end:
        if follower.poll() is not None:
            raise RuntimeError("the captures follower died")
        time.sleep(0.5)
    return time.perf_counter() - t0


def before(svc, n: int, sample: int = 1000) -> float:
    """What `status` cost before the projection (load every capture and plan it), in ms:
    `sample` captures loaded and timed, scaled to `n` (loading all of them takes too long)."""
    from models.plan import plan

    ids = [UUID(r["capture_id"]) for r in _sample(svc, sample)]
    t0 = time.perf_counter()
    for cid in ids:
        capture = svc.store.capture(cid)
        capture.state(plan(capture))
    return (time.perf_counter() - t0) * 1000 * n / len(ids)


def _sample(svc, size: int) -> list[dict]:
    from pipeline.projections.captures import capture_tables

    return capture_tables(svc).query(
        "SELECT capture_id FROM {p}capture_list ORDER BY received DESC LIMIT ?", [size]
    )


def measure(svc, n: int, follower: subprocess.Popen, lag_s: float) -> dict:
    from pipeline.usecases.status import capture_states
    from web.staff.reads import capture_list

    figures = {
        "captures": n,
        "before_ms": before(svc, n),
        "catch_up_s": lag_s,
        "rss_mb": rss_mb(follower.pid),
        "status_ms": timed(lambda: capture_states(svc, [])),
        "list_ms": timed(lambda: capture_list(svc, None, 1)),
        "pending_ms": timed(lambda: capture_list(svc, "pending", 1)),
        "failed_ms": timed(lambda: capture_list(svc, "failed", 1)),
        "page100_ms": timed(lambda: capture_list(svc, None, 100), runs=20),
    }
    log(json.dumps(figures))
    return figures


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [p["captures"] for p in points]
    fig, left = plt.subplots(figsize=(7, 4))
    for key, label in (
        ("status_ms", "status p95"),
        ("list_ms", "staff list p95"),
        ("failed_ms", "failures list p95"),
        ("page100_ms", "list page 100 p95"),
    ):
        left.plot(xs, [p[key] for p in points], marker="o", label=label)
    left.axhline(100, color="grey", linestyle=":", label="aim 100 ms")
    highest = max(p[k] for p in points for k in ("status_ms", "list_ms", "page100_ms"))
    left.set_ylim(0, max(110, highest * 1.1))
    left.set_xlabel("captures")
    left.set_ylabel("ms")
    right = left.twinx()
    right.plot(xs, [p["rss_mb"] for p in points], color="black", marker="s", label="follower RSS")
    right.set_ylabel("follower RSS (MB)")
    right.set_ylim(0, max(p["rss_mb"] for p in points) * 1.5)
    lines = left.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    left.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    left.set_title("sohoa scale run: PostgreSQL, captures projection")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def rows_of(points: list[dict]) -> list[dict]:
    first, last = points[0], points[-1]
    out = []
    for p in points:
        n = f"{p['captures']:,}"
        out += [
            row(
                f"scale: status at {n} captures",
                "ms p95",
                p["status_ms"],
                p["before_ms"],
                "sohoa ≤ 100",
                note="baseline: loading every capture as status did before (1,000 timed, scaled)",
            ),
            row(f"scale: staff list at {n}", "ms p95", p["list_ms"], None, "sohoa ≤ 100"),
            row(f"scale: failures list at {n}", "ms p95", p["failed_ms"], None, "sohoa ≤ 100"),
            row(f"scale: list page 100 at {n}", "ms p95", p["page100_ms"], None),
            row(f"scale: follower RSS at {n}", "MB", p["rss_mb"], None),
        ]
    growth = last["rss_mb"] / first["rss_mb"] if first["rss_mb"] else None
    out.append(
        row(
            "scale: follower RSS, 100 % vs 10 %",
            "ratio",
            growth or 0.0,
            None,
            "sohoa ≤ 1.1",
            note="the captures follower alone (its own process), PostgreSQL event store",
        )
    )
    return out


def start_follower(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.bench_scale", "--follower"],
        env={**os.environ, **env},
        cwd=REPO,
    )


def run_follower() -> None:
    """`--follower`: the captures follower over the event store named by the environment."""
    from pipeline.bootstrap import bootstrap
    from pipeline.projections.captures import IDLE_S, captures_follower
    from pipeline.settings import Settings

    svc = bootstrap(Settings.from_env(dict(os.environ)))
    captures_follower(svc).run(threading.Event(), IDLE_S)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--captures", type=int, default=200_000)
    p.add_argument("--follower", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.follower:
        run_follower()
        return
    n = 20_000 if args.quick else args.captures
    import psycopg

    from tests.helpers import make_services

    base = _pg_url()
    schema = "bench_scale_" + uuid.uuid4().hex[:8]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    log(f"{n:,} captures into schema {schema}; {load_average()}")
    points: list[dict] = []
    with scratch("scale") as folder:
        env = {
            "SOHOA_DATA_DIR": str(folder / "data"),
            "SOHOA_EVENTSTORE_URL": f"{base}?schema={schema}",
            "SOHOA_BROKER_URL": "redis://127.0.0.1:1/0",  # not embedded: a follower runs apart
        }
        svc = make_services(folder, **{k: v for k, v in env.items() if k != "SOHOA_DATA_DIR"})
        svc.store.max_notification_id()  # tables made before the follower starts
        from pipeline.projections.captures import capture_tables

        capture_tables(svc).create()
        follower = start_follower(env)
        rng = random.Random(15)
        written = 0
        try:
            for share in POINTS:
                target = int(n * share)
                t0 = time.perf_counter()
                write(svc.store, written, target, rng)
                log(f"wrote {target - written:,} captures in {time.perf_counter() - t0:.0f} s")
                written = target
                points.append(measure(svc, written, follower, wait_caught_up(svc, follower)))
        finally:
            follower.terminate()
            follower.wait(timeout=30)
            svc.close()
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    plot(points, REPO / "var" / "bench" / "scale.png")
    log("plot: var/bench/scale.png")
    emit(rows_of(points), args.json)


def _pg_url() -> str:
    """The test PostgreSQL: the environment's, else what `make services` wrote."""
    from tests.services.services import read_env

    key = "SOHOA_TEST_POSTGRES_URL"
    return os.environ.get(key) or read_env(REPO / "var" / "services.env")[key]


if __name__ == "__main__":
    main()
