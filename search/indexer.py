"""The indexer's projection: notifications in, search documents out.

The follower loop that feeds it is `pipeline.followers.Follower` (wired in
`pipeline.indexing`), with its position kept in the index itself.

For every record or capture a batch of notifications mentions, the indexer loads the aggregate
at its *current* version, builds its document and upserts it; an index never takes an older
version over a newer one, so repeating a batch (at-least-once delivery) or meeting an
aggregate's older notifications later changes nothing. Before loading, it asks the index which
version it already holds and skips aggregates whose notification is not newer, so replaying a
long log loads each aggregate about once.

The position is stored in the index itself (`SearchIndex.position`), so it moves with the index:
a rebuilt index carries its own position and can be switched to once it has caught up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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
