"""The embedded search backend: a tantivy index in a folder, with follower positions beside it.

Text is indexed three ways for Vietnamese, each in its own field group (`names`: title, name,
aliases; `body`: description, OCR text and the other public values; `restricted`: personal
data, searched only for officers):

- `<group>_exact`: `search.text.normalise` (NFC, canonical tone placement, lower case), so
  "hoà" and "hòa" are one term and an accented query matches its own spelling;
- `<group>_folded`: `search.text.fold` (no diacritics, đ → d), so "dong da" finds "Đống Đa".

Queries are built from tantivy's Query API, never by handing user text to its query parser,
so no input can be a syntax error. Per word: exact terms (boosted most), folded terms, fuzzy
folded terms (distance 1 from 4 characters, 2 from 8) and, for the word being typed last,
folded prefixes. Words are all required up to three of them, then three in four. Quoted text
is a phrase. An accented query therefore ranks its exact spelling first, and any spelling still
finds the rest.

Facets and filters are raw string fields (`FACETS`), numbers are f64 fast fields (`RANGES`).
Facet counts come from tantivy's terms aggregation over every match; a `near` search post-filters
candidates by haversine distance, so its counts, total and order are computed here over at most
`MAX_CANDIDATES` candidates from the bounding box. Snippets are made here: a window of the
original text around the first word whose folded form matches, `<mark>`ed and HTML-escaped.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur
from tantivy import Query as TQuery

from search.documents import flatten_text
from search.index import Document, SearchIndex, SearchUnavailableError
from search.query import (
    FACETS,
    MAX_QUERY_CHARS,
    RANGES,
    Hit,
    Near,
    Query,
    QueryError,
    SearchResult,
    check,
)
from search.text import fold, normalise

log = logging.getLogger(__name__)

GROUPS = ("names", "body", "restricted")
NAME_KEYS = frozenset({"name", "aliases"})
NOT_TEXT_KEYS = frozenset({"geometry", "lat", "lon"}) | NAME_KEYS
POSITIONS_FILE = "positions.json"
MAX_WORDS = 32
MAX_CANDIDATES = 10_000
FACET_BUCKETS = 500
MAX_FACET_CHARS = 200
SNIPPET_CHARS = 200
MAX_SCAN_CHARS = 200_000
WRITER_HEAP = 64_000_000
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


class IncompatibleIndexError(RuntimeError):
    """The index folder was built with another schema: rebuild it (`sohoa reindex`)."""


def build_schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, fast=True, tokenizer_name="raw")
    b.add_integer_field("version", stored=True, indexed=True, fast=True)
    for name in FACETS:
        b.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    for group in GROUPS:
        b.add_text_field(f"{group}_exact", tokenizer_name="default")
        b.add_text_field(f"{group}_folded", tokenizer_name="default")
    for name in RANGES:
        b.add_float_field(name, indexed=True, fast=True)
    b.add_bytes_field("public", stored=True)
    b.add_bytes_field("restricted", stored=True)
    return b.build()


SCHEMA = build_schema()
ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .build()
)
"""The query-side twin of tantivy's `default` tokenizer used by the text fields."""


# -- query text -------------------------------------------------------------


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


# -- the index --------------------------------------------------------------


