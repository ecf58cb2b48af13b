"""A parcel's lineage and its dated changes (tách thửa, hợp thửa, renumbering; DOMAIN.md §2).

A split, a merge or a renumbering is one `LineageChange`: parents retire on its effective date,
children are derived from them (the parents and the children each record one event naming the
other side). Every other dated change (a transfer, a mortgage, a correction) is a
`ChangeRecorded` on the parcel. Like LADM's spatial-unit versions, nothing is deleted: a
retired parcel keeps its attributes and history, and its children name it.

The guards here are pure: they read the loaded aggregates and raise `LineageError` with a
message naming the parcels; the caller decides what a rejection means (a row, a form, a CLI).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from models.errors import NotFoundError, SohoaError
from models.ids import NAMESPACE, InvalidKeyError, ParcelKey

if TYPE_CHECKING:
    from models.record import Record

LINEAGE_KINDS = ("split", "merge", "renumber")
DATED_KINDS = (
    "transfer",
    "mortgage",
    "mortgage_release",
    "area_correction",
    "purpose_correction",
    "correction",
    "renumber",
    "split",
    "merge",
    "other",
)
"""Kinds of dated changes on one parcel (what a certificate's changes column records, and
corrections made by a re-import)."""
MAX_ANCESTORS = 500
"""Ancestors kept on a parcel (nearest first): enough for any real chain of splits, and a bound
on the event's size when merges of merges fan out."""


class LineageError(SohoaError, ValueError):
    """A split, merge or renumbering that cannot be recorded; the message names the parcels."""


@dataclass(frozen=True)
class LegalBasis:
    """Why a change happened: a decision, contract or judgment, and its capture if scanned."""

    text: str
    capture_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "capture_id": self.capture_id}


@dataclass(frozen=True)
class LineageChange:
    """Parents become children on `effective` (`kind`: split, merge or renumber).

    Its id is derived from kind, parents and date, so the children of one split given in
    separate rows (or forms) join the same change."""

    kind: str
    parents: tuple[ParcelKey, ...]
    children: tuple[ParcelKey, ...]
    effective: date
    basis: LegalBasis
    recorded_by: str
    source: str
    child_areas: dict[str, float] = field(default_factory=dict)
    """Area (m²) of children not yet recorded with one, by `str(key)`."""

    @property
    def id(self) -> str:
        parents = ",".join(sorted(str(p) for p in self.parents))
        return str(uuid5(NAMESPACE, f"change:{self.kind}:{parents}:{self.effective}"))


def label(key: ParcelKey) -> str:
    """A parcel as officers write it in files: `UNIT:ERA/SHEET/NUMBER`."""
    return f"{key.unit_code}:{key.era}/{key.sheet}/{key.number}"


def parse_label(text: str, default_era: str | None) -> ParcelKey:
    """`UNIT/SHEET/NUMBER` (era `default_era`) or `UNIT:ERA/SHEET/NUMBER`."""
    parts = str(text).strip().split("/")
    if len(parts) != 3:
        raise InvalidKeyError(f"{text!r} is not UNIT/SHEET/NUMBER or UNIT:ERA/SHEET/NUMBER")
    unit, _, era = parts[0].partition(":")
    era = era or default_era or ""
    if not era:
        raise InvalidKeyError(f"{text!r} needs its unit's era: UNIT:ERA/SHEET/NUMBER")
    return ParcelKey.of(unit, era, parts[1], parts[2])


def key_of(record: Record) -> ParcelKey:
    return ParcelKey.from_record_key(record.key)


def began(record: Record) -> str | None:
    """The day the parcel came into being, when known (a split's date, an imported
    `valid_from`)."""
    return getattr(record, "began", None)


# -- checks -----------------------------------------------------------------


