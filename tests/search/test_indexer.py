"""The indexer follows the record store's log into a search index, idempotently."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from uuid import UUID

import pytest

from models.application import RecordRef, RecordStore
from pipeline.dispatch.follower import Follower
from pipeline.usecases.importing.records import import_records
from search.indexer import IndexProjection
from search.query import Query
from search.tantivy.index import TantivyIndex


def Indexer(store, index, batch=1000):
    """The indexer as `pipeline.dispatch.indexer` wires it: a follower positioned in the index."""
    return Follower("indexer", store, index, IndexProjection(store, index).handle, batch)


def rebuild(store, index, on_progress):
    return Indexer(store, index).catch_up(on_progress)


ROWS = [
    {
        "code": "HN-VM",
        "name": "Văn Miếu – Quốc Tử Giám",
        "rank": "quốc gia đặc biệt",
        "published": True,
    },
    {"code": "HN-HK", "name": "Hồ Hoàn Kiếm", "lat": 21.0287, "lon": 105.8523, "published": True},
    {"code": "HN-BM", "name": "Đền Bí Mật"},
    {
        "unit_code": "00061",
        "unit_era": "pre2025",
        "sheet": "12",
        "parcel_number": "34",
        "area_m2": 120.5,
        "owner": "Lê Thị Mận",
        "published": True,
    },
]


def write_jsonl(path: Path, *rows: dict) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def import_rows(store: RecordStore, tmp_path: Path, *rows: dict, name: str = "rows") -> None:
    report = import_records(store, write_jsonl(tmp_path / f"{name}.jsonl", *rows))
    assert not report.rejected, report.rejected


def site_id(code: str) -> str:
    return str(RecordRef("site", {"code": code}).id)


@pytest.fixture
def tantivy_index(tmp_path: Path):
    index = TantivyIndex(tmp_path / "index")
    yield index
    index.close()


@pytest.fixture
def indexed(store, tmp_path, tantivy_index):
    import_rows(store, tmp_path, *ROWS)
    indexer = Indexer(store, tantivy_index, batch=2)
    assert indexer.catch_up() == store.max_notification_id()
    return indexer


def titles(index, text: str = "", role: str = "public") -> set[str]:
    return {h.title for h in index.search(Query(text=text, role=role, limit=100)).hits}


def test_the_indexer_catches_up_with_every_record(indexed, tantivy_index):
    assert tantivy_index.count() == len(ROWS)
    assert indexed.lag() == 0
    assert titles(tantivy_index) == {
        "Văn Miếu – Quốc Tử Giám",
        "Hồ Hoàn Kiếm",
        "Thửa 34, tờ 12, ĐVHC 00061",
    }
    assert titles(tantivy_index, "le thi man") == set()
    assert titles(tantivy_index, "le thi man", role="officer") == {"Thửa 34, tờ 12, ĐVHC 00061"}


def test_running_again_adds_nothing(indexed, store, tantivy_index):
    assert indexed.run_once() == 0
    page = store.recorder.select_notifications(1, 100)
    assert IndexProjection(store, tantivy_index).handle(page) == 0  # a repeated batch
    assert tantivy_index.count() == len(ROWS)


def test_a_changed_attribute_updates_the_document(indexed, store, tmp_path, tantivy_index):
    before = tantivy_index.get(site_id("HN-VM")).version
    import_rows(store, tmp_path, {**ROWS[0], "name": "Văn Miếu"}, name="corrected")
    assert indexed.lag() > 0
    indexed.catch_up()
    doc = tantivy_index.get(site_id("HN-VM"))
    assert doc.title == "Văn Miếu" and doc.version > before
    assert "Văn Miếu" in titles(tantivy_index, "van mieu")
    assert tantivy_index.count() == len(ROWS)


def test_publishing_and_withdrawing_reach_the_public_index(indexed, store, tmp_path, tantivy_index):
    import_rows(store, tmp_path, {**ROWS[2], "published": True}, name="publish")
    indexed.catch_up()
    assert titles(tantivy_index, "bi mat") == {"Đền Bí Mật"}
    store.update(RecordRef("site", {"code": "HN-BM"}).id, lambda r: r.withdraw(reason="test"))
    indexed.catch_up()
    assert titles(tantivy_index, "bi mat") == set()
    assert titles(tantivy_index, "bi mat", role="officer") == {"Đền Bí Mật"}


def test_the_position_persists_across_indexers_and_reopened_indexes(indexed, store, tmp_path):
    position = indexed.position()
    indexed.positions.close()
    reopened = TantivyIndex(tmp_path / "index")
    again = Indexer(store, reopened)
    assert again.position() == position == store.max_notification_id()
    assert again.lag() == 0 and again.run_once() == 0
    assert reopened.count() == len(ROWS)
    reopened.close()


def test_rebuild_replays_the_log_into_a_fresh_index(indexed, store, tmp_path):
    fresh = TantivyIndex(tmp_path / "index-2")
    progress: list[tuple[int, int]] = []
    covered = rebuild(store, fresh, lambda done, last: progress.append((done, last)))
    assert covered == store.max_notification_id()
    assert progress[-1] == (store.max_notification_id(), store.max_notification_id())
    assert fresh.count() == len(ROWS) and fresh.position("indexer") == covered
    for doc_id in (site_id("HN-VM"), site_id("HN-HK")):
        assert fresh.get(doc_id) == indexed.positions.get(doc_id)
    fresh.close()


def test_the_indexer_runs_until_stopped(store, tmp_path, tantivy_index):
    indexer = Indexer(store, tantivy_index)
    stop = threading.Event()
    worker = threading.Thread(target=indexer.run, args=(stop, 0.01))
    worker.start()
    try:
        import_rows(store, tmp_path, *ROWS)
        deadline = time.monotonic() + 10
        while indexer.lag() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert indexer.lag() == 0 and tantivy_index.count() == len(ROWS)
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()


# -- captures with OCR text -------------------------------------------------

STELE_TEXT = "Bia đá khắc năm Cảnh Hưng thứ ba"


def test_a_scan_follows_its_site_into_and_out_of_the_public_index(store, tmp_path, tantivy_index):
    import hashlib

    from models.application import Receipt

    import_rows(store, tmp_path, ROWS[2])  # Đền Bí Mật, not published
    data = b"a stele rubbing"
    sha = hashlib.sha256(data).hexdigest()
    receipt = Receipt(
        sha, f"sha256/{sha}", len(data), "image/png", "document", "bia.png", "s", "o", {}
    )
    store.receive(receipt, [RecordRef("site", {"code": "HN-BM"})])
    texts = {sha: STELE_TEXT}
    projection = IndexProjection(store, tantivy_index, text_for=lambda c: texts[c.sha256])
    indexer = Follower("indexer", store, tantivy_index, projection.handle, batch=1)

    indexer.catch_up()
    assert titles(tantivy_index, "canh hung") == set()
    assert titles(tantivy_index, "canh hung", role="officer") == {"bia.png"}

    import_rows(store, tmp_path, {**ROWS[2], "published": True}, name="publish")
    indexer.catch_up()
    assert titles(tantivy_index, "canh hung") == {"bia.png"}  # re-indexed with its site

    store.update(RecordRef("site", {"code": "HN-BM"}).id, lambda r: r.withdraw(reason="test"))
    indexer.catch_up()
    assert titles(tantivy_index, "canh hung") == set()
    assert Follower("again", store, tantivy_index, projection.handle).catch_up() > 0
    assert titles(tantivy_index, "canh hung") == set()  # a replay changes nothing


def test_documents_built_from_a_batch_of_events_equal_those_of_the_stored_records(
    store, tmp_path, tantivy_index
):
    import_rows(store, tmp_path, *ROWS)  # every record's whole history lands in one batch
    projection = IndexProjection(store, tantivy_index)
    Follower("indexer", store, tantivy_index, projection.handle, 10_000).catch_up()
    import_rows(store, tmp_path, {**ROWS[2], "rank": "cấp thành phố"}, name="later")
    Follower("indexer", store, tantivy_index, projection.handle, 10_000).catch_up()

    for ref in (site_id("HN-VM"), site_id("HN-HK"), site_id("HN-BM")):
        assert tantivy_index.get(ref) == projection.document(ref)
    assert tantivy_index.get(site_id("HN-BM")).public["rank"] == "cấp thành phố"
    assert titles(tantivy_index, "Văn Miếu") == {"Văn Miếu – Quốc Tử Giám"}


def test_a_record_folded_from_its_events_makes_the_document_its_aggregate_makes(store, tmp_path):
    from search.documents import record_document
    from search.indexer import RecordState, fold_record, replay

    import_rows(store, tmp_path, *ROWS)
    withdrawn = UUID(site_id("HN-VM"))
    store.update(withdrawn, lambda r: r.withdraw(reason="under review"))
    scanned = UUID(site_id("HN-HK"))  # a value the store transcodes, beside the timestamp
    store.update(scanned, lambda r: r.record_attributes(attributes={"scan": scanned}, source="t"))
    notifications = list(store.notifications())
    folded = 0
    for record_id in {n.originator_id for n in notifications}:
        own = [n for n in notifications if n.originator_id == record_id]
        state = fold_record(store.mapper, own)
        if state is None:
            continue
        aggregate = replay(store.mapper.to_domain_event(n) for n in own)
        assert isinstance(state, RecordState)
        assert record_document(state) == record_document(aggregate)
        folded += 1
    assert folded == len(ROWS)
    history = [n for n in notifications if n.originator_id == withdrawn]
    assert not fold_record(store.mapper, history).published
    history = [n for n in notifications if n.originator_id == scanned]
    assert fold_record(store.mapper, history).attributes["scan"] == scanned


def test_a_batch_is_indexed_with_fewer_garbage_collections_and_the_threshold_comes_back(
    store, tmp_path
):
    import gc

    seen = []

    class Watched(TantivyIndex):
        def upsert(self, documents):
            seen.append(gc.get_threshold()[0])
            return super().upsert(documents)

    import_rows(store, tmp_path, *ROWS)
    index = Watched(tmp_path / "watched")
    before = gc.get_threshold()
    Indexer(store, index).catch_up()
    assert seen and min(seen) >= 100_000
    assert gc.get_threshold() == before
    index.close()
