"""Elasticsearch `_search` bodies from the query model, and search results from responses.

Queries never use `query_string`: user text only ever appears as the text of match queries
(`multi_match` best_fields on folded fields, the same on `.exact` sub-fields boosted, `phrase`
for quoted text). As in the tantivy backend, typos (`fuzziness`) and the word being typed
(`bool_prefix`) are forgiven only in a second request, sent when the words as written found
nothing (`widen`); the result then says what it shows. Each clause covers
the name fields and the catch-all only, and text is cut to `MAX_WORDS` words, which keeps a
pasted page inside Lucene's clause limit. Public queries exclude `restricted*` from `_source`,
never name a restricted field and filter `published: true`; officers query `restricted_all`
instead of `search_all`.

Places: `near` is a `geo_distance` and `bbox` a `geo_bounding_box` filter on `point`;
`containing` is a `geo_shape` filter on `shape` with relation `contains` (the parcel covering
a point), `intersecting` one with relation `intersects` and the region as a polygon. Certificate
numbers are `term` filters on the `restricted_keys.*` keywords.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Any

from models.language.text import certificate_key
from search.elastic.mapping import CATCH_ALL, NAMES, keyword, match_form
from search.query import (
    FACETS,
    KEYS,
    MAX_QUERY_CHARS,
    RANGES,
    BBox,
    GeoPoint,
    Hit,
    Near,
    Query,
    QueryError,
    Region,
    SearchResult,
    check,
    correction,
)

FACET_BUCKETS = 500
MAX_WORDS = 32
"""Query words beyond this are dropped (as in the tantivy backend). With 4 fields and 3 clauses
per word, a query stays well inside Lucene's limit of 1024 clauses."""
MAX_FUZZY_WORDS = 12
"""Typo tolerance is for typed queries: a longer text, or one with digits (parcel 1235 is not
parcel 1234), is matched exactly."""
FUZZY_EXPANSIONS = 10  # terms one fuzzy word may expand to, per field (12 x 4 x 10 < 1024)
MATCH_ALL_WORDS_UP_TO = "3<75%"  # up to 3 words all must match, beyond that three in four
EXACT_BOOST = 2.0
SNIPPET_CHARS = 200
MIN_PREFIX_CHARS = 2
"""The word being typed matches as a prefix from two characters on (as in the tantivy backend):
"Thửa c" must not find every parcel whose certificate starts with "CH"."""
MAX_ANALYZED_CHARS = 900_000
"""Snippets come from a text's first 900,000 characters: re-analysing more for a highlight
fails the whole search past the index's `index.highlight.max_analyzed_offset` (1,000,000)."""
BOOSTS = {"title": 3, "name": 3, "aliases": 2}
"""Query fields besides the role's catch-all, which holds the body and the other text too."""

_QUOTED = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]|[^\W_]+")


def search_body(
    query: Query, offset_option: str = "max_analyzed_offset", widen: bool = False
) -> dict[str, Any]:
    """The `_search` body for a query; QueryError for one no backend or this one can answer.

    `offset_option` names the highlight option bounding the analysed text: Elasticsearch's
    `max_analyzed_offset`, OpenSearch's `max_analyzer_offset` (the client knows which).
    `widen` forgives typos and takes the last word as a prefix."""
    check(query)
    _check_names(query)
    clauses = _text_clauses(query.text[:MAX_QUERY_CHARS], query.role, widen)
    filters = _filters(query)
    boolean = {key: value for key, value in (("must", clauses), ("filter", filters)) if value}
    body: dict[str, Any] = {
        "query": {"bool": boolean} if boolean else {"match_all": {}},
        "_source": {"excludes": _excluded_source(query.role)},
        "highlight": {**_highlight(query.role), offset_option: MAX_ANALYZED_CHARS},
        "sort": ["_score", {"id": "asc"}],  # ties in id order: pages never overlap
        "from": query.offset,
        "size": query.limit,
        "track_total_hits": True,
    }
    if query.facets:
        body["aggs"] = {
            name: {"terms": {"field": name, "size": FACET_BUCKETS}}
            for name in dict.fromkeys(query.facets)
        }
    return body


