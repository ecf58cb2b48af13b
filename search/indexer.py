"""The indexer: a follower of the notification log that keeps a search index up to date.

For every record or capture a batch of notifications mentions, the indexer loads the aggregate
at its *current* version, builds its document and upserts it; an index never takes an older
version over a newer one, so repeating a batch (at-least-once delivery) or meeting an
aggregate's older notifications later changes nothing. Before loading, it asks the index which
version it already holds and skips aggregates whose notification is not newer, so replaying a
long log loads each aggregate about once.

The position is stored in the index itself (`SearchIndex.position`), so it moves with the index:
a rebuilt index (`rebuild`) carries its own position and can be switched to once it has
caught up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from models.capture import Capture
from models.errors import NotFoundError
from models.record import Record
from models.store import RecordStore
from search.documents import capture_document, record_document
from search.index import Document, SearchIndex

log = logging.getLogger(__name__)

INDEXED_TOPICS = (get_topic(Record) + ".", get_topic(Capture) + ".")
TextSource = Callable[[Capture], str]
"""Recognised text of a capture (e.g. read from its text blobs), for capture documents."""
UnitNames = Callable[[Record], dict]
"""Extra public unit names of a record (e.g. its ward in both administrative eras)."""
Progress = Callable[[int, int], None]
"""Called with (position, last notification id) after each batch."""


class IndexProjection:
    """Turns notifications into document upserts."""

    def __init__(
        self,
        store: RecordStore,
        index: SearchIndex,
        text_for: TextSource | None = None,
        units: UnitNames | None = None,
    ) -> None:
        self.store = store
        self.index = index
        self.text_for = text_for
        self.units = units

    def handle(self, notifications: Sequence[Notification]) -> int:
        """Index what the notifications changed; returns how many documents were stored."""
        latest = _latest_versions(notifications)
        if not latest:
            return 0
        indexed = self.index.versions(list(latest))
        stale = [i for i, v in latest.items() if indexed.get(i, 0) < v]
        documents = [d for d in map(self.document, stale) if d is not None]
        return self.index.upsert(documents) if documents else 0

    def document(self, doc_id: str) -> Document | None:
        """The document of an aggregate at its current version (None if it is not indexed)."""
        try:
            aggregate = self.store.get_any(UUID(doc_id))
        except NotFoundError:
            log.warning("indexer: %s is not in the record store; skipped", doc_id)
            return None
        if isinstance(aggregate, Record):
            return record_document(aggregate, self.units(aggregate) if self.units else None)
        if isinstance(aggregate, Capture):
            text = self.text_for(aggregate) if self.text_for else ""
            return capture_document(aggregate, text)
        return None


def _latest_versions(notifications: Sequence[Notification]) -> dict[str, int]:
    """Aggregate id -> highest version mentioned, for records and captures, in log order."""
    latest: dict[str, int] = {}
    for n in notifications:
        if n.topic.startswith(INDEXED_TOPICS):
            key = str(n.originator_id)
            latest[key] = max(latest.get(key, 0), int(n.originator_version))  # type: ignore[arg-type]
    return latest


@dataclass
class Indexer:
    """A pull-based follower like `pipeline.followers.Follower`, positioned in the index."""

    store: RecordStore
    index: SearchIndex
    name: str = "indexer"
    batch: int = 1000
    text_for: TextSource | None = None
    units: UnitNames | None = None
    projection: IndexProjection = field(init=False)

    def __post_init__(self) -> None:
        self.projection = IndexProjection(self.store, self.index, self.text_for, self.units)

    def position(self) -> int:
        return self.index.position(self.name)

    def lag(self) -> int:
        return max(0, self.store.max_notification_id() - self.position())

    def run_once(self) -> int:
        """Handle one batch; returns how many notifications it covered."""
        page = self.store.recorder.select_notifications(self.position() + 1, self.batch)
        if not page:
            return 0
        self.projection.handle(page)
        self.index.set_position(self.name, page[-1].id)
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
                if not self.run_once():
                    stop.wait(idle_s)
            except Exception:  # the search backend or the database blinked: back off, carry on
                log.exception("%s: batch failed; retrying", self.name)
                stop.wait(2.0)


def rebuild(
    store: RecordStore,
    new_index: SearchIndex,
    on_progress: Progress | None = None,
    *,
    name: str = "indexer",
    text_for: TextSource | None = None,
) -> int:
    """Replay the whole log into a fresh index; returns the notifications covered.

    The new index records its own position, so after the switch-over the same follower
    name carries on from there (run `catch_up` once more just before switching).
    """
    if new_index.position(name):
        log.info("%s: resuming a rebuild from %d", name, new_index.position(name))
    return Indexer(store, new_index, name=name, text_for=text_for).catch_up(on_progress)
