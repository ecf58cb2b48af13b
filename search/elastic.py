"""The Elasticsearch backend of `SearchIndex` (Elasticsearch 8.x, official `elasticsearch` client).

Indices, for the alias `sohoa` (the URL's path picks another):

- the alias `sohoa` points at one concrete index `sohoa-<n>`, and the alias `sohoa-positions`
  at its twin `sohoa-<n>-positions`, which holds one small document per follower (the
  notification id it has indexed up to). Positions therefore move with the index.
- A rebuild creates `sohoa-<n+1>` and its positions index (`create_index(next_index_name())`),
  replays the log into `for_index(name)` and, once caught up, `switch_alias(name)` moves both
  aliases in one atomic `_aliases` request.
- Index templates: `sohoa` (pattern `sohoa-*`) and `sohoa-positions` (pattern
  `sohoa-*-positions`, higher priority). Priorities grow with the alias's length, so a more
  specific alias (`sohoa-test-…`) beside `sohoa` on one cluster wins instead of clashing.

Vietnamese text uses built-in analysis only (the ICU and Vietnamese-tokenizer plugins may be
absent, and neither canonicalises tone placement): `vi_folded` (standard tokenizer, lowercase,
asciifolding, which maps đ to d) analyses every text field; its `.exact` sub-field (`vi_exact`:
standard tokenizer, lowercase) keeps the accents and is boosted at query time, so the accented
spelling ranks first. NFC and canonical tone placement ("hòa" -> "hoà", `search.text`) are done
here, client side, on documents and on query text alike; case is kept (the analyzers lower-case
it) so highlights read naturally.

Document `_source`: `title`, `name`, `aliases`, `text`, `public_text` (every other public value)
in matching form; facet keywords (`FACETS`); `area_m2`, `lat`, `lon`, `point` (geo_point) and
`shape` (geo_shape); `public`, `original` (title and text as given, when the matching form
differs) and `restricted_original`, stored but not indexed; `restricted`, one matching-form
text per restricted key, indexed for officers. Public text is copied into the catch-all
`search_all`, public and restricted text into `restricted_all`, so words may match across
fields. Public queries exclude `restricted*` from `_source`, never name a restricted field and
filter `published: true`; officers query `restricted_all` instead of `search_all`.

Queries never use `query_string`: user text only ever appears as the text of match queries
(`multi_match` best_fields with `fuzziness` on folded fields, the same on `.exact` sub-fields
boosted, `bool_prefix` for the word being typed, `phrase` for quoted text). Each clause covers
the name fields and the catch-all only, and text is cut to `MAX_WORDS` words, which keeps a
pasted page inside Lucene's clause limit.

Writes are idempotent: bulk `index` actions carry the aggregate version with
`version_type=external`; Elasticsearch refuses an equal or older version with 409, which counts
as "not stored".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from itertools import islice
from typing import Any
from urllib.parse import unquote, urlsplit

from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError, TransportError

from search.documents import flatten_text
from search.index import Document, SearchIndex, SearchUnavailableError
from search.query import (
    FACETS,
    MAX_QUERY_CHARS,
    RANGES,
    BBox,
    Hit,
    Near,
    Query,
    QueryError,
    SearchResult,
    check,
)
from search.text import canonical_tones, nfc

log = logging.getLogger(__name__)

DEFAULT_ALIAS = "sohoa"
DEFAULT_PORT = 9200
TEMPLATE_VERSION = 1
FACET_BUCKETS = 500
MAX_FACET_CHARS = 200
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
NAMES = ("title", "name", "aliases")
TEXT_FIELDS = (*NAMES, "text", "public_text")
BOOSTS = {"title": 3, "name": 3, "aliases": 2}
"""Query fields besides the role's catch-all, which holds the body and the other text too."""
NOT_TEXT = frozenset({"geometry", "lat", "lon", "name", "aliases"})
CATCH_ALL = {"public": "search_all", "officer": "restricted_all"}
STORED_ONLY = ("public", "original", "restricted_original")

_ALIAS_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_QUOTED = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]|[^\W_]+")


def match_form(text: str) -> str:
    """What the analyzers are given: NFC, new-style tone placement, case kept."""
    return nfc(canonical_tones(text))


