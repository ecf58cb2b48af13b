"""Search documents built from aggregates: what the public and land officers may find.

A document is built from one aggregate version and carries that version, so an index never
lets an older build overwrite a newer one. Fields are split by who may see them:

- **public**: an allow-list per record kind (in `models.disclosure`, the rule of who sees
  what). A heritage site or archive document is public once published; a parcel is public
  only once published, and then only its cadastral fields (unit, sheet, number, area,
  land-use code, address, geometry).
- **restricted**: everything else, always including `models.record.RESTRICTED_ATTRIBUTES`
  (owners, ID numbers, serials, registry numbers, changes) and `extra` (uninterpreted source
  fields). An attribute not on the allow-list is restricted until someone decides otherwise.
- A capture (a scan, a photo set) follows the records it is linked to: it is public only when
  one of them is a published heritage site or archive document and none is a parcel (a land
  certificate scan shows its owner). Its recognised (OCR) text is public body text only then;
  otherwise it is restricted, searched by officers only. Who captured it, where, the file names
  as received and the sidecar metadata are always restricted. A capture document's version
  packs the capture's version with its records' (`capture_version`), so publishing a site
  re-indexes its scans as public, and an older build still never overwrites a newer one.

Geometry is converted to WGS 84 for the index: VN-2000 (e.g. EPSG:5897, Hà Nội cadastral) needs
pyproj; without it a projected geometry is left out of the document (logged) rather than
indexed in the wrong place.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from models.capture import Capture
from models.disclosure import (  # the public allow-lists live with the rule
    PUBLIC_CAPTURE_KINDS,
    capture_is_public,
    split_attributes,
)
from models.record import Record
from search.index import Document

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"


def record_document(record: Record, unit_names: dict[str, Any] | None = None) -> Document:
    """The search document of a record at its current version.

    `unit_names` adds public names the record's attributes do not hold (its ward in the other
    administrative era), which the indexer's caller knows from the gazetteer.
    """
    public, restricted = split_attributes(record.kind, record.attributes)
    public.update(unit_names or {})
    shape = wgs84_geometry(record.geometry)
    point = representative_point(shape)
    public.update(_record_facts(record, point, shape))
    return Document(
        id=str(record.id),
        version=record.version,
        kind=record.kind,
        title=record_title(record),
        published=bool(record.published),
        public=public,
        restricted=restricted,
        text=_text_of(public.get("description")),
        point=point,
        shape=shape,
    )


def _record_facts(
    record: Record, point: tuple[float, float] | None, shape: dict[str, Any] | None
) -> dict[str, Any]:
    """Public fields that come from the record's key and state rather than its attributes."""
    facts: dict[str, Any] = {}
    if record.kind == "parcel":
        key = record.key
        facts.update(
            unit_code=key["unit_code"],
            era=key["era"],
            sheet=key["sheet"],
            parcel_number=key["number"],
        )
        facts.update(_lineage_facts(record))
    else:
        facts["code"] = record.key.get("code")
        facts["has_model"] = bool(record.attributes.get("has_model"))
        facts["has_documents"] = bool(record.attributes.get("has_documents") or record.captures)
    if point is not None:
        facts["lat"], facts["lon"] = point
    if shape is not None:
        facts["geometry"] = shape
    return facts


def _lineage_facts(record: Record) -> dict[str, Any]:
    """Whether the parcel is retired and on what date, what it became and where it came from
    (parcels as `UNIT:ERA/SHEET/NUMBER`): a land search shows "retired on DATE → children"."""
    facts: dict[str, Any] = {"retired": record.retired is not None}
    if record.retired is not None:
        facts["retired_on"] = record.retired
        facts["children"] = [c["key"] for c in record.children]
    if record.parents:
        facts["parents"] = [p["key"] for p in record.parents]
    return facts


def record_title(record: Record) -> str:
    """A heading for a hit; a parcel's never names its owner."""
    if record.kind == "parcel":
        key = record.key
        place = record.attributes.get("ward") or f"ĐVHC {key['unit_code']}"
        return f"Thửa {key['number']}, tờ {key['sheet']}, {place}"
    name = record.attributes.get("name")
    return str(name) if name else str(record.key.get("code", record.id))


CAPTURE_VERSION_SHIFT = 20
"""A capture document's version is (capture version << 20) + the sum of its linked records'
versions: it grows whenever either does, and the capture's own version can be read back."""


