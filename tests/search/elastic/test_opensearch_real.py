"""What only a real node shows: the search backend on the OpenSearch node of `make services`.

Each test gets its own alias and indices (the `opensearch` fixture), dropped afterwards. Under
CI=true a missing node fails these tests instead of skipping them.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

import search.elastic.documents
import search.elastic.index
from search.elastic.client import NodeError
from search.elastic.index import ElasticIndex
from search.elastic.query import MAX_ANALYZED_CHARS
from search.factory import search_index_from_url
from search.index import Document, SearchConfigurationError, SearchUnavailableError
from search.query import Query
from tests.search.conftest import node_url

pytestmark = pytest.mark.services


def site(doc_id: str, version: int = 1, text: str = "", **restricted: Any) -> Document:
    return Document(
        id=doc_id,
        version=version,
        kind="document",
        title=f"Sổ địa chính {doc_id}",
        published=True,
        public={"name": f"Sổ địa chính {doc_id}"},
        restricted=restricted,
        text=text,
    )


def ids(index: ElasticIndex, text: str, role: str = "public") -> list[str]:
    return [h.id for h in index.search(Query(text=text, role=role, limit=50)).hits]


def call(index: ElasticIndex, method: str, path: str, body: Any = None) -> Any:
    return index._call(method, path, body)


# -- the URL picks the client ----------------------------------------------------------------


def test_an_opensearch_url_gives_the_opensearch_client():
    index = search_index_from_url(f"{node_url()}/sohoa-test-url")
    try:
        assert isinstance(index, ElasticIndex) and index.product == "OpenSearch"
        assert index.count() == 0
    finally:
        index.drop()
        index.close()


# -- the mapping cannot be poisoned by a value's shape ---------------------------------------


def test_a_date_first_under_restricted_does_not_refuse_later_text(opensearch: ElasticIndex):
    assert opensearch.upsert([site("a", issue_date="2019-03-15", serial="12345")]) == 1
    later = site("b", issue_date="ngày 5 tháng 3 năm 1998", serial="CS 01234")
    assert opensearch.upsert([later]) == 1 and opensearch.rejected == []
    assert opensearch.upsert([site("c", issue_date=["2001-01-01", 7], serial=3.5)]) == 1
    opensearch.refresh()
    assert ids(opensearch, "tháng 3 năm 1998", role="officer") == ["b"]
    mapping = call(opensearch, "GET", f"/{opensearch._alias}/_mapping")
    (fields,) = [m["mappings"]["properties"]["restricted"]["properties"] for m in mapping.values()]
    assert fields["issue_date"]["type"] == "text" and fields["serial"]["type"] == "text"


# -- highlights are bounded ------------------------------------------------------------------


def test_a_two_million_character_register_is_found_and_highlighted(opensearch: ElasticIndex):
    register = "Sổ mục kê ruộng đất làng Hà Khẩu. " + "thửa đất số " * 170_000
    assert len(register) > 2_000_000 > MAX_ANALYZED_CHARS
    assert opensearch.upsert([site("long", text=register), site("short", text="Hà Khẩu")]) == 2
    opensearch.refresh()
    result = opensearch.search(Query(text="Hà Khẩu", limit=10))
    assert {h.id for h in result.hits} == {"long", "short"}
    (hit,) = [h for h in result.hits if h.id == "long"]
    assert "<mark>" in hit.highlight


# -- bulk requests split by bytes; bad documents and unavailable indices ---------------------


def test_bulk_requests_are_split_by_bytes(opensearch: ElasticIndex):
    sent: list[int] = []
    request = opensearch._client.request

    def recording(method, path, **kw):
        if path.endswith("/_bulk"):
            sent.append(len(kw["body"]))
        return request(method, path, **kw)

    opensearch._client.request = recording  # type: ignore[method-assign]
    opensearch.max_bulk_bytes = 64 * 1024
    docs = [site(f"d{i}", text="đình làng " * 300) for i in range(200)]
    assert opensearch.upsert(docs) == 200
    assert len(sent) > 5 and max(sent) <= 64 * 1024
    opensearch.refresh()
    assert opensearch.count() == 200


def test_a_document_over_the_node_s_request_limit_is_reported_and_the_rest_index(
    opensearch: ElasticIndex, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    lines = search.elastic.documents._bulk_lines

    def quickly(doc: Document) -> bytes:  # 101 MB of source without analysing 101 MB of text
        if doc.id != "huge":
            return lines(doc)
        action = b'{"index":{"_id":"huge","version":1,"version_type":"external"}}\n'
        return action + b'{"id":"huge","text":"' + b"a" * (101 * 1024 * 1024) + b'"}\n'

    monkeypatch.setattr(search.elastic.documents, "_bulk_lines", quickly)
    docs = [site("before"), site("huge"), site("after")]  # over http.max_content_length, 100 MB
    with caplog.at_level(logging.WARNING, logger="search.elastic.documents"):
        assert opensearch.upsert(docs) == 2
    assert [doc_id for doc_id, _ in opensearch.rejected] == ["huge"]
    assert "413" in opensearch.rejected[0][1] and "huge" in caplog.text
    opensearch.refresh()
    assert opensearch.get("huge") is None and opensearch.count() == 2


def test_a_malformed_document_is_skipped_and_the_rest_index(opensearch: ElasticIndex):
    bad = Document(id="bad", version=1, kind="site", title="x", published=True)
    good = site("good")
    original = search.elastic.documents.source_of

    def malformed(doc: Document) -> dict[str, Any]:
        return {**original(doc), "version": "not a number"} if doc.id == "bad" else original(doc)

    search.elastic.documents.source_of, saved = malformed, search.elastic.documents.source_of
    try:
        assert opensearch.upsert([bad, good]) == 1
    finally:
        search.elastic.documents.source_of = saved
    assert opensearch.rejected == [("bad", "HTTP 400 mapper_parsing_exception")]


def test_a_closed_index_is_unavailable_never_a_bad_document(opensearch: ElasticIndex):
    opensearch.retry_waits_s = (0.1,)
    (concrete,) = [n for n in opensearch._indices() if not n.endswith("-positions")]
    call(opensearch, "POST", f"/{concrete}/_close")
    try:
        with pytest.raises(SearchUnavailableError):
            opensearch.upsert([site("kept")])
        assert opensearch.rejected == []
    finally:
        call(opensearch, "POST", f"/{concrete}/_open")
        call(opensearch, "GET", "/_cluster/health?wait_for_status=yellow&timeout=30s")
    assert opensearch.upsert([site("kept")]) == 1


def test_a_missing_index_is_unavailable_never_a_bad_document(opensearch: ElasticIndex):
    opensearch.retry_waits_s = (0.1,)
    (concrete,) = [n for n in opensearch._indices() if not n.endswith("-positions")]
    call(opensearch, "DELETE", f"/{concrete}")
    with pytest.raises(SearchUnavailableError):
        opensearch.upsert([site("kept")])
    assert opensearch.rejected == []
    with pytest.raises(SearchUnavailableError):
        opensearch.search(Query("kept"))
    opensearch.ensure()
    assert opensearch.upsert([site("kept")]) == 1


# -- configuration errors --------------------------------------------------------------------


def test_a_template_the_node_refuses_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch):
    template = search.elastic.index.index_template

    def with_a_missing_plugin(alias: str) -> dict[str, Any]:
        body = template(alias)
        analysis = body["template"]["settings"]["analysis"]
        analysis["analyzer"]["vi_folded"]["filter"] = ["icu_folding"]  # plugin not installed
        return body

    monkeypatch.setattr(search.elastic.index, "index_template", with_a_missing_plugin)
    url = f"{node_url()}/sohoa-test-{uuid.uuid4().hex[:12]}"
    try:
        with pytest.raises(SearchConfigurationError, match="HTTP 400"):
            ElasticIndex.from_url(url)
    finally:
        ElasticIndex.from_url(url, ensure=False).drop()


def test_a_refusal_that_will_not_pass_is_a_configuration_error(opensearch: ElasticIndex):
    assert not NodeError(400, "mapper_parsing_exception").transient
    assert NodeError(400, "index_closed_exception").transient
    with (
        pytest.raises(SearchConfigurationError, match="HTTP 400 strict_dynamic_mapping"),
        opensearch._backend("store a follower position"),
    ):
        call(opensearch, "PUT", f"/{opensearch._positions}/_doc/x", {"unexpected": 1})


# -- rebuilds --------------------------------------------------------------------------------


def test_the_indices_an_alias_switch_leaves_are_deleted(opensearch: ElasticIndex):
    opensearch.upsert([site("old")])
    opensearch.set_position("indexer", 7)
    (old,) = [n for n in opensearch._indices() if not n.endswith("-positions")]
    new = opensearch.create_index(opensearch.next_index_name())
    target = opensearch.for_index(new)
    target.upsert([site("new")])
    target.set_position("indexer", 9)
    assert opensearch.switch_alias(new) == [old]
    assert sorted(opensearch._indices()) == [new, f"{new}-positions"]
    opensearch.refresh()
    assert opensearch.get("new") and opensearch.get("old") is None
    assert opensearch.position("indexer") == 9


def test_drop_deletes_only_this_alias_indices_and_templates(opensearch: ElasticIndex):
    other = ElasticIndex.from_url(f"{node_url()}/{opensearch._alias}-9f")  # a longer alias
    try:
        other.upsert([site("kept")])
        opensearch.drop()
        assert sorted(opensearch._indices()) == [f"{other._alias}-1", f"{other._alias}-1-positions"]
        for template in (opensearch._alias, opensearch._positions):
            with pytest.raises(NodeError, match="404"):
                call(opensearch, "GET", f"/_index_template/{template}")
        other.refresh()
        assert other.get("kept") is not None and other.count() == 1
    finally:
        other.drop()
        other.close()


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


def test_documents_come_back_as_given_and_versions_are_read_in_one_mget(
    opensearch: ElasticIndex,
):
    sent = site("s1", 2, text="Đình làng Hòa Mục", owner="Lê Thị Thủy")
    assert opensearch.upsert([sent, PARCEL]) == 2
    assert opensearch.get("s1") == sent and opensearch.get("p1") == PARCEL
    assert opensearch.versions(["s1", "p1", "nope"]) == {"s1": 2, "p1": 7}
    assert opensearch.upsert([PARCEL]) == 0  # the same version again: a 409, not stored
    opensearch.delete("nope")  # quiet
    opensearch.delete("p1", version=6)  # older than the stored version: left alone, quietly
    assert opensearch.get("p1") == PARCEL