class TantivyIndex(SearchIndex):
    """A tantivy index in `path`; one writer (opened on the first write) per instance."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._index = _open_index(self.path)
        self._writer: tantivy.IndexWriter | None = None
        self._lock = threading.RLock()
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None

    @classmethod
    def temporary(cls) -> TantivyIndex:
        """An index in a fresh temporary folder, removed when the index is collected."""
        folder = tempfile.TemporaryDirectory(prefix="sohoa-index-")
        index = cls(folder.name)
        index._tempdir = folder
        return index

    # -- writing ----------------------------------------------------------

    def upsert(self, documents: list[Document]) -> int:
        latest = _latest_per_id(documents)
        if not latest:
            return 0
        with self._lock:
            stored = self.versions(list(latest))
            fresh = [d for d in latest.values() if d.version > stored.get(d.id, -1)]
            if fresh:
                self._write(fresh)
        return len(fresh)

    def _write(self, documents: list[Document]) -> None:
        writer = self._writer_or_open()
        try:
            for doc in documents:
                writer.delete_documents_by_term("id", doc.id)
                writer.add_document(to_tantivy(doc))
        except BaseException:
            writer.rollback()  # none of the batch, rather than part of it
            raise
        self._commit(writer)

    def delete(self, doc_id: str) -> None:
        with self._lock:
            writer = self._writer_or_open()
            writer.delete_documents_by_term("id", doc_id)
            self._commit(writer)

    def close(self) -> None:
        """Release the writer (and its folder lock); searching still works."""
        with self._lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()
                self._writer = None

    def refresh(self) -> None:
        self._index.reload()

    def _writer_or_open(self) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
            except ValueError as e:
                raise SearchUnavailableError(f"{self.path}: cannot open a writer: {e}") from e
        return self._writer

    def _commit(self, writer: tantivy.IndexWriter) -> None:
        try:
            writer.commit()
        except (ValueError, OSError) as e:
            writer.rollback()
            raise SearchUnavailableError(f"{self.path}: commit failed: {e}") from e
        self._index.reload()

    def versions(self, doc_ids: list[str]) -> dict[str, int]:
        if not doc_ids:
            return {}
        searcher = self._index.searcher()
        ids = TQuery.term_set_query(SCHEMA, "id", doc_ids)
        found = searcher.search(ids, limit=len(doc_ids))
        versions = {}
        for _, address in found.hits:
            doc = searcher.doc(address)
            versions[doc.get_first("id")] = doc.get_first("version")
        return versions

    # -- reading ----------------------------------------------------------

    def get(self, doc_id: str) -> Document | None:
        searcher = self._index.searcher()
        found = searcher.search(TQuery.term_query(SCHEMA, "id", doc_id), limit=1)
        if not found.hits:
            return None
        return from_tantivy(searcher.doc(found.hits[0][1]))

    def count(self) -> int:
        return int(self._index.searcher().num_docs)

    def search(self, query: Query) -> SearchResult:
        check(query)
        _check_names(query)
        parsed = parse_text(query.text)
        compiled = compile_query(query, parsed)
        searcher = self._index.searcher()
        if query.near is not None:
            ranked, total, facets = _search_near(searcher, compiled, query, query.near, parsed)
        else:
            ranked, total, facets = _search_ranked(searcher, compiled, query)
        hits = [_hit(searcher.doc(address), score, query.role, parsed) for score, address in ranked]
        return SearchResult(total=total, hits=hits, facets=facets)

    # -- follower positions ------------------------------------------------

    @property
    def _positions_path(self) -> Path:
        return self.path / POSITIONS_FILE

    def position(self, follower: str) -> int:
        return int(self._positions().get(follower, 0))

    def set_position(self, follower: str, notification_id: int) -> None:
        with self._lock:
            positions = self._positions()
            positions[follower] = int(notification_id)
            write_json_atomically(self._positions_path, positions)

    def _positions(self) -> dict[str, int]:
        try:
            return dict(json.loads(self._positions_path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {}


def _open_index(path: Path) -> tantivy.Index:
    path.mkdir(parents=True, exist_ok=True)
    try:
        return tantivy.Index(SCHEMA, path=str(path), reuse=True)
    except ValueError as e:
        if "schema does not match" in str(e):
            raise IncompatibleIndexError(
                f"the index in {path} was built by another version of sohoa: "
                "rebuild it with `sohoa reindex`"
            ) from e
        raise SearchUnavailableError(f"cannot open the index in {path}: {e}") from e


def write_json_atomically(path: Path, value: Any) -> None:
    """Write JSON to a temporary file beside `path`, flush it to disk, then rename it over."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(value, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _latest_per_id(documents: Iterable[Document]) -> dict[str, Document]:
    latest: dict[str, Document] = {}
    for doc in documents:
        if doc.id not in latest or doc.version > latest[doc.id].version:
            latest[doc.id] = doc
    return latest


# -- documents in and out ---------------------------------------------------