def capture_document(capture: Capture, text: str = "", records: Sequence[Record] = ()) -> Document:
    """A capture's search document: its kind, inspection and recognised `text` (the full OCR
    text), visible as its linked `records` allow (the caller loads them from `capture.links`)."""
    public = capture_is_public(records, capture.kind)
    facts = {
        "capture_kind": capture.kind,
        "media_type": capture.media_type,
        "members": capture.member_count,
        "pages": capture.inspection.get("pages"),
        "links": [str(r) for r in capture.links],
        "records": [record_title(r) for r in records if r.kind in PUBLIC_CAPTURE_KINDS],
        "received_at": capture.created_on.isoformat(),
    }
    staff = {
        "names": list(capture.original_names),
        "source": capture.source,
        "operator": capture.operator,
        "size": capture.size,
        "sha256": capture.sha256,
        "failed_stages": sorted({f["stage"] for f in capture.failures}),
        "meta": capture.meta,
        "text": None if public else text or None,
    }
    return Document(
        id=str(capture.id),
        version=capture_version(capture.version, [r.version for r in records]),
        kind="capture",
        title=capture.title,
        published=public,
        public={k: v for k, v in facts.items() if v not in (None, [], {})},
        restricted={k: v for k, v in staff.items() if v not in (None, [], {})},
        text=text if public else "",
    )


def capture_version(capture_version: int, record_versions: Iterable[int]) -> int:
    return (capture_version << CAPTURE_VERSION_SHIFT) + sum(record_versions)


def captured_version(document_version: int) -> int:
    """The capture's own version that a capture document was built from."""
    return document_version >> CAPTURE_VERSION_SHIFT


# -- geometry ---------------------------------------------------------------


def wgs84_geometry(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The record's geometry (`{"geometry": …, "crs": …}`) as GeoJSON in WGS 84, if possible."""
    if not geometry or not geometry.get("geometry"):
        return None
    shape, crs = geometry["geometry"], str(geometry.get("crs") or WGS84)
    if crs.upper() in (WGS84, "CRS:84", "OGC:CRS84"):
        return shape
    transform = _transformer(crs.upper())
    if transform is None:
        return None
    return _map_positions(shape, transform)


@lru_cache(maxsize=16)
def _transformer(crs: str) -> Any:
    try:
        from pyproj import Transformer
        from pyproj.exceptions import CRSError
    except ImportError:
        log.warning("pyproj is not installed: geometry in %s is not indexed", crs)
        return None
    try:
        return Transformer.from_crs(crs, WGS84, always_xy=True)
    except CRSError:
        log.warning("unknown CRS %s: geometry is not indexed", crs)
        return None


def _map_positions(shape: dict[str, Any], transform: Any) -> dict[str, Any]:
    if shape.get("type") == "GeometryCollection":
        members = [_map_positions(g, transform) for g in shape.get("geometries", [])]
        return {"type": "GeometryCollection", "geometries": members}
    return {"type": shape["type"], "coordinates": _convert(shape["coordinates"], transform)}


def _convert(coords: Any, transform: Any) -> Any:
    if coords and isinstance(coords[0], int | float):
        lon, lat = transform.transform(coords[0], coords[1])
        return [round(lon, 8), round(lat, 8), *coords[2:]]
    return [_convert(c, transform) for c in coords]


def representative_point(shape: dict[str, Any] | None) -> tuple[float, float] | None:
    """(lat, lon): a Point itself, else the centre of the geometry's bounding box."""
    if shape is None:
        return None
    positions = list(_positions(shape))
    if not positions:
        return None
    lons = [p[0] for p in positions]
    lats = [p[1] for p in positions]
    return ((min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2)


def _positions(shape: dict[str, Any]) -> Iterator[list[float]]:
    if shape.get("type") == "GeometryCollection":
        for member in shape.get("geometries", []):
            yield from _positions(member)
        return
    yield from _flatten(shape.get("coordinates") or [])


def _flatten(coords: Any) -> Iterator[list[float]]:
    if coords and isinstance(coords[0], int | float):
        yield coords
        return
    for c in coords:
        yield from _flatten(c)


# -- text -------------------------------------------------------------------


def _text_of(value: Any) -> str:
    return " ".join(flatten_text(value)) if value is not None else ""


def flatten_text(value: Any) -> Iterable[str]:
    """Every string (and number) inside a value, for full-text indexing."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from flatten_text(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from flatten_text(v)
