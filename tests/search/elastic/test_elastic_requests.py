"""The requests the Elasticsearch client sends, and the faults a real node cannot be made to show.

What a real node can show is tested on one: the contract suite (`test_index_contract.py`) and
`test_opensearch_real.py` run on the OpenSearch node of `make services` (documents in and out,
versions, positions, rebuilds, the alias switch, search results). No Elasticsearch 8 node can be
started here, so this file keeps the exact requests of the `elasticsearch` 8 client (headers,
paths, templates, the builder's bodies) and the faults injected by canned answers: a busy node,
server errors, items refused for retryable reasons, a 413 on a request of several documents,
a refused connection. A small HTTP server on 127.0.0.1 records every request and answers with
canned bodies shaped like Elasticsearch 8's (with the `X-Elastic-Product` header the 8.x client
insists on).
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from search.elastic.client import ElasticsearchClient
from search.elastic.index import ElasticIndex
from search.elastic.query import MAX_ANALYZED_CHARS
from search.geo.crs import box_region, to_wgs84
from search.index import Document, SearchConfigurationError, SearchUnavailableError
from search.query import MAX_QUERY_CHARS, BBox, Near, Query, QueryError

ACK = {"acknowledged": True}


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.body.decode().splitlines() if line]


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[Request] = []
        self.replies: deque[tuple[int, Any]] = deque()

    def reply(self, body: Any = None, status: int = 200) -> None:
        self.replies.append((status, ACK if body is None else body))


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.requests.append(
            Request(self.command, url.path, parse_qs(url.query), headers, body)
        )
        status, payload = (
            self.server.replies.popleft()
            if self.server.replies
            else (500, {"error": {"type": "test_has_no_canned_reply"}, "status": 500})
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def es() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server: Recorder) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def index(es: Recorder) -> Iterator[ElasticIndex]:
    client = ElasticsearchClient(url_of(es), None, max_retries=0)
    yield ElasticIndex(client, retry_waits_s=(0.01,))
    client.close()


def only(es: Recorder) -> Request:
    assert len(es.requests) == 1, [(r.method, r.path) for r in es.requests]
    return es.requests[0]


def requested(es: Recorder) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in es.requests]


def not_found(kind: str = "index_not_found_exception") -> dict[str, Any]:
    return {"error": {"type": kind, "reason": "no such index [sohoa]"}, "status": 404}


# -- set-up: templates, first index, aliases --------------------------------------------------

TEXT = {
    "type": "text",
    "analyzer": "vi_folded",
    "fields": {"exact": {"type": "text", "analyzer": "vi_exact"}},
}
COPIED_TEXT = {**TEXT, "copy_to": ["search_all", "restricted_all"]}
KEYWORD = {"type": "keyword"}
SEARCH_TEMPLATE = {
    "index_patterns": ["sohoa-*"],
    "priority": 105,
    "version": 4,
    "_meta": {"managed_by": "sohoa", "description": "search documents"},
    "template": {
        "settings": {
            "number_of_shards": 1,
            "auto_expand_replicas": "0-1",
            "analysis": {
                "analyzer": {
                    "vi_folded": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding"],
                    },
                    "vi_exact": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase"],
                    },
                }
            },
        },
        "mappings": {
            "dynamic": False,
            "date_detection": False,
            "numeric_detection": False,
            "dynamic_templates": [
                {
                    "restricted_text": {
                        "path_match": "restricted.*",
                        "match_mapping_type": "*",
                        "mapping": {**TEXT, "copy_to": ["restricted_all"]},
                    }
                }
            ],
            "properties": {
                "id": KEYWORD,
                "version": {"type": "long"},
                "kind": KEYWORD,
                "published": KEYWORD,
                "type": KEYWORD,
                "rank": KEYWORD,
                "ward": KEYWORD,
                "ward_old": KEYWORD,
                "district": KEYWORD,
                "district_old": KEYWORD,
                "period": KEYWORD,
                "has_model": KEYWORD,
                "has_documents": KEYWORD,
                "purpose": KEYWORD,
                "unit_code": KEYWORD,
                "era": KEYWORD,
                "retired": KEYWORD,
                "title": COPIED_TEXT,
                "name": COPIED_TEXT,
                "aliases": COPIED_TEXT,
                "text": COPIED_TEXT,
                "public_text": COPIED_TEXT,
                "area_m2": {"type": "double"},
                "lat": {"type": "double"},
                "lon": {"type": "double"},
                "point": {"type": "geo_point", "ignore_malformed": True},
                "shape": {"type": "geo_shape", "ignore_malformed": True},
                "public": {"type": "object", "enabled": False},
                "original": {"type": "object", "enabled": False},
                "restricted_original": {"type": "object", "enabled": False},
                "restricted": {"type": "object", "dynamic": True},
                "restricted_keys": {"properties": {"serial": KEYWORD, "registry_number": KEYWORD}},
                "search_all": TEXT,
                "restricted_all": TEXT,
            },
        },
    },
}
POSITIONS_TEMPLATE = {
    "index_patterns": ["sohoa-*-positions"],
    "priority": 1005,
    "version": 4,
    "_meta": {"managed_by": "sohoa", "description": "follower positions"},
    "template": {
        "settings": {"number_of_shards": 1, "auto_expand_replicas": "0-1"},
        "mappings": {
            "dynamic": "strict",
            "properties": {"follower": {"type": "keyword"}, "notification_id": {"type": "long"}},
        },
    },
}


def created_index(name: str) -> dict[str, Any]:
    return {"acknowledged": True, "shards_acknowledged": True, "index": name}


def test_from_url_puts_templates_and_creates_the_first_index_behind_aliases(es: Recorder):
    es.reply()
    es.reply()
    es.reply({}, status=404)  # GET /_alias/sohoa: no alias yet
    es.reply(created_index("sohoa-1-positions"))
    es.reply(created_index("sohoa-1"))

    ElasticIndex.from_url(url_of(es))

    assert requested(es) == [
        ("PUT", "/_index_template/sohoa"),
        ("PUT", "/_index_template/sohoa-positions"),
        ("GET", "/_alias/sohoa"),
        ("PUT", "/sohoa-1-positions"),
        ("PUT", "/sohoa-1"),  # the alias last: it marks a finished set-up
    ]
    assert es.requests[0].json() == SEARCH_TEMPLATE
    assert es.requests[1].json() == POSITIONS_TEMPLATE
    assert es.requests[3].json() == {"aliases": {"sohoa-positions": {}}}
    assert es.requests[4].json() == {"aliases": {"sohoa": {}}}
    assert all(r.params == {} for r in es.requests)


def test_a_longer_alias_gets_templates_that_outrank_the_default_ones(es: Recorder):
    es.reply()
    es.reply()
    es.reply({}, status=200)

    ElasticIndex.from_url(f"{url_of(es)}/sohoa-test-1a2b")

    search, positions = es.requests[0].json(), es.requests[1].json()
    assert (search["index_patterns"], search["priority"]) == (["sohoa-test-1a2b-*"], 115)
    assert positions["index_patterns"] == ["sohoa-test-1a2b-*-positions"]
    assert positions["priority"] == 1015


def test_from_url_leaves_an_existing_alias_alone(es: Recorder):
    es.reply()
    es.reply()
    es.reply({}, status=200)  # the alias exists

    ElasticIndex.from_url(url_of(es))

    assert requested(es)[-1] == ("GET", "/_alias/sohoa")
    assert len(es.requests) == 3


def test_an_index_another_process_or_an_interrupted_set_up_made_is_kept(es: Recorder):
    es.reply()
    es.reply()
    es.reply({}, status=404)
    exists = {"type": "resource_already_exists_exception", "reason": "index already exists"}
    es.reply({"error": exists, "status": 400}, status=400)  # the positions index
    es.reply(created_index("sohoa-1"))

    ElasticIndex.from_url(url_of(es))

    assert requested(es)[-2:] == [("PUT", "/sohoa-1-positions"), ("PUT", "/sohoa-1")]


def test_any_other_refusal_while_setting_up_is_a_configuration_error(es: Recorder):
    es.reply()
    es.reply()
    es.reply({}, status=404)
    clash = {"type": "invalid_index_name_exception", "reason": "an alias has this name"}
    es.reply({"error": clash, "status": 400}, status=400)

    with pytest.raises(SearchConfigurationError, match="400 invalid_index_name_exception"):
        ElasticIndex.from_url(url_of(es))


def test_wrong_credentials_are_access_denied_not_unavailable(es: Recorder):
    denied = {"type": "security_exception", "reason": "unable to authenticate user [elastic]"}
    es.reply({"error": denied, "status": 401}, status=401)

    with pytest.raises(SearchConfigurationError, match="401 access denied"):
        ElasticIndex.from_url(url_of(es))


def test_from_url_reads_credentials_and_alias_from_the_url(es: Recorder):
    port = es.server_address[1]
    es.reply({"count": 0, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}})

    index = ElasticIndex.from_url(f"http://elastic:s%40cret@127.0.0.1:{port}/archive", ensure=False)

    assert index.count() == 0
    request = only(es)
    assert request.path == "/archive/_count"
    assert request.headers["authorization"] == "Basic ZWxhc3RpYzpzQGNyZXQ="  # elastic:s@cret


def test_the_url_scheme_picks_the_client(es: Recorder):
    port = es.server_address[1]
    for scheme in ("http", "elasticsearch+http"):
        index = ElasticIndex.from_url(f"{scheme}://127.0.0.1:{port}/archive", ensure=False)
        assert index.product == "Elasticsearch"
    index = ElasticIndex.from_url(f"opensearch+http://127.0.0.1:{port}/archive", ensure=False)
    assert index.product == "OpenSearch"


def test_from_url_rejects_what_is_not_an_elasticsearch_url():
    with pytest.raises(ValueError, match="http"):
        ElasticIndex.from_url("tantivy:///data/index", ensure=False)
    with pytest.raises(ValueError, match="alias"):
        ElasticIndex.from_url("http://127.0.0.1:9200/Bad Alias", ensure=False)
    with pytest.raises(ValueError, match="opensearch"):
        ElasticIndex.from_url("solr+http://127.0.0.1:9200/sohoa", ensure=False)


# -- rebuilds: a new index, writes to it, the alias switch ---------------------------------------

OUR_INDICES = {
    "sohoa-1": {"aliases": {}},
    "sohoa-1-positions": {"aliases": {}},
    "sohoa-3": {"aliases": {"sohoa": {}}},
    "sohoa-3-positions": {"aliases": {"sohoa-positions": {}}},
    "sohoa-test-9f-1": {"aliases": {"sohoa-test-9f": {}}},  # another alias's, left alone
}


def test_the_alias_switch_is_one_atomic_request_for_both_aliases(es: Recorder, index: ElasticIndex):
    es.reply(OUR_INDICES)
    es.reply()
    es.reply()

    left = index.switch_alias("sohoa-4")

    assert left == ["sohoa-3"]
    assert requested(es) == [
        ("GET", "/sohoa-*/_alias"),
        ("POST", "/_aliases"),
        ("DELETE", "/sohoa-3,sohoa-3-positions"),  # what the aliases left; sohoa-1 is no one's
    ]
    assert es.requests[1].json() == {
        "actions": [
            {"remove": {"index": "sohoa-3", "alias": "sohoa"}},
            {"remove": {"index": "sohoa-3-positions", "alias": "sohoa-positions"}},
            {"add": {"index": "sohoa-4", "alias": "sohoa"}},
            {"add": {"index": "sohoa-4-positions", "alias": "sohoa-positions"}},
        ]
    }


# -- documents: bulk upsert with external versions -----------------------------------------------


def site(doc_id: str, version: int = 1, **overrides: Any) -> Document:
    values: dict[str, Any] = {
        "id": doc_id,
        "version": version,
        "kind": "site",
        "title": "Đình Hòa Mục",
        "published": True,
        "public": {"name": "Đình Hòa Mục", "ward": "Trung Hòa", "rank": "quốc gia", "code": 7},
        "text": "Đình làng Hòa Mục",
    }
    values.update(overrides)
    return Document(**values)


def created(doc_id: str, version: int = 1) -> dict[str, Any]:
    return {
        "index": {
            "_index": "sohoa-1",
            "_id": doc_id,
            "_version": version,
            "result": "created",
            "status": 201,
            "_shards": {"total": 1, "successful": 1, "failed": 0},
        }
    }


def conflict(doc_id: str) -> dict[str, Any]:
    reason = (
        f"[{doc_id}]: version conflict, current version [5] is higher or equal to the one "
        "provided [3]"
    )
    return {
        "index": {
            "_index": "sohoa-1",
            "_id": doc_id,
            "status": 409,
            "error": {"type": "version_conflict_engine_exception", "reason": reason},
        }
    }


PARCEL = Document(
    id="p1",
    version=7,
    kind="parcel",
    title="Thửa 12, tờ 5, Láng Thượng",
    published=False,
    public={
        "unit_code": "00172",
        "area_m2": 93.0,
        "sheet": 5.0,
        "ward": "Láng Thượng",
        "ward_new": ["Láng"],
        "geometry": {"type": "Point", "coordinates": [105.81, 21.02]},
    },
    restricted={"owners": [{"name": "Nguyễn Văn Hòa", "id_number": "001234567890"}]},
    point=(21.02, 105.81),
    shape={"type": "Point", "coordinates": [105.81, 21.02]},
)


def test_bulk_upsert_sends_external_versions_and_the_documents(es: Recorder, index: ElasticIndex):
    es.reply({"took": 3, "errors": False, "items": [created("s1", 2), created("p1", 7)]})

    stored = index.upsert([site("s1", 2), PARCEL])

    assert stored == 2
    request = only(es)
    assert (request.method, request.path) == ("POST", "/sohoa/_bulk")
    assert request.params == {"require_alias": ["true"]}
    assert request.headers["content-type"].startswith("application/vnd.elasticsearch+x-ndjson")
    assert request.ndjson() == [
        {"index": {"_id": "s1", "version": 2, "version_type": "external"}},
        {
            "id": "s1",
            "version": 2,
            "kind": "site",
            "published": True,
            "title": "Đình Hoà Mục",
            "name": ["Đình Hoà Mục"],
            "text": "Đình làng Hoà Mục",
            "public_text": "Trung Hoà quốc gia 7",
            "rank": ["quốc gia"],
            "ward": ["Trung Hòa"],
            "public": site("s1").public,
            "original": {"title": "Đình Hòa Mục", "text": "Đình làng Hòa Mục"},
        },
        {"index": {"_id": "p1", "version": 7, "version_type": "external"}},
        {
            "id": "p1",
            "version": 7,
            "kind": "parcel",
            "published": False,
            "title": "Thửa 12, tờ 5, Láng Thượng",
            "public_text": "00172 93.0 5.0 Láng Thượng Láng",
            "ward": ["Láng Thượng", "Láng"],
            "unit_code": ["00172"],
            "area_m2": 93.0,
            "lat": 21.02,
            "lon": 105.81,
            "point": {"lat": 21.02, "lon": 105.81},
            "shape": {"type": "Point", "coordinates": [105.81, 21.02]},
            "public": PARCEL.public,
            "restricted": {"owners": "Nguyễn Văn Hoà 001234567890"},
            "restricted_original": PARCEL.restricted,
        },
    ]


def test_a_409_in_a_bulk_response_is_an_older_version_not_an_error(
    es: Recorder, index: ElasticIndex
):
    es.reply({"took": 2, "errors": True, "items": [conflict("s1"), created("s2", 4)]})

    stored = index.upsert([site("s1", 3), site("s2", 4)])

    assert stored == 1


def test_only_the_newest_version_of_a_document_in_a_batch_is_sent(
    es: Recorder, index: ElasticIndex
):
    es.reply({"took": 1, "errors": False, "items": [created("s", 5)]})

    stored = index.upsert([site("s", 4), site("s", 5, title="Năm"), site("s", 3)])

    assert stored == 1
    lines = only(es).ndjson()
    assert lines[0] == {"index": {"_id": "s", "version": 5, "version_type": "external"}}
    assert len(lines) == 2 and lines[1]["title"] == "Năm"


def test_a_rejected_document_is_skipped_but_a_busy_cluster_is_retried_later(
    es: Recorder, index: ElasticIndex
):
    bad = {"type": "document_parsing_exception", "reason": "failed to parse"}
    busy = {"type": "es_rejected_execution_exception", "reason": "queue full"}
    es.reply({"errors": True, "items": [{"index": {"_id": "s1", "status": 400, "error": bad}}]})
    es.reply({"errors": True, "items": [{"index": {"_id": "s3", "status": 429, "error": busy}}]})
    es.reply({"errors": True, "items": [{"index": {"_id": "s3", "status": 429, "error": busy}}]})

    assert index.upsert([site("s1")]) == 0
    assert index.rejected == [("s1", "HTTP 400 document_parsing_exception")]
    with pytest.raises(SearchUnavailableError, match="could not store 1"):
        index.upsert([site("s3")])
    assert len(es.requests) == 3  # s3 was sent again once (retry_waits_s) before giving up


def test_only_the_items_refused_for_a_retryable_reason_are_sent_again(
    es: Recorder, index: ElasticIndex
):
    busy = {"type": "es_rejected_execution_exception", "reason": "queue full"}
    missing = {"type": "index_not_found_exception", "reason": "no such index [sohoa]"}
    bad = {"type": "document_parsing_exception", "reason": "failed to parse"}
    es.reply(
        {
            "errors": True,
            "items": [
                created("s1"),
                {"index": {"_id": "s2", "status": 429, "error": busy}},
                {"index": {"_id": "s3", "status": 404, "error": missing}},
                {"index": {"_id": "s4", "status": 400, "error": bad}},
                {"index": {"_id": "s5", "status": 503, "error": {"type": "unavailable"}}},
            ],
        }
    )
    es.reply({"errors": False, "items": [created("s2"), created("s3"), created("s5")]})

    assert index.upsert([site(f"s{i}") for i in range(1, 6)]) == 4

    _, again = es.requests
    assert [line["index"]["_id"] for line in again.ndjson()[::2]] == ["s2", "s3", "s5"]
    assert index.rejected == [("s4", "HTTP 400 document_parsing_exception")]


def test_a_413_for_several_documents_halves_the_request(es: Recorder, index: ElasticIndex):
    too_large = {"error": "Request Entity Too Large", "status": 413}
    es.reply(too_large, status=413)
    es.reply({"errors": False, "items": [created("s1"), created("s2")]})
    es.reply(too_large, status=413)  # s3 and s4: halved again
    es.reply(too_large, status=413)  # s3 alone is still too large: a bad document
    es.reply({"errors": False, "items": [created("s4")]})

    assert index.upsert([site(f"s{i}") for i in range(1, 5)]) == 3

    assert [len(r.ndjson()) // 2 for r in es.requests] == [4, 2, 2, 1, 1]
    assert [doc_id for doc_id, _ in index.rejected] == ["s3"]


def test_a_busy_node_gets_the_request_again_and_then_is_unavailable(
    es: Recorder, index: ElasticIndex
):
    busy = {"error": {"type": "es_rejected_execution_exception", "reason": "full"}, "status": 429}
    es.reply(busy, status=429)
    es.reply({"errors": False, "items": [created("s1")]})
    assert index.upsert([site("s1")]) == 1

    es.reply(busy, status=429)
    es.reply(busy, status=429)
    with pytest.raises(SearchUnavailableError):
        index.upsert([site("s1")])
    assert index.rejected == []


def test_bulk_requests_stay_under_the_byte_limit(es: Recorder, index: ElasticIndex):
    index.max_bulk_bytes = 3000
    docs = [site(f"s{i}", text="đình " * 200) for i in range(5)]  # about 2.5 kB each
    for doc in docs:
        es.reply({"errors": False, "items": [created(doc.id)]})

    assert index.upsert(docs) == 5
    assert len(es.requests) == 5 and all(len(r.body) <= 3000 for r in es.requests)


def test_an_empty_upsert_sends_nothing(es: Recorder, index: ElasticIndex):
    assert index.upsert([]) == 0
    assert index.versions([]) == {}
    assert es.requests == []


# -- follower positions --------------------------------------------------------------------------


# -- search requests ----------------------------------------------------------------------------

FOLDED = ["title^3", "name^3", "aliases^2", "search_all"]
EXACT = ["title.exact^3", "name.exact^3", "aliases.exact^2", "search_all.exact"]
OFFICER_FOLDED = [*FOLDED[:3], "restricted_all"]
OFFICER_EXACT = [*EXACT[:3], "restricted_all.exact"]
HIGHLIGHT = {
    "pre_tags": ["<mark>"],
    "post_tags": ["</mark>"],
    "encoder": "html",
    "require_field_match": False,
    "fragment_size": 200,
    "number_of_fragments": 1,
    "fields": {
        "text": {"no_match_size": 200},
        "title": {},
        "name": {},
        "aliases": {},
        "public_text": {},
    },
    "max_analyzed_offset": MAX_ANALYZED_CHARS,  # OpenSearch: max_analyzer_offset
}
PUBLIC_SOURCE = {"excludes": ["restricted*", "text", "public_text", "original.text", "shape"]}
OFFICER_SOURCE = {
    "excludes": ["restricted", "restricted_keys", "text", "public_text", "original.text", "shape"]
}
PUBLISHED = {"term": {"published": True}}


def empty_result(aggregations: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "took": 2,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
    }
    if aggregations is not None:
        response["aggregations"] = aggregations
    return response


def words(
    text: str, folded: list[str], exact: list[str], fuzzy: bool = False, prefix: bool = False
) -> dict[str, Any]:
    """The clause for unquoted words: folded, accented (boosted); widened, typo tolerant and
    with the last word as a prefix."""
    enough = {"operator": "or", "minimum_should_match": "3<75%"}
    tolerant = {"fuzziness": "AUTO:4,8", "max_expansions": 10} if fuzzy else {}
    should: list[dict[str, Any]] = [
        {
            "multi_match": {
                "query": text, "type": "best_fields", "fields": folded, **enough, **tolerant,
            }
        },
        {
            "multi_match": {
                "query": text, "type": "best_fields", "fields": exact, **enough, "boost": 2.0,
            }
        },
    ]  # fmt: skip
    if prefix:
        should.append(
            {"multi_match": {"query": text, "type": "bool_prefix", "fields": folded, **enough}}
        )
    return {"bool": {"should": should, "minimum_should_match": 1}}


def search_request(es: Recorder, index: ElasticIndex, query: Query) -> Request:
    """The first request of a search: the words as written (a second, widened one follows
    when that finds nothing and typos or a prefix could change it)."""
    es.reply(empty_result())
    es.reply(empty_result())
    index.search(query)
    request = es.requests[0]
    assert (request.method, request.path, request.params) == ("POST", "/sohoa/_search", {})
    return request


def widened_request(es: Recorder, index: ElasticIndex, query: Query) -> Request:
    search_request(es, index, query)
    assert len(es.requests) == 2, [(r.method, r.path) for r in es.requests]
    return es.requests[1]


def found(source: dict[str, Any]) -> dict[str, Any]:
    response = empty_result()
    response["hits"] = {"total": {"value": 1}, "hits": [{"_id": "vm", "_source": source}]}
    return response


def test_typos_and_a_prefix_are_forgiven_only_when_the_words_as_written_find_nothing(
    es: Recorder, index: ElasticIndex
):
    widened = widened_request(es, index, Query(text="van mieo")).json()
    assert widened["query"]["bool"]["must"] == [
        words("van mieo", FOLDED, EXACT, fuzzy=True, prefix=True)
    ]

    es.requests.clear()
    es.reply(found({"kind": "site", "title": "Văn Miếu"}))
    assert index.search(Query(text="van mieu")).showing == ""
    assert len(es.requests) == 1  # found as written: no second request

    es.requests.clear()
    es.reply(empty_result())
    es.reply(found({"kind": "site", "title": "Văn Miếu"}))
    assert index.search(Query(text="van mieo")).showing == "Văn Miếu"


def test_a_public_search_for_dong_da(es: Recorder, index: ElasticIndex):
    request = search_request(es, index, Query(text="dong da"))

    assert request.json() == {
        "query": {"bool": {"must": [words("dong da", FOLDED, EXACT)], "filter": [PUBLISHED]}},
        "_source": PUBLIC_SOURCE,
        "highlight": HIGHLIGHT,
        "sort": ["_score", {"id": "asc"}],
        "from": 0,
        "size": 10,
        "track_total_hits": True,
    }


def test_an_officer_search_by_owner_name_reaches_restricted_text(es: Recorder, index: ElasticIndex):
    query = Query(text="Nguyễn Văn Hòa", role="officer", offset=20, limit=5)

    body = search_request(es, index, query).json()

    text = "Nguyễn Văn Hoà"  # tone placement made canonical, as in the index
    assert body == {
        "query": {"bool": {"must": [words(text, OFFICER_FOLDED, OFFICER_EXACT)]}},
        "_source": OFFICER_SOURCE,
        "highlight": {**HIGHLIGHT, "fields": {**HIGHLIGHT["fields"], "restricted.*": {}}},
        "sort": ["_score", {"id": "asc"}],
        "from": 20,
        "size": 5,
        "track_total_hits": True,
    }


def test_a_public_search_never_names_a_restricted_field(es: Recorder, index: ElasticIndex):
    body = search_request(es, index, Query(text="Nguyễn Văn Hòa 001234567890")).json()

    assert "restricted" not in json.dumps([body["query"], body["highlight"]])
    assert body["_source"]["excludes"][0] == "restricted*"


@pytest.mark.parametrize(
    "query",
    [
        Query(filters={"owner": ["Lê Thị Mận"]}),
        Query(filters={"restricted.owner": ["x"]}, role="officer"),
        Query(facets=("restricted_all",), role="officer"),
        Query(facets=("title",)),
        Query(ranges={"ward": (1.0, 2.0)}),
    ],
)
def test_unknown_fields_are_refused_before_any_request(
    es: Recorder, index: ElasticIndex, query: Query
):
    with pytest.raises(QueryError, match="known fields"):
        index.search(query)
    assert es.requests == []


def test_quoted_text_is_a_phrase_and_the_rest_are_words(es: Recorder, index: ElasticIndex):
    body = search_request(es, index, Query(text='"Văn Miếu" quoc tu giam')).json()

    phrase = [
        {"multi_match": {"query": "Văn Miếu", "type": "phrase", "fields": FOLDED}},
        {"multi_match": {"query": "Văn Miếu", "type": "phrase", "fields": EXACT, "boost": 2.0}},
    ]
    assert body["query"]["bool"]["must"] == [
        {"bool": {"should": phrase, "minimum_should_match": 1}},
        words("quoc tu giam", FOLDED, EXACT),
    ]


def test_hostile_text_is_only_text_in_match_queries(es: Recorder, index: ElasticIndex):
    hostile = 'title:* OR _id:1 AND {"script": "x"} \\ <script>'

    body = search_request(es, index, Query(text=hostile)).json()

    assert "query_string" not in json.dumps(body)
    quoted = [body["query"]["bool"]["must"][i]["bool"]["should"][0] for i in (0, 1)]
    assert quoted == [
        {"multi_match": {"query": "script", "type": "phrase", "fields": FOLDED}},
        {"multi_match": {"query": "x", "type": "phrase", "fields": FOLDED}},
    ]
    rest = "title:* OR _id:1 AND { : } \\ <script>"
    assert body["query"]["bool"]["must"][2] == words(rest, FOLDED, EXACT)


def test_long_text_is_cut_to_32_words_matched_without_fuzziness(es: Recorder, index: ElasticIndex):
    body = widened_request(es, index, Query(text="abc " * 5000)).json()

    sent = " ".join(["abc"] * 32)
    assert body["query"]["bool"]["must"] == [words(sent, FOLDED, EXACT, prefix=True)]


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("x-" * 400, "x-" * 32),  # one "word" to str.split, 400 to the tokenizer
        ("y" * 5000, "y" * MAX_QUERY_CHARS),  # a long paste is cut first
        ("漢" * 100, "漢" * 32),  # the standard tokenizer makes each ideograph a token
        ('"a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4" five six seven', None),
    ],
)
def test_words_are_counted_as_the_tokenizer_splits_them(
    es: Recorder, index: ElasticIndex, text: str, sent: str | None
):
    body = search_request(es, index, Query(text=text)).json()

    queries = [
        c["bool"]["should"][0]["multi_match"]["query"] for c in body["query"]["bool"]["must"]
    ]
    assert queries == ([sent] if sent else [text.split('"')[1], "five six"])


@pytest.mark.parametrize("text", ["*", "( ) : * ~ ^", '""', "\x00\u200b\ufeff"])
def test_text_without_words_matches_nothing(es: Recorder, index: ElasticIndex, text: str):
    body = search_request(es, index, Query(text=text)).json()

    assert body["query"] == {"bool": {"must": [{"match_none": {}}], "filter": [PUBLISHED]}}


def test_numbers_are_matched_without_fuzziness(es: Recorder, index: ElasticIndex):
    body = widened_request(es, index, Query(text="thua 1235")).json()

    assert body["query"]["bool"]["must"] == [words("thua 1235", FOLDED, EXACT, prefix=True)]


def test_no_text_browses_what_is_published(es: Recorder, index: ElasticIndex):
    body = search_request(es, index, Query()).json()
    assert body["query"] == {"bool": {"filter": [PUBLISHED]}}

    es.requests.clear()
    body = search_request(es, index, Query(role="officer")).json()
    assert body["query"] == {"match_all": {}}


def test_filters_and_ranges_are_terms_and_range_filters(es: Recorder, index: ElasticIndex):
    query = Query(
        filters={"kind": ["site"], "rank": ["quốc gia", "quốc gia đặc biệt"], "has_model": []},
        ranges={"area_m2": (100.0, None), "lat": (None, 21.1)},
    )

    body = search_request(es, index, query).json()

    assert body["query"]["bool"]["filter"] == [
        PUBLISHED,
        {"terms": {"kind": ["site"]}},
        {"terms": {"rank": ["quốc gia", "quốc gia đặc biệt"]}},
        {"range": {"area_m2": {"gte": 100.0}}},
        {"range": {"lat": {"lte": 21.1}}},
    ]


def test_a_near_query_is_a_geo_distance_filter(es: Recorder, index: ElasticIndex):
    query = Query(text="đình", near=Near(lat=21.0285, lon=105.8542, km=1.5))

    body = search_request(es, index, query).json()

    assert body["query"]["bool"]["filter"] == [
        PUBLISHED,
        {"geo_distance": {"distance": "1.5km", "point": {"lat": 21.0285, "lon": 105.8542}}},
    ]


def test_a_bbox_is_a_geo_bounding_box_filter_on_points(es: Recorder, index: ElasticIndex):
    box = BBox(min_lon=105.7, min_lat=20.9, max_lon=105.9, max_lat=21.1)

    body = search_request(es, index, Query(bbox=box)).json()

    corners = {"top_left": {"lat": 21.1, "lon": 105.7}, "bottom_right": {"lat": 20.9, "lon": 105.9}}
    assert body["query"]["bool"]["filter"] == [PUBLISHED, {"geo_bounding_box": {"point": corners}}]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Query(bbox=BBox(min_lon=105.9, min_lat=21.1, max_lon=105.7, max_lat=20.9)),
        lambda: Query(bbox=BBox(min_lon=105.7, min_lat=20.9, max_lon=185.0, max_lat=21.1)),
        lambda: Query(bbox=BBox(min_lon=105.7, min_lat=-91.0, max_lon=105.9, max_lat=21.1)),
        lambda: Query(near=Near(lat=float("nan"), lon=105.8, km=1.0)),
        lambda: Query(near=Near(lat=21.0, lon=105.8, km=0.0)),
        lambda: Query(ranges={"area_m2": (200.0, 100.0)}),
        lambda: Query(offset=9_995, limit=10),
    ],
)
def test_a_query_that_cannot_run_is_refused_before_any_request(
    es: Recorder, index: ElasticIndex, build: Callable[[], Query]
):
    with pytest.raises(QueryError):
        index.search(build())
    assert es.requests == []


def test_the_parcel_at_a_point_is_a_geo_shape_contains_filter(es: Recorder, index: ElasticIndex):
    point = to_wgs84(588_405.0, 2_326_366.0, "vn2000")

    body = search_request(es, index, Query(role="officer", containing=point)).json()

    assert body["query"] == {
        "bool": {
            "filter": [
                {
                    "geo_shape": {
                        "shape": {
                            "shape": {"type": "point", "coordinates": [point.lon, point.lat]},
                            "relation": "contains",
                        }
                    }
                }
            ]
        }
    }


def test_parcels_in_a_vn2000_box_are_a_geo_shape_intersects_polygon(
    es: Recorder, index: ElasticIndex
):
    region = box_region(588_000, 2_326_000, 589_000, 2_327_000, "vn2000")
    sw, se, ne, nw = ([lon, lat] for lon, lat in region.corners)

    body = search_request(es, index, Query(intersecting=region)).json()

    polygon = {"type": "polygon", "coordinates": [[sw, se, ne, nw, sw]]}  # counter-clockwise
    assert body["query"]["bool"]["filter"] == [
        PUBLISHED,
        {"geo_shape": {"shape": {"shape": polygon, "relation": "intersects"}}},
    ]


def test_certificate_numbers_are_exact_keyword_filters_for_officers(
    es: Recorder, index: ElasticIndex
):
    query = Query(role="officer", serial="bv 999451", registry_number="ch-00123")

    body = search_request(es, index, query).json()

    assert body["query"] == {
        "bool": {
            "filter": [
                {"term": {"restricted_keys.serial": "BV999451"}},
                {"term": {"restricted_keys.registry_number": "CH00123"}},
            ]
        }
    }
    assert "restricted_keys" in body["_source"]["excludes"]


def test_a_public_certificate_lookup_is_refused_before_any_request(
    es: Recorder, index: ElasticIndex
):
    with pytest.raises(QueryError, match="officers"):
        index.search(Query(serial="BV 999451"))
    assert es.requests == []


def test_certificate_numbers_are_stored_as_keys_and_a_lone_point_as_a_shape(
    es: Recorder, index: ElasticIndex
):
    parcel = Document(
        id="p2",
        version=1,
        kind="parcel",
        title="Thửa 3",
        published=True,
        restricted={"serial": "BV 999451", "registry_number": ["CH 00123", "ch00123"]},
        point=(21.03, 105.85),
    )
    es.reply({"took": 1, "errors": False, "items": [created("p2")]})

    index.upsert([parcel])

    source = only(es).ndjson()[1]
    assert source["restricted_keys"] == {"serial": ["BV999451"], "registry_number": ["CH00123"]}
    assert source["shape"] == {"type": "Point", "coordinates": [105.85, 21.03]}
    assert source["original"] == {"shape": None}  # given without a shape: read back without one
    es.reply({"_index": "sohoa-1", "_id": "p2", "found": True, "_source": source})
    assert index.get("p2") == parcel


def test_facets_are_terms_aggregations(es: Recorder, index: ElasticIndex):
    body = search_request(es, index, Query(facets=("ward", "rank", "ward"))).json()

    assert body["aggs"] == {
        "ward": {"terms": {"field": "ward", "size": 500}},
        "rank": {"terms": {"field": "rank", "size": 500}},
    }


# -- search responses --------------------------------------------------------------------------


# -- failures ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_search_unavailable():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SearchUnavailableError, match="unreachable"):
        ElasticIndex.from_url(url, max_retries=0)

    index = ElasticIndex.from_url(url, ensure=False, max_retries=0)
    with pytest.raises(SearchUnavailableError):
        index.search(Query(text="dong da"))
    with pytest.raises(SearchUnavailableError):
        index.upsert([site("s1")])
    with pytest.raises(SearchUnavailableError):
        index.position("indexer")


def test_server_errors_are_search_unavailable(es: Recorder, index: ElasticIndex):
    unavailable = {"type": "cluster_block_exception", "reason": "blocked"}
    es.reply({"error": unavailable, "status": 503}, status=503)

    with pytest.raises(SearchUnavailableError, match="503 cluster_block_exception"):
        index.count()


def test_a_search_elasticsearch_rejects_is_a_query_error(es: Recorder, index: ElasticIndex):
    bad = {"type": "search_phase_execution_exception", "reason": "all shards failed"}
    es.reply({"error": bad, "status": 400}, status=400)

    with pytest.raises(QueryError, match="search_phase_execution_exception"):
        index.search(Query(text="dong da"))
