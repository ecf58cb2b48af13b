"""The Record aggregate: what people search (a land parcel, a heritage site, a document)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from models.ids import ParcelKey, document_id, site_id

RECORD_KINDS = ("parcel", "site", "document")

RESTRICTED_ATTRIBUTES = frozenset(
    {
        "owner",
        "owners",
        "owner_id_number",
        "id_number",
        "birth_year",
        "owner_address",
        "serial",
        "registry_number",
        "changes",
    }
)
"""Personal data (DOMAIN.md §6): stored, visible to land officers, never public."""

SUPERSEDED_KEPT = 8
"""Earlier values kept per attribute for a withdrawn capture to give way to."""


class Record(Aggregate):
    """A searchable record whose attributes each keep where they came from."""

    @staticmethod
    def create_id(kind: str, key: dict[str, str]) -> UUID:
        return record_id(kind, key)

    @event("Registered")
    def __init__(self, *, kind: str, key: dict[str, str], source: str) -> None:
        self.kind = kind
        self.key = key
        self.attributes: dict[str, Any] = {}
        self.provenance: dict[str, str] = {}
        self.geometry: dict[str, Any] | None = None
        self.captures: list[UUID] = []
        self.published = False
        # lineage and dated changes (models/places/lineage.py); old streams replay to these
        self.began: str | None = None
        self.retired: str | None = None
        self.retired_by: str | None = None
        self.derived_by: str | None = None
        self.parents: list[dict[str, Any]] = []
        self.children: list[dict[str, Any]] = []
        self.ancestors: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []

    @event("AttributesRecorded")
    def record_attributes(self, *, attributes: dict[str, Any], source: str) -> None:
        """Attributes from an import row or a capture; `source` says which one. A value from
        another source that this replaces is kept aside (`superseded`), so taking this one
        back later restores it."""
        for name in attributes:
            if name in self.attributes and self.provenance.get(name) != source:
                earlier = (self.superseded or {}).get(name, [])
                kept = [*earlier, [self.attributes[name], self.provenance.get(name, "")]]
                self.superseded = {**(self.superseded or {}), name: kept[-SUPERSEDED_KEPT:]}
        self.attributes.update(attributes)
        for name in attributes:
            self.provenance[name] = source
        start = attributes.get("valid_from")
        if isinstance(start, str) and (self.began is None or start < self.began):
            self.began = start

    @event("GeometrySet")
    def set_geometry(self, *, geometry: dict[str, Any], crs: str, source: str) -> None:
        self.geometry = {"geometry": geometry, "crs": crs}
        self.geometry_source = source

    superseded: dict[str, list[list[Any]]] | None = None
    """Per attribute, the earlier `[value, source]` pairs values from other sources replaced
    (the last `SUPERSEDED_KEPT`); a class default, so records stored before it load unchanged."""

    geometry_source: str | None = None
    """Where the geometry came from (`GeometrySet`'s source); a class default, so records
    stored before it load unchanged."""

    @event("CaptureLinked")
    def link_capture(self, *, capture_id: UUID) -> None:
        self.captures.append(capture_id)

    @event("CaptureValuesWithdrawn")
    def withdraw_capture_values(
        self, *, capture_id: UUID, names: list[str], unlinked: bool, by: str, reason: str
    ) -> None:
        """Values that came only from a capture are taken back (`names`), and with `unlinked`
        the capture leaves the record's documents: a certificate whose sheet or number was
        misread, corrected to name another parcel, or a field a person left blank; unlinked,
        the shape drawn from its corner table goes too. The values stay in the history; `by`
        and `reason` say who and why."""
        for name in names:
            earlier = [
                pair
                for pair in (self.superseded or {}).get(name, [])
                if not _names_capture(pair[1], capture_id)
            ]
            if earlier:  # the value the capture's replaced comes back
                value, source = earlier.pop()
                self.attributes[name], self.provenance[name] = value, source
            else:
                self.attributes.pop(name, None)
                self.provenance.pop(name, None)
            if self.superseded and name in self.superseded:
                self.superseded = {**self.superseded, name: earlier}
        if unlinked:
            self.captures = [c for c in self.captures if c != capture_id]
            if _names_capture(self.geometry_source or "", capture_id):
                self.geometry = self.geometry_source = None

    def capture_values(self, capture_id: UUID) -> list[str]:
        """The attributes whose value came from `capture_id` (read from it, or a person's
        correction carried through it): their source names it."""
        return [n for n, source in self.provenance.items() if _names_capture(source, capture_id)]

    @event("Published")
    def publish(self) -> None:
        self.published = True

    @event("Withdrawn")
    def withdraw(self, *, reason: str) -> None:
        self.published = False

    @event("Retired")
    def retire(self, *, change: dict[str, Any]) -> None:
        """A split, merge or renumbering (`change`) ends this parcel on its effective date; it
        is kept, and names its children."""
        self.retired = self.retired or change["effective"]
        self.retired_by = change["id"]
        known = {c["id"] for c in self.children}
        for child in change["children"]:
            if child["id"] not in known:
                self.children.append({**child, "kind": change["kind"], "change_id": change["id"]})
        self._timeline(change)

    @event("Derived")
    def derive(self, *, change: dict[str, Any], ancestors: list[dict[str, Any]]) -> None:
        """This parcel comes from `change`'s parents from its effective date on."""
        self.derived_by = change["id"]
        self.began = change["effective"]
        self.parents = [
            {**p, "kind": change["kind"], "change_id": change["id"]} for p in change["parents"]
        ]
        self.ancestors = ancestors
        self._timeline(change)

    @event("ChangeRecorded")
    def record_change(self, *, change: dict[str, Any]) -> None:
        """A dated change on this parcel: a transfer, a mortgage, a correction (kind, effective
        date, legal basis, where it was read)."""
        self._timeline(change)

    def _timeline(self, change: dict[str, Any]) -> None:
        self.changes = [c for c in self.changes if c["id"] != change["id"]] + [change]

    def changed_attributes(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """What differs from the recorded attributes (so re-imports add nothing)."""
        return {k: v for k, v in attributes.items() if self.attributes.get(k, object()) != v}


def _names_capture(source: str, capture_id: UUID) -> bool:
    """Whether a value's source is this capture (read from it, or corrected through it)."""
    mark = f"capture:{capture_id}"
    return source == mark or source.startswith(f"{mark}:") or f" via {mark}" in source


def record_id(kind: str, key: dict[str, str]) -> UUID:
    """The deterministic id of a record from its kind and natural key."""
    if kind == "parcel":
        return ParcelKey.from_record_key(key).id
    if kind == "site":
        return site_id(key["code"])
    if kind == "document":
        return document_id(key["code"])
    raise ValueError(f"record kind must be one of {RECORD_KINDS}, got {kind!r}")
