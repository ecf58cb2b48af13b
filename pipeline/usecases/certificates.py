"""From a certificate's extracted fields to its parcel record.

The parcel is the one the capture was linked to at ingest (a sidecar naming it), else the one
the certificate names: its ward from the address (through the gazetteer, in the era of the
issue date), its map sheet and parcel number. The parcel receives the values with their
provenance (capture and run); a person's correction on the capture wins over the machine's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
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

OWNER_KEYS = ("name", "id_kind", "id_number", "birth_year", "address")
"""What a parcel keeps of each owner read (not where on the page it was read, nor how surely:
the certificate's capture keeps that)."""

VN2000_HANOI = "EPSG:5897"

_UNIT = re.compile(r"\b(phường|xã|thị trấn|đặc khu)\s+([^,;\n]+)", re.IGNORECASE)
_DISTRICT = re.compile(r"\b(quận|huyện|thị xã)\s+([^,;\n]+)", re.IGNORECASE)
_PROVINCE = re.compile(r"\b(thành phố|tỉnh)\s+([^,;\n]+)", re.IGNORECASE)


def link_certificate(services: Services, capture: Capture, result: dict[str, Any]) -> UUID | None:
    """Record the certificate's values on its parcel; returns the parcel's id, or None when the
    pages are not a certificate or the parcel cannot be named."""
    if result.get("kind") != "land_certificate":
        return None
    fields = {**result.get("fields", {}), **_corrected(capture)}
    ref = certificate_parcel(services, capture, result).ref
    if ref is None:
        return None
    attributes = {k: fields[k] for k in RECORD_FIELDS if fields.get(k) not in (None, "")}
    if result.get("owners"):
        attributes["owners"] = [
            {k: o[k] for k in OWNER_KEYS if o.get(k) not in (None, "")} for o in result["owners"]
        ]
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
        corrected_by={name: c["by"] for name, c in capture.corrections.items() if c["value"] != ""},
        geometry=geometry,
        crs=VN2000_HANOI,
        source=f"capture:{capture.id}:{Outcome('fields', len(capture.text_runs))}",
    )
    if result.get("changes"):  # dated change events on the parcel's timeline (issue 16)
        record_certificate_changes(services.store, ref.id, capture.id, result["changes"])
    return ref.id


@dataclass(frozen=True)
class ParcelFinding:
    """The parcel a certificate's fields name, or why none can be named: `problem` is a code
    (`PARCEL_PROBLEMS`) and `args` the values it names, so a page can say what to correct."""

    ref: RecordRef | None
    problem: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


PARCEL_PROBLEMS = (
    "no_gazetteer", "missing", "no_unit", "unit_unknown", "unit_ambiguous", "bad_key",
)  # fmt: skip
"""Why a certificate names no parcel: no unit tables configured; map sheet, parcel number or
address missing (`fields`); the address names no ward or commune; the ward is not in the
tables of the issue date's era (`unit`, `era`); several wards have that name (`unit`, `n`);
the sheet or number cannot be part of a parcel's key."""


def find_parcel(services: Services, fields: dict[str, Any]) -> ParcelFinding:
    """The parcel a certificate names, when its ward resolves to exactly one unit."""
    missing = [k for k in ("map_sheet", "parcel_number", "address") if not fields.get(k)]
    if missing:
        return ParcelFinding(None, "missing", {"fields": missing})
    gazetteer = services.gazetteer
    if gazetteer is None:
        return ParcelFinding(None, "no_gazetteer")
    address = str(fields["address"])
    era = "2025" if str(fields.get("issue_date") or "") >= REFORM_DATE else "pre2025"
    unit = _UNIT.search(address)
    if unit is None:
        return ParcelFinding(None, "no_unit", {"era": era})
    name = unit.group(2).strip()
    district = _DISTRICT.search(address)
    provinces = _PROVINCE.findall(address)  # the last one: a city inside a province comes first
    candidates = gazetteer.find(
        f"{unit.group(1)} {name}",
        province=provinces[-1][1].strip() if provinces else None,
        district=district.group(2).strip() if district and era == "pre2025" else None,
        era=era,
    )
    if len(candidates) != 1:
        log.info("certificate address names %d units; not linked", len(candidates))
        problem = "unit_unknown" if not candidates else "unit_ambiguous"
        return ParcelFinding(None, problem, {"unit": name, "era": era, "n": len(candidates)})
    sheet, number = str(fields["map_sheet"]), str(fields["parcel_number"])
    key = {"unit_code": candidates[0].code, "era": era, "sheet": sheet, "number": number}
    try:
        ref = RecordRef("parcel", key)
        ref.id  # noqa: B018 - validates the key
    except InvalidKeyError:
        return ParcelFinding(None, "bad_key", {"sheet": sheet, "number": number})
    return ParcelFinding(ref)


