"""Tantivy queries from the query model, built with tantivy's Query API.

User text is never handed to tantivy's query parser, so no input can be a syntax error. Per
word: exact terms (boosted most), folded terms, fuzzy folded terms (distance 1 from 4
characters, 2 from 8) and, for the word being typed last, folded prefixes. Words are all
required up to three of them, then three in four. Quoted text is a phrase. An accented query
therefore ranks its exact spelling first, and any spelling still finds the rest.

Typos and prefixes widen a query a lot (a fuzzy word expands to every indexed word near it,
"dong" to "dựng", and the prefix "da" to "đại"), so the index first runs the words as written,
exact and folded only (`ParsedText.strict`), and forgives typos and takes the last word as a
prefix only when that finds nothing; the result then says what it shows (`SearchResult.showing`).

Places are filtered in two steps: the index narrows to candidates (range queries on `lat` and
`lon` for the box around `near`, `search.tantivy.tiles` terms for `containing` and `intersecting`),
then `PlaceTest` decides each candidate exactly (envelope, haversine distance,
point-in-polygon, polygon intersection).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import tantivy
from tantivy import Occur
from tantivy import Query as TQuery

from models.language.text import certificate_key, fold, normalise
from search.geo.geometry import Envelope, contains_point, envelope_inside, intersects_polygon
from search.query import FACETS, KEYS, MAX_QUERY_CHARS, RANGES, Query, QueryError
from search.tantivy.schema import ANALYZER, GROUPS, KEY_FIELDS, SCHEMA, TILES
from search.tantivy.tiles import point_tiles, region_tiles

MAX_WORDS = 32
KM_PER_DEGREE = 111.195
EARTH_KM = 6371.0088

BOOSTS = {
    ("names", "exact"): 8.0,
    ("names", "folded"): 4.0,
    ("body", "exact"): 2.0,
    ("body", "folded"): 1.0,
    ("restricted", "exact"): 2.0,
    ("restricted", "folded"): 1.0,
}
FUZZY_BOOSTS = {"names": 1.0, "body": 0.3, "restricted": 0.3}
PREFIX_BOOSTS = {"names": 1.5, "body": 0.5, "restricted": 0.5}


@dataclass(frozen=True)
class Word:
    exact: str  # normalised token
    folded: str
    fuzzy: bool = True
    prefix: bool = False


@dataclass(frozen=True)
class ParsedText:
    words: list[Word] = field(default_factory=list)
    phrases: list[list[Word]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases

    def all_words(self) -> list[Word]:
        return [*self.words, *(w for p in self.phrases for w in p)]

    def strict(self) -> ParsedText:
        """The same words, exact and folded only: no typo, no prefix (itself when no word
        would match a typo or a prefix)."""
        if not any(_widens(w) for w in self.words):
            return self
        return replace(self, words=[replace(w, fuzzy=False, prefix=False) for w in self.words])


def _widens(word: Word) -> bool:
    return bool(word.fuzzy and fuzzy_distance(word.folded)) or (
        word.prefix and len(word.folded) >= 2
    )


QUOTED = re.compile(r'"([^"]*)"')


def parse_text(text: str) -> ParsedText:
    """Words and quoted phrases of a query; an unbalanced quote is just ignored."""
    text = text[:MAX_QUERY_CHARS]
    phrases = [p for p in (_words(m) for m in QUOTED.findall(text)) if p]
    rest = QUOTED.sub(" ", text).replace('"', " ")
    words = _words(rest)
    singles = [replace(p[0], fuzzy=False) for p in phrases if len(p) == 1]
    phrases = [p for p in phrases if len(p) > 1]
    if words and rest[-1:].isalnum():
        words[-1] = replace(words[-1], prefix=True)
    budget = max(0, MAX_WORDS - sum(len(p) for p in phrases) - len(singles))
    return ParsedText(words=[*words[:budget], *singles], phrases=phrases[:MAX_WORDS])


def _words(text: str) -> list[Word]:
    words = []
    for token in ANALYZER.analyze(normalise(text)):
        folded = ANALYZER.analyze(fold(token))
        if folded:
            words.append(Word(token, folded[0]))
    return words


def fuzzy_distance(token: str) -> int:
    """Edits allowed for a typo; none in numbers (a parcel 1235 is not parcel 1234)."""
    if any(c.isdigit() for c in token):
        return 0
    if len(token) >= 8:
        return 2
    return 1 if len(token) >= 4 else 0


def check_names(query: Query) -> None:
    for kind, names, known in (
        ("filter", query.filters, FACETS),
        ("facet", query.facets, FACETS),
        ("range", query.ranges, RANGES),
    ):
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise QueryError(
                f"cannot {kind} on {', '.join(unknown)}; known fields: {', '.join(known)}"
            )


def compile_query(query: Query, parsed: ParsedText) -> TQuery:
    if parsed.empty and query.text.strip():  # only punctuation or over-long words: nothing
        return TQuery.empty_query()
    groups = GROUPS if query.role == "officer" else GROUPS[:2]
    clauses = [(Occur.Must, _text_query(parsed, groups))]
    clauses += [(Occur.Must, TQuery.const_score_query(q, 0.0)) for q in _filters(query)]
    return TQuery.boolean_query(clauses)


def _text_query(parsed: ParsedText, groups: Sequence[str]) -> TQuery:
    if parsed.empty:
        return TQuery.all_query()
    clauses = [(Occur.Must, _phrase_query(p, groups)) for p in parsed.phrases]
    if parsed.words:
        words = [(Occur.Should, _word_query(w, groups)) for w in parsed.words]
        clauses.append((Occur.Must, TQuery.boolean_query(words, _required(len(words)))))
    return TQuery.boolean_query(clauses)


def _required(n: int) -> int:
    """All of up to three words; then three in four."""
    return n if n <= 3 else math.ceil(n * 0.75)


def _word_query(word: Word, groups: Sequence[str]) -> TQuery:
    subs = []
    for group in groups:
        subs.append(_boost(_term(f"{group}_exact", word.exact), BOOSTS[group, "exact"]))
        subs.append(_boost(_term(f"{group}_folded", word.folded), BOOSTS[group, "folded"]))
        distance = fuzzy_distance(word.folded) if word.fuzzy else 0
        if distance:
            fuzzy = TQuery.fuzzy_term_query(SCHEMA, f"{group}_folded", word.folded, distance)
            subs.append(_boost(fuzzy, FUZZY_BOOSTS[group]))
        if word.prefix and len(word.folded) >= 2:
            prefix = TQuery.fuzzy_term_query(SCHEMA, f"{group}_folded", word.folded, 0, True, True)
            subs.append(_boost(prefix, PREFIX_BOOSTS[group]))
    return TQuery.boolean_query([(Occur.Should, q) for q in subs])


def _phrase_query(words: list[Word], groups: Sequence[str]) -> TQuery:
    subs = []
    for group in groups:
        for form in ("exact", "folded"):
            terms = [getattr(w, form) for w in words]
            phrase = TQuery.phrase_query(SCHEMA, f"{group}_{form}", terms)  # len(terms) >= 2
            subs.append(_boost(phrase, BOOSTS[group, form]))
    return TQuery.boolean_query([(Occur.Should, q) for q in subs])


def _term(name: str, value: str) -> TQuery:
    return TQuery.term_query(SCHEMA, name, value)


def _boost(query: TQuery, boost: float) -> TQuery:
    return TQuery.boost_query(query, boost)


def _filters(query: Query) -> list[TQuery]:
    filters = []
    if query.role != "officer":
        filters.append(_term("published", "true"))
    for name, values in query.filters.items():
        wanted = sorted({str(v) for v in values})
        if wanted:
            filters.append(TQuery.term_set_query(SCHEMA, name, wanted))
    for name, (low, high) in query.ranges.items():
        if low is not None or high is not None:
            filters.append(_range(name, low, high))
    for name in KEYS:
        if value := getattr(query, name):
            filters.append(_term(KEY_FIELDS[name], certificate_key(value)))
    filters += _tile_filters(query)
    box = _box(query)
    if box is not None:
        min_lat, min_lon, max_lat, max_lon = box
        if min_lat > max_lat or min_lon > max_lon:  # `near` and `bbox` do not overlap
            return [TQuery.empty_query()]
        filters += [_range("lat", min_lat, max_lat), _range("lon", min_lon, max_lon)]
    return filters


def _range(name: str, low: float | None, high: float | None) -> TQuery:
    low = float(low) if low is not None else None
    high = float(high) if high is not None else None
    return TQuery.range_query(SCHEMA, name, tantivy.FieldType.Float, low, high)


def _box(query: Query) -> tuple[float, float, float, float] | None:
    """(min_lat, min_lon, max_lat, max_lon) to search: the bbox, the box around `near`, or both."""
    boxes = []
    if query.bbox is not None:
        b = query.bbox
        boxes.append((b.min_lat, b.min_lon, b.max_lat, b.max_lon))
    if query.near is not None:
        boxes.append(_near_box(query.near.lat, query.near.lon, query.near.km))
    if not boxes:
        return None
    return (
        max(b[0] for b in boxes),
        max(b[1] for b in boxes),
        min(b[2] for b in boxes),
        min(b[3] for b in boxes),
    )


def _near_box(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    dlat = km / KM_PER_DEGREE
    cos = math.cos(math.radians(lat))
    dlon = 360.0 if cos < 1e-9 else km / (KM_PER_DEGREE * cos)
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180 or max_lon > 180:  # across the antimeridian: leave longitude open
        min_lon, max_lon = -180.0, 180.0
    return max(-90.0, lat - dlat), min_lon, min(90.0, lat + dlat), max_lon


def _tile_filters(query: Query) -> list[TQuery]:
    """Documents whose geometry's envelope may contain the point or meet the region."""
    filters = []
    if (p := query.containing) is not None:
        filters.append(TQuery.term_set_query(SCHEMA, TILES, point_tiles(p.lon, p.lat)))
    if query.intersecting is not None:
        tiles = region_tiles(query.intersecting.envelope())
        filters.append(TQuery.term_set_query(SCHEMA, TILES, tiles))
    return filters


