"""Metrics for operators, in the Prometheus text format (exposition by `prometheus_client`).

Every `sohoa` process registers the same metrics in the default registry; each fills the ones
its work touches and serves them: the web app at `/metrics`, `worker` and `follow` on their
own port (`serve_metrics`). Gauges that need a database or a broker (follower and index lag,
queue depth) are refreshed by a background thread (`Sampler`), never during a scrape, so a
scrape stays fast while a search node is busy reindexing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

JOBS = Counter(
    "sohoa_jobs", "Jobs a worker finished, by queue, job and outcome.", ["queue", "job", "outcome"]
)
JOB_SECONDS = Histogram(
    "sohoa_job_duration_seconds",
    "How long one job (one stage of one capture, or one page) took.",
    ["queue", "job"],
    buckets=STAGE_BUCKETS,
)
OCR_PAGES = Counter("sohoa_ocr_pages", "Pages the OCR job finished.")
RECONSTRUCTION_SECONDS = Histogram(
    "sohoa_reconstruction_seconds", "How long one 3D reconstruction took.", buckets=STAGE_BUCKETS
)
FAILURES = Counter(
    "sohoa_stage_failures",
    "Failures recorded on captures (seen by the statistics follower), by stage and error class.",
    ["stage", "reason"],
)
FOLLOWER_LAG = Gauge(
    "sohoa_follower_lag_events", "Events a follower has still to read.", ["follower"]
)
FOLLOWER_POSITION = Gauge(
    "sohoa_follower_position", "The last event a follower has read.", ["follower"]
)
INDEX_LAG = Gauge("sohoa_index_lag_events", "Events the search index has still to take in.")
QUEUE_DEPTH = Gauge("sohoa_queue_depth", "Messages waiting in a broker queue.", ["queue"])
INGEST_BYTES = Counter(
    "sohoa_ingest_bytes", "Bytes of new captures (seen by the statistics follower)."
)
INGESTED = Counter("sohoa_ingest_items", "Items ingest decided on, by verdict.", ["status"])
REJECTED = Counter("sohoa_rejected_inputs", "Inputs ingest refused, by reason.", ["reason"])
HTTP_SECONDS = Histogram(
    "sohoa_http_request_duration_seconds",
    "Web requests, by method, route template and status class.",
    ["method", "route", "status"],
    buckets=HTTP_BUCKETS,
)
LOGIN_FAILURES = Counter("sohoa_login_failures", "Sign-ins refused.")
SAMPLE_AGE = Gauge(
    "sohoa_metrics_sample_timestamp_seconds", "When the lag and queue gauges were last read."
)

_REASON = re.compile(r"[^a-z ]+")


def reason_of(message: str) -> str:
    """A short, low-cardinality reason from a rejection message: its words before the first
    colon or number ("empty file", "unsupported media type"), at most 40 characters."""
    head = message.lower().split(":", 1)[0]
    words = " ".join(_REASON.sub(" ", head).split())
    return words[:40] or "other"


def observe_ingest(results: Iterable[Any]) -> None:
    """Count ingest verdicts (`IngestResult`s), and rejections by reason (a rejected input
    leaves no event: this counter is the only trace outside the batch's report)."""
    for r in results:
        INGESTED.labels(r.status).inc()
        if r.status == "rejected":
            REJECTED.labels(reason_of(r.error or "")).inc()


def exposition() -> tuple[bytes, str]:
    """The default registry in the text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve_metrics(port: int, host: str = "127.0.0.1") -> bool:
    """Serve `/metrics` on host:port in a daemon thread; False (and a warning) if the port is
    taken, so a second worker on one machine still runs."""
    if not port:
        return False
    try:
        start_http_server(port, addr=host)
    except OSError as e:
        log.warning("metrics not served on %s:%d: %s", host, port, e)
        return False
    log.info("metrics on http://%s:%d/metrics", host, port)
    return True


class Sampler:
    """Reads the slow gauges every `every_s` seconds in a daemon thread: each probe is
    (name, callable returning {label: value}); a probe that raises keeps its last value."""

    def __init__(self, probes: list[tuple[str, Callable[[], dict[str, float]]]]) -> None:
        self.probes = probes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        for name, probe in self.probes:
            try:
                values = probe()
            except Exception as e:  # a backend that is down: the gauge keeps its last value
                log.debug("metrics probe %s failed: %s", name, e)
                continue
            _set(name, values)
        SAMPLE_AGE.set(time.time())

    def start(self, every_s: float = 5.0) -> Sampler:
        def loop() -> None:
            while not self._stop.is_set():
                self.sample()
                self._stop.wait(every_s)

        self._thread = threading.Thread(target=loop, name="metrics-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()


def _set(name: str, values: dict[str, float]) -> None:
    if name == "lag":
        for follower, lag in values.items():
            FOLLOWER_LAG.labels(follower).set(lag)
            if follower == "indexer":
                INDEX_LAG.set(lag)
    elif name == "position":
        for follower, position in values.items():
            FOLLOWER_POSITION.labels(follower).set(position)
    elif name == "index":
        INDEX_LAG.set(values.get("lag", 0))
    elif name == "queues":
        for queue, depth in values.items():
            QUEUE_DEPTH.labels(queue).set(depth)


def followers_probe(store: Any, followers: Iterable[Any]) -> Callable[[], dict[str, float]]:
    """Lag of each follower (object with `name` and `position()`), from one read of the log's
    end."""
    followers = list(followers)

    def probe() -> dict[str, float]:
        end = store.max_notification_id()
        values = {}
        for f in followers:
            try:
                values[f.name] = max(0, end - f.position())
            except Exception as e:  # one follower's backend down: the others still count
                log.debug("lag of %s: %s", f.name, e)
        return values

    return probe


LIVE_S = 600.0
"""Events older than this are history (a rebuild replaying the log), not new work: counters
that come from events count only younger ones."""


def observe_events(events: Iterable[Any], now: float | None = None) -> None:
    """Counters fed by the statistics follower: bytes of new captures, failures by reason."""
    from models.capture import Capture
    from models.ids import Outcome

    now = time.time() if now is None else now
    for e in events:
        if now - e.timestamp.timestamp() > LIVE_S:
            continue
        if isinstance(e, Capture.Received):
            INGEST_BYTES.inc(int(e.size))
        elif isinstance(e, Capture.ProcessingFailed):
            FAILURES.labels(Outcome.parse(e.stage).stage, e.error_class).inc()
