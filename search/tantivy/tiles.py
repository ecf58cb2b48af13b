"""Tiles: how the embedded backend finds the geometries that may contain a point or meet a
region with a few term lookups, instead of range scans over every document's envelope.

The globe is cut into square tiles of 360 / 2^level degrees, levels 0 to `MAX_LEVEL` (about
2.4 m). A document's envelope lives at its *own* level, the finest at which it spans at most
two tiles each way; it is indexed under those tiles (`o<level>/<x>/<y>`) and, at every even
level above, under the tiles its envelope covers there (`c<level>/<x>/<y>`).

- A point is inside an envelope only if the envelope's own tile at some level is the tile
  holding the point: one term per level.
- A region meets an envelope only if their tiles overlap at the envelope's own level: the
  region's tiles at each level down to the query level (the finest even level at which it
  spans at most `QUERY_TILES` tiles each way), then the covering tiles at the query level for
  every finer envelope.

Tiles are computed with one rounding for documents and queries alike, so a point on a tile's
edge is in the same tile on both sides. They only narrow: `PlaceTest` decides exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

MAX_LEVEL = 24
QUERY_TILES = 4
Box = tuple[float, float, float, float]
"""(min_lon, min_lat, max_lon, max_lat) in WGS 84."""


def _cell(value: float, origin: float, level: int) -> int:
    count = 1 << level
    return min(count - 1, max(0, int((value - origin) * count / 360.0)))


def _cells(box: Box, level: int) -> tuple[range, range]:
    west, south, east, north = box
    xs = range(_cell(west, -180.0, level), _cell(east, -180.0, level) + 1)
    ys = range(_cell(south, -90.0, level), _cell(north, -90.0, level) + 1)
    return xs, ys


def _terms(kind: str, level: int, xs: range, ys: range) -> Iterator[str]:
    return (f"{kind}{level}/{x}/{y}" for x in xs for y in ys)


def _finest_cells(box: Box) -> tuple[int, int, int, int]:
    """The envelope's corner cells at `MAX_LEVEL`; at a coarser level L they are these shifted
    right by `MAX_LEVEL - L`, the very cells `_cell` gives there (the count is a power of two,
    so scaling by it is exact and flooring commutes with the shift)."""
    west, south, east, north = box
    return (
        _cell(west, -180.0, MAX_LEVEL),
        _cell(south, -90.0, MAX_LEVEL),
        _cell(east, -180.0, MAX_LEVEL),
        _cell(north, -90.0, MAX_LEVEL),
    )


def _own_level(x0: int, y0: int, x1: int, y1: int) -> int:
    for level in range(MAX_LEVEL, 0, -1):
        shift = MAX_LEVEL - level
        if (x1 >> shift) - (x0 >> shift) <= 1 and (y1 >> shift) - (y0 >> shift) <= 1:
            return level
    return 0


def own_level(box: Box) -> int:
    """The finest level at which the envelope spans at most two tiles each way."""
    return _own_level(*_finest_cells(box))


def document_tiles(box: Box) -> list[str]:
    """The tile terms a document with envelope `box` is indexed under.

    Built from the corner cells at the finest level by shifts: a parcel or a point costs one
    `_cell` per corner, not one per corner and level."""
    x0, y0, x1, y1 = _finest_cells(box)
    level = _own_level(x0, y0, x1, y1)
    shift = MAX_LEVEL - level
    terms = [
        f"o{level}/{x}/{y}"
        for x in range(x0 >> shift, (x1 >> shift) + 1)
        for y in range(y0 >> shift, (y1 >> shift) + 1)
    ]
    for coarser in range(0, level, 2):
        shift = MAX_LEVEL - coarser
        xa, xb, ya, yb = x0 >> shift, x1 >> shift, y0 >> shift, y1 >> shift
        if xa == xb and ya == yb:  # the usual case: one covering tile
            terms.append(f"c{coarser}/{xa}/{ya}")
        else:
            terms += (f"c{coarser}/{x}/{y}" for x in range(xa, xb + 1) for y in range(ya, yb + 1))
    return terms


def point_tiles(lon: float, lat: float) -> list[str]:
    """Terms of the envelopes that may contain the point."""
    at = (lon, lat, lon, lat)
    return [t for level in range(MAX_LEVEL + 1) for t in _terms("o", level, *_cells(at, level))]


def region_tiles(box: Box) -> list[str]:
    """Terms of the envelopes that may meet the region with envelope `box`."""
    query = _query_level(box)
    terms = [t for level in range(query + 1) for t in _terms("o", level, *_cells(box, level))]
    if query < MAX_LEVEL:
        terms += _terms("c", query, *_cells(box, query))
    return terms


def _query_level(box: Box) -> int:
    """The finest even level at which the region spans at most `QUERY_TILES` tiles each way."""
    for level in range(MAX_LEVEL, -1, -2):
        xs, ys = _cells(box, level)
        if len(xs) <= QUERY_TILES and len(ys) <= QUERY_TILES:
            return level
    return 0
