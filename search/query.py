"""The query model: what a search asks for, independent of the backend that answers it."""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from models.language.text import fold, tokens
from search.geo.geometry import is_convex, ring_area, signed_area

ROLES = ("public", "officer")
MAX_QUERY_CHARS = 1000
"""Longer query text is cut here (a 10,000-character paste is not an error)."""
MAX_LIMIT = 1000
"""The most hits one page may ask for."""
MAX_WINDOW = 10_000
"""offset + limit may not go past this (Elasticsearch's default max_result_window)."""


FACETS = (  # fields a query may filter and count by, on every backend
    "kind",
    "published",
    "type",
    "rank",
    "ward",
    "ward_old",
    "district",
    "district_old",
    "period",
    "has_model",
    "has_documents",
    "purpose",
    "unit_code",
    "era",
    "retired",  # a parcel ended by a split, merge or renumbering: "true" / "false"
)
"""Land searches find retired parcels too, marked (`retired_on`, `children`): an officer with
an old certificate types the number it bears and must be told what it became. Filtering
`retired` to "false" is the toggle that keeps only parcels in force today."""
RANGES = ("area_m2", "lat", "lon")
"""Numeric fields a query may bound."""
KEYS = ("serial", "registry_number")
"""Certificate numbers looked up exactly (`models.language.text.certificate_key`), by officers
only."""


class QueryError(ValueError):
    """A query that cannot be answered as given (a message a person can act on)."""


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    km: float


@dataclass(frozen=True)
class BBox:
    """A WGS 84 box that documents' points fall in. Corners given the wrong way round are a
    `QueryError`, not silently put right: a west edge east of the east edge might mean a box
    across the antimeridian, and guessing would answer another question."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True)
class GeoPoint:
    """A WGS 84 position (`search.geo.crs.to_wgs84` converts VN-2000)."""

    lat: float
    lon: float


@dataclass(frozen=True)
class Region:
    """A convex polygon in WGS 84, as (lon, lat) corners in order, not repeating the first.

    A box drawn in VN-2000 is no longer axis-aligned in WGS 84 (the grid turns about 0.3° from
    true north in Hà Nội), so a box in any CRS becomes one of these (`search.geo.crs.box_region`).
    """

    corners: tuple[tuple[float, float], ...]

    @classmethod
    def box(cls, min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> Region:
        return cls(((min_lon, min_lat), (max_lon, min_lat), (max_lon, max_lat), (min_lon, max_lat)))

    def envelope(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat)."""
        lons = [c[0] for c in self.corners]
        lats = [c[1] for c in self.corners]
        return min(lons), min(lats), max(lons), max(lats)

    def ring(self) -> list[list[float]]:
        """The closed GeoJSON ring, counter-clockwise (RFC 7946's outer-ring order)."""
        corners = [list(c) for c in self.corners]
        if signed_area(self.corners) < 0:
            corners.reverse()
        return [*corners, corners[0]]


@dataclass(frozen=True)
class Query:
    """A search.

    `text` is free text (any spelling: with or without diacritics); `filters` are exact
    field values (any of the listed values matches, e.g. {"kind": ["site"], "rank": [...]});
    `ranges` are inclusive numeric bounds (e.g. {"area_m2": (100.0, 200.0)}); `facets` names
    the fields to count. Public queries only ever see published, public fields.

    Places: `near` and `bbox` test a document's point (a site's location, a parcel's centre);
    `containing` keeps documents whose geometry covers the point (the parcel at a spot) and
    `intersecting` those whose geometry meets the region (parcels in a box); a document
    without a geometry is tested by its point. `serial` and `registry_number` look up a
    certificate's numbers exactly (spaces, case and dashes aside), for officers only.
    """

    text: str = ""
    role: str = "public"
    filters: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    near: Near | None = None
    bbox: BBox | None = None
    containing: GeoPoint | None = None
    intersecting: Region | None = None
    serial: str = ""
    registry_number: str = ""
    facets: tuple[str, ...] = ()
    offset: int = 0
    limit: int = 10


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    score: float
    highlight: str
    kind: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class SearchResult:
    """`showing` is empty when the words as typed (exactly or without diacritics) found the
    hits. When they found nothing, every backend tries once more forgiving typos and taking
    the last word as a prefix, and `showing` is then the text those hits match ("showing
    results for …"), so a page can say that it is not what was asked."""

    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    showing: str = ""


_MARKED = re.compile(r"<mark>(.*?)</mark>")
CLOSE_ENOUGH = 0.7
"""How alike (difflib's ratio of the folded words) a found word must be to name a typed one."""


