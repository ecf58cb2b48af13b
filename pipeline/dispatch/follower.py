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

from eventsourcing.persistence import IntegrityError, Notification, TrackingRecorder

from models.application import RecordStore, tracking

log = logging.getLogger(__name__)

WAKE_GAP_S = 0.05
"""The shortest time between two looks of a follower woken by saves (at most 20 a second)."""

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

    def run(
        self, stop: threading.Event, idle_s: float = 0.2, wake: threading.Event | None = None
    ) -> None:
        """Handle batches until `stop`; idle, look again every `idle_s`, or as soon as `wake`
        is set (by whoever sets `stop` too), though not sooner than `WAKE_GAP_S` after the
        last look, so that under load the saves of many jobs still come in one batch."""
        bell = wake or stop
        while not stop.is_set():
            try:
                handled = self.run_once()
                self.last_poll = time.monotonic()
                if not handled and bell.wait(idle_s) and wake is not None:
                    stop.wait(self.last_poll + WAKE_GAP_S - time.monotonic())
                    wake.clear()  # before the next read, so no save goes unseen
            except Exception:  # a broker or database blip: log, back off, carry on
                log.exception("%s: batch failed; retrying", self.name)
                stop.wait(2.0)
