"""The indexer's projection: notifications in, search documents out.

The follower loop that feeds it is `pipeline.dispatch.follower.Follower` (wired in
`pipeline.dispatch.indexer`), with its position kept in the index itself.

For every record or capture a batch of notifications mentions, the indexer builds its document
and upserts it; an index never takes an older version over a newer one, so repeating a batch
(at-least-once delivery) or meeting an aggregate's older notifications later changes nothing.
It first asks the index which version it already holds and skips aggregates whose notification
is not newer. An aggregate whose whole history is in the batch (a record an import just
registered) is built from the notifications themselves, without reading the store; the others
are read in one query per batch (`RecordStore.get_many`) at their current versions. Replaying a
long log thus reads each aggregate at most about once, and an import's records not at all.
Such a record is not even replayed as an aggregate when its events are only the ones a
registration records (`FOLDS`): their decoded states are folded into what its document shows
(`RecordState`), which costs a fraction of building the domain events and applying them.

A capture's document depends on its linked records too (a scan of a published site is public),
so its version packs both (`documents.capture_version`): when a record is indexed, its captures
are rebuilt as well, and stored only if that packed version is newer than the indexed one.

The position is stored in the index itself (`SearchIndex.position`), so it moves with the index:
a rebuilt index carries its own position and can be switched to once it has caught up.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Notification
from eventsourcing.utils import get_topic

from models.application import RecordStore
from models.capture import Capture
from models.errors import NotFoundError
from models.record import Record
from search.documents import (
    capture_document,
    capture_version,
    captured_version,
    record_document,
)
from search.index import Document, SearchIndex

log = logging.getLogger(__name__)

CAPTURE_TOPIC = get_topic(Capture) + "."
INDEXED_TOPICS = (get_topic(Record) + ".", CAPTURE_TOPIC)
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
        with fewer_collections():
            return self._handle(notifications)

    def _handle(self, notifications: Sequence[Notification]) -> int:
        latest = _latest_versions(notifications)
        if not latest:
            return 0
        indexed = self.index.versions(list(latest))
        stale = [i for i, (v, capture) in latest.items() if _built_from(indexed, i, capture) < v]
        loaded = self._aggregates(stale, notifications)
        records = {i: a for i, a in loaded.items() if isinstance(a, Record | RecordState)}
        documents = [self._record_document(r) for r in records.values()]
        captures: dict[str, Capture | None] = {
            i: a for i, a in loaded.items() if isinstance(a, Capture)
        }
        for record in records.values():  # a record's visibility is its captures' too
            captures.update((str(c), None) for c in record.captures if str(c) not in captures)
        documents += self._capture_documents(captures, records)
        return self.index.upsert(documents) if documents else 0

    def document(self, doc_id: str) -> Document | None:
        """The document of an aggregate at its current version (None if it is not indexed)."""
        aggregate = self._load(doc_id)
        if isinstance(aggregate, Record):
            return self._record_document(aggregate)
        if isinstance(aggregate, Capture):
            return self._capture_document(aggregate, self._linked(aggregate, {}))
        return None

    def _aggregates(
        self, doc_ids: list[str], notifications: Sequence[Notification]
    ) -> dict[str, Aggregate]:
        """The aggregates of `doc_ids`: built from the batch where it holds their whole history
        (versions 1 to n), the others read in one query; in `doc_ids` order."""
        wanted = set(doc_ids)
        events: dict[str, list[Notification]] = {}
        for n in notifications:
            key = str(n.originator_id)
            if key in wanted:
                events.setdefault(key, []).append(n)
        built: dict[str, Aggregate | RecordState] = {}
        mapper = self.store.mapper
        for key, own in events.items():
            if [n.originator_version for n in own] == list(range(1, len(own) + 1)):
                built[key] = fold_record(mapper, own) or replay(
                    mapper.to_domain_event(n) for n in own
                )
        missing = [UUID(i) for i in doc_ids if i not in built]
        read = {str(k): a for k, a in self.store.get_many(missing).items()} if missing else {}
        found = {}
        for doc_id in doc_ids:
            aggregate = built.get(doc_id) or read.get(doc_id)
            if aggregate is None:
                log.warning("indexer: %s is not in the record store; skipped", doc_id)
            elif isinstance(aggregate, Record | RecordState | Capture):
                found[doc_id] = aggregate
        return found

    def _load(self, doc_id: str) -> Record | Capture | None:
        try:
            return self.store.get_any(UUID(doc_id))
        except NotFoundError:
            log.warning("indexer: %s is not in the record store; skipped", doc_id)
            return None

    def _record_document(self, record: Record) -> Document:
        return record_document(record, self.units(record) if self.units else None)

    def _capture_documents(
        self, captures: dict[str, Capture | None], records: dict[str, Record]
    ) -> list[Document]:
        """Documents of the captures whose packed version is newer than the indexed one; the
        text (possibly a blob read) is fetched only for those."""
        loaded = [c if c is not None else self._load(i) for i, c in captures.items()]
        found = [c for c in loaded if isinstance(c, Capture)]
        if not found:
            return []
        linked = {str(c.id): self._linked(c, records) for c in found}
        indexed = self.index.versions(list(linked))
        return [
            self._capture_document(c, linked[str(c.id)])
            for c in found
            if capture_version(c.version, [r.version for r in linked[str(c.id)]])
            > indexed.get(str(c.id), -1)
        ]

    def _linked(self, capture: Capture, records: dict[str, Record]) -> list[Record]:
        """The capture's linked records, from those already loaded for this batch if there."""
        found = []
        for record_id in dict.fromkeys(map(str, capture.links)):
            record = records.get(record_id) or self._load(record_id)
            if isinstance(record, Record | RecordState):
                records[record_id] = record
                found.append(record)
        return found

    def _capture_document(self, capture: Capture, linked: list[Record]) -> Document:
        text = self.text_for(capture) if self.text_for else ""
        return capture_document(capture, text, linked)


