"""Geometry of imported records: checks and CRS."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from pipeline.usecases.importing.rows import WGS84, RowRejected, _short
from pipeline.usecases.importing.values import _json_type

if TYPE_CHECKING:
    from pipeline.usecases.importing.rows import RawRow

GEOMETRY_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
VN2000_PROJECTED = frozenset({3405, 5897, *range(9205, 9219)})
"""VN-2000 TM-3 / UTM codes: easting about 0.1–0.9 million metres, northing 0.9–2.7 million."""


# -- geometry ---------------------------------------------------------------


def _geometry(raw: RawRow, fields: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    has_point = "lat" in fields or "lon" in fields
    if raw.geometry is not None:
        if has_point:
            raise RowRejected("lat/lon and a feature geometry: give one")
        try:
            return check_geometry(raw.geometry, raw.crs), raw.crs
        except RowRejected as e:
            raise RowRejected(f"geometry: {e}") from None
    if not has_point:
        return None, raw.crs
    if "lat" not in fields or "lon" not in fields:
        raise RowRejected("lat and lon go together")
    point = {"type": "Point", "coordinates": [fields["lon"], fields["lat"]]}
    return check_geometry(point, WGS84), WGS84


def check_geometry(geometry: Any, crs: str = WGS84) -> dict[str, Any]:
    """A validated copy of a GeoJSON geometry (positions as lists of floats), or `RowRejected`."""
    if not isinstance(geometry, dict):
        raise RowRejected(f"must be a GeoJSON geometry object, got {_json_type(geometry)}")
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list) or not members:
            raise RowRejected("a GeometryCollection needs a non-empty geometries list")
        return {"type": kind, "geometries": [check_geometry(g, crs) for g in members]}
    if not isinstance(kind, str) or kind not in GEOMETRY_DEPTH:
        raise RowRejected(f"unknown geometry type {str(kind)[:40]!r}")
    coords = geometry.get("coordinates")
    depth = GEOMETRY_DEPTH[kind]
    if not (crs == WGS84 and depth and _plain_lon_lat(coords, depth)):
        coords = _positions(coords, depth, crs)
    if kind == "LineString":
        _line(coords, "a LineString")
    elif kind == "MultiLineString":
        for i, line in enumerate(coords, 1):
            _line(line, f"line {i}")
    elif kind == "Polygon":
        _polygon(coords, "")
    elif kind == "MultiPolygon":
        for i, polygon in enumerate(coords, 1):
            _polygon(polygon, f"polygon {i} ")
    return {"type": kind, "coordinates": coords}


def _plain_lon_lat(value: Any, depth: int) -> bool:
    """Whether `value` holds, at `depth`, only [lon, lat] positions of floats in range: what
    `_positions` accepts as it is (a file's own lists are kept, not copied). Anything else
    (integers, a z, NaN, an error to word) goes through `_positions`."""
    if type(value) is not list or not value:
        return False
    if depth > 1:
        return all(_plain_lon_lat(v, depth - 1) for v in value)
    for position in value:
        if type(position) is not list or len(position) != 2:
            return False
        x, y = position
        if type(x) is not float or type(y) is not float:
            return False
        if not (-180 <= x <= 180 and -90 <= y <= 90):  # NaN and infinities fail too
            return False
    return True


def _positions(value: Any, depth: int, crs: str) -> Any:
    if depth == 0:
        return _position(value, crs)
    if not isinstance(value, list) or not value:
        raise RowRejected("coordinates are missing or empty")
    return [_positions(v, depth - 1, crs) for v in value]


def _position(value: Any, crs: str) -> list[float]:
    if not isinstance(value, list) or not 2 <= len(value) <= 3:
        raise RowRejected(f"a position must be [x, y] or [x, y, z], got {_short(value)}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise RowRejected(f"coordinate {_short(v)} is not a finite number")
    x, y = float(value[0]), float(value[1])
    if crs == WGS84:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            hint = " (axes swapped?)" if -90 <= x <= 90 and -180 <= y <= 180 else ""
            raise RowRejected(
                f"[{x}, {y}] is not longitude/latitude{hint}; projected coordinates "
                "(VN-2000 metres) need a crs member naming their EPSG code, e.g. EPSG:5897"
            )
    elif _epsg(crs) in VN2000_PROJECTED and x > 1_000_000 > y:
        raise RowRejected(
            f"[{x}, {y}] looks like (northing, easting); {crs} positions are (E, N) "
            "(Vietnamese coordinate tables print X = northing)"
        )
    return [float(v) for v in value]


def _line(positions: list[list[float]], what: str) -> None:
    if len(positions) < 2:
        raise RowRejected(f"{what} needs at least 2 positions, has {len(positions)}")


def _polygon(rings: list[list[list[float]]], what: str) -> None:
    for i, ring in enumerate(rings, 1):
        if len(ring) < 4:
            raise RowRejected(f"{what}ring {i} has {len(ring)} positions; a ring needs 4 or more")
        if ring[0] != ring[-1]:
            raise RowRejected(f"{what}ring {i} is not closed (its first and last positions differ)")


def _epsg(crs: str) -> int | None:
    m = re.fullmatch(r"EPSG:(\d+)", crs)
    return int(m.group(1)) if m else None