def correction(text: str, hits: list[Hit]) -> str:
    """The typed text with each word replaced by the word of the hits (their marked snippet
    words and titles) that it most likely meant: the same word folded, one it begins, or the
    closest spelling; a word with no likely match is kept as typed."""
    found: Counter[str] = Counter()
    for hit in hits[:10]:
        for marked in _MARKED.findall(hit.highlight):
            found.update(tokens(html.unescape(marked)))
        found.update(tokens(hit.title))
    candidates = [(word, fold(word)) for word, _ in found.most_common()]
    return " ".join(_likeliest(word, candidates) for word in tokens(text[:MAX_QUERY_CHARS]))


def _likeliest(word: str, candidates: list[tuple[str, str]]) -> str:
    typed = fold(word)
    best, score = word, CLOSE_ENOUGH
    for candidate, folded in candidates:
        if folded == typed:
            return candidate
        likeness = 1.0 if len(typed) >= 2 and folded.startswith(typed) else 0.0
        likeness = max(likeness, SequenceMatcher(None, typed, folded).ratio())
        if likeness > score:
            best, score = candidate, likeness
    return best


def check(query: Query) -> None:
    """Raise `QueryError` for what no backend can answer: an unknown role, a page past
    `MAX_WINDOW`, coordinates off the globe, a range that ends before it starts.

    Backends call it first; which field names exist is theirs to check.
    """
    if query.role not in ROLES:
        raise QueryError(f"role must be one of {', '.join(ROLES)}, got {query.role!r}")
    if query.offset < 0 or not 0 <= query.limit <= MAX_LIMIT:
        raise QueryError(f"offset must be 0 or more and limit 0 to {MAX_LIMIT}")
    if query.offset + query.limit > MAX_WINDOW:
        raise QueryError(f"cannot page past result {MAX_WINDOW}: narrow the search")
    for name, (low, high) in query.ranges.items():
        _check_range(name, low, high)
    if query.near is not None:
        _check_point(query.near.lat, query.near.lon)
        if not (_number(query.near.km) and 0 < query.near.km <= 20_000):
            raise QueryError(f"distance must be above 0 and at most 20000 km, got {query.near.km}")
    if query.bbox is not None:
        _check_bbox(query.bbox)
    if query.containing is not None:
        _check_point(query.containing.lat, query.containing.lon)
    if query.intersecting is not None:
        _check_region(query.intersecting)
    if (query.serial or query.registry_number) and query.role != "officer":
        raise QueryError("certificate serials and registry numbers are for land officers only")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_point(lat: float, lon: float) -> None:
    if not (_number(lat) and -90 <= lat <= 90):
        raise QueryError(f"latitude must be between -90 and 90, got {lat}")
    if not (_number(lon) and -180 <= lon <= 180):
        raise QueryError(f"longitude must be between -180 and 180, got {lon}")


def _check_bbox(box: BBox) -> None:
    _check_point(box.min_lat, box.min_lon)
    _check_point(box.max_lat, box.max_lon)
    check_corners(box.min_lon, box.min_lat, box.max_lon, box.max_lat, "MINLON,MINLAT,MAXLON,MAXLAT")


def check_corners(
    min_x: float, min_y: float, max_x: float, max_y: float, form: str = "MINX,MINY,MAXX,MAXY"
) -> None:
    """A box is given as its south-west corner, then its north-east one."""
    swapped = [f"west {min_x} is east of {max_x}"] if min_x > max_x else []
    swapped += [f"south {min_y} is north of {max_y}"] if min_y > max_y else []
    if swapped:
        raise QueryError(
            f"box corners are swapped ({', '.join(swapped)}): give the south-west corner "
            f"first, as {form}"
        )


def _check_region(region: Region) -> None:
    if len(region.corners) < 3:
        raise QueryError("a region needs at least three corners")
    for lon, lat in region.corners:
        _check_point(lat, lon)
    if ring_area(region.corners) == 0:
        raise QueryError("the region has no area: its corners are in a line")
    if not is_convex(region.corners):
        raise QueryError("a region must be convex (a box, in any CRS, is)")


def _check_range(name: str, low: float | None, high: float | None) -> None:
    if any(v is not None and not _number(v) for v in (low, high)):
        raise QueryError(f"{name}: bounds must be finite numbers")
    if low is not None and high is not None and low > high:
        raise QueryError(f"{name}: lower bound {low} is above upper bound {high}")
