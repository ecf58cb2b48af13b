"""Coordinates people type, in VN-2000 or WGS 84, as the query model's WGS 84 places.

Hà Nội's cadastral maps are in VN-2000 / TM-3 zone 482 (EPSG:5897: central meridian 105°,
false easting 500 000 m), so an officer reads a parcel corner as easting, northing in metres.
Positions are X,Y: easting,northing in VN-2000, longitude,latitude in WGS 84, which is the EPSG
axis order (E, N) — not the X = northing of Vietnamese coordinate tables. Coordinates outside
the CRS's area of use are refused, with a hint when the two numbers look swapped.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from search.query import GeoPoint, QueryError, Region, check_corners

CRS_CODES = {"wgs84": "EPSG:4326", "vn2000": "EPSG:5897"}
"""Names accepted on the command line -> EPSG codes."""
WGS84_BOUNDS = (-180.0, -90.0, 180.0, 90.0)


def crs_code(name: str) -> str:
    """`vn2000`, `wgs84` or an `EPSG:nnnn` code, as an EPSG code."""
    code = CRS_CODES.get(name.strip().lower(), name.strip().upper())
    if not code.startswith("EPSG:"):
        raise QueryError(f"unknown CRS {name!r}: use one of {', '.join(CRS_CODES)} or EPSG:nnnn")
    return code


def to_wgs84(x: float, y: float, crs: str = "wgs84") -> GeoPoint:
    """The WGS 84 position of X,Y given in `crs`; QueryError if it is outside the CRS's area."""
    code = crs_code(crs)
    _check_inside(x, y, code)
    if code == "EPSG:4326":
        return GeoPoint(lat=y, lon=x)
    lon, lat = _transformer(code).transform(x, y)
    return GeoPoint(lat=lat, lon=lon)


def box_region(
    min_x: float, min_y: float, max_x: float, max_y: float, crs: str = "wgs84"
) -> Region:
    """A box given by its south-west and north-east corners in `crs`, as a WGS 84 region."""
    code = crs_code(crs)
    form = "MINLON,MINLAT,MAXLON,MAXLAT" if code == "EPSG:4326" else "MINX,MINY,MAXX,MAXY"
    for x, y in ((min_x, min_y), (max_x, max_y)):
        _check_inside(x, y, code)
    check_corners(min_x, min_y, max_x, max_y, form)
    if min_x == max_x or min_y == max_y:
        raise QueryError("the box has no area: give two different corners")
    corners = ((min_x, min_y), (max_x, min_y), (max_x, max_y), (min_x, max_y))
    points = [to_wgs84(x, y, code) for x, y in corners]
    return Region(tuple((p.lon, p.lat) for p in points))


def _check_inside(x: float, y: float, code: str) -> None:
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (x, y)):
        raise QueryError("coordinates must be finite numbers")
    if _inside(x, y, code):
        return
    hint = " (X and Y look swapped: give X,Y)" if _inside(y, x, code) else ""
    if code == "EPSG:4326":
        raise QueryError(
            f"{x},{y} is not a WGS 84 position: longitude -180..180, latitude -90..90{hint}"
        )
    west, south, east, north = _bounds(code)
    raise QueryError(
        f"{x},{y} is outside {code}'s area of use (longitude {west}..{east}, latitude "
        f"{south}..{north}){hint}; VN-2000 X,Y is easting,northing, e.g. Hoàn Kiếm Lake "
        "588405,2326366"
    )


def _inside(x: float, y: float, code: str) -> bool:
    west, south, east, north = _bounds(code)
    if code == "EPSG:4326":
        return west <= x <= east and south <= y <= north
    lon, lat = _transformer(code).transform(x, y)
    return math.isfinite(lon) and west <= lon <= east and south <= lat <= north


@lru_cache(maxsize=8)
def _bounds(code: str) -> tuple[float, float, float, float]:
    if code == "EPSG:4326":
        return WGS84_BOUNDS
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        area = CRS.from_user_input(code).area_of_use
    except CRSError:
        raise QueryError(f"unknown CRS {code}") from None
    if area is None:
        return WGS84_BOUNDS
    return area.west, area.south, area.east, area.north


@lru_cache(maxsize=8)
def _transformer(code: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(code, "EPSG:4326", always_xy=True)