def _check_names(query: Query) -> None:
    for purpose, names, known in (
        ("filter", query.filters, FACETS),
        ("facet", query.facets, FACETS),
        ("range", query.ranges, RANGES),
    ):
        if unknown := sorted(set(names) - set(known)):
            raise QueryError(
                f"cannot {purpose} on {', '.join(unknown)}; known fields: {', '.join(known)}"
            )


def can_widen(text: str) -> bool:
    """Whether forgiving typos or a prefix could change what the text's words match."""
    words, used = _first_words(_QUOTED.sub(" ", match_form(text)).replace('"', " "), MAX_WORDS)
    if not used:
        return False
    fuzzy = used <= MAX_FUZZY_WORDS and not any(c.isdigit() for c in words)
    return fuzzy or len(_WORD.findall(words)[-1]) >= MIN_PREFIX_CHARS


def _text_clauses(text: str, role: str, widen: bool = False) -> list[dict[str, Any]]:
    """Quoted parts must match as phrases; the other words must match (three in four beyond
    three words) in one name field or in the role's catch-all field; widened, with typos and
    the last word as a prefix. Text with no word at all (only punctuation) matches nothing."""
    text = match_form(text)
    budget, clauses = MAX_WORDS, []
    for quoted in _QUOTED.findall(text):
        phrase, used = _first_words(quoted, budget)
        if used:
            budget -= used
            exact = _multi_match(phrase, "phrase", role, exact=True)
            clauses.append(_either(_multi_match(phrase, "phrase", role), exact))
    words, used = _first_words(_QUOTED.sub(" ", text).replace('"', " "), budget)
    if used:
        enough = {"operator": "or", "minimum_should_match": MATCH_ALL_WORDS_UP_TO}
        folded = _multi_match(words, "best_fields", role, **enough)
        if widen and used <= MAX_FUZZY_WORDS and not any(c.isdigit() for c in words):
            folded["multi_match"].update(fuzziness="AUTO:4,8", max_expansions=FUZZY_EXPANSIONS)
        exact = _multi_match(words, "best_fields", role, exact=True, **enough)
        last = _WORD.findall(words)[-1]
        if widen and len(last) >= MIN_PREFIX_CHARS:
            clauses.append(
                _either(folded, exact, _multi_match(words, "bool_prefix", role, **enough))
            )
        else:
            clauses.append(_either(folded, exact))
    if not clauses and text.strip():
        clauses.append({"match_none": {}})
    return clauses


def _first_words(text: str, budget: int) -> tuple[str, int]:
    """`text` (whitespace collapsed) up to its `budget`-th word, and how many words that is.

    Words are counted as generously as the standard tokenizer splits ("_id:1" is two, each CJK
    ideograph one), so what is sent never holds more than `budget` tokens."""
    text = " ".join(text.split())
    found = list(islice(_WORD.finditer(text), budget + 1))
    if len(found) > budget:
        return text[: found[budget].start()].rstrip(), budget
    return text, len(found)


def _multi_match(
    text: str, kind: str, role: str, *, exact: bool = False, **options: Any
) -> dict[str, Any]:
    """A multi_match over the name fields and the role's catch-all field."""
    suffix = ".exact" if exact else ""
    fields = [
        f"{name}{suffix}^{boost}" if boost != 1 else f"{name}{suffix}"
        for name, boost in (*BOOSTS.items(), (CATCH_ALL[role], 1))
    ]
    clause: dict[str, Any] = {"query": text, "type": kind, "fields": fields, **options}
    if exact:
        clause["boost"] = EXACT_BOOST
    return {"multi_match": clause}


def _either(*clauses: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"should": list(clauses), "minimum_should_match": 1}}


def _filters(query: Query) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if query.role == "public":
        filters.append({"term": {"published": True}})
    for name, values in query.filters.items():
        if values:  # an empty selection constrains nothing
            filters.append({"terms": {name: [keyword(v) for v in values]}})
    for name, (low, high) in query.ranges.items():
        bounds = {op: v for op, v in (("gte", low), ("lte", high)) if v is not None}
        if bounds:
            filters.append({"range": {name: bounds}})
    if query.near is not None:
        filters.append(_near(query.near))
    if query.bbox is not None:
        filters.append(_bbox(query.bbox))
    if query.containing is not None:
        filters.append(_containing(query.containing))
    if query.intersecting is not None:
        filters.append(_intersecting(query.intersecting))
    for name in KEYS:
        if value := getattr(query, name):
            filters.append({"term": {f"restricted_keys.{name}": certificate_key(value)}})
    return filters


