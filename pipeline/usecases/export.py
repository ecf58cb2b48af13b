"""Parcels for the land database: GeoPackage or GeoJSON, written by GDAL through pyogrio.

Columns use VBDLIS names where the land database has them (DOMAIN.md §2: MaXa,
SoHieuToBanDo, SoThuTuThua, the old numbers, DienTich, DienTichPhapLy,
KyHieuMucDichSuDung), then lineage (parents, children, began, retired) and provenance (the
record id and where each value came from). Restricted columns (owners, certificate numbers)
are written only for a role that may see them (`models.disclosure`). A GeoPackage is in
VN-2000 / TM-3 105° (EPSG:5897, Hà Nội's cadastral CRS); GeoJSON in WGS 84 (RFC 7946).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic

from models.application import RecordStore
from models.disclosure import Kind, Part, may_see, split_attributes
from models.ids import ParcelKey
from models.record import Record
from pipeline.usecases.lineage import parcel_on

FORMATS = {"gpkg": ("GPKG", "EPSG:5897"), "geojson": ("GeoJSON", "EPSG:4326")}
VBDLIS = {
    "area_m2": "DienTich",
    "legal_area_m2": "DienTichPhapLy",
    "purpose": "KyHieuMucDichSuDung",
    "old_sheet": "SoHieuToBanDoCu",
    "old_parcel_number": "SoThuTuThuaCu",
}
PUBLIC_COLUMNS = ("address", "ward", "purpose_label", "old_unit_code", "valid_from")
RESTRICTED_COLUMNS = ("owner", "owner_address", "serial", "registry_number")
KEY_COLUMNS = ("MaXa", "KyDVHC", "SoHieuToBanDo", "SoThuTuThua")
LINEAGE_COLUMNS = ("ThuaGoc", "ThuaMoi", "NgayBatDau", "NgayChamDut", "record_id", "provenance")
"""ThuaGoc/ThuaMoi: parents/children as UNIT:ERA/SHEET/NUMBER separated by ';'."""


@dataclass(frozen=True)
class ExportReport:
    path: Path
    parcels: int
    without_geometry: int
    restricted: bool
    crs: str


def export_parcels(
    store: RecordStore, path: Path, fmt: str, *, role: str, valid_on: date | None = None
) -> ExportReport:
    """Write every parcel (valid on `valid_on`, else as it is now) to `path`."""
    import numpy as np
    from pyogrio.raw import write

    driver, crs = FORMATS[fmt]
    restricted = may_see(role, Kind.RECORD, Part.RESTRICTED_ATTRIBUTES)
    columns = columns_for(restricted)
    rows: dict[str, list[Any]] = {c: [] for c in columns}
    shapes: list[bytes | None] = []
    kinds: set[str] = set()
    for view in parcel_views(store, valid_on):
        row = parcel_row(view, restricted)
        for c in columns:
            rows[c].append(row.get(c))
        shape = to_crs(view.get("geometry"), crs)
        shapes.append(wkb(shape) if shape else None)
        if shape:
            kinds.add(shape["type"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fields = [np.array(rows[c], dtype=_dtype(c)) for c in columns]
    write(
        str(path),
        np.array(shapes, dtype=object),
        fields,
        list(columns),
        layer="parcels",
        driver=driver,
        geometry_type=kinds.pop() if len(kinds) == 1 else "Unknown",
        crs=crs,
    )
    missing = sum(s is None for s in shapes)
    return ExportReport(path, len(shapes), missing, restricted, crs)


def columns_for(restricted: bool) -> tuple[str, ...]:
    extra = RESTRICTED_COLUMNS if restricted else ()
    return (*KEY_COLUMNS, *VBDLIS.values(), *PUBLIC_COLUMNS, *extra, *LINEAGE_COLUMNS)


def parcel_views(store: RecordStore, valid_on: date | None) -> Iterator[dict[str, Any]]:
    """Every parcel's view (the parcels that existed on `valid_on`, when given)."""
    topic = get_topic(Record.Registered)
    for n in store.notifications(topics=[topic]):
        record = store.record(n.originator_id)  # type: ignore[arg-type]
        if record.kind != "parcel":
            continue
        if valid_on is None:
            yield {
                "id": str(record.id),
                "key": record.key,
                "attributes": record.attributes,
                "provenance": record.provenance,
                "geometry": record.geometry,
                "parents": [p["key"] for p in record.parents],
                "children": [c["key"] for c in record.children],
                "began": record.began,
                "retired": record.retired,
            }
            continue
        view = parcel_on(store, record.id, valid_on=valid_on).view
        if view.get("existed") is False:
            continue
        lineage = view["lineage"]
        yield {
            **view,
            "parents": [p["key"] for p in lineage["parents"]],
            "children": [c["key"] for c in lineage["children"] if view["retired"]],
        }


