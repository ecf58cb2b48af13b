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

    @event("AttributesRecorded")
    def record_attributes(self, *, attributes: dict[str, Any], source: str) -> None:
        """Attributes from an import row or a capture; `source` says which one."""
        self.attributes.update(attributes)
        for name in attributes:
            self.provenance[name] = source

    @event("GeometrySet")
    def set_geometry(self, *, geometry: dict[str, Any], crs: str, source: str) -> None:
        self.geometry = {"geometry": geometry, "crs": crs}

    @event("CaptureLinked")
    def link_capture(self, *, capture_id: UUID) -> None:
        self.captures.append(capture_id)

    @event("Published")
    def publish(self) -> None:
        self.published = True

    @event("Withdrawn")
    def withdraw(self, *, reason: str) -> None:
        self.published = False

    def changed_attributes(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """What differs from the recorded attributes (so re-imports add nothing)."""
        return {k: v for k, v in attributes.items() if self.attributes.get(k, object()) != v}


def record_id(kind: str, key: dict[str, str]) -> UUID:
    """The deterministic id of a record from its kind and natural key."""
    if kind == "parcel":
        return ParcelKey.from_record_key(key).id
    if kind == "site":
        return site_id(key["code"])
    if kind == "document":
        return document_id(key["code"])
    raise ValueError(f"record kind must be one of {RECORD_KINDS}, got {kind!r}")