class ElasticIndex(SearchIndex):
    """`SearchIndex` on Elasticsearch 8 behind the alias `index_alias` (or one concrete index,
    see `for_index`)."""

    def __init__(self, client: Elasticsearch, index_alias: str = DEFAULT_ALIAS) -> None:
        self._client = client
        self._alias = index_alias
        self._positions = f"{index_alias}-positions"
        self._is_alias = True

    @classmethod
    def from_url(cls, url: str, *, ensure: bool = True, **client_options: Any) -> ElasticIndex:
        """`http(s)://[user:password@]host[:9200][/alias]`; creates what is missing (`ensure`)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an Elasticsearch URL is http(s)://[user:password@]host:9200[/alias]")
        alias = parts.path.strip("/") or DEFAULT_ALIAS
        if not _ALIAS_NAME.fullmatch(alias):
            raise ValueError(f"{alias!r} is not an index alias (lower-case letters, digits, -, _)")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        options: dict[str, Any] = {
            "request_timeout": 30,
            "max_retries": 2,
            "retry_on_timeout": True,
        }
        if parts.username:
            options["basic_auth"] = (unquote(parts.username), unquote(parts.password or ""))
        options.update(client_options)
        client = Elasticsearch(f"{parts.scheme}://{host}:{parts.port or DEFAULT_PORT}", **options)
        index = cls(client, alias)
        if ensure:
            index.ensure()
        return index

    def close(self) -> None:
        self._client.close()

    # -- set-up, rebuilds, clean-up --------------------------------------------------------------

    def ensure(self) -> None:
        """Put both index templates; create `<alias>-1` and its positions index behind the
        aliases unless the alias exists. The alias comes last: it marks a finished set-up, so
        an interrupted one is completed next time, and two processes starting at once agree."""
        with _backend("set up the index"):
            indices = self._client.indices
            indices.put_index_template(name=self._alias, **index_template(self._alias))
            indices.put_index_template(name=self._positions, **positions_template(self._alias))
            if indices.exists_alias(name=self._alias):
                return
            first = f"{self._alias}-1"
            for name, alias in ((f"{first}-positions", self._positions), (first, self._alias)):
                try:
                    indices.create(index=name, aliases={alias: {}})
                except BadRequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise

    def create_index(self, name: str) -> str:
        """Create the concrete index `name` and its positions index, behind no alias yet."""
        with _backend(f"create index {name}"):
            self._client.indices.create(index=name)
            self._client.indices.create(index=f"{name}-positions")
        return name

    def next_index_name(self) -> str:
        """`<alias>-<n+1>`, `n` being the highest number any `<alias>-<n>` index has now."""
        numbers = [int(m[1]) for m in map(self._own_index, self._indices()) if m]
        return f"{self._alias}-{max(numbers, default=0) + 1}"

    def for_index(self, name: str) -> ElasticIndex:
        """The same backend on the concrete index `name` and its positions (a rebuild target)."""
        target = ElasticIndex(self._client, name)
        target._is_alias = False
        return target

    def switch_alias(self, new_index: str) -> list[str]:
        """Point the alias (and the positions alias) at `new_index` only, in one atomic request;
        returns the indices the alias left, for the caller to drop when it sees fit."""
        new_positions = f"{new_index}-positions"
        behind = {k: v for k, v in self._indices().items() if k not in (new_index, new_positions)}
        actions: list[dict[str, Any]] = [
            {"remove": {"index": name, "alias": alias}}
            for name, aliases in sorted(behind.items())
            for alias in aliases
        ]
        actions.append({"add": {"index": new_index, "alias": self._alias}})
        actions.append({"add": {"index": new_positions, "alias": self._positions}})
        with _backend("switch the alias"):
            self._client.indices.update_aliases(actions=actions)
        return [name for name, aliases in sorted(behind.items()) if self._alias in aliases]

    def drop(self) -> None:
        """Delete this alias's indices (`<alias>-<n>` and their positions) and templates."""
        names = sorted(name for name in self._indices() if self._own_index(name))
        with _backend("drop the index"):
            if names:
                self._client.indices.delete(index=",".join(names))
            for template in (self._alias, self._positions):
                with suppress(NotFoundError):
                    self._client.indices.delete_index_template(name=template)

    def _indices(self) -> dict[str, list[str]]:
        """`<alias>-*` index name -> which of our two aliases it carries."""
        ours = (self._alias, self._positions)
        with _backend("list indices"):
            found = self._client.indices.get_alias(index=f"{self._alias}-*").body
        return {
            name: [a for a in ours if a in info.get("aliases", {})] for name, info in found.items()
        }

    def _own_index(self, name: str) -> re.Match[str] | None:
        return re.fullmatch(rf"{re.escape(self._alias)}-(\d+)(?:-positions)?", name)

    # -- documents -------------------------------------------------------------------------------

    def upsert(self, documents: list[Document]) -> int:
        newest: dict[str, Document] = {}
        for doc in documents:  # one action per id: the batch's newest version
            if doc.id not in newest or doc.version > newest[doc.id].version:
                newest[doc.id] = doc
        if not newest:
            return 0
        operations: list[dict[str, Any]] = []
        for doc in newest.values():
            action = {"_id": doc.id, "version": doc.version, "version_type": "external"}
            operations += [{"index": action}, source_of(doc)]
        with _backend("index documents"):
            response = self._client.bulk(
                index=self._alias, operations=operations, require_alias=self._is_alias or None
            )
        return stored_count(response.body)

    def delete(self, doc_id: str) -> None:
        with _backend("delete a document"), suppress(NotFoundError):
            self._client.delete(index=self._alias, id=doc_id)

    def get(self, doc_id: str) -> Document | None:
        with _backend("read a document"):
            try:
                response = self._client.get(index=self._alias, id=doc_id)
            except NotFoundError:
                return None
        return document_of(response["_source"])

    def versions(self, doc_ids: list[str]) -> dict[str, int]:
        """One `_mget` without sources: the external `_version` is the aggregate version."""
        if not doc_ids:
            return {}
        with _backend("read versions"):
            response = self._client.mget(index=self._alias, ids=doc_ids, source=False)
        return {d["_id"]: int(d["_version"]) for d in response["docs"] if d.get("found")}

    def count(self) -> int:
        with _backend("count documents"):
            return int(self._client.count(index=self._alias)["count"])

    def refresh(self) -> None:
        with _backend("refresh the index"):
            self._client.indices.refresh(index=self._alias)

    # -- follower positions ----------------------------------------------------------------------

    def position(self, follower: str) -> int:
        with _backend("read a follower position"):
            try:
                response = self._client.get(index=self._positions, id=follower)
            except NotFoundError:
                return 0
        return int(response["_source"]["notification_id"])

    def set_position(self, follower: str, notification_id: int) -> None:
        document = {"follower": follower, "notification_id": notification_id}
        with _backend("store a follower position"):
            self._client.index(
                index=self._positions,
                id=follower,
                document=document,
                require_alias=self._is_alias or None,
            )

    # -- search ----------------------------------------------------------------------------------

    def search(self, query: Query) -> SearchResult:
        body = search_body(query)
        arguments = {_ARGUMENT.get(key, key): value for key, value in body.items()}
        with _backend("search"):
            try:
                response = self._client.search(index=self._alias, **arguments)
            except BadRequestError as exc:
                raise QueryError(f"the search could not be run ({exc.error})") from exc
        return result_of(response.body, query.role)