def parcel_row(view: dict[str, Any], restricted: bool) -> dict[str, Any]:
    """One parcel's columns; restricted values only when `restricted`."""
    key = ParcelKey.from_record_key(view["key"])
    public, hidden = split_attributes("parcel", dict(view["attributes"]))
    values = {**public, **(hidden if restricted else {})}
    row: dict[str, Any] = {
        "MaXa": key.unit_code,
        "KyDVHC": key.era,
        "SoHieuToBanDo": key.sheet,
        "SoThuTuThua": key.number,
        **{vb: values.get(ours) for ours, vb in VBDLIS.items()},
        **{c: _text(values.get(c)) for c in (*PUBLIC_COLUMNS, *RESTRICTED_COLUMNS)},
        "ThuaGoc": ";".join(view["parents"]) or None,
        "ThuaMoi": ";".join(view["children"]) or None,
        "NgayBatDau": view.get("began"),
        "NgayChamDut": view.get("retired"),
        "record_id": view["id"],
    }
    shown = {k: v for k, v in view["provenance"].items() if k in values}
    row["provenance"] = json.dumps(shown, ensure_ascii=False, sort_keys=True)
    for column in ("DienTich", "DienTichPhapLy"):
        if not isinstance(row[column], int | float):
            row[column] = None
    for column in ("KyHieuMucDichSuDung", "SoHieuToBanDoCu", "SoThuTuThuaCu"):
        row[column] = _text(row[column])
    return row


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _dtype(column: str) -> Any:
    return float if column in ("DienTich", "DienTichPhapLy") else object


# -- geometry -------------------------------------------------------------------


def to_crs(geometry: dict[str, Any] | None, crs: str) -> dict[str, Any] | None:
    """The record's `{"geometry", "crs"}` as GeoJSON in `crs`, or None."""
    if not geometry or not geometry.get("geometry"):
        return None
    shape, source = geometry["geometry"], str(geometry.get("crs") or "EPSG:4326").upper()
    if source == crs:
        return shape
    transform = _transformer(source, crs)
    return _mapped(shape, transform)


@lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)


def _mapped(shape: dict[str, Any], transform: Any) -> dict[str, Any]:
    if shape["type"] == "GeometryCollection":
        return {**shape, "geometries": [_mapped(g, transform) for g in shape["geometries"]]}

    def convert(c: Any) -> Any:
        if c and isinstance(c[0], int | float):
            x, y = transform.transform(c[0], c[1])
            return [x, y]
        return [convert(p) for p in c]

    return {"type": shape["type"], "coordinates": convert(shape["coordinates"])}


WKB_TYPES = {
    "Point": 1,
    "LineString": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
    "GeometryCollection": 7,
}


def wkb(shape: dict[str, Any]) -> bytes:
    """2D well-known binary (little-endian) of a GeoJSON geometry, as OGR reads it."""
    kind = shape["type"]
    head = struct.pack("<BI", 1, WKB_TYPES[kind])
    if kind == "GeometryCollection":
        members = shape["geometries"]
        return head + struct.pack("<I", len(members)) + b"".join(wkb(g) for g in members)
    c = shape["coordinates"]
    if kind == "Point":
        return head + struct.pack("<2d", c[0], c[1])
    if kind == "LineString":
        return head + _points(c)
    if kind == "Polygon":
        return head + _rings(c)
    member = {"MultiPoint": "Point", "MultiLineString": "LineString", "MultiPolygon": "Polygon"}
    parts = [wkb({"type": member[kind], "coordinates": p}) for p in c]
    return head + struct.pack("<I", len(parts)) + b"".join(parts)


def _points(points: list[list[float]]) -> bytes:
    flat = [v for p in points for v in (p[0], p[1])]
    return struct.pack(f"<I{len(flat)}d", len(points), *flat)


def _rings(rings: list[list[list[float]]]) -> bytes:
    return struct.pack("<I", len(rings)) + b"".join(_points(r) for r in rings)
