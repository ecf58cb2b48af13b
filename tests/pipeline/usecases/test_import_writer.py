"""An import writes batch N in a thread while it reads and builds batch N+1: the records,
events and report are the sequential path's, and a failing writer is reported, never hung.
(SQLite only here: the writer thread is the same for PostgreSQL.)"""

from __future__ import annotations

import logging
import sqlite3
import threading

import pytest

from models.application import RecordStore
from pipeline.settings import eventstore_env
from pipeline.usecases.importing import records
from pipeline.usecases.importing.records import import_records
from tests.pipeline.usecases.test_import_batches import jsonl, key, row


@pytest.fixture
def store(tmp_path):
    s = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3"))
    yield s
    s.close()


def mixed_rows() -> list[dict]:
    """Bad rows, a repeat, parents a batch up, a merge, an update of a recorded parcel."""
    rows = [row(n, area_m2=100 + n, purpose="ODT", published=n % 2 == 0) for n in range(1, 13)]
    rows[4] = row(5, area_m2="nhiều")
    rows[7] = row(2, area_m2=1)  # the key of row 2
    rows += [
        row("3a", area_m2=50, split_from="61/12/3", effective_date="2021-03-01"),
        row(90, merged_from="61/12/6;61/12/7", effective_date="2022-01-01"),
        row(91, split_from="61/12/404", effective_date="2021-03-01"),  # no such parent
        row(50, area_m2=555),  # recorded before: updated
        row(13, lat=21.03, lon=105.85),
    ]
    return rows


def events_of(store: RecordStore) -> list[tuple]:
    out = []
    for n in store.notifications():
        state = dict(store.mapper.to_domain_event(n).__dict__)
        state.pop("timestamp")
        out.append((n.originator_id, n.originator_version, n.topic, state))
    return out


def test_the_writer_thread_records_and_reports_what_the_sequential_path_does(tmp_path):
    path = jsonl(tmp_path / "p.jsonl", *mixed_rows())
    results = []
    for overlap in (False, True):
        s = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/{overlap}.sqlite3"))
        import_records(s, jsonl(tmp_path / "old.jsonl", row(50, area_m2=5)))
        seen = []
        report = import_records(s, path, batch_rows=3, overlap=overlap, on_row=seen.append)
        verdict = report.to_json()
        verdict.pop("seconds")
        results.append((verdict, [(r.line, r.status, r.record_id) for r in seen], events_of(s)))
        s.close()
    sequential, threaded = results
    assert threaded == sequential
    verdict, seen, _ = threaded
    assert (verdict["registered"], verdict["updated"], len(verdict["rejected"])) == (13, 1, 3)
    assert [line for line, _, _ in seen] == list(range(1, 18))  # every row, in file order


def test_batches_are_written_by_a_thread_while_the_next_batch_is_read(store, tmp_path, monkeypatch):
    path = jsonl(tmp_path / "p.jsonl", row(1), row(2), row(3), row(4), row(5, area_m2="x"), row(6))
    next_batch_read = threading.Event()
    parse_row = records.parse_row

    def parse_noting(raw, base=None):
        if raw.line == 5:
            next_batch_read.set()
        return parse_row(raw, base)

    monkeypatch.setattr(records, "parse_row", parse_noting)
    insert = store.recorder.insert_events
    writers = []

    def insert_once_batch_two_is_read(stored, **kwargs):
        writers.append(threading.current_thread().name)
        if len(writers) == 1:  # batch 1 (rows 1-3) lands only after row 5 of batch 2 was read
            assert next_batch_read.wait(10)
        return insert(stored, **kwargs)

    monkeypatch.setattr(store.recorder, "insert_events", insert_once_batch_two_is_read)
    seen = []
    report = import_records(store, path, batch_rows=3, on_row=seen.append)

    assert all(name.startswith("import-writer") for name in writers) and len(writers) == 2
    assert [(r.line, r.status) for r in seen] == [
        (1, "registered"), (2, "registered"), (3, "registered"),
        (4, "registered"), (5, "rejected"), (6, "registered"),
    ]  # fmt: skip
    assert report.rejected == [
        {"line": 5, "where": "line 5", "reason": "area_m2: 'x' is not a number"}
    ]
    assert store.record(key(6).id).version == 1


@pytest.mark.timeout(30)
def test_a_write_failing_in_the_writer_is_reported_naming_the_batch_and_saved_row_by_row(
    store, tmp_path, monkeypatch, caplog
):
    path = jsonl(tmp_path / "p.jsonl", *(row(n, area_m2=n) for n in range(1, 8)))
    insert = store.recorder.insert_events
    calls = []

    def insert_failing_once(stored, **kwargs):
        calls.append(len(stored))
        if len(calls) == 2:  # batch 2 (lines 4-6), in the writer thread
            raise sqlite3.OperationalError("disk I/O error")
        return insert(stored, **kwargs)

    monkeypatch.setattr(store.recorder, "insert_events", insert_failing_once)
    with caplog.at_level(logging.WARNING):
        report = import_records(store, path, batch_rows=3)

    assert (report.registered, report.rejected) == (7, [])
    assert "saving 3 rows (line 4 to line 6) failed" in caplog.text
    assert "disk I/O error" in caplog.text
    assert all(store.record(key(n).id).attributes["area_m2"] == n for n in range(1, 8))


@pytest.mark.timeout(30)
def test_a_writer_that_always_fails_ends_the_import_with_every_row_reported(
    store, tmp_path, monkeypatch
):
    path = jsonl(tmp_path / "p.jsonl", *(row(n) for n in range(1, 8)), row(8, area_m2="x"))

    def refuse(stored, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store.recorder, "insert_events", refuse)
    seen = []
    report = import_records(store, path, batch_rows=3, on_row=seen.append)

    assert [r.line for r in seen] == list(range(1, 9))
    assert report.registered == 0
    assert [r["line"] for r in report.rejected] == list(range(1, 9))
    assert all(r["reason"].startswith("failed: internal error") for r in report.rejected[:7])
    assert report.rejected[7]["reason"].startswith("area_m2")