class RecordState:
    """What `record_document` reads of a record, folded straight from its stored events (no
    domain events, no aggregate): for a record whose whole history is the events
    `fold_record` knows, as an import registers it. Its fields are the `Record`'s."""

    def __init__(self, record_id: UUID, state: dict[str, Any]) -> None:
        self.id = record_id
        self.version = 1
        self.kind: str = state["kind"]
        self.key: dict[str, str] = state["key"]
        self.attributes: dict[str, Any] = {}
        self.geometry: dict[str, Any] | None = None
        self.published = False
        self.captures: list[UUID] = []
        self.retired: str | None = None
        self.children: list[dict[str, Any]] = []
        self.parents: list[dict[str, Any]] = []


def _recorded(record: RecordState, state: dict[str, Any]) -> None:
    record.attributes.update(state["attributes"])


def _geometry_set(record: RecordState, state: dict[str, Any]) -> None:
    record.geometry = {"geometry": state["geometry"], "crs": state["crs"]}


def _published(record: RecordState, state: dict[str, Any]) -> None:
    record.published = True


def _withdrawn(record: RecordState, state: dict[str, Any]) -> None:
    record.published = False


REGISTERED = get_topic(Record.Registered)
FOLDS: dict[str, Callable[[RecordState, dict[str, Any]], None]] = {
    get_topic(Record.AttributesRecorded): _recorded,
    get_topic(Record.GeometrySet): _geometry_set,
    get_topic(Record.Published): _published,
    get_topic(Record.Withdrawn): _withdrawn,
}
"""What these events do to what a document shows (as `Record`'s methods of the same names);
a record with any other event (a linked capture, a change of lineage) is replayed instead."""


def fold_record(mapper: Any, notifications: Sequence[Notification]) -> RecordState | None:
    """A record's document state from its whole history (versions 1 to n), or None if it has
    an event `FOLDS` does not know (or an upcast, or is not a record)."""
    first = notifications[0]
    if first.topic != REGISTERED or any(n.topic not in FOLDS for n in notifications[1:]):
        return None
    states = [_state(mapper, n.state) for n in notifications]
    if any("class_version" in state for state in states):
        return None
    record = RecordState(first.originator_id, states[0])  # type: ignore[arg-type]
    for n, state in zip(notifications[1:], states[1:], strict=True):
        FOLDS[n.topic](record, state)
    record.version = len(notifications)
    return record


def _state(mapper: Any, data: bytes) -> dict[str, Any]:
    """A stored event's state, as `Mapper.to_domain_event` decodes it; but for the event's
    timestamp (which no document shows), a state with no other transcoded value (the JSON
    transcoder's `"_type_"` objects) is decoded without the transcoder's per-object hook, which
    doubled the time of decoding."""
    if mapper.cipher:
        data = mapper.cipher.decrypt(data)
    if mapper.compressor:
        data = mapper.compressor.decompress(data)
    if type(mapper.transcoder) is JSONTranscoder and data.count(b'"_type_"') == 1:
        state = json.loads(data)
        del state["timestamp"]  # the one transcoded value; a KeyError if not (a bug, loud)
        return state
    return mapper.transcoder.decode(data)


@contextmanager
def fewer_collections(young: int = 100_000) -> Iterator[None]:
    """Collect cyclic garbage less often while a batch is indexed: its decoded events, records
    and documents (a few hundred thousand objects) live until the batch is written, and with
    the default threshold (700) the collector traversed them again and again, finding nothing
    to free (a tenth of a catch-up's time). As the importer does
    (`pipeline.usecases.importing.records.fewer_collections`)."""
    before = gc.get_threshold()
    gc.set_threshold(young, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def replay(events: Iterable[Any]) -> Aggregate:
    """An aggregate from its events, first to last (each event applies itself)."""
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _built_from(indexed: dict[str, int], doc_id: str, capture: bool) -> int:
    """The aggregate version the indexed document was built from (0 if none is indexed)."""
    version = indexed.get(doc_id, 0)
    return captured_version(version) if capture else version


def _latest_versions(notifications: Sequence[Notification]) -> dict[str, tuple[int, bool]]:
    """Aggregate id -> (highest version mentioned, whether it is a capture), in log order."""
    latest: dict[str, tuple[int, bool]] = {}
    for n in notifications:
        if n.topic.startswith(INDEXED_TOPICS):
            key = str(n.originator_id)
            version = int(n.originator_version)  # type: ignore[arg-type]
            before = latest.get(key, (0, False))[0]
            latest[key] = (max(before, version), n.topic.startswith(CAPTURE_TOPIC))
    return latest
