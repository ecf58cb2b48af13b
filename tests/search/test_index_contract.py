"""The SearchIndex contract: the same behaviour from every backend (result sets, not scores)."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.factory import search_index_from_url
from search.index import Document, SearchIndex
from search.query import BBox, Near, Query, QueryError
from search.tantivy.index import IncompatibleIndexError, TantivyIndex

VAN_MIEU = (21.0293, 105.8355)
HOAN_KIEM_LAKE = (21.0287, 105.8523)
OWNER = "Lê Thị Mận"
ID_NUMBER = "001085012345"


def site(doc_id: str, title: str, published: bool = True, **public) -> Document:
    point = public.pop("point", None)
    text = public.pop("text", "")
    return Document(
        id=doc_id,
        version=public.pop("version", 1),
        kind="site",
        title=title,
        published=published,
        public={"name": title, **public},
        text=text,
        point=point,
    )


def parcel(doc_id: str, published: bool, area: float, owner: str) -> Document:
    return Document(
        id=doc_id,
        version=1,
        kind="parcel",
        title=f"Thửa {doc_id}, tờ 12, Hàng Bạc",
        published=published,
        public={"unit_code": "00061", "era": "pre2025", "area_m2": area, "purpose": "ODT"},
        restricted={"owner": owner, "id_number": ID_NUMBER, "serial": "CS 01234"},
        point=(21.0340, 105.8530),
    )


CORPUS = [
    site(
        "vm",
        "Văn Miếu – Quốc Tử Giám",
        type=["di tích lịch sử", "kiến trúc nghệ thuật"],
        rank="quốc gia đặc biệt",
        district="Đống Đa",
        point=VAN_MIEU,
        text="Trường đại học đầu tiên của Việt Nam, nơi lưu giữ 82 bia tiến sĩ.",
    ),
    site(
        "hk",
        "Hồ Hoàn Kiếm",
        type=["danh lam thắng cảnh"],
        rank="quốc gia đặc biệt",
        district="Hoàn Kiếm",
        point=HOAN_KIEM_LAKE,
    ),
    site("gdd", "Gò Đống Đa", type=["di tích lịch sử"], rank="quốc gia", point=(21.0166, 105.824)),
    site("dd", "Dong Da old market sign", text="A sign that reads Dong Da, without accents."),
    site("hoa1", "Đình Hòa Mục", rank="cấp thành phố"),
    site("hoa2", "Chùa Hoà Phúc", rank="cấp thành phố"),
    site("xss", "Đình Hàng Bạc", text="<script>alert(1)</script> đình làng Hàng Bạc"),
    site("secret", "Đền Bí Mật", published=False, rank="quốc gia"),
    parcel("p1", published=True, area=120.5, owner=OWNER),
    parcel("p2", published=False, area=300.0, owner="Phạm Văn Đồng Hương"),
]
PUBLISHED = {d.id for d in CORPUS if d.published}


@pytest.fixture
def corpus(index: SearchIndex) -> SearchIndex:
    assert index.upsert(CORPUS) == len(CORPUS)
    index.refresh()
    return index


def ids(index: SearchIndex, text: str = "", **kw) -> list[str]:
    return [h.id for h in index.search(Query(text=text, limit=100, **kw)).hits]


# -- Vietnamese text --------------------------------------------------------


def test_a_query_without_diacritics_finds_accented_text(corpus):
    assert "gdd" in ids(corpus, "dong da")


def test_hoa_finds_both_tone_placements(corpus):
    for spelling in ("hoa", "Hòa", "Hoà", "HOÀ"):
        assert {"hoa1", "hoa2"} <= set(ids(corpus, spelling)), spelling


def test_the_exact_accented_spelling_ranks_first(corpus):
    found = ids(corpus, "Đống Đa")
    assert "dd" in found and "gdd" in found
    assert found.index("gdd") < found.index("dd")


def test_a_word_with_a_typo_still_matches_and_the_result_says_so(corpus):
    result = corpus.search(Query(text="Van Mieo"))
    assert "vm" in [h.id for h in result.hits]
    assert result.showing == "Văn Miếu"
    assert corpus.search(Query(text="Văn Miếu")).showing == ""  # found as written


TYPO_ONLY = [
    site("dung", "Nhà bia", text="Nhà bia được xây dựng bằng đá ong."),
    site("dai", "Đền Đông", text="Đền thời đại Lý."),
    site("vm2", "Bia đá", text="Bia dựng ở sân đình."),
]


def test_typos_are_forgiven_only_when_the_words_as_written_find_nothing(corpus):
    corpus.upsert(TYPO_ONLY)
    corpus.refresh()
    found = ids(corpus, "dong da")
    assert "gdd" in found and "dd" in found
    assert not {"dung", "dai", "vm2"} & set(found)  # "dựng", "đại", "đá" are not "dong da"
    assert corpus.search(Query(text="dong da")).showing == ""


def test_a_facet_count_is_the_total_its_filter_gives(corpus):
    corpus.upsert(TYPO_ONLY)
    corpus.refresh()
    for text in ("dong da", "dinh", "Van Mieo", ""):
        result = corpus.search(Query(text=text, facets=("rank", "kind")))
        for name, counts in result.facets.items():
            for value, count in counts.items():
                narrowed = corpus.search(Query(text=text, filters={name: [value]}))
                assert narrowed.total == count, (text, name, value)


def test_numbers_are_matched_exactly(corpus):
    assert "p1" in ids(corpus, "00061", role="officer")
    assert "p1" not in ids(corpus, "00062", role="officer")


def test_quoted_text_is_a_phrase(corpus):
    assert "vm" in ids(corpus, '"quoc tu giam"')
    assert "vm" not in ids(corpus, '"giam tu quoc"')


def test_the_last_word_matches_as_a_prefix_when_nothing_matches_it_whole(corpus):
    assert "vm" in ids(corpus, "Văn Mi")
    assert "hk" in ids(corpus, "hoan ki")
    assert corpus.search(Query(text="hoan ki")).showing == "Hoàn Kiếm"


# -- filters, facets, pages -------------------------------------------------


def test_filters_keep_any_of_the_listed_values(corpus):
    assert set(ids(corpus, filters={"rank": ["quốc gia đặc biệt"]})) == {"vm", "hk"}
    both = {"rank": ["quốc gia đặc biệt", "quốc gia"]}
    assert set(ids(corpus, filters=both)) == {"vm", "hk", "gdd"}
    assert set(ids(corpus, filters={"kind": ["parcel"]})) == {"p1"}


def test_ranges_bound_numbers(corpus):
    area = {"area_m2": (100.0, 200.0)}
    assert set(ids(corpus, role="officer", ranges=area)) == {"p1"}
    assert set(ids(corpus, role="officer", ranges={"area_m2": (200.0, None)})) == {"p2"}


def test_an_unknown_filter_or_facet_is_a_query_error(corpus):
    with pytest.raises(QueryError):
        corpus.search(Query(filters={"owner": [OWNER]}))
    with pytest.raises(QueryError):
        corpus.search(Query(facets=("owner",)))


def test_facets_count_the_matching_documents(corpus):
    result = corpus.search(Query(facets=("rank", "kind", "type")))
    assert result.facets["rank"] == {"quốc gia đặc biệt": 2, "quốc gia": 1, "cấp thành phố": 2}
    assert result.facets["kind"] == {"site": len(PUBLISHED) - 1, "parcel": 1}
    assert result.facets["type"]["di tích lịch sử"] == 2
    narrowed = corpus.search(Query(text="Đống Đa", facets=("rank",)))
    assert "cấp thành phố" not in narrowed.facets["rank"]


def test_pages_cover_every_hit_once(corpus):
    seen: list[str] = []
    for offset in range(0, 12, 3):
        page = corpus.search(Query(offset=offset, limit=3))
        assert page.total == len(PUBLISHED)
        seen += [h.id for h in page.hits]
    assert sorted(seen) == sorted(PUBLISHED)


def test_a_zero_limit_counts_without_hits(corpus):
    result = corpus.search(Query(limit=0, facets=("kind",)))
    assert result.total == len(PUBLISHED) and result.hits == []


# -- places -----------------------------------------------------------------


def test_near_finds_what_is_within_the_distance(corpus):
    lat, lon = VAN_MIEU
    assert set(ids(corpus, near=Near(lat, lon, 1.0))) == {"vm"}
    assert {"vm", "hk"} <= set(ids(corpus, near=Near(lat, lon, 2.0)))
    assert "vm" in ids(corpus, "van mieu", near=Near(lat, lon, 2.0))


def test_near_counts_facets_of_the_nearby_documents(corpus):
    lat, lon = VAN_MIEU
    result = corpus.search(Query(near=Near(lat, lon, 2.0), facets=("rank",)))
    assert result.facets["rank"].get("quốc gia đặc biệt") == 2


def test_a_bbox_finds_the_points_inside_it(corpus):
    box = BBox(min_lon=105.83, min_lat=21.02, max_lon=105.84, max_lat=21.04)
    assert set(ids(corpus, bbox=box)) == {"vm"}


def test_a_bbox_with_swapped_corners_is_a_clear_error(corpus):
    swapped = BBox(min_lon=105.84, min_lat=21.04, max_lon=105.83, max_lat=21.02)
    with pytest.raises(QueryError, match=r"swapped.*south-west corner first"):
        corpus.search(Query(bbox=swapped))


@pytest.mark.parametrize(
    "build",
    [
        lambda: Query(near=Near(91.0, 105.8, 1.0)),
        lambda: Query(near=Near(21.0, 181.0, 1.0)),
        lambda: Query(near=Near(21.0, 105.8, -1.0)),
        lambda: Query(near=Near(float("nan"), 105.8, 1.0)),
        lambda: Query(bbox=BBox(105.8, -91.0, 105.9, 21.0)),
        lambda: Query(bbox=BBox(-200.0, 21.0, 105.9, 21.1)),
    ],
)
def test_coordinates_out_of_range_are_a_query_error(corpus, build):
    with pytest.raises(QueryError):
        corpus.search(build())


@pytest.mark.parametrize(
    "kw",
    [
        {"role": "admin"},
        {"offset": -1},
        {"limit": 5000},
        {"offset": 9_995, "limit": 10},
        {"ranges": {"area_m2": (5.0, 1.0)}},
        {"ranges": {"area_m2": (float("inf"), None)}},
    ],
)
def test_impossible_queries_are_a_query_error(corpus, kw):
    with pytest.raises(QueryError):
        corpus.search(Query(**kw))


# -- who sees what ----------------------------------------------------------


def test_the_public_never_sees_unpublished_documents(corpus):
    assert set(ids(corpus)) == PUBLISHED
    assert ids(corpus, "Bí Mật") == []
    assert ids(corpus, "Bí Mật", role="officer") == ["secret"]
    assert set(ids(corpus, role="officer")) == {d.id for d in CORPUS}


def test_restricted_fields_are_neither_matched_nor_returned_for_the_public(corpus):
    assert ids(corpus, OWNER) == []
    assert ids(corpus, ID_NUMBER) == []
    assert ids(corpus, OWNER, role="officer") == ["p1"]
    (public_hit,) = corpus.search(Query(filters={"kind": ["parcel"]})).hits
    assert "owner" not in public_hit.fields and "id_number" not in public_hit.fields
    assert OWNER not in public_hit.highlight + public_hit.title
    (officer_hit,) = corpus.search(Query(text=OWNER, role="officer")).hits
    assert officer_hit.fields["owner"] == OWNER


# -- hits -------------------------------------------------------------------


def test_a_hit_highlights_its_matches(corpus):
    (hit,) = [h for h in corpus.search(Query("bia tien si")).hits if h.id == "vm"]
    assert "<mark>" in hit.highlight and "bia" in hit.highlight.lower()
    assert hit.title == "Văn Miếu – Quốc Tử Giám" and hit.kind == "site"
    assert hit.fields["rank"] == "quốc gia đặc biệt"


def test_highlights_are_html_escaped(corpus):
    (hit,) = [h for h in corpus.search(Query("hang bac")).hits if h.id == "xss"]
    assert "<script>" not in hit.highlight and "&lt;script&gt;" in hit.highlight


# -- retired parcels ----------------------------------------------------------


def split_documents(tmp_path: Path) -> list[Document]:
    """Parcel 00031/12/45 split into 45A and 45B on 2021-03-01: the three documents the
    indexer builds from the store."""
    from datetime import date

    from models.application import RecordStore
    from models.ids import ParcelKey
    from models.record import Record
    from pipeline.settings import eventstore_env
    from pipeline.usecases.lineage import record_change
    from search.documents import record_document

    store = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/events.sqlite3"))
    keys = [ParcelKey.of("00031", "pre2025", "12", n) for n in ("45", "45a", "45b")]
    parent = Record(kind="parcel", key=keys[0].as_record_key(), source="import:a.jsonl:1")
    parent.record_attributes(attributes={"area_m2": 200.0}, source="import:a.jsonl:1")
    store.save(parent)
    record_change(
        store,
        "split",
        keys[:1],
        keys[1:],
        effective=date(2021, 3, 1),
        basis="QĐ 12/QĐ-UBND",
        basis_capture=None,
        recorded_by="minh",
        tolerance=0.02,
    )
    documents = [record_document(store.record(k.id)) for k in keys]
    store.close()
    return documents


def test_a_retired_parcel_is_found_marked_with_its_date_and_children(index, tmp_path):
    parent, *children = split_documents(tmp_path)
    index.upsert([parent, *children])
    index.refresh()

    hits = {h.id: h for h in index.search(Query(role="officer", limit=10)).hits}

    assert set(hits) == {parent.id, *(c.id for c in children)}
    retired = hits[parent.id].fields
    assert (retired["retired"], retired["retired_on"]) == (True, "2021-03-01")
    assert sorted(retired["children"]) == ["00031:pre2025/12/45A", "00031:pre2025/12/45B"]
    for child in children:
        assert hits[child.id].fields["retired"] is False
        assert hits[child.id].fields["parents"] == ["00031:pre2025/12/45"]


def test_the_retired_filter_keeps_parcels_in_force_and_counts_both(index, tmp_path):
    parent, *children = split_documents(tmp_path)
    index.upsert([parent, *children])
    index.refresh()

    live = index.search(
        Query(role="officer", filters={"retired": ["false"]}, facets=("retired",), limit=10)
    )
    every = index.search(Query(role="officer", facets=("retired",), limit=10))

    assert sorted(h.id for h in live.hits) == sorted(c.id for c in children)
    assert live.facets["retired"] == {"false": 2}
    assert every.facets["retired"] == {"false": 2, "true": 1}
    assert ids(index, role="officer", filters={"retired": ["true"]}) == [parent.id]


# -- versions ---------------------------------------------------------------


def test_upserts_are_idempotent_by_version(index):
    v3 = site("s", "Phiên bản ba", version=3)
    assert index.upsert([v3]) == 1
    assert index.upsert([v3]) == 0
    assert index.upsert([site("s", "Phiên bản hai", version=2)]) == 0
    index.refresh()
    assert index.get("s").version == 3 and index.get("s").title == "Phiên bản ba"
    assert index.count() == 1
    assert ids(index, "phien ban hai") == []


def test_the_newest_version_in_one_batch_wins(index):
    batch = [site("s", "Bốn", version=4), site("s", "Năm", version=5), site("s", "Ba", version=3)]
    assert index.upsert(batch) == 1
    index.refresh()
    assert index.get("s").title == "Năm"


def test_get_returns_the_whole_document_and_delete_removes_it(corpus):
    p1 = corpus.get("p1")
    assert p1.restricted["owner"] == OWNER and p1.public["area_m2"] == 120.5
    assert p1.point == pytest.approx((21.0340, 105.8530))
    corpus.delete("p1")
    corpus.refresh()
    assert corpus.get("p1") is None and "p1" not in ids(corpus)
    assert corpus.get("no-such-id") is None


def test_a_late_upsert_cannot_bring_back_a_deleted_document(index):
    assert index.upsert([site("s", "Đã xoá", version=4)]) == 1
    index.delete("s", version=5)
    assert index.upsert([site("s", "Đã xoá", version=4)]) == 0
    assert index.upsert([site("s", "Đã xoá", version=5)]) == 0
    index.refresh()
    assert index.get("s") is None
    assert index.upsert([site("s", "Trở lại", version=6)]) == 1  # a later version may
    index.delete("s", version=5)  # an older deletion, delivered late, keeps the newer one
    index.refresh()
    assert index.get("s").title == "Trở lại"


def test_positions_are_stored_with_the_index(index):
    assert index.position("indexer") == 0
    index.set_position("indexer", 42)
    assert index.position("indexer") == 42 and index.position("other") == 0


# -- hostile input ----------------------------------------------------------

HOSTILE = [
    '"unbalanced quote',
    'a "b',
    "AND OR NOT",
    "( ) : * ~ ^",
    "title:văn AND (miếu OR",
    "*",
    "~2",
    "^3 \\ / [ ] { } < > ! & |",
    "' OR 1=1 --",
    "\x00\u200b\ufeff",
    "x" * 10_000,
    "văn miếu " * 2000,
    "Đống Đa" + '"' * 50,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:20]))
@pytest.mark.parametrize("role", ["public", "officer"])
def test_hostile_query_text_never_raises(corpus, text, role):
    result = corpus.search(Query(text=text, role=role, facets=("kind",)))
    assert result.total >= 0
    if role == "public":
        assert {h.id for h in result.hits} <= PUBLISHED


# -- choosing a backend (not a contract test) -------------------------------


def test_search_urls_choose_a_backend(tmp_path: Path):
    on_disk = search_index_from_url(f"tantivy://{tmp_path}/ix")
    assert isinstance(on_disk, TantivyIndex) and on_disk.path == tmp_path / "ix"
    assert isinstance(search_index_from_url("memory://"), TantivyIndex)
    with pytest.raises(ValueError, match="scheme"):
        search_index_from_url("ftp://example.org/ix")


def test_an_index_built_with_another_schema_asks_for_a_rebuild(tmp_path: Path):
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("something_else", stored=True)
    tantivy.Index(builder.build(), path=str(tmp_path))
    with pytest.raises(IncompatibleIndexError, match="sohoa reindex"):
        TantivyIndex(tmp_path)