_ARGUMENT = {"_source": "source", "from": "from_"}  # body key -> the client's keyword argument


@contextmanager
def _backend(action: str) -> Iterator[None]:
    """Client and HTTP errors -> SearchUnavailableError (the caller retries later)."""
    try:
        yield
    except TransportError as exc:  # refused, timed out, TLS: nothing reached Elasticsearch
        raise SearchUnavailableError(f"Elasticsearch is unreachable ({action}): {exc}") from exc
    except ApiError as exc:  # the message is Elasticsearch's error type: never a document value
        raise SearchUnavailableError(
            f"Elasticsearch could not {action}: HTTP {exc.meta.status} {exc.message}"
        ) from exc


# -- documents in ----------------------------------------------------------------------------


def source_of(doc: Document) -> dict[str, Any]:
    """The `_source` sent for a document (layout in the module docstring)."""
    source: dict[str, Any] = {
        "id": doc.id,
        "version": doc.version,
        "kind": doc.kind,
        "published": doc.published,
        "title": match_form(doc.title),
    }
    original = {} if source["title"] == doc.title else {"title": doc.title}
    for name in ("name", "aliases"):
        if names := [match_form(s) for s in flatten_text(doc.public.get(name))]:
            source[name] = names
    if doc.text:
        source["text"] = match_form(doc.text)
        if source["text"] != doc.text:
            original["text"] = doc.text
    others = [v for k, v in doc.public.items() if k not in NOT_TEXT and v != doc.text]
    if public_text := " ".join(flatten_text(others)):
        source["public_text"] = match_form(public_text)
    source.update(_facet_values(doc))
    source.update(_places(doc))
    source["public"] = doc.public
    if original:
        source["original"] = original
    if doc.restricted:
        source["restricted"] = _restricted_text(doc.restricted)
        source["restricted_original"] = doc.restricted
    return source


