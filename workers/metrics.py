"""The job metrics of `pipeline.observability.metrics`, counted by a Dramatiq middleware.

Here, with the workers, so that only a process that runs jobs loads Dramatiq: the metrics
module itself is imported by every ingest.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.observability.metrics import JOB_SECONDS, JOBS, OCR_PAGES, RECONSTRUCTION_SECONDS

log = logging.getLogger("pipeline.observability.metrics")
"""The metrics' logger, as before the middleware moved here (log filters name it)."""


class JobMetrics(Middleware):
    """Dramatiq middleware: jobs by queue and outcome, their durations, OCR pages and
    reconstruction time, and one structured log line per job.

    (`dramatiq.middleware.prometheus` assumes the `dramatiq` command: it starts its exposition
    server from a forked process, binds 0.0.0.0 and switches `prometheus_client` to
    multiprocess mode for the whole process; our workers run `dramatiq.Worker` in the `sohoa`
    process, beside the followers, and serve one registry.)"""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        outcome = "ok" if exception is None else "error"
        self._finish(message, outcome)

    def after_skip_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        self._finish(message, "skipped")

    def _finish(self, message: dramatiq.Message, outcome: str) -> None:
        started = self._started.pop(message.message_id, None)
        seconds = time.perf_counter() - started if started is not None else 0.0
        queue, job = message.queue_name, message.actor_name
        JOBS.labels(queue, job, outcome).inc()
        JOB_SECONDS.labels(queue, job).observe(seconds)
        if outcome == "ok" and job == "ocr":
            OCR_PAGES.inc()
        if outcome == "ok" and job == "reconstruct":
            RECONSTRUCTION_SECONDS.observe(seconds)
        log.info(
            "job %s %s: %s in %.3f s",
            job,
            message.args[0] if message.args else "",
            outcome,
            seconds,
            extra={
                "capture_id": message.args[0] if message.args else None,
                "job_key": message.message_id,
                "stage": job,
                "queue": queue,
                "duration_s": round(seconds, 4),
                "outcome": outcome,
            },
        )
