"""Saving import rows: a batch of rows in one transaction, or row by row when a batch fails.

A batch reads what it needs in one query (`RecordStore.get_many`: which of its keys and
parents are recorded, and those records), applies its rows in file order to one working set
of aggregates (a parent registered three rows above is the same object, with its events still
pending), and inserts all of the batch's events at once (one transaction, one fsync). A row
registering a record with no parents builds no aggregate: its events are encoded from the row
(`events`). A row that is rejected is left out; the others still land with the batch.

A batch falls back to row by row (each row read, changed and saved on its own, as a lone
import would) when its save fails (another writer saved one of its records first, or the
database refused it), or when a rejected row had already changed a record other rows share:
its events cannot be taken back from the shared aggregate, so the batch is redone from the
store. Either way every row gets the verdict it would get alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent

from models.application import CONFLICT_RETRIES, RecordStore
from models.ids import ParcelKey
from models.record import Record
from pipeline.media.bounded import internal_error
from pipeline.usecases.importing.events import batch_encoder, registration_events
from pipeline.usecases.importing.lineage import (
    Parents,
    link_parents,
    missing_parent,
    record_corrections,
)
from pipeline.usecases.importing.rows import ImportRow, ParsedRow, RawRow, RowRejected

log = logging.getLogger(__name__)

BATCH_ROWS = 1000
"""Rows saved per transaction: commits (fsyncs) are what a row-by-row import spends its time
on; a batch of this size keeps the transaction and the working set small."""

GetParent = Callable[[ParcelKey], Record]


@dataclass(frozen=True)
class Context:
    """What every row of one import shares."""

    store: RecordStore
    parents: Parents
    recorded_by: str
    today: date
    tolerance: float


@dataclass
class Pending:
    """A row read and parsed, waiting for its batch to be saved."""

    raw: RawRow
    row: ParsedRow
    id: UUID  # the record's (computed once: a parcel's id is a uuid5 of its parsed key)
    source: str
    name: str

    def verdict(self, status: str, warning: str | None = None) -> ImportRow:
        raw = self.raw
        return ImportRow(raw.line, raw.where, status, str(self.id), warning=warning)

    def refused(self, error: Exception) -> ImportRow:
        """The verdict of a row that raised: rejected with its reason, or our bug (logged)."""
        raw, rid = self.raw, str(self.id)
        if isinstance(error, RowRejected):
            return ImportRow(raw.line, raw.where, "rejected", rid, str(error))
        where = f"{self.name} {raw.where}"
        return ImportRow(raw.line, raw.where, "failed", rid, internal_error(log, where))


# -- one row's events -------------------------------------------------------


def change_record(
    context: Context, record: Record, row: ParsedRow, source: str, get_parent: GetParent
) -> tuple[list[Record], str | None]:
    """Record on `record` (and on its parents) what is new in `row`; returns the parents
    changed and a warning. The parents are found first, so a row naming a missing parent is
    rejected before anything is changed."""
    parents = [get_parent(k) for k in row.change.parents] if row.change else []
    changed = record.changed_attributes(row.attributes)
    if changed:
        if not _is_new(record):
            record_corrections(record, changed, row, source=source, recorded_by=context.recorded_by)
        dated = row.valid_from or (row.change.effective if row.change else None)
        if dated:
            changed["valid_from"] = dated
        record.record_attributes(attributes=changed, source=source)
    if row.geometry is not None and record.geometry != {"geometry": row.geometry, "crs": row.crs}:
        record.set_geometry(geometry=row.geometry, crs=row.crs, source=source)
    if row.publish and not record.published:
        record.publish()
    return link_parents(
        record,
        row,
        parents,
        source=source,
        recorded_by=context.recorded_by,
        today=context.today,
        tolerance=context.tolerance,
    )


def _is_new(record: Record) -> bool:
    """Not yet saved: its only events are pending, starting with `Registered`."""
    pending = record.pending_events
    return bool(pending) and pending[0].originator_version == 1


def apply_row(context: Context, row: ParsedRow, source: str) -> tuple[str, str | None]:
    """One row on its own: read, change, save (with its parents); on a concurrent write,
    read again and compare again. Returns registered, updated or unchanged, and a warning."""
    store = context.store

    def get_parent(key: ParcelKey) -> Record:
        return context.parents.get(key)

    for _ in range(CONFLICT_RETRIES):
        record = store.record_or_new(row.ref, source=source)
        new = _is_new(record)
        parents, warning = change_record(context, record, row, source, get_parent)
        if not record.pending_events:
            return "unchanged", None
        try:
            store.save(record, *parents)
        except IntegrityError:
            context.parents.forget()
            continue  # another writer got there first: reload and compare again
        context.parents.remember(record, *parents)
        return ("registered" if new else "updated"), warning
    raise RuntimeError(f"{row.ref.id}: too many concurrent writers")


# -- a batch ----------------------------------------------------------------


class Tainted(Exception):
    """A rejected row had changed a record the batch shares: redo the batch row by row."""


class WorkingSet:
    """The aggregates of one batch: recorded ones read once, then changed by its rows in order.

    A row registering a record with no parents is only noted (`fresh`): its events are encoded
    from the row when the batch is saved (`events`). Should a later row of the batch name it
    as a parent, it is built as an aggregate after all, from its row, before it is changed."""

    def __init__(self, context: Context, ids: set[UUID]) -> None:
        recent = context.parents.saved
        self.context = context
        self.recent = recent
        self.loaded = context.store.get_many(i for i in ids if i not in recent)
        self.changed: dict[UUID, Record] = {}
        self.fresh: dict[UUID, Pending] = {}

    def find(self, record_id: UUID) -> Record | None:
        for pool in (self.changed, self.recent, self.loaded):
            found = pool.get(record_id)
            if found is not None:
                return found if isinstance(found, Record) else None
        pending = self.fresh.pop(record_id, None)
        if pending is None:
            return None
        record = _registered(self.context, pending)
        self.changed[record_id] = record
        return record

    def apply(self, context: Context, pending: Pending) -> ImportRow:
        """`pending`'s verdict, its events added to the working set's aggregates."""
        row, source = pending.row, pending.source
        record = self.find(pending.id)
        new = record is None
        if record is None:
            if row.change is None:
                self.fresh[pending.id] = pending
                return pending.verdict("registered")
            ref = row.ref
            record = Record(kind=ref.kind, key=dict(ref.key), source=source)
        watched: list[tuple[Record, int]] = [] if new else [(record, _count(record))]

        def get_parent(key: ParcelKey) -> Record:
            parent = self.find(key.id)
            if parent is None:
                raise missing_parent(key)
            watched.append((parent, _count(parent)))
            return parent

        try:
            parents, warning = change_record(context, record, row, source, get_parent)
        except Exception as e:
            if any(_count(a) != n for a, n in watched):
                raise Tainted(pending.raw.where) from e
            return pending.refused(e)
        if not new and all(_count(a) == n for a, n in watched):
            return pending.verdict("unchanged")
        for aggregate in (record, *parents):
            self.changed[aggregate.id] = aggregate
        return pending.verdict("registered" if new else "updated", warning)

    def events(self) -> list[StoredEvent]:
        """Every event of the batch, encoded, in the order of the store's key (record id, then
        version): inserted in that order, the key's index is written in one pass over its
        pages rather than at random places (a fifth less time inserting at 50,000 records,
        more as the store grows). Each record's events stay in version order."""
        mapper = self.context.store.mapper
        encode = batch_encoder(mapper)
        stored = [
            event
            for record_id, p in self.fresh.items()
            for event in registration_events(mapper, record_id, p.row, p.source, encode)
        ]
        for aggregate in self.changed.values():
            stored.extend(mapper.to_stored_event(e) for e in aggregate.collect_events())
        stored.sort(key=_store_key)  # stable: versions keep their order
        return stored


