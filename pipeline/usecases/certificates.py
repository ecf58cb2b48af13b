"""From a certificate's extracted fields to its parcel record.

The parcel is the one the capture was linked to at ingest (a sidecar naming it), else the one
the certificate names: its ward from the address (through the gazetteer, in the era of the
issue date), its map sheet and parcel number. The parcel receives the values with their
provenance (capture and run); a person's correction on the capture wins over the machine's.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from uuid import UUID

from models.application import RecordRef
from models.capture import Capture
from models.errors import NotFoundError
from models.ids import InvalidKeyError, Outcome
from pipeline.bootstrap import Services
from pipeline.usecases.lineage import record_certificate_changes

log = logging.getLogger(__name__)

REFORM_DATE = "2025-07-01"
"""Certificates issued from this date name 2025 units (DOMAIN.md §3)."""

RECORD_FIELDS = (
    "parcel_number",
    "map_sheet",
    "area_m2",
    "purpose",
    "purpose_code",
    "term",
    "use_form",
    "origin",
    "address",
    "issue_date",
    "issuer",
    "serial",
    "registry_number",
)

VN2000_HANOI = "EPSG:5897"

_UNIT = re.compile(r"\b(phường|xã|thị trấn|đặc khu)\s+([^,;\n]+)", re.IGNORECASE)
_DISTRICT = re.compile(r"\b(quận|huyện|thị xã)\s+([^,;\n]+)", re.IGNORECASE)


def link_certificate(services: Services, capture: Capture, result: dict[str, Any]) -> UUID | None:
    """Record the certificate's values on its parcel; returns the parcel's id, or None when the
    pages are not a certificate or the parcel cannot be named."""
    if result.get("kind") != "land_certificate":
        return None
    corrected = {name: c["value"] for name, c in capture.corrections.items()}
    fields = {**result.get("fields", {}), **corrected}
    ref = _linked_parcel(services, capture) or parcel_ref(services, fields)
    if ref is None:
        return None
    attributes = {k: fields[k] for k in RECORD_FIELDS if fields.get(k) not in (None, "")}
    if result.get("owners"):
        attributes["owners"] = result["owners"]
    if result.get("changes"):
        attributes["changes"] = result["changes"]
    corners = result.get("corners") or []
    geometry = None
    if len(corners) >= 3:
        ring = [list(map(float, p)) for p in corners]
        geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    services.store.record_certificate(
        ref,
        capture_id=capture.id,
        attributes=attributes,
        corrected_by={name: c["by"] for name, c in capture.corrections.items()},
        geometry=geometry,
        crs=VN2000_HANOI,
        source=f"capture:{capture.id}:{Outcome('fields', len(capture.text_runs))}",
    )
    if result.get("changes"):  # dated change events on the parcel's timeline (issue 16)
        record_certificate_changes(services.store, ref.id, capture.id, result["changes"])
    return ref.id


def parcel_ref(services: Services, fields: dict[str, Any]) -> RecordRef | None:
    """The parcel a certificate names, when its ward resolves to exactly one unit."""
    gazetteer = services.gazetteer
    sheet, number, address = (fields.get(k) for k in ("map_sheet", "parcel_number", "address"))
    if gazetteer is None or not (sheet and number and address):
        return None
    era = "2025" if str(fields.get("issue_date") or "") >= REFORM_DATE else "pre2025"
    unit = _UNIT.search(address)
    if unit is None:
        return None
    district = _DISTRICT.search(address)
    candidates = gazetteer.find(
        unit.group(2).strip(),
        district=district.group(2).strip() if district and era == "pre2025" else None,
        era=era,
    )
    if len(candidates) != 1:
        log.info("certificate address %r names %d units; not linked", address, len(candidates))
        return None
    key = {"unit_code": candidates[0].code, "era": era, "sheet": str(sheet), "number": str(number)}
    try:
        ref = RecordRef("parcel", key)
        ref.id  # noqa: B018 - validates the key
    except InvalidKeyError:
        return None
    return ref


def _linked_parcel(services: Services, capture: Capture) -> RecordRef | None:
    for rid in capture.links:
        try:
            record = services.store.record(rid)
        except NotFoundError:
            continue
        if record.kind == "parcel":
            return RecordRef("parcel", record.key)
    return None


def correct_fields(
    svc: Services, capture_id: UUID, values: dict[str, Any], reason: str, by: str
) -> None:
    """Record people's corrections, then carry them to the parcel record."""
    svc.store.correct_fields(capture_id, values, by=by, reason=reason)
    capture = svc.store.capture(capture_id)
    if capture.fields is not None:
        link_certificate(svc, capture, capture.fields["result"])


def accept_fields(svc: Services, capture_id: UUID, names: list[str], by: str) -> list[str]:
    """Record that a person confirmed the machine's values of `names` as read; returns the
    names accepted (a field with no value is corrected, never accepted)."""
    capture = svc.store.capture(capture_id)
    machine = ((capture.fields or {}).get("result") or {}).get("fields") or {}
    values = {n: machine[n] for n in names if machine.get(n) is not None}
    if values:
        svc.store.accept_fields(capture_id, values, by=by)
    return sorted(values)