def parcel_ref(services: Services, fields: dict[str, Any]) -> RecordRef | None:
    """The parcel a certificate names, or None (`find_parcel` says why)."""
    return find_parcel(services, fields).ref


KEY_FIELDS = ("map_sheet", "parcel_number", "address", "issue_date")
"""The fields that name a certificate's parcel (the issue date chooses the units' era)."""


def certificate_parcel(
    services: Services, capture: Capture, result: dict[str, Any]
) -> ParcelFinding:
    """The parcel a certificate's values go to: the one it was linked to (a sidecar naming
    it), else the one its fields name, people's corrections applied. A link the machine's own
    reading made follows a person's correction of the sheet, number, address or date: the
    values go to the parcel the corrected fields name (or nowhere while they name none),
    never to the parcel a misreading named."""
    machine = result.get("fields", {})
    fields = {**machine, **_corrected(capture)}
    linked = _linked_parcel(services, capture)
    if linked is None:
        return find_parcel(services, fields)
    if any(fields.get(k) != machine.get(k) for k in KEY_FIELDS):
        misread = parcel_ref(services, machine)
        if misread is not None and misread.id == linked.id:
            return find_parcel(services, fields)
    return ParcelFinding(linked)


def _corrected(capture: Capture) -> dict[str, Any]:
    """People's values for the certificate's fields (a field left blank has none)."""
    blank = capture.left_blank()
    return {name: c["value"] for name, c in capture.corrections.items() if name not in blank}


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
    """Record people's corrections, then carry them to the parcel record (`_carry`)."""
    _carry(svc, capture_id, lambda: svc.store.correct_fields(capture_id, values, by, reason), by)


MOVED = "the certificate names another parcel"
"""Why a parcel gives back a certificate's values when a correction moves them elsewhere."""


def _carry(svc: Services, capture_id: UUID, record: Callable[[], None], by: str) -> None:
    """Record a person's decision on a certificate's fields (`record`), then carry the values
    to the parcel they name; a parcel that had the certificate before (a misread sheet, number
    or address named it) and is no longer the one named gives back the values that came only
    from it, and no longer lists it, by `by`."""
    before = _recorded_parcel(svc, svc.store.capture(capture_id))
    record()
    capture = svc.store.capture(capture_id)
    after = link_certificate(svc, capture, capture.fields["result"]) if capture.fields else None
    if before is not None and before != after:
        svc.store.withdraw_capture_values(before, capture_id, names=None, by=by, reason=MOVED)


def _recorded_parcel(svc: Services, capture: Capture) -> UUID | None:
    """The parcel the certificate's values went to, if it lists the certificate."""
    if capture.fields is None:
        return None
    ref = certificate_parcel(svc, capture, capture.fields["result"]).ref
    if ref is None:
        return None
    try:
        return ref.id if capture.id in svc.store.record(ref.id).captures else None
    except NotFoundError:
        return None


def accept_fields(svc: Services, capture_id: UUID, names: list[str], by: str) -> list[str]:
    """Record that a person confirmed the machine's values of `names` as read, then make sure
    the parcel has them (a parcel that could not be named before, say for want of the unit
    tables, is linked now); returns the names accepted (a field with no value is corrected,
    never accepted)."""
    capture = svc.store.capture(capture_id)
    machine = ((capture.fields or {}).get("result") or {}).get("fields") or {}
    values = {n: machine[n] for n in names if machine.get(n) is not None}
    if values:
        svc.store.accept_fields(capture_id, values, by=by)
        link_certificate(svc, svc.store.capture(capture_id), capture.fields["result"])
    return sorted(values)


NOT_ON_PAGES = "not on the pages photographed"
"""The reason recorded when a person leaves the fields not read blank (`leave_blank`)."""