def _facet_values(doc: Document) -> dict[str, list[str]]:
    """Facet keywords as the tantivy backend has them (`ward` also lists `ward_new`)."""
    values = {name: _keywords(doc.public.get(name)) for name in FACETS[2:]}
    values["ward"] += [w for w in _keywords(doc.public.get("ward_new")) if w not in values["ward"]]
    return {name: found for name, found in values.items() if found}


def _keywords(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [s for item in value for s in _keywords(item)]
    text = _keyword(value).strip()[:MAX_FACET_CHARS]
    return [text] if text else []


def _keyword(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _places(doc: Document) -> dict[str, Any]:
    places: dict[str, Any] = {}
    area = doc.public.get("area_m2")
    if isinstance(area, int | float) and not isinstance(area, bool):
        places["area_m2"] = area
    if doc.point is not None:
        lat, lon = doc.point
        places.update(lat=lat, lon=lon, point={"lat": lat, "lon": lon})
    if doc.shape is not None:
        places["shape"] = doc.shape
    return places


def _restricted_text(restricted: dict[str, Any]) -> dict[str, str]:
    """One text per restricted key (every string and number inside it), whatever its shape,
    so the mapping stays the same when one source gives a string and the next a list."""
    texts: dict[str, str] = {}
    for key, value in restricted.items():
        name = re.sub(r"[^a-z0-9_]+", "_", str(key).lower()).strip("_") or "value"
        if text := " ".join(flatten_text(value)):
            texts[name] = match_form(f"{texts[name]} {text}" if name in texts else text)
    return texts


def stored_count(bulk_response: dict[str, Any]) -> int:
    """Documents a bulk request stored. 409: an equal or newer version is there (not stored);
    429 or 5xx: SearchUnavailableError (retry the batch); another 4xx: that document is
    malformed, logged (error type only, no values) and skipped, so it never blocks the rest."""
    stored, transient = 0, 0
    for item in bulk_response.get("items", []):
        ((_, result),) = item.items()
        status = int(result.get("status", 500))
        if 200 <= status < 300:
            stored += 1
        elif status == 409:
            log.debug("search document %s: older than the indexed version", result.get("_id"))
        elif status == 429 or status >= 500:
            transient += 1
        else:
            error = (result.get("error") or {}).get("type")
            log.warning("search document %s rejected: HTTP %s %s", result.get("_id"), status, error)
    if transient:
        raise SearchUnavailableError(f"Elasticsearch could not store {transient} document(s) now")
    return stored


def document_of(source: dict[str, Any]) -> Document:
    original = source.get("original") or {}
    point = source.get("point")
    return Document(
        id=source["id"],
        version=int(source["version"]),
        kind=source["kind"],
        title=original.get("title", source.get("title", "")),
        published=bool(source.get("published")),
        public=source.get("public") or {},
        restricted=source.get("restricted_original") or {},
        text=original.get("text", source.get("text", "")),
        point=(point["lat"], point["lon"]) if point else None,
        shape=source.get("shape"),
    )


# -- queries out -----------------------------------------------------------------------------


def search_body(query: Query) -> dict[str, Any]:
    """The `_search` body for a query; QueryError for one no backend or this one can answer."""
    check(query)
    _check_names(query)
    clauses = _text_clauses(query.text[:MAX_QUERY_CHARS], query.role)
    filters = _filters(query)
    boolean = {key: value for key, value in (("must", clauses), ("filter", filters)) if value}
    body: dict[str, Any] = {
        "query": {"bool": boolean} if boolean else {"match_all": {}},
        "_source": {"excludes": _excluded_source(query.role)},
        "highlight": _highlight(query.role),
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


def _text_clauses(text: str, role: str) -> list[dict[str, Any]]:
    """Quoted parts must match as phrases; the other words must match (three in four beyond
    three words) in one name field or in the role's catch-all field; the last may be a prefix.
    Text with no word at all (only punctuation) matches nothing."""
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
        if used <= MAX_FUZZY_WORDS and not any(c.isdigit() for c in words):
            folded["multi_match"].update(fuzziness="AUTO:4,8", max_expansions=FUZZY_EXPANSIONS)
        exact = _multi_match(words, "best_fields", role, exact=True, **enough)
        prefix = _multi_match(words, "bool_prefix", role, **enough)
        clauses.append(_either(folded, exact, prefix))
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
            filters.append({"terms": {name: [_keyword(v) for v in values]}})
    for name, (low, high) in query.ranges.items():
        bounds = {op: v for op, v in (("gte", low), ("lte", high)) if v is not None}
        if bounds:
            filters.append({"range": {name: bounds}})
    if query.near is not None:
        filters.append(_near(query.near))
    if query.bbox is not None:
        filters.append(_bbox(query.bbox))
    return filters


def _near(near: Near) -> dict[str, Any]:
    centre = {"lat": near.lat, "lon": near.lon}
    return {"geo_distance": {"distance": f"{float(near.km)!r}km", "point": centre}}


def _bbox(bbox: BBox) -> dict[str, Any]:
    """The box from its two corners, whichever way round they were given."""
    west, east = sorted((bbox.min_lon, bbox.max_lon))
    south, north = sorted((bbox.min_lat, bbox.max_lat))
    corners = {"top_left": {"lat": north, "lon": west}, "bottom_right": {"lat": south, "lon": east}}
    return {"geo_bounding_box": {"point": corners}}


def _excluded_source(role: str) -> list[str]:
    """What a result list does not need (long text, shapes); for the public, nothing restricted."""
    bulky = ["text", "public_text", "original.text", "shape"]
    return ["restricted*", *bulky] if role == "public" else ["restricted", *bulky]


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


def result_of(response: dict[str, Any], role: str) -> SearchResult:
    hits = response.get("hits", {})
    facets = {
        name: {_keyword(b.get("key_as_string", b["key"])): int(b["doc_count"]) for b in buckets}
        for name, agg in (response.get("aggregations") or {}).items()
        for buckets in [agg.get("buckets", [])]
    }
    return SearchResult(
        total=int(hits.get("total", {}).get("value", 0)),
        hits=[_hit_of(hit, role) for hit in hits.get("hits", [])],
        facets=facets,
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


# -- templates -------------------------------------------------------------------------------


def _text_mapping(*copy_to: str) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "type": "text",
        "analyzer": "vi_folded",
        "fields": {"exact": {"type": "text", "analyzer": "vi_exact"}},
    }
    if copy_to:
        mapping["copy_to"] = list(copy_to)
    return mapping


def index_template(alias: str) -> dict[str, Any]:
    """`indices.put_index_template` arguments for the search indices `<alias>-*`."""
    both = tuple(CATCH_ALL.values())
    properties: dict[str, Any] = {
        "id": {"type": "keyword"},
        "version": {"type": "long"},
        **{name: {"type": "keyword"} for name in FACETS},
        **{name: _text_mapping(*both) for name in TEXT_FIELDS},
        **{name: {"type": "double"} for name in RANGES},
        "point": {"type": "geo_point", "ignore_malformed": True},
        "shape": {"type": "geo_shape", "ignore_malformed": True},
        **{name: {"type": "object", "enabled": False} for name in STORED_ONLY},
        "restricted": {"type": "object", "dynamic": True},
        **{name: _text_mapping() for name in both},
    }
    restricted_text = {
        "path_match": "restricted.*",
        "match_mapping_type": "string",
        "mapping": _text_mapping(CATCH_ALL["officer"]),
    }
    folded = {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}
    exact = {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]}
    settings = {
        "number_of_shards": 1,
        "auto_expand_replicas": "0-1",
        "analysis": {"analyzer": {"vi_folded": folded, "vi_exact": exact}},
    }
    mappings = {
        "dynamic": False,  # only `restricted` takes new (text) fields
        "dynamic_templates": [{"restricted_text": restricted_text}],
        "properties": properties,
    }
    return {
        "index_patterns": [f"{alias}-*"],
        "priority": 100 + len(alias),
        "version": TEMPLATE_VERSION,
        "meta": {"managed_by": "sohoa", "description": "search documents"},
        "template": {"settings": settings, "mappings": mappings},
    }


def positions_template(alias: str) -> dict[str, Any]:
    """`indices.put_index_template` arguments for the positions indices `<alias>-*-positions`."""
    mappings = {
        "dynamic": "strict",
        "properties": {"follower": {"type": "keyword"}, "notification_id": {"type": "long"}},
    }
    return {
        "index_patterns": [f"{alias}-*-positions"],
        "priority": 1000 + len(alias),  # above every search template whose pattern matches too
        "version": TEMPLATE_VERSION,
        "meta": {"managed_by": "sohoa", "description": "follower positions"},
        "template": {
            "settings": {"number_of_shards": 1, "auto_expand_replicas": "0-1"},
            "mappings": mappings,
        },
    }
