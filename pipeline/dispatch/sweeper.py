"""The sweeper: re-enqueues work whose message was lost."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from uuid import UUID

from models.errors import NotFoundError
from models.plan import JobQueue, plan, ready_jobs
from pipeline.bootstrap import Services
from pipeline.projections.captures import current

log = logging.getLogger(__name__)


def sweep(services: Services, queue: JobQueue, quiet_s: float) -> int:
    """Enqueue again the ready jobs of captures that are pending and have recorded nothing for
    `quiet_s`: the jobs a broker lost (a restart without persistence, a purged queue).
    Returns how many jobs were enqueued.

    Reads only the stalled captures: the captures projection (brought up to date first) names
    them by its (state, last event) index; each is loaded to check it is still stalled."""
    cutoff = datetime.now(UTC) - timedelta(seconds=quiet_s)
    store = services.store
    enqueued = 0
    for row in current(services, catch_up=True).quiet("pending", cutoff):
        try:
            capture = store.capture(UUID(row["capture_id"]))
        except NotFoundError:
            continue
        if capture.modified_on > cutoff or capture.state(plan(capture)) != "pending":
            continue
        for job in ready_jobs(capture):
            queue.enqueue(job)
            enqueued += 1
    if enqueued:
        log.warning("sweep: enqueued %d jobs of stalled captures again", enqueued)
    return enqueued
