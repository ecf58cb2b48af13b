"""Followers: pull-based loops over the notification log with a stored position.

A follower reads notifications in batches after its stored position, handles
them, then stores the position of the batch's last notification. A crash
between handling and storing repeats the batch (at-least-once), which is why
handlers are idempotent. Two followers with the same name started by mistake
collide on the tracking table's unique key; the loser reloads its position.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, TrackingRecorder
from eventsourcing.utils import get_topic

from models.capture import Capture
from models.store import RecordStore, tracking
from pipeline.jobs import Job, JobQueue, jobs_after

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[Notification]], None]
Progress = Callable[[int, int], None]
"""Called with (position, last notification id) after each batch."""


class Positions(Protocol):
    """Where a follower keeps how far it got: the event store's tracking table, or the target
    itself (a search index keeps its own position, so it moves with the index on a rebuild)."""

    def position(self, follower: str) -> int: ...

    def set_position(self, follower: str, notification_id: int) -> None: ...


class TrackingPositions:
    """Positions in the event store's tracking table (`RecordStore/<follower>` rows)."""

    def __init__(self, recorder: TrackingRecorder) -> None:
        self.recorder = recorder

    def position(self, follower: str) -> int:
        return self.recorder.max_tracking_id(tracking(follower, 0).application_name) or 0

    def set_position(self, follower: str, notification_id: int) -> None:
        try:
            self.recorder.insert_tracking(tracking(follower, notification_id))
        except IntegrityError:
            log.warning(
                "%s: another follower recorded position %d first", follower, notification_id
            )


@dataclass
class Follower:
    name: str
    store: RecordStore
    positions: Positions
    handle: Handler
    batch: int = 1000
    last_poll: float = 0.0
    """`time.monotonic()` of the last poll that reached the store (the heartbeat reads it)."""

    def position(self) -> int:
        return self.positions.position(self.name)

    def lag(self) -> int:
        return max(0, self.store.max_notification_id() - self.position())

    def run_once(self) -> int:
        """Handle one batch; returns how many notifications it covered."""
        start = self.position() + 1
        page = self.store.recorder.select_notifications(start, self.batch)
        if not page:
            return 0
        self.handle(page)
        self.positions.set_position(self.name, page[-1].id)
        return len(page)

    def catch_up(self, on_progress: Progress | None = None) -> int:
        total = 0
        while n := self.run_once():
            total += n
            if on_progress is not None:
                on_progress(self.position(), self.store.max_notification_id())
        return total

    def run(self, stop: threading.Event, idle_s: float = 0.2) -> None:
        while not stop.is_set():
            try:
                handled = self.run_once()
                self.last_poll = time.monotonic()
                if not handled:
                    stop.wait(idle_s)
            except Exception:  # a broker or database blip: log, back off, carry on
                log.exception("%s: batch failed; retrying", self.name)
                stop.wait(2.0)


TRIGGERS = {
    get_topic(getattr(Capture, name)): name
    for name in (
        "Received",
        "TextRequested",
        "PageRecognised",
        "ProcessingFailed",
        "TextAssembled",
        "ReconstructionRequested",
        "RetryRequested",
    )
}
"""Capture events that make jobs ready (see `pipeline.jobs.jobs_after`)."""


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
            name = TRIGGERS.get(n.topic)
            if name is None:
                continue
            event = store.mapper.to_domain_event(n)
            if name == "Received":
                capture = event.mutate(None)
                run = None
            else:
                cid = event.originator_id
                capture = current.get(cid) or current.setdefault(cid, store.capture(cid))
                run = _run_of(event)
                if run is None and name != "RetryRequested":
                    continue
            for job in jobs_after(name, capture, run, stages=getattr(event, "stages", ())):
                ready[(job.stage, job.capture_id, *sorted(job.params.items()))] = job
        for job in ready.values():
            queue.enqueue(job)

    return Follower("dispatcher", store, TrackingPositions(positions), handle)


def _run_of(event: object) -> int | None:
    """The run an event belongs to; ProcessingFailed names it in its stage ("ocr/2/7")."""
    run = getattr(event, "run", None)
    if run is not None:
        return int(run)
    stage = getattr(event, "stage", "")
    parts = stage.split("/")
    return int(parts[1]) if len(parts) == 3 and parts[0] == "ocr" else None


def sweep(store: RecordStore, queue: JobQueue, quiet_s: float) -> int:
    """Enqueue again the ready jobs of captures that are pending and have recorded nothing for
    `quiet_s`: the jobs a broker lost (a restart without persistence, a purged queue).
    Returns how many jobs were enqueued. Reads every capture: run it every few minutes."""
    from datetime import UTC, datetime, timedelta

    from pipeline.jobs import plan, ready_jobs

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