def to_tantivy(doc: Document) -> tantivy.Document:
    t = tantivy.Document()
    t.add_text("id", doc.id)
    t.add_integer("version", doc.version)
    for name, values in facet_values(doc).items():
        for value in values:
            t.add_text(name, value)
    _add_text(t, doc)
    for name, number in _numbers(doc).items():
        t.add_float(name, number)
    public = {
        "id": doc.id,
        "version": doc.version,
        "kind": doc.kind,
        "title": doc.title,
        "published": doc.published,
        "public": doc.public,
        "text": doc.text,
        "point": doc.point,
        "shape": doc.shape,
    }
    t.add_bytes("public", _json_bytes(public))
    t.add_bytes("restricted", _json_bytes(doc.restricted))
    return t


def _add_text(t: tantivy.Document, doc: Document) -> None:
    for group, parts in text_groups(doc).items():
        for part in parts:
            t.add_text(f"{group}_exact", normalise(part))
            t.add_text(f"{group}_folded", fold(part))


def text_groups(doc: Document) -> dict[str, list[str]]:
    names = [doc.title, *(v for k in NAME_KEYS for v in flatten_text(doc.public.get(k)))]
    body = [doc.text] if doc.text else []
    for key, value in doc.public.items():
        if key not in NOT_TEXT_KEYS and value != doc.text:
            body.extend(flatten_text(value))
    return {"names": names, "body": body, "restricted": list(flatten_text(doc.restricted))}


def facet_values(doc: Document) -> dict[str, list[str]]:
    values = {"kind": [doc.kind], "published": [_flag(doc.published)]}
    for name in FACETS[2:]:
        values[name] = _facet_strings(doc.public.get(name))
    new_wards = _facet_strings(doc.public.get("ward_new"))
    values["ward"] += [w for w in new_wards if w not in values["ward"]]
    return {k: v for k, v in values.items() if v}


def _facet_strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return [_flag(value)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _facet_strings(v)]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()[:MAX_FACET_CHARS]
    return [text] if text else []


def _numbers(doc: Document) -> dict[str, float]:
    numbers: dict[str, float] = {}
    area = doc.public.get("area_m2")
    if isinstance(area, int | float) and not isinstance(area, bool) and math.isfinite(area):
        numbers["area_m2"] = float(area)
    if doc.point is not None:
        numbers["lat"], numbers["lon"] = float(doc.point[0]), float(doc.point[1])
    return numbers


def from_tantivy(t: tantivy.Document, restricted: bool = True) -> Document:
    """The stored document; with `restricted=False` its restricted fields are not even read."""
    public = json.loads(bytes(t.get_first("public")))
    point = public.get("point")
    return Document(
        id=public["id"],
        version=public["version"],
        kind=public["kind"],
        title=public["title"],
        published=public["published"],
        public=public["public"],
        restricted=json.loads(bytes(t.get_first("restricted"))) if restricted else {},
        text=public["text"],
        point=tuple(point) if point else None,  # type: ignore[arg-type]
        shape=public["shape"],
    )


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")


def _flag(value: bool) -> str:
    return "true" if value else "false"


# -- compiling a query ------------------------------------------------------


def _check_names(query: Query) -> None:
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


# -- running a query --------------------------------------------------------

Ranked = list[tuple[float, Any]]


def _search_ranked(
    searcher: tantivy.Searcher, compiled: TQuery, query: Query
) -> tuple[Ranked, int, dict[str, dict[str, int]]]:
    found = searcher.search(compiled, limit=max(query.limit, 1), offset=query.offset, count=True)
    ranked = found.hits if query.limit else []
    return ranked, int(found.count or 0), _aggregate_facets(searcher, compiled, query.facets)


def _aggregate_facets(
    searcher: tantivy.Searcher, compiled: TQuery, names: Sequence[str]
) -> dict[str, dict[str, int]]:
    if not names:
        return {}
    spec = {n: {"terms": {"field": n, "size": FACET_BUCKETS}} for n in names}
    result = searcher.aggregate(compiled, spec)
    return {n: {b["key"]: b["doc_count"] for b in result[n]["buckets"]} for n in names}


