"""The query model: what a search asks for, independent of the backend that answers it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

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
)
RANGES = ("area_m2", "lat", "lon")
"""Numeric fields a query may bound."""


class QueryError(ValueError):
    """A query that cannot be answered as given (a message a person can act on)."""


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    km: float


@dataclass(frozen=True)
class BBox:
    """WGS 84 box; constructors normalise swapped corners."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def __post_init__(self) -> None:
        if self.min_lon > self.max_lon:
            self._swap("min_lon", "max_lon")
        if self.min_lat > self.max_lat:
            self._swap("min_lat", "max_lat")

    def _swap(self, a: str, b: str) -> None:
        first, second = getattr(self, a), getattr(self, b)
        object.__setattr__(self, a, second)
        object.__setattr__(self, b, first)


@dataclass(frozen=True)
class Query:
    """A search.

    `text` is free text (any spelling: with or without diacritics); `filters` are exact
    field values (any of the listed values matches, e.g. {"kind": ["site"], "rank": [...]});
    `ranges` are inclusive numeric bounds (e.g. {"area_m2": (100.0, 200.0)}); `facets` names
    the fields to count. Public queries only ever see published, public fields.
    """

    text: str = ""
    role: str = "public"
    filters: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    near: Near | None = None
    bbox: BBox | None = None
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
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]


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
        _check_point(query.bbox.min_lat, query.bbox.min_lon)
        _check_point(query.bbox.max_lat, query.bbox.max_lon)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_point(lat: float, lon: float) -> None:
    if not (_number(lat) and -90 <= lat <= 90):
        raise QueryError(f"latitude must be between -90 and 90, got {lat}")
    if not (_number(lon) and -180 <= lon <= 180):
        raise QueryError(f"longitude must be between -180 and 180, got {lon}")


def _check_range(name: str, low: float | None, high: float | None) -> None:
    if any(v is not None and not _number(v) for v in (low, high)):
        raise QueryError(f"{name}: bounds must be finite numbers")
    if low is not None and high is not None and low > high:
        raise QueryError(f"{name}: lower bound {low} is above upper bound {high}")
