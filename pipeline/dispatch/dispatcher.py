"""The dispatcher: enqueues the jobs each new event implies."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import Notification, TrackingRecorder
from eventsourcing.utils import get_topic

from models.application import RecordStore
from models.capture import Capture
from models.plan import AFTER, Job, JobQueue, jobs_after
from pipeline.dispatch.follower import Follower, TrackingPositions

TRIGGERS = {get_topic(cls): cls for cls in AFTER}
"""The topics of the Capture event classes that make jobs ready (`models.plan.AFTER`)."""


def dispatcher(store: RecordStore, positions: TrackingRecorder, queue: JobQueue) -> Follower:
    """Enqueues the jobs each new capture event makes ready.

    A received capture is decoded from its notification (no query per event, which keeps a
    catch-up over a large log fast); later events need the capture's current state, e.g. to
    see whether every page of a text run has an outcome. Jobs enqueued twice (a repeated batch,
    or two pages finishing together) are harmless: handlers skip a job whose key has an outcome.
    """

    def handle(page: Sequence[Notification]) -> None:
        ready: dict[tuple, Job] = {}
        current: dict[UUID, Capture] = {}  # one load per capture per batch (pages come in runs)
        for n in page:
            if n.topic not in TRIGGERS:
                continue
            event = store.mapper.to_domain_event(n)
            if isinstance(event, Capture.Received):
                capture = event.mutate(None)
            else:
                cid = event.originator_id
                capture = current.get(cid) or current.setdefault(cid, store.capture(cid))
            for job in jobs_after(event, capture):
                ready[(job.stage, job.capture_id, *sorted(job.params.items()))] = job
        for job in ready.values():
            queue.enqueue(job)

    return Follower("dispatcher", store, TrackingPositions(positions), handle)
