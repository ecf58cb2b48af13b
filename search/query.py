"""The query model: what a search asks for, independent of the backend that answers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("public", "officer")
MAX_QUERY_CHARS = 1000
"""Longer query text is cut here (a 10,000-character paste is not an error)."""


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
