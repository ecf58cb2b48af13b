"""Rows of an import file and the report of an import."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from models.application import RecordRef
from models.ids import ParcelKey

WGS84 = "EPSG:4326"


class RowRejected(Exception):
    """One row cannot be imported; the message says why."""


@dataclass(frozen=True)
class ImportRow:
    """What happened to one row (passed to `on_row`, printed by `sohoa import --json`)."""

    line: int
    where: str
    status: str  # registered | updated | unchanged | rejected | failed (internal error <id>)
    record_id: str | None = None
    error: str | None = None
    warning: str | None = None  # recorded, but a person should look (a split's areas)

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "where": self.where,
            "status": self.status,
            "record_id": self.record_id,
            "error": self.error,
            "warning": self.warning,
        }


@dataclass
class ImportReport:
    file: str
    format: str
    rows: int = 0
    registered: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, row: ImportRow) -> None:
        self.rows += 1
        if row.warning:
            self.warnings.append({"line": row.line, "where": row.where, "warning": row.warning})
        if row.status == "rejected":
            self.rejected.append({"line": row.line, "where": row.where, "reason": row.error})
        elif row.status == "failed":  # our bug on this row: counted with the rejected ones
            self.rejected.append(
                {"line": row.line, "where": row.where, "reason": f"failed: {row.error}"}
            )
        else:
            setattr(self, row.status, getattr(self, row.status) + 1)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.file}: {self.rows} rows, {self.registered} registered, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.rejected)} rejected, "
            f"{len(self.warnings)} with warnings "
            f"({self.seconds:.1f} s, {self.rate:.0f} rows/s)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "rows": self.rows,
            "registered": self.registered,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class RawRow:
    """A row as read: its number, where it is (for messages), its values or why it is unreadable."""

    line: int
    where: str
    label: str  # the provenance suffix: "12" or "feature 3"
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    geometry: Any = None
    crs: str = WGS84
    failed: bool = False  # the reader broke here (our bug): `error` is "internal error <id>"


@dataclass
class ParsedRow:
    ref: RecordRef
    attributes: dict[str, Any]
    geometry: dict[str, Any] | None
    crs: str
    publish: bool
    valid_from: str | None
    change: RowChange | None = None
    id: UUID | None = None  # the record's, when known from parsing (`ref.id` computes it again)


@dataclass(frozen=True)
class RowChange:
    """A row's change of lineage: its kind, the parents it names, its date and legal basis."""

    kind: str  # split | merge | renumber
    parents: tuple[ParcelKey, ...]
    effective: str | None
    basis: str | None
    basis_capture: str | None


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
