"""The RecordStore application: the one event-sourced store of captures and records."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent, Tracking
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import Environment, get_topic

from models.capture import Capture
from models.commands import AccountCommands, CaptureCommands, RecordCommands
from models.errors import NotFoundError, NotYetRecordedError
from models.ids import capture_id
from models.record import Record, record_id

A = TypeVar("A", bound=Aggregate)
CONFLICT_RETRIES = 50


@dataclass(frozen=True)
class Receipt:
    """What ingest knows of some bytes it has just stored."""

    sha256: str
    blob_key: str
    size: int
    media_type: str
    kind: str
    original_name: str
    source: str
    operator: str
    meta: Mapping[str, Any]
    member_count: int = 1


@dataclass(frozen=True)
class RecordRef:
    """A record named by its kind and natural key (which give its deterministic id)."""

    kind: str
    key: Mapping[str, str]

    @property
    def id(self) -> UUID:
        return record_id(self.kind, dict(self.key))


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    timestamp: datetime
    event: str
    data: dict[str, Any]


class RecordStore(CaptureCommands, RecordCommands, AccountCommands, Application[UUID]):
    """Captures and records, their history, and their state as of any time.

    Configuration comes only from the `env` given (never `os.environ`): the
    entrypoint maps `SOHOA_EVENTSTORE_URL` to the persistence settings.
    """

    name = "RecordStore"
    is_snapshotting_enabled = False

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        return Environment(name, dict(env or {}))

    def on_save(self, ring: Callable[[], None]) -> Callable[[], None]:
        """Call `ring` after each save in this process (the embedded dispatcher wakes then,
        rather than at its next poll); returns the call that stops it."""
        rings = self.__dict__.setdefault("_rings", [])
        rings.append(ring)
        return lambda: rings.remove(ring) if ring in rings else None

    def _notify(self, recordings: list[Any]) -> None:  # eventsourcing's after-save hook
        for ring in tuple(self.__dict__.get("_rings", ())):
            ring()

    # -- captures ---------------------------------------------------------

    def receive(self, receipt: Receipt, records: list[RecordRef] = ()) -> tuple[UUID, bool]:
        """Record bytes as a capture; returns (capture id, whether it is new).

        Identical bytes map to one capture id, so a second arrival (or a rerun
        after a crash) is recorded as `ReceivedAgain` at most once per name.
        """
        cid = capture_id(receipt.sha256)
        for _ in range(CONFLICT_RETRIES):
            # Optimistic: most arrivals are new, so try to create first and let the event
            # store's unique (id, version) say whether the bytes were here already.
            capture = Capture(
                sha256=receipt.sha256,
                blob_key=receipt.blob_key,
                size=receipt.size,
                media_type=receipt.media_type,
                kind=receipt.kind,
                original_name=receipt.original_name,
                source=receipt.source,
                operator=receipt.operator,
                meta=dict(receipt.meta),
                member_count=receipt.member_count,
                links=[r.id for r in records],
            )
            try:
                self.save(capture, *[self._linked_record(r, cid) for r in records])
                return cid, True
            except IntegrityError:
                try:
                    existing = self.capture(cid)
                except NotFoundError:
                    continue  # a linked record changed under us: try again
                self._receive_again(existing, receipt, records)
                return cid, False
        raise RuntimeError(f"could not record capture {cid} after {CONFLICT_RETRIES} conflicts")

    def _receive_again(self, capture: Capture, receipt: Receipt, records: list[RecordRef]) -> None:
        def change(c: Capture) -> list[Aggregate]:
            if receipt.original_name not in c.original_names:
                c.receive_again(
                    original_name=receipt.original_name,
                    source=receipt.source,
                    operator=receipt.operator,
                )
            new = [r for r in records if r.id not in c.links]
            for ref in new:
                c.link_record(record_id=ref.id)
            return [self._linked_record(r, c.id) for r in new]

        self._change(capture.id, change)

    def _linked_record(self, ref: RecordRef, capture_id: UUID) -> Record:
        record = self.record_or_new(ref, source=f"capture:{capture_id}")
        if capture_id not in record.captures:
            record.link_capture(capture_id=capture_id)
        return record

    def capture(self, capture_id: UUID) -> Capture:
        return self._get(capture_id, Capture)

    def update(self, aggregate_id: UUID, change: Callable[[Any], list[Aggregate] | None]) -> None:
        """Load, change, save; on a concurrent write reload and try again.

        For tests that set up state event by event; production code calls the named commands
        of `models.commands`."""
        self._change(aggregate_id, change)

    def _change(self, aggregate_id: UUID, change: Callable[[Any], list[Aggregate] | None]) -> None:
        for attempt in range(CONFLICT_RETRIES):
            aggregate = self._get(aggregate_id, Aggregate)
            others = change(aggregate) or []
            try:
                self.save(aggregate, *others)
                return
            except IntegrityError:
                time.sleep(random.uniform(0, 0.002 * attempt))  # let the other writer finish
                continue
        raise RuntimeError(f"{aggregate_id}: too many concurrent writers")

    def capture_ids(self) -> Iterator[UUID]:
        """Every capture, in the order they were received."""
        topic = get_topic(Capture.Received)
        for n in self.notifications(topics=[topic]):
            yield n.originator_id  # type: ignore[misc]

    # -- records ----------------------------------------------------------

    def record(self, record_id: UUID) -> Record:
        return self._get(record_id, Record)

    def record_or_new(self, ref: RecordRef, source: str) -> Record:
        try:
            return self.record(ref.id)
        except NotFoundError:
            return Record(kind=ref.kind, key=dict(ref.key), source=source)

    # -- reading ----------------------------------------------------------

    def history(self, aggregate_id: UUID) -> list[HistoryEntry]:
        entries = []
        for e in self.events.get(aggregate_id):
            data = {
                k: v
                for k, v in e.__dict__.items()
                if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")
            }
            entries.append(
                HistoryEntry(e.originator_version, e.timestamp, type(e).__qualname__, data)
            )
        if not entries:
            raise NotFoundError(f"no capture or record with id {aggregate_id}")
        return entries

    def as_of(self, aggregate_id: UUID, when: datetime) -> Aggregate:
        """The aggregate as it stood at `when` (recorded time)."""
        versions = [
            e.originator_version for e in self.events.get(aggregate_id) if e.timestamp <= when
        ]
        if not versions:
            self._get(aggregate_id, Aggregate)  # NotFoundError if it never existed
            raise NotYetRecordedError(f"{aggregate_id} had not been recorded by {when.isoformat()}")
        return self.repository.get(aggregate_id, version=max(versions))

    def get_any(self, aggregate_id: UUID) -> Aggregate:
        return self._get(aggregate_id, Aggregate)

    def get_many(self, aggregate_ids: Iterable[UUID]) -> dict[UUID, Aggregate]:
        """The aggregates among `aggregate_ids` that exist, at their current versions, read in
        one query per `MANY_IDS` ids: a bulk import asks which of a batch's keys are recorded
        (and loads those) without one read per row."""
        ids = list(dict.fromkeys(aggregate_ids))
        found: dict[UUID, Aggregate] = {}
        for start in range(0, len(ids), MANY_IDS):
            stored = select_events_of(self.recorder, ids[start : start + MANY_IDS])
            for key, group in groupby(stored, key=lambda s: s.originator_id):
                aggregate = None
                for s in group:  # as project_aggregate, less its per-event protocol check
                    aggregate = self.mapper.to_domain_event(s).mutate(aggregate)
                if aggregate is not None:
                    found[UUID(str(key))] = aggregate
        return found

    def notifications(
        self, start: int = 1, batch: int = 1000, topics: list[str] = ()
    ) -> Iterator[Notification]:
        while True:
            page = self.recorder.select_notifications(start, batch, topics=topics)
            yield from page
            if len(page) < batch:
                return
            start = page[-1].id + 1

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0

    def _get(self, aggregate_id: UUID, cls: type[A]) -> A:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(f"no capture or record with id {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise NotFoundError(
                f"{aggregate_id} is a {type(aggregate).__name__}, not a {cls.__name__}"
            )
        return aggregate


MANY_IDS = 500
"""Ids per query of `get_many` (SQLite allows 999 variables in older builds)."""


def select_events_of(recorder: Any, ids: list[UUID]) -> list[StoredEvent]:
    """The stored events of `ids`, grouped by id in version order: one query on SQLite and
    PostgreSQL, one per id on other recorders (the in-memory one)."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        marks = ",".join("?" * len(ids))
        statement = (
            f"SELECT originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
            "ORDER BY originator_id, originator_version"
        )
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(statement, [i.hex for i in ids])
            rows = c.fetchall()
        return [
            StoredEvent(
                originator_id=recorder.convert_originator_id(r["originator_id"]),
                originator_version=r["originator_version"],
                topic=r["topic"],
                state=r["state"],
            )
            for r in rows
        ]
    from eventsourcing.postgres import PostgresAggregateRecorder  # psycopg only when asked

    if isinstance(recorder, PostgresAggregateRecorder):
        from psycopg.sql import SQL, Identifier

        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )
        text = recorder.datastore.originator_id_type == "text"
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(statement, [[str(i) for i in ids] if text else ids])
            rows = c.fetchall()
        return [
            StoredEvent(
                originator_id=r["originator_id"],
                originator_version=r["originator_version"],
                topic=r["topic"],
                state=bytes(r["state"]),
            )
            for r in rows
        ]
    return [s for i in ids for s in recorder.select_events(i)]