def _search_near(
    searcher: tantivy.Searcher, compiled: TQuery, query: Query, near: Near, parsed: ParsedText
) -> tuple[Ranked, int, dict[str, dict[str, int]]]:
    """Candidates from the box around `near` (at most `MAX_CANDIDATES`), kept if within reach."""
    found = searcher.search(compiled, limit=MAX_CANDIDATES, count=True)
    addresses = [a for _, a in found.hits]
    lats = searcher.fast_field_values("lat", addresses)
    lons = searcher.fast_field_values("lon", addresses)
    inside = [
        (score, address, km)
        for (score, address), lat, lon in zip(found.hits, lats, lons, strict=True)
        if (km := haversine_km(near.lat, near.lon, lat, lon)) <= near.km
    ]
    if parsed.empty:  # nothing to rank by but the distance
        inside.sort(key=lambda hit: hit[2])
    page = [(s, a) for s, a, _ in inside[query.offset : query.offset + query.limit]]
    facets = _count_facets(searcher, [a for _, a, _ in inside], query.facets)
    return page, len(inside), facets


def _count_facets(
    searcher: tantivy.Searcher, addresses: list[Any], names: Sequence[str]
) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {n: Counter() for n in names}
    if names:
        for address in addresses:
            doc = searcher.doc(address)
            for n in names:
                counts[n].update(set(doc.get_all(n)))
    return {n: dict(c.most_common(FACET_BUCKETS)) for n, c in counts.items()}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def _hit(t: tantivy.Document, score: float, role: str, parsed: ParsedText) -> Hit:
    officer = role == "officer"
    doc = from_tantivy(t, restricted=officer)
    fields = {**doc.public, **doc.restricted} if officer else dict(doc.public)
    sources = [doc.text, doc.title, " · ".join(text_groups(doc)["body"])]
    if officer:
        sources.append(" · ".join(flatten_text(doc.restricted)))
    return Hit(
        id=doc.id,
        title=doc.title,
        score=float(score),
        highlight=highlight(sources, parsed),
        kind=doc.kind,
        fields=fields,
    )


# -- snippets ---------------------------------------------------------------

WORD = re.compile(r"\w+")
SPACE = re.compile(r"\s+")


def highlight(sources: Sequence[str], parsed: ParsedText, width: int = SNIPPET_CHARS) -> str:
    """A window of the first source with a match, matches in <mark>, everything escaped.

    The window opens at the first exact match if there is one, else at the first typo or
    prefix match (so "si" as a prefix does not pull the window to an early "sit").
    """
    strength = _matcher(parsed)
    for source in sources:
        found = [(m.span(), strength(m.group())) for m in WORD.finditer(source[:MAX_SCAN_CHARS])]
        spans = [span for span, level in found if level]
        if spans:
            best = max(level for _, level in found)
            anchor = next(span for span, level in found if level == best)
            return _window(source, spans, anchor[0], width)
    first = next((s for s in sources if s), "")
    return _window(first, [], 0, width)


def _matcher(parsed: ParsedText) -> Callable[[str], int]:
    """How well a word of the text matches the query: 2 exactly, 1 by typo or prefix, 0 not."""
    words = parsed.all_words()
    exact = {w.folded for w in words}
    prefixes = tuple(w.folded for w in words if w.prefix and len(w.folded) >= 2)
    fuzzy = [(w.folded, d) for w in words if w.fuzzy and (d := fuzzy_distance(w.folded))]
    seen: dict[str, int] = {}

    def strength(word: str) -> int:
        if word not in seen:
            f = fold(word)
            if f in exact:
                seen[word] = 2
            else:
                near = any(edit_distance(f, t, d) <= d for t, d in fuzzy)
                seen[word] = int(near or (bool(prefixes) and f.startswith(prefixes)))
        return seen[word]

    return strength


def _window(source: str, spans: list[tuple[int, int]], anchor: int, width: int) -> str:
    start = max(0, anchor - width // 4)
    if start:
        space = source.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    end = min(len(source), start + width)
    if end < len(source):
        space = source.find(" ", end)
        end = space if 0 <= space - end < 20 else end
    parts = ["…" if start else ""]
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        parts += [_escape(source[pos:s]), "<mark>", _escape(source[s:e]), "</mark>"]
        pos = e
    parts.append(_escape(source[pos:end]))
    parts.append("…" if end < len(source) else "")
    return "".join(parts).strip()


def _escape(text: str) -> str:
    return html.escape(SPACE.sub(" ", text), quote=False)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap costs 1, like tantivy), or limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            row.append(cost)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return prev[-1]