def _store_key(event: StoredEvent) -> int:
    return event.originator_id.int  # type: ignore[union-attr]


def _registered(context: Context, pending: Pending) -> Record:
    """The aggregate of a fresh row's record (new, no parents): what its events would build."""
    ref = pending.row.ref
    record = Record(kind=ref.kind, key=dict(ref.key), source=pending.source)
    change_record(context, record, pending.row, pending.source, _no_parents)
    return record


def _no_parents(key: ParcelKey) -> Record:
    raise missing_parent(key)  # a fresh row names none


def _count(aggregate: Record) -> int:
    return len(aggregate.pending_events)


def build_batch(context: Context, batch: list[Pending]) -> tuple[WorkingSet, list[ImportRow]]:
    """Each row's verdict, its events added to the batch's working set (not yet written).
    Raises `Tainted` when the batch must be redone row by row."""
    ids = {p.id for p in batch}
    ids.update(k.id for p in batch if p.row.change for k in p.row.change.parents)
    working = WorkingSet(context, ids)
    return working, [working.apply(context, p) for p in batch]


def write_batch(context: Context, stored: list[StoredEvent]) -> None:
    """Insert a built batch's encoded events in one transaction. Touches nothing the next
    batch's building reads (`BatchWriter` runs it in its own thread)."""
    if stored:
        context.store.recorder.insert_events(stored)


def row_by_row(context: Context, batch: list[Pending]) -> list[ImportRow]:
    """Each row read, changed and saved on its own, as a lone import would: after a batch
    failed (a conflict, a refused save) or was tainted."""
    context.parents.forget()
    return [_alone(context, p) for p in batch]


def _alone(context: Context, pending: Pending) -> ImportRow:
    try:
        status, warning = apply_row(context, pending.row, pending.source)
    except Exception as e:  # our bug on this row: this row's verdict; rows go on
        return pending.refused(e)
    return pending.verdict(status, warning)
