"""A parcel's lineage and dated changes, as officers ask for them.

- `parcel_on`: the parcel *valid on* an effective date (land facts: area, purpose, geometry,
  retired or not), optionally as the store knew it at a *recorded* time (`RecordStore.as_of`).
- `record_split`, `record_merge`, `record_renumbering`: a change of lineage from a form or the
  command line (`models.places.lineage` holds the rules).
- `lineage_view`, `timeline_view`: what the CLI, the console and the export show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid5

from models.application import RecordStore
from models.disclosure import visible_changes
from models.errors import NotFoundError
from models.ids import NAMESPACE, InvalidKeyError, ParcelKey
from models.places.changes import change_kind, legal_basis, names_people
from models.places.lineage import LegalBasis, LineageChange, parse_label
from models.places.validtime import state_on
from models.record import Record
from pipeline.presenters import jsonable, record_view

EFFECTIVE_MEANING = "effective date: land facts in force on that day"
RECORDED_MEANING = "recorded time: what the store knew then"


@dataclass(frozen=True)
class ParcelOn:
    """A parcel at two times, and the plain-data view of it."""

    record: Record
    view: dict[str, Any]


def parcel_on(
    store: RecordStore,
    parcel: UUID,
    *,
    valid_on: date | None = None,
    recorded_as_of: datetime | None = None,
) -> ParcelOn:
    """The parcel valid on `valid_on` (None: its current facts) as recorded by
    `recorded_as_of` (None: now). `NotYetRecordedError` if it was not recorded by then."""
    record = store.as_of(parcel, recorded_as_of) if recorded_as_of else store.record(parcel)
    if not isinstance(record, Record) or record.kind != "parcel":
        raise NotFoundError(f"no parcel {parcel}")
    view = record_view(record)
    view["lineage"] = lineage_view(record)
    view["retired"] = record.retired
    view["timeline"] = timeline_view(record)
    view["times"] = {
        "valid_on": valid_on.isoformat() if valid_on else None,
        "recorded_as_of": recorded_as_of.isoformat() if recorded_as_of else None,
        "meaning": EFFECTIVE_MEANING if valid_on else RECORDED_MEANING,
    }
    if valid_on is not None:
        entries = store.history(parcel)
        if recorded_as_of is not None:
            entries = [e for e in entries if e.timestamp <= recorded_as_of]
        state = state_on(entries, valid_on)
        view.update(
            attributes=jsonable(state.attributes),
            provenance=state.provenance,
            geometry=state.geometry,
            retired=state.retired,
            existed=state.existed,
            began=state.began,
        )
    return ParcelOn(record, view)


def lineage_view(record: Record) -> dict[str, Any]:
    """Parents and children (each with the kind and date of the change that links them), and
    every ancestor nearest first."""
    effective = {c["id"]: c.get("effective") for c in record.changes}

    def entry(link: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": link["id"],
            "key": link["key"],
            "kind": link.get("kind"),
            "effective": effective.get(link.get("change_id")),
        }

    return {
        "parents": [entry(p) for p in record.parents],
        "children": [entry(c) for c in record.children],
        "ancestors": [dict(a) for a in record.ancestors],
    }


def timeline_view(record: Record, role: str = "officer") -> list[dict[str, Any]]:
    """The parcel's dated changes `role` may see, oldest first (undated ones last)."""
    shown = visible_changes(role, record.changes)
    return jsonable(sorted(shown, key=lambda c: (c.get("effective") or "9999", c["id"])))


def record_certificate_changes(
    store: RecordStore, parcel: UUID, capture_id: UUID, entries: Sequence[dict[str, Any]]
) -> int:
    """The entries of a certificate's changes column (`pipeline.stages.certificate.changes`)
    as dated changes on its parcel: kind and legal basis from the text, date, the capture and
    the box they were read from; restricted when they name people. Returns how many were new
    (a re-read of the same certificate adds none)."""
    changes = []
    for index, entry in enumerate(entries):
        text = str(entry.get("text") or "").strip()
        if not text:
            continue
        kind = change_kind(text)
        changes.append(
            {
                "id": str(uuid5(NAMESPACE, f"certificate-change:{capture_id}:{index}")),
                "kind": kind,
                "effective": entry.get("date"),
                "basis": {"text": legal_basis(text), "capture_id": str(capture_id)},
                "text": text,
                "capture_id": str(capture_id),
                "page": entry.get("page"),
                "box": entry.get("box"),
                "confidence": entry.get("confidence"),
                "source": f"capture:{capture_id}",
                "recorded_by": "pipeline",
                "restricted": names_people(kind, text),
            }
        )
    return store.record_dated_changes(parcel, changes) if changes else 0


def record_change(
    store: RecordStore,
    kind: str,
    parents: Sequence[ParcelKey],
    children: Sequence[ParcelKey],
    *,
    effective: date,
    basis: str,
    basis_capture: str | None,
    recorded_by: str,
    tolerance: float,
    child_areas: dict[str, float] | None = None,
    source: str = "",
) -> str | None:
    """Record a split, merge or renumbering; returns the area warning, if any.

    Raises `LineageError` or `NotFoundError` (a parent that does not exist), each naming the
    parcels."""
    change = LineageChange(
        kind=kind,
        parents=tuple(parents),
        children=tuple(children),
        effective=effective,
        basis=LegalBasis(basis.strip(), basis_capture or None),
        recorded_by=recorded_by,
        source=source or f"person:{recorded_by}",
        child_areas=dict(child_areas or {}),
    )
    return store.record_parcel_change(change, today=today(), tolerance=tolerance)


def parse_parcels(
    texts: Sequence[str], era: str | None
) -> tuple[list[ParcelKey], dict[str, float]]:
    """Parcels as people type them, `UNIT[:ERA]/SHEET/NUMBER[=AREA_M2]` (era: `era` when left
    out), and the areas given. `InvalidKeyError` (a ValueError) names the text at fault."""
    keys: list[ParcelKey] = []
    areas: dict[str, float] = {}
    for text in texts:
        name, _, area = text.strip().partition("=")
        key = parse_label(name, era)
        keys.append(key)
        if area.strip():
            try:
                areas[str(key)] = float(area.strip().replace(",", "."))
            except ValueError:
                raise InvalidKeyError(f"{text!r}: the area after '=' is not a number") from None
    return keys, areas


def today() -> date:
    return datetime.now(UTC).date()