def _near(near: Near) -> dict[str, Any]:
    centre = {"lat": near.lat, "lon": near.lon}
    return {"geo_distance": {"distance": f"{float(near.km)!r}km", "point": centre}}


def _bbox(bbox: BBox) -> dict[str, Any]:
    """The box from its corners (`check` has refused swapped ones)."""
    corners = {
        "top_left": {"lat": bbox.max_lat, "lon": bbox.min_lon},
        "bottom_right": {"lat": bbox.min_lat, "lon": bbox.max_lon},
    }
    return {"geo_bounding_box": {"point": corners}}


def _containing(point: GeoPoint) -> dict[str, Any]:
    shape = {"type": "point", "coordinates": [point.lon, point.lat]}
    return {"geo_shape": {"shape": {"shape": shape, "relation": "contains"}}}


def _intersecting(region: Region) -> dict[str, Any]:
    shape = {"type": "polygon", "coordinates": [region.ring()]}
    return {"geo_shape": {"shape": {"shape": shape, "relation": "intersects"}}}


def _excluded_source(role: str) -> list[str]:
    """What a result list does not need (long text, shapes); for the public, nothing restricted."""
    bulky = ["text", "public_text", "original.text", "shape"]
    return (
        ["restricted*", *bulky] if role == "public" else ["restricted", "restricted_keys", *bulky]
    )


def _highlight(role: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"text": {"no_match_size": SNIPPET_CHARS}}
    fields.update((name, {}) for name in (*NAMES, "public_text"))
    if role == "officer":
        fields["restricted.*"] = {}
    return {
        "pre_tags": ["<mark>"],
        "post_tags": ["</mark>"],
        "encoder": "html",  # document text is escaped; only the marks are markup
        "require_field_match": False,
        "fragment_size": SNIPPET_CHARS,
        "number_of_fragments": 1,
        "fields": fields,
    }


# -- results in ------------------------------------------------------------------------------


def result_of(response: dict[str, Any], role: str, widened_from: str = "") -> SearchResult:
    """The result of a response; `widened_from` is the typed text when the request was the
    widened one, so the result says what it shows."""
    hits = response.get("hits", {})
    facets = {
        name: {keyword(b.get("key_as_string", b["key"])): int(b["doc_count"]) for b in buckets}
        for name, agg in (response.get("aggregations") or {}).items()
        for buckets in [agg.get("buckets", [])]
    }
    found = [_hit_of(hit, role) for hit in hits.get("hits", [])]
    return SearchResult(
        total=int(hits.get("total", {}).get("value", 0)),
        hits=found,
        facets=facets,
        showing=correction(widened_from, found) if widened_from and found else "",
    )


def _hit_of(hit: dict[str, Any], role: str) -> Hit:
    source = hit.get("_source") or {}
    fields = dict(source.get("public") or {})
    if role == "officer":  # officers see restricted values beside the public ones
        fields.update(source.get("restricted_original") or {})
    return Hit(
        id=hit["_id"],
        title=(source.get("original") or {}).get("title", source.get("title", "")),
        score=float(hit.get("_score") or 0.0),
        highlight=_best_fragment(hit.get("highlight") or {}, role),
        kind=source.get("kind", ""),
        fields=fields,
    )


def _best_fragment(highlight: dict[str, list[str]], role: str) -> str:
    """The first fragment with a match (body text first), else the body's opening, else ""."""
    names = ["text", *NAMES, "public_text"]
    if role == "officer":
        names += sorted(name for name in highlight if name.startswith("restricted."))
    fragments = [highlight[name][0] for name in names if highlight.get(name)]
    marked = [fragment for fragment in fragments if "<mark>" in fragment]
    return (marked or fragments or [""])[0]