def check_change(
    change: LineageChange, parents: Sequence[Record], children: Sequence[Record], today: date
) -> None:
    """Every rule a split, merge or renumbering must keep; `LineageError` names the parcels."""
    if change.kind not in LINEAGE_KINDS:
        raise LineageError(f"a change of lineage is one of {', '.join(LINEAGE_KINDS)}")
    _check_counts(change)
    day = change.effective.isoformat()
    if change.effective > today:
        raise LineageError(
            f"{change.kind} of {_labels(change.parents)} dated {day}: that is in the future "
            f"(today is {today.isoformat()})"
        )
    if change.kind == "merge" and len({(p.unit_code, p.era) for p in change.parents}) > 1:
        units = ", ".join(sorted({f"{p.unit_code}:{p.era}" for p in change.parents}))
        raise LineageError(
            f"merge of {_labels(change.parents)}: parcels from different units ({units}) "
            "cannot be merged"
        )
    for parent in parents:
        _check_parent(change, parent, day)
    for child in children:
        _check_child(change, child, parents)


def _check_counts(change: LineageChange) -> None:
    n_parents, n_children = len(change.parents), len(change.children)
    if not n_children or not n_parents:
        raise LineageError(f"a {change.kind} needs parents and children")
    if change.kind == "merge" and n_parents < 2:
        raise LineageError(f"a merge needs two or more parcels, got {_labels(change.parents)}")
    if change.kind != "merge" and n_parents != 1:
        raise LineageError(f"a {change.kind} has one parent, got {_labels(change.parents)}")
    if change.kind == "renumber" and n_children != 1:
        raise LineageError(f"a renumbering has one new number, got {_labels(change.children)}")
    if set(change.parents) & set(change.children):
        raise LineageError(f"{_labels(change.parents)} cannot be its own child")


def _check_parent(change: LineageChange, parent: Record, day: str) -> None:
    name = label(key_of(parent))
    start = began(parent)
    if start and day < start:
        raise LineageError(
            f"{change.kind} of {name} dated {day}: the parcel did not exist yet (it began {start})"
        )
    retired_by = getattr(parent, "retired_by", None)
    if retired_by and retired_by != change.id:
        raise LineageError(
            f"{name} was already retired on {parent.retired} (another split, merge or "
            "renumbering); record changes on its children"
        )


def _check_child(change: LineageChange, child: Record, parents: Sequence[Record]) -> None:
    name = label(key_of(child))
    descendants_of_child = [p for p in parents if str(child.id) in _ancestor_ids(p)]
    if descendants_of_child:
        raise LineageError(
            f"{change.kind}: {name} would be derived from its own descendant "
            f"{label(key_of(descendants_of_child[0]))} (a cycle)"
        )
    derived_by = getattr(child, "derived_by", None)
    if derived_by and derived_by != change.id:
        raise LineageError(f"{name} already comes from another change; it has one origin")


def _ancestor_ids(record: Record) -> set[str]:
    return {a["id"] for a in getattr(record, "ancestors", [])}


def area_warning(
    change: LineageChange, parents: Sequence[Record], children: Sequence[Record], tolerance: float
) -> str | None:
    """A warning when the children's areas exceed the parents' by more than `tolerance` (a
    fraction: 0.02 = 2 %); None when within it or when an area is unknown."""
    parent_area = _sum(p.attributes.get("area_m2") for p in parents)
    areas: dict[str, float | None] = {}
    for parent in parents:  # children recorded earlier in the same change
        for c in getattr(parent, "children", []):
            if c.get("change_id") == change.id:
                areas[c["id"]] = c.get("area_m2")
    for child in children:
        given = change.child_areas.get(str(key_of(child)))
        areas[str(child.id)] = given if given is not None else child.attributes.get("area_m2")
    child_area = _sum(areas.values())
    if parent_area is None or child_area is None or parent_area <= 0:
        return None
    if child_area <= parent_area * (1 + tolerance):
        return None
    return (
        f"{change.kind} of {_labels(change.parents)}: the children's areas "
        f"({child_area:.1f} m²) exceed the parent's ({parent_area:.1f} m²) by more than "
        f"{tolerance:.1%}"
    )


