"""Staff actions on records and captures: corrections, publish, withdraw, lists for the queue.

Small use-case functions the staff routes call; candidates for `pipeline.handlers`.
"""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID

from models.capture import Capture
from models.record import Record
from models.store import RecordStore
from pipeline.accounts import Principal
from pipeline.jobs import plan


def correct_attributes(
    store: RecordStore, who: Principal, ident: UUID, attributes: dict[str, Any]
) -> None:
    """Record a person's corrections as one `AttributesRecorded` (source "person:<login>")."""

    def change(record: Record) -> None:
        if not isinstance(record, Record):
            raise TypeError("not a record")
        changed = record.changed_attributes(attributes)
        if changed:
            record.record_attributes(attributes=changed, source=f"person:{who.login}")

    store.update(ident, change)


def publish(store: RecordStore, ident: UUID) -> None:
    def change(record: Record) -> None:
        if not record.published:
            record.publish()

    store.update(ident, change)


def withdraw(store: RecordStore, ident: UUID, reason: str) -> None:
    def change(record: Record) -> None:
        if record.published:
            record.withdraw(reason=reason)

    store.update(ident, change)


def recent_captures(store: RecordStore, limit: int = 100) -> list[dict[str, Any]]:
    """The last `limit` captures received, newest first, with their state.

    Reads every capture id from the log then loads the last `limit`: fine for thousands; a
    status projection should replace it for millions.
    """
    ids = list(store.capture_ids())
    out = []
    for cid in reversed(ids[-limit:]):
        c: Capture = store.capture(cid)
        out.append(
            {
                "id": str(c.id),
                "name": c.original_names[0],
                "kind": c.kind,
                "state": c.state(plan(c)),
                "received_at": c.created_on.isoformat(),
                "size": c.size,
                "failures": c.failures,
                "links": [str(x) for x in c.links],
            }
        )
    return out


def by_state(captures: list[dict[str, Any]], state: str) -> list[dict[str, Any]]:
    return list(itertools.islice((c for c in captures if c["state"] == state), 100))
