"""The archivists' review queue at scale: `/staff/review` with 10,000 certificates.

    .venv/bin/python -m bench.bench_review_queue [--certificates 10000] [--requests 200]
                                                 [--quick] [--json]

1. An embedded store (SQLite) whose captures projection holds `--certificates` synthetic rows
   in its review table (`pipeline.projections.review`: fields waiting 0–3, weakest confidence
   spread over 0–1, as the follower writes them; no captures behind them: the page reads only
   the table). An archivist signed in through the app (Starlette's TestClient: routing, the
   session, templates) asks for the first page, a middle page and the last page in turn,
   `--requests` times in all (each request also brings the projection up to date, as on
   embedded defaults); p50 and p95. Baseline: `GET /healthz` through the same client (the
   cost of HTTP and the app without the queue).
2. For scale, what the queue cost before the projection (every capture loaded and its fields
   summarised): one real certificate capture (fields job run on a recorded page) loaded and
   summarised, its mean time × `--certificates` (an estimate: the old code did exactly that
   once per request, and once more for the "next" link).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, load_average, log, parser, percentile, row


def synthetic_rows(n: int) -> list[dict]:
    return [
        {
            "capture_id": f"00000000-0000-4000-8000-{i:012}", "received": i,
            "title": f"gcn-{i:05}.jpg", "waiting": i % 4, "accepted": i % 3, "corrected": i % 2,
            "left_blank": 0, "read": 10, "weakest": ((i * 7919) % n) / n,
        }
        for i in range(n)
    ]  # fmt: skip


def timed(client, urls: list[str], requests: int) -> list[float]:
    times = []
    for k in range(requests):
        start = time.perf_counter()
        r = client.get(urls[k % len(urls)])
        times.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, r.status_code
    return times


def old_queue_ms_per_capture(tmp: Path, loads: int = 50) -> float:
    """One certificate capture loaded and summarised, as the old queue did for every one."""
    from pipeline.presenters import field_status, review_summary
    from tests.helpers import make_services
    from tests.web.test_review_queue import GARBLED, certificate

    svc = make_services(tmp / "old")
    try:
        with contextlib.redirect_stdout(sys.stderr):  # ingest's lines: stdout is the table
            cid = certificate(svc, tmp, "gcn.png", GARBLED, 64)
        start = time.perf_counter()
        for _ in range(loads):
            review_summary(field_status(svc.store.capture(cid)))
        return (time.perf_counter() - start) * 1000 / loads
    finally:
        svc.close()


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--certificates", type=int, default=10_000)
    p.add_argument("--requests", type=int, help="requests timed (default 200; quick 60)")
    args = p.parse_args()
    n, requests = args.certificates, args.requests or (60 if args.quick else 200)
    log(f"bench_review_queue: {load_average()}")
    from fastapi.testclient import TestClient

    from pipeline.projections.captures import capture_tables
    from pipeline.usecases.accounts import add_user
    from tests.helpers import make_services
    from tests.web.conftest import PASSWORD, login
    from web.app import create_app

    with tempfile.TemporaryDirectory(prefix="sohoa-bench-review-") as folder:
        tmp = Path(folder)
        svc = make_services(tmp)
        try:
            tables = capture_tables(svc)
            tables.create()
            with tables.base.transaction(commit=True) as cursor:
                tables.review.write(cursor, [], synthetic_rows(n))
            add_user(svc.store, "lan", "archivist", PASSWORD)
            client = login(TestClient(create_app(svc)), "lan")
            last = -(-n // 50)
            urls = [
                "/staff/review",
                f"/staff/review?page={last // 2}",
                f"/staff/review?page={last}",
            ]
            timed(client, urls, 6)  # warm: templates compiled, the first catch-up done
            queue = timed(client, urls, requests)
            health = timed(client, ["/healthz"], requests)
        finally:
            svc.close()
        per_capture = old_queue_ms_per_capture(tmp)
    note = (
        f"{n:,} synthetic rows in the review table (SQLite), pages 1, {last // 2} and {last} "
        f"of {last} in turn, {requests} requests through the app signed in; baseline GET /healthz"
    )
    rows = [
        row("/staff/review p50", "ms", percentile(queue, 50), percentile(health, 50), note=note),
        row("/staff/review p95", "ms", percentile(queue, 95), percentile(health, 95),
            "sohoa ≤ 200", note),
        row("queue before the projection (estimate)", "ms", per_capture * n, None,
            note=f"one certificate capture loaded and summarised ({per_capture:.2f} ms) × {n:,}"),
    ]  # fmt: skip
    log(f"bench_review_queue done: {load_average()}")
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