def _sum(values: Iterable[Any]) -> float | None:
    total = 0.0
    for v in values:
        if not isinstance(v, int | float):
            return None
        total += float(v)
    return total


def _labels(keys: Iterable[ParcelKey]) -> str:
    return ", ".join(label(k) for k in keys)


# -- what the events carry ----------------------------------------------------


def parent_entry(record: Record) -> dict[str, Any]:
    return {"id": str(record.id), "key": label(key_of(record))}


def ancestors_of(parents: Sequence[Record]) -> list[dict[str, Any]]:
    """The child's ancestors, nearest first: its parents (depth 1), then theirs."""
    out: dict[str, dict[str, Any]] = {}
    for p in parents:
        out[str(p.id)] = {**parent_entry(p), "depth": 1}
    for p in parents:
        for a in getattr(p, "ancestors", []):
            if a["id"] not in out:
                out[a["id"]] = {**a, "depth": a["depth"] + 1}
    return sorted(out.values(), key=lambda a: a["depth"])[:MAX_ANCESTORS]


def change_data(
    change: LineageChange,
    parents: Sequence[Record],
    children: Sequence[Record],
    warning: str | None,
) -> dict[str, Any]:
    """The change as both sides' events record it (JSON-ready)."""
    return {
        "id": change.id,
        "kind": change.kind,
        "effective": change.effective.isoformat(),
        "basis": change.basis.as_dict(),
        "recorded_by": change.recorded_by,
        "source": change.source,
        "parents": [parent_entry(p) for p in parents],
        "children": [
            {
                **parent_entry(c),
                "area_m2": change.child_areas.get(str(key_of(c)), c.attributes.get("area_m2")),
            }
            for c in children
        ],
        "warning": warning,
    }


def existing_parcel(get: Callable[[UUID], Record], key: ParcelKey) -> Record:
    """The parcel `key` (`get`: the store's read), or `NotFoundError` naming it."""
    try:
        return get(key.id)
    except NotFoundError:
        raise NotFoundError(f"parcel {label(key)} does not exist") from None


def parcel_or_new(get: Callable[[UUID], Record], key: ParcelKey, change: LineageChange) -> Record:
    """The child `key`, registered (with its area and start date) when new."""
    from models.record import Record

    try:
        return get(key.id)
    except NotFoundError:
        child = Record(kind="parcel", key=key.as_record_key(), source=change.source)
        values: dict[str, Any] = {"valid_from": change.effective.isoformat()}
        if (area := change.child_areas.get(str(key))) is not None:
            values["area_m2"] = area
        child.record_attributes(attributes=values, source=change.source)
        return child


def inherit(parent: Record, child: Record, source: str) -> None:
    """A renumbered parcel new to the store takes its parent's values and shape (the same land
    under a new number); values it already has are kept."""
    if not child.pending_events or child.pending_events[0].originator_version != 1:
        return  # recorded before: it has its own values
    values = {k: v for k, v in parent.attributes.items() if k not in child.attributes}
    if values:
        child.record_attributes(attributes=values, source=source)
    if parent.geometry and child.geometry is None:
        geometry = parent.geometry
        child.set_geometry(geometry=geometry["geometry"], crs=geometry["crs"], source=source)


def apply_change(
    change: LineageChange,
    parents: Sequence[Record],
    children: Sequence[Record],
    today: date,
    tolerance: float,
) -> str | None:
    """Check `change`, then retire the parents and derive the children (events on the loaded
    aggregates; the caller saves them together). What is already recorded adds nothing.
    Returns the area warning, if any."""
    check_change(change, parents, children, today)
    warning = area_warning(change, parents, children, tolerance)
    data = change_data(change, parents, children, warning)
    child_ids = {str(c.id) for c in children}
    for parent in parents:
        known = {c["id"] for c in getattr(parent, "children", [])}
        if not child_ids <= known:
            parent.retire(change=data)
    ancestors = ancestors_of(parents)
    for child in children:
        if getattr(child, "derived_by", None) != change.id:
            child.derive(change=data, ancestors=ancestors)
    return warning
