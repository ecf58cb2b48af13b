"""The sweeper: re-enqueues work whose message was lost."""

from __future__ import annotations

import logging

from models.application import RecordStore
from models.plan import JobQueue

log = logging.getLogger(__name__)


def sweep(store: RecordStore, queue: JobQueue, quiet_s: float) -> int:
    """Enqueue again the ready jobs of captures that are pending and have recorded nothing for
    `quiet_s`: the jobs a broker lost (a restart without persistence, a purged queue).
    Returns how many jobs were enqueued. Reads every capture: run it every few minutes."""
    from datetime import UTC, datetime, timedelta

    from models.plan import plan, ready_jobs

    cutoff = datetime.now(UTC) - timedelta(seconds=quiet_s)
    enqueued = 0
    for cid in store.capture_ids():
        capture = store.capture(cid)
        if capture.modified_on > cutoff or capture.state(plan(capture)) != "pending":
            continue
        for job in ready_jobs(capture):
            queue.enqueue(job)
            enqueued += 1
    if enqueued:
        log.warning("sweep: enqueued %d jobs of stalled captures again", enqueued)
    return enqueued
