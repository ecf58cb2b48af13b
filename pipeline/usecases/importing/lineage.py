"""Changes carried by import rows: where a parcel comes from, and corrections of values.

A row with `split_from`, `merged_from` or `renumbered_from` derives its parcel from the
parents it names (`models.places.lineage`: the parents retire on `effective_date`); a parent
must exist already (in the store or in an earlier row). A re-import whose value differs from
the recorded one records, besides the value, a dated correction on the parcel's timeline:
what it was, what it became, and the row it came from.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from models.application import RecordStore
from models.errors import NotFoundError
from models.ids import NAMESPACE, InvalidKeyError, ParcelKey
from models.places.lineage import (
    LegalBasis,
    LineageChange,
    LineageError,
    apply_change,
    key_of,
    label,
    parse_label,
)
from models.record import RESTRICTED_ATTRIBUTES, Record
from pipeline.usecases.importing.fieldmaps import LINEAGE_FIELDS
from pipeline.usecases.importing.rows import ParsedRow, RowChange, RowRejected

KINDS = {"split_from": "split", "merged_from": "merge", "renumbered_from": "renumber"}
CORRECTION_KINDS = {"area_m2": "area_correction", "legal_area_m2": "area_correction"} | {
    "purpose": "purpose_correction",
    "purpose_label": "purpose_correction",
}
RECENT = 20_000
"""Parcels saved by this import kept in memory: a parent named by later rows is not read
again (most parents are a few rows above their children)."""


def row_change(fields: dict[str, Any], era: str) -> RowChange | None:
    """The row's change of lineage, or None; `RowRejected` names the field at fault."""
    given = [f for f in LINEAGE_FIELDS if f in fields]
    if not given:
        return None
    if len(given) > 1:
        raise RowRejected(f"{' and '.join(given)} together: a parcel has one origin per row")
    name = given[0]
    texts = fields[name] if isinstance(fields[name], list) else [fields[name]]
    try:
        parents = tuple(parse_label(t, era) for t in texts)
    except InvalidKeyError as e:
        raise RowRejected(f"{name}: {e}") from None
    effective = fields.get("effective_date") or fields.get("valid_from")
    if not effective:
        raise RowRejected(f"{name} needs effective_date (when the change took effect)")
    return RowChange(
        KINDS[name], parents, effective, fields.get("legal_basis"), fields.get("basis_capture")
    )


class Parents:
    """Parents of this import's rows: the ones it saved itself from memory, others read."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store
        self.saved: OrderedDict[UUID, Record] = OrderedDict()

    def get(self, key: ParcelKey) -> Record:
        cached = self.saved.get(key.id)
        if cached is not None:
            return cached
        try:
            return self.store.record(key.id)
        except NotFoundError:
            raise missing_parent(key) from None

    def remember(self, *records: Record) -> None:
        for r in records:
            if r.kind == "parcel":
                self.saved[r.id] = r
                self.saved.move_to_end(r.id)
        while len(self.saved) > RECENT:
            self.saved.popitem(last=False)

    def forget(self) -> None:
        """After a concurrent write: what is in memory may be stale."""
        self.saved.clear()


def missing_parent(key: ParcelKey) -> RowRejected:
    return RowRejected(f"parent {label(key)} does not exist (not recorded, nor in an earlier row)")


def link_parents(
    record: Record,
    row: ParsedRow,
    loaded: list[Record],
    *,
    source: str,
    recorded_by: str,
    today: date,
    tolerance: float,
) -> tuple[list[Record], str | None]:
    """Derive `record` from the row's parents (`loaded`, in the order the row names them:
    events on those aggregates); returns the parents to save with it and the area warning."""
    change = row.change
    if change is None:
        return [], None
    lineage = LineageChange(
        kind=change.kind,
        parents=change.parents,
        children=(key_of(record),),
        effective=date.fromisoformat(change.effective or ""),
        basis=LegalBasis(change.basis or source, change.basis_capture),
        recorded_by=recorded_by,
        source=source,
    )
    try:
        warning = apply_change(lineage, loaded, [record], today, tolerance)
    except LineageError as e:
        raise RowRejected(str(e)) from None
    return [p for p in loaded if p.pending_events], warning


def record_corrections(
    record: Record, changed: dict[str, Any], row: ParsedRow, *, source: str, recorded_by: str
) -> None:
    """A dated correction on the timeline for each recorded value this row changes."""
    before = {k: record.attributes[k] for k in changed if k in record.attributes}
    before.pop("valid_from", None)
    if not before:
        return
    kinds = {CORRECTION_KINDS.get(k, "correction") for k in before}
    change = row.change
    record.record_change(
        change={
            "id": str(uuid5(NAMESPACE, f"correction:{record.id}:{source}")),
            "kind": kinds.pop() if len(kinds) == 1 else "correction",
            "effective": row.valid_from or (change.effective if change else None),
            "basis": {"text": (change and change.basis) or source, "capture_id": None},
            "source": source,
            "recorded_by": recorded_by,
            "from": before,
            "to": {k: changed[k] for k in before},
            "restricted": bool(set(before) & RESTRICTED_ATTRIBUTES),
        }
    )