def needs_places(query: Query) -> bool:
    """Whether candidates must be tested one by one after the index has narrowed them."""
    return any(p is not None for p in (query.near, query.containing, query.intersecting))


@dataclass(frozen=True)
class PlaceTest:
    """The exact tests of a query's places, for one candidate at a time."""

    query: Query

    def near(self, lat: float, lon: float) -> float | None:
        """The distance in km if within reach of `near`, else None (no `near`: 0)."""
        near = self.query.near
        if near is None:
            return 0.0
        km = haversine_km(near.lat, near.lon, lat, lon)
        return km if km <= near.km else None

    def meets(self, box: Envelope) -> bool:
        """Whether the envelope holds the `containing` point and meets the `intersecting`
        region's envelope (the tiles only narrowed to their neighbourhood)."""
        q = self.query
        if any(v is None for v in box):
            return False
        west, south, east, north = box
        if (p := q.containing) is not None and not (
            west <= p.lon <= east and south <= p.lat <= north
        ):
            return False
        if q.intersecting is not None:
            r_west, r_south, r_east, r_north = q.intersecting.envelope()
            return west <= r_east and r_west <= east and south <= r_north and r_south <= north
        return True

    def settled(self, box: Envelope) -> bool:
        """Whether the envelope alone proves every shape test (no geometry need be read):
        only an `intersecting` test of an envelope wholly inside the (convex) region."""
        region = self.query.intersecting
        return (
            self.query.containing is None
            and region is not None
            and envelope_inside(box, region.corners)
        )

    def shape(self, place: dict[str, Any] | None) -> bool:
        """Whether the geometry passes `containing` and `intersecting`."""
        q = self.query
        if q.containing is None and q.intersecting is None:
            return True
        if place is None:
            return False
        if q.containing is not None and not contains_point(
            place, (q.containing.lon, q.containing.lat)
        ):
            return False
        return q.intersecting is None or intersects_polygon(place, q.intersecting.corners)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))
