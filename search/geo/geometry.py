"""Plane geometry on GeoJSON in WGS 84 (lon, lat): envelopes, point-in-polygon, intersection.

The embedded backend narrows land queries with envelope fields in the index, then decides here.
Coordinates are treated as planar, as Elasticsearch does for `geo_shape`: at the size of a
parcel or a ward the difference from great-circle edges is far below survey accuracy. A
position on a polygon's boundary is inside (a point on the line between two parcels finds both).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

Position = tuple[float, float]  # (lon, lat)
Ring = Sequence[Position]
Envelope = tuple[float, float, float, float]  # (min_lon, min_lat, max_lon, max_lat)


def point_shape(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def envelope(shape: dict[str, Any]) -> Envelope | None:
    """The smallest box around every position of the shape (None if it has none)."""
    positions = list(positions_of(shape))
    if not positions:
        return None
    lons = [p[0] for p in positions]
    lats = [p[1] for p in positions]
    return min(lons), min(lats), max(lons), max(lats)


def positions_of(shape: dict[str, Any]) -> Iterator[Position]:
    if shape.get("type") == "GeometryCollection":
        for member in shape.get("geometries") or []:
            yield from positions_of(member)
        return
    yield from _flatten(shape.get("coordinates") or [])


def _flatten(coords: Any) -> Iterator[Position]:
    if coords and isinstance(coords[0], int | float):
        yield float(coords[0]), float(coords[1])
        return
    for c in coords:
        yield from _flatten(c)


def contains_point(shape: dict[str, Any], point: Position) -> bool:
    """Whether the shape covers the point (boundary included)."""
    return any(_part_contains(kind, coords, point) for kind, coords in _parts(shape))


def intersects_polygon(shape: dict[str, Any], ring: Ring) -> bool:
    """Whether the shape and the simple polygon `ring` (no holes) share any point."""
    return any(_part_meets(kind, coords, ring) for kind, coords in _parts(shape))


def _parts(shape: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(simple kind, coordinates) of each part: Point, LineString, Polygon."""
    kind, coords = shape.get("type"), shape.get("coordinates")
    if kind == "GeometryCollection":
        for member in shape.get("geometries") or []:
            yield from _parts(member)
    elif kind in ("Point", "LineString", "Polygon") and coords:
        yield kind, coords
    elif kind in ("MultiPoint", "MultiLineString", "MultiPolygon") and coords:
        for member in coords:
            if member:
                yield kind[5:], member


def _part_contains(kind: str, coords: Any, point: Position) -> bool:
    if kind == "Point":
        return _same(_pos(coords), point)
    if kind == "LineString":
        return any(_on_segment(a, b, point) for a, b in _edges(_ring(coords), closed=False))
    outer, holes = _ring(coords[0]), [_ring(h) for h in coords[1:]]
    if not in_ring(point, outer):
        return False
    return not any(in_ring(point, h) and not _on_boundary(point, h) for h in holes)


def _part_meets(kind: str, coords: Any, ring: Ring) -> bool:
    if kind == "Point":
        return in_ring(_pos(coords), ring)
    lines = [_ring(coords)] if kind == "LineString" else [_ring(r) for r in coords]
    if any(in_ring(p, ring) for line in lines for p in line[:1]):
        return True  # a vertex inside the region
    if kind == "Polygon" and _part_contains("Polygon", coords, ring[0]):
        return True  # the region lies inside the shape
    edges = list(_edges(ring, closed=True))
    return any(
        _segments_meet(a, b, c, d)
        for line in lines
        for a, b in _edges(line, closed=kind == "Polygon")
        for c, d in edges
    )


def in_ring(point: Position, ring: Ring) -> bool:
    """Point in a closed or open ring by ray casting; the boundary counts as inside."""
    if _on_boundary(point, ring):
        return True
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in _edges(ring, closed=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def is_convex(ring: Ring) -> bool:
    """Whether a polygon turns one way only (a box, in any CRS, stays one)."""
    points = _open(ring)
    crosses = [_cross(points[i - 2], points[i - 1], points[i]) for i in range(len(points))]
    return len({c > 0 for c in crosses if c}) == 1


def signed_area(ring: Ring) -> float:
    """Shoelace area in squared degrees: positive counter-clockwise, zero if degenerate."""
    points = _open(ring)
    total = sum(
        points[i - 1][0] * points[i][1] - points[i][0] * points[i - 1][1]
        for i in range(len(points))
    )
    return total / 2


def ring_area(ring: Ring) -> float:
    return abs(signed_area(ring))


def envelope_inside(env: Envelope, ring: Ring) -> bool:
    """Whether a box lies wholly inside a convex ring (all four corners do)."""
    min_lon, min_lat, max_lon, max_lat = env
    corners = [(min_lon, min_lat), (max_lon, min_lat), (max_lon, max_lat), (min_lon, max_lat)]
    return all(in_ring(c, ring) for c in corners)


# -- helpers ----------------------------------------------------------------------------------

EPSILON = 1e-12


def _pos(coords: Any) -> Position:
    return float(coords[0]), float(coords[1])


def _ring(coords: Any) -> list[Position]:
    return [_pos(c) for c in coords]


def _open(ring: Ring) -> list[Position]:
    points = list(ring)
    return points[:-1] if len(points) > 1 and _same(points[0], points[-1]) else points


def _edges(ring: Ring, closed: bool) -> Iterator[tuple[Position, Position]]:
    points = _open(ring) if closed else list(ring)
    for i in range(1 if not closed else 0, len(points)):
        yield points[i - 1], points[i]


def _same(a: Position, b: Position) -> bool:
    return abs(a[0] - b[0]) <= EPSILON and abs(a[1] - b[1]) <= EPSILON


def _cross(o: Position, a: Position, b: Position) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(a: Position, b: Position, p: Position) -> bool:
    if abs(_cross(a, b, p)) > EPSILON * max(1.0, abs(b[0] - a[0]) + abs(b[1] - a[1])):
        return False
    return (
        min(a[0], b[0]) - EPSILON <= p[0] <= max(a[0], b[0]) + EPSILON
        and min(a[1], b[1]) - EPSILON <= p[1] <= max(a[1], b[1]) + EPSILON
    )


def _on_boundary(point: Position, ring: Ring) -> bool:
    return any(_on_segment(a, b, point) for a, b in _edges(ring, closed=True))


def _segments_meet(a: Position, b: Position, c: Position, d: Position) -> bool:
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True
    return any(
        (_on_segment(c, d, a), _on_segment(c, d, b), _on_segment(a, b, c), _on_segment(a, b, d))
    )