def tracking(follower: str, notification_id: int) -> Tracking:
    return Tracking(application_name=f"RecordStore/{follower}", notification_id=notification_id)


def delete_events_of(recorder: Any, ids: list[UUID]) -> list[UUID]:
    """Remove every event of `ids` from the store; returns the ids removed. Only for aggregates
    that are operational state, not history (ended sign-in sessions,
    `pipeline.usecases.staff_accounts`).

    On SQLite a notification's id is the row's rowid, which a delete of the newest row would
    let the next insert reuse (so a follower would skip it): an aggregate holding the newest
    row is kept until a later call."""
    if not ids:
        return []
    if isinstance(recorder, SQLiteAggregateRecorder):
        table = recorder.events_table_name
        with recorder.datastore.transaction(commit=True) as c:
            c.execute(f"SELECT originator_id FROM {table} ORDER BY rowid DESC LIMIT 1")
            newest = [row["originator_id"] for row in c.fetchall()]
            gone = [i for i in ids if i.hex not in newest]
            marks = ",".join("?" * len(gone))
            c.execute(
                f"DELETE FROM {table} WHERE originator_id IN ({marks})", [i.hex for i in gone]
            )
        return gone
    from psycopg.sql import SQL, Identifier

    statement = SQL("DELETE FROM {schema}.{table} WHERE originator_id = ANY(%s)").format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    text = recorder.datastore.originator_id_type == "text"
    with recorder.datastore.transaction(commit=True) as c:
        c.execute(statement, [[str(i) for i in ids] if text else ids])
    return ids
