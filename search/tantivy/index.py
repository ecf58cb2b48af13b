"""The embedded search backend: a tantivy index in a folder, with follower positions beside it.

The schema and stored documents are `search.tantivy.schema`, the queries `search.tantivy.query`,
the snippets `search.tantivy.snippets`. Facet counts come from tantivy's terms aggregation over
every
match. A query with places (`near`, `containing`, `intersecting`) is narrowed by the index, then
each candidate (at most `MAX_CANDIDATES`) is tested exactly here, so its counts, total and order
are computed here; with no text to rank by, `near` hits come nearest first.

Deletes leave a tombstone (`tombstones.json`: id -> version deleted at), so a late upsert of the
version that was deleted, or an older one, cannot bring the document back.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Query as TQuery

from search.documents import flatten_text
from search.index import Document, SearchIndex, SearchUnavailableError
from search.query import Hit, Query, SearchResult, check, correction
from search.tantivy.query import (
    ParsedText,
    PlaceTest,
    check_names,
    compile_query,
    needs_places,
    parse_text,
)
from search.tantivy.schema import (
    GEO_FIELDS,
    SCHEMA,
    IncompatibleIndexError,
    from_tantivy,
    place_of,
    text_groups,
    to_tantivy,
)
from search.tantivy.snippets import Matcher, highlight

__all__ = ["IncompatibleIndexError", "TantivyIndex"]

POSITIONS_FILE = "positions.json"
TOMBSTONES_FILE = "tombstones.json"
MAX_CANDIDATES = 10_000
FACET_BUCKETS = 500
WRITER_HEAP = 64_000_000


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
            gone = self._tombstones()
            fresh = [
                d
                for d in latest.values()
                if d.version > max(stored.get(d.id, -1), gone.get(d.id, -1))
            ]
            if fresh:
                self._write(fresh, replaces=stored.keys())
        return len(fresh)

    def _write(self, documents: list[Document], replaces: Iterable[str]) -> None:
        """Add `documents` in one commit, first deleting the stored ones among `replaces` (a
        document new to the index has nothing to delete: an import's documents are all new)."""
        writer = self._writer_or_open()
        stored = set(replaces)
        try:
            for doc in documents:
                if doc.id in stored:
                    writer.delete_documents_by_term("id", doc.id)
                writer.add_document(to_tantivy(doc))
        except BaseException:
            writer.rollback()  # none of the batch, rather than part of it
            raise
        self._commit(writer)

    def delete(self, doc_id: str, version: int | None = None) -> None:
        with self._lock:
            if version is not None:
                if self.versions([doc_id]).get(doc_id, -1) > version:
                    return  # a newer version was indexed after the deletion
                gone = self._tombstones()
                gone[doc_id] = max(version, gone.get(doc_id, -1))
                write_json_atomically(self.path / TOMBSTONES_FILE, gone)
            writer = self._writer_or_open()
            writer.delete_documents_by_term("id", doc_id)
            self._commit(writer)

    def _tombstones(self) -> dict[str, int]:
        try:
            return dict(json.loads((self.path / TOMBSTONES_FILE).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {}

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
        check_names(query)
        searcher = self._index.searcher()
        parsed = parse_text(query.text)
        strict = parsed.strict()
        ranked, total, facets = _run(searcher, query, strict)
        widened = strict is not parsed and total == 0  # nothing as written: forgive typos
        if widened:
            ranked, total, facets = _run(searcher, query, parsed)
        else:
            parsed = strict  # snippets mark what matched
        match = Matcher(parsed)  # one for the page: hits share most of their words
        hits = [
            _hit(searcher.doc(address), score, query.role, parsed, match)
            for score, address in ranked
        ]
        showing = correction(query.text, hits) if widened and hits else ""
        return SearchResult(total=total, hits=hits, facets=facets, showing=showing)

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


# -- running a query --------------------------------------------------------

Ranked = list[tuple[float, Any]]


def _run(
    searcher: tantivy.Searcher, query: Query, parsed: ParsedText
) -> tuple[Ranked, int, dict[str, dict[str, int]]]:
    compiled = compile_query(query, parsed)
    if needs_places(query):
        return _search_places(searcher, compiled, query, parsed)
    return _search_ranked(searcher, compiled, query)


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


def _search_places(
    searcher: tantivy.Searcher, compiled: TQuery, query: Query, parsed: ParsedText
) -> tuple[Ranked, int, dict[str, dict[str, int]]]:
    """Candidates the index narrowed to (at most `MAX_CANDIDATES`), kept if they pass."""
    found = searcher.search(compiled, limit=MAX_CANDIDATES, count=True)
    addresses = [a for _, a in found.hits]
    test = PlaceTest(query)
    distances = _distances(searcher, addresses, test)
    shaped = _shape_passes(searcher, addresses, test)
    inside = [
        (score, address, km)
        for (score, address), km, passes in zip(found.hits, distances, shaped, strict=True)
        if km is not None and passes
    ]
    if parsed.empty and query.near is not None:  # nothing to rank by but the distance
        inside.sort(key=lambda hit: hit[2])
    page = [(s, a) for s, a, _ in inside[query.offset : query.offset + query.limit]]
    facets = _count_facets(searcher, [a for _, a, _ in inside], query.facets)
    return page, len(inside), facets


def _distances(searcher: tantivy.Searcher, addresses: list[Any], test: PlaceTest) -> list:
    if test.query.near is None:
        return [0.0] * len(addresses)
    lats = searcher.fast_field_values("lat", addresses)
    lons = searcher.fast_field_values("lon", addresses)
    return [test.near(lat, lon) for lat, lon in zip(lats, lons, strict=True)]


def _shape_passes(searcher: tantivy.Searcher, addresses: list[Any], test: PlaceTest) -> list:
    """Whether each candidate's geometry passes; read from the stored document only when its
    envelope (fast fields) meets the query but does not settle it."""
    if test.query.containing is None and test.query.intersecting is None:
        return [True] * len(addresses)
    columns = [searcher.fast_field_values(name, addresses) for name in GEO_FIELDS]
    return [
        test.meets(box)
        and (test.settled(box) or test.shape(place_of(from_tantivy(searcher.doc(a), False))))
        for a, box in zip(addresses, zip(*columns, strict=True), strict=True)
    ]


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


def _hit(t: tantivy.Document, score: float, role: str, parsed: ParsedText, match: Matcher) -> Hit:
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
        highlight=highlight(sources, parsed, match=match),
        kind=doc.kind,
        fields=fields,
    )
