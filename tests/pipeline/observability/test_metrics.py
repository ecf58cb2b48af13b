"""Worker and follower metrics: jobs by queue and outcome, their durations, rejected inputs,
served on the process's own port in the Prometheus text format."""

from __future__ import annotations

import socket
from uuid import UUID

import httpx

from pipeline.observability.metrics import reason_of, serve_metrics
from scanners.cli.ingest import ingest_paths
from tests.factories import samples
from tests.helpers import make_services
from tests.web.test_ops import value
from workers.runtime import Runtime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_worker_counts_its_jobs_and_serves_them(tmp_path):
    svc = make_services(tmp_path)
    port = free_port()
    assert serve_metrics(port)
    before = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    try:
        empty = tmp_path / "empty.png"
        empty.write_bytes(b"")
        page = samples.make_png(tmp_path / "page.png", 200, 120, mode="L")
        with Runtime(svc, workers=True, follow=True) as rt:
            results = ingest_paths(svc, [page, empty], None, None, True)
            ids = [r.capture_id for r in results if r.capture_id]
            rt.wait_until_settled([UUID(i) for i in ids], timeout_s=120)
        after = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        svc.close()
    jobs = "sohoa_jobs_total"
    assert value(after, jobs, job="inspect", outcome="ok") > value(
        before, jobs, job="inspect", outcome="ok"
    )
    assert value(after, "sohoa_job_duration_seconds_count", job="inspect", queue="default")
    rejected = "sohoa_rejected_inputs_total"
    assert value(after, rejected, reason="empty file") > value(
        before, rejected, reason="empty file"
    )
    assert serve_metrics(port) is False, "a taken port is a warning, not a crash"


def test_rejection_reasons_stay_few():
    assert reason_of("empty file") == "empty file"
    assert reason_of("image/x-foo is not supported: 12 bytes") == "image x foo is not supported"
    assert (
        reason_of("3000 pages is more than the limit of 2000") == "pages is more than the limit of"
    )