def leave_blank(svc: Services, capture_id: UUID, by: str) -> list[str]:
    """Record that the fields still waiting with no value are not on this capture's pages (a
    photo of page 1 or 4 of a booklet holds no parcel fields): one `FieldsLeftBlank`, which
    settles them in the queue (counted as left blank, never as corrected) and never reaches
    the parcel. Returns the names left blank."""
    from pipeline.presenters import field_status

    status = field_status(svc.store.capture(capture_id))
    names = sorted(n for n, f in status.items() if f["needs_review"] and f["value"] is None)
    if names:
        leave_fields_blank(svc, capture_id, names, by)
    return names


def leave_fields_blank(svc: Services, capture_id: UUID, names: list[str], by: str) -> None:
    """Record that a person found `names` not on this capture's pages (`FieldsLeftBlank`); a
    value the machine had read for one of them is taken back from the parcel (by `by`, as not
    on the pages), and a blank key field that leaves the certificate naming no parcel takes
    its values back from the parcel it named."""

    def record() -> None:
        svc.store.leave_blank(capture_id, names, by=by, reason=NOT_ON_PAGES)

    _carry(svc, capture_id, record, by)
    parcel = _recorded_parcel(svc, svc.store.capture(capture_id))
    if parcel is not None:
        svc.store.withdraw_capture_values(
            parcel, capture_id, names=names, by=by, reason=NOT_ON_PAGES
        )


def join_certificate(svc: Services, capture_id: UUID, other_id: UUID, by: str) -> list[str]:
    """This photo is of the same certificate as `other_id` (page 1 beside the photo of pages
    2–3, say): the other's sheet, number, address and issue date are recorded as a person's
    corrections here, with the other named as the reason, and the fields still not read are
    left blank; this capture then reaches the same parcel, with what it holds (the owners of
    page 1, the changes of page 4). Returns the fields corrected."""
    from pipeline.presenters import capture_title, field_status

    other = field_status(svc.store.capture(other_id))
    mine = field_status(svc.store.capture(capture_id))
    values = {
        k: other[k]["value"]
        for k in KEY_FIELDS
        if k in other
        and other[k]["value"] not in (None, "")
        and mine.get(k, {}).get("value") != other[k]["value"]
    }
    if values:
        reason = f"same certificate as {capture_title(svc.store.capture(other_id))}"
        correct_fields(svc, capture_id, values, reason, by)
    return sorted(values) + leave_blank(svc, capture_id, by)


def parcel_status(svc: Services, capture: Capture) -> dict[str, Any]:
    """The parcel a certificate's values went to, for the review page: `{"id", "key", "unit"}`
    (the ward's name) when it has them, else `{"id": None, "problem", "args"}` saying why none
    has: a code of
    `PARCEL_PROBLEMS`, `_missing` or "not_recorded" (named, but nobody has accepted or
    corrected a field since the parcel could be named)."""
    result = (capture.fields or {}).get("result") or {}
    finding = certificate_parcel(svc, capture, result)
    if finding.ref is None:
        return {"id": None, "problem": _missing(capture, result, finding), "args": finding.args}
    key = dict(finding.ref.key)
    try:
        record = svc.store.record(finding.ref.id)
    except NotFoundError:
        return {"id": None, "problem": "not_recorded", "args": key}
    if capture.id not in record.captures:
        return {"id": None, "problem": "not_recorded", "args": key}
    return {"id": str(record.id), "key": key, "unit": _unit_name(svc, key)}


def _unit_name(svc: Services, key: dict[str, str]) -> str:
    """The ward or commune of a parcel's key by name ("Phường Yên Nghĩa"), else its code."""
    try:
        return svc.gazetteer.by_code(key["unit_code"], key["era"]).name  # type: ignore[union-attr]
    except (AttributeError, KeyError, ValueError):
        return key["unit_code"]


def _missing(capture: Capture, result: dict[str, Any], finding: ParcelFinding) -> str | None:
    """The "missing" problem told apart: "left_blank" when a person said those fields are not
    on these pages, "not_on_pages" when nothing at all was read where they are printed (a photo of
    page 1 or 4 of a booklet: another photo may hold page II)."""
    if finding.problem != "missing":
        return finding.problem
    names = set(finding.args["fields"])
    blank = set(capture.left_blank())
    if names <= blank:
        return "left_blank"
    review = result.get("review") or {}
    if not names & blank and not any((review.get(n) or {}).get("raw") for n in names):
        return "not_on_pages"
    return "missing"
