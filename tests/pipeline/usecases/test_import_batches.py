"""Imports save rows in batches: the same records and verdicts as row by row, on both stores,
when a parent is a few batches up, when another writer gets there first, and when a bad row
had already touched a record the batch shares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.application import RecordStore
from models.ids import ParcelKey
from models.record import Record
from pipeline.settings import eventstore_env
from pipeline.usecases.importing.records import import_records


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path}/e.sqlite3"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = RecordStore(env=eventstore_env(url))
    yield s
    s.close()


def jsonl(path: Path, *rows: dict) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def row(number: int | str, **values) -> dict:
    base = {"unit_code": "61", "unit_era": "pre2025", "sheet": 12, "parcel_number": number}
    return {**base, **values}


def key(number: int | str) -> ParcelKey:
    return ParcelKey.of("61", "pre2025", "12", str(number))


def test_batches_record_what_one_by_one_records(store, tmp_path):
    rows = [row(n, area_m2=100 + n, purpose="ODT") for n in range(1, 8)]
    rows[3] = row(4, area_m2="nhiều")
    rows.append(row(34, area_m2=100))
    rows.append(row("34a", area_m2=60, split_from="61/12/34", effective_date="2021-03-01"))
    path = jsonl(tmp_path / "p.jsonl", *rows)
    seen = []

    report = import_records(store, path, batch_rows=3, on_row=lambda r: seen.append(r.line))

    assert (report.registered, report.rows) == (8, 9)
    assert [(r["line"], r["reason"][:7]) for r in report.rejected] == [(4, "area_m2")]
    assert seen == list(range(1, 10))  # every row, in file order
    assert store.record(key(7).id).attributes["area_m2"] == 107
    parent = store.record(key(34).id)  # a batch of its own, the child in the next one
    assert parent.retired == "2021-03-01"
    assert [c["key"] for c in parent.children] == ["00061:pre2025/12/34A"]

    before = store.max_notification_id()
    again = import_records(store, path, batch_rows=4)
    assert (again.unchanged, again.registered, again.updated) == (8, 0, 0)
    assert store.max_notification_id() == before


class RacedStore(RecordStore):
    """A store whose batch lookup is followed, at once, by another writer registering the
    first parcel it was asked about (the lookup said it was not there)."""

    raced = False

    def get_many(self, aggregate_ids):
        ids = list(aggregate_ids)
        found = super().get_many(ids)
        if not self.raced and ids:
            self.raced = True
            other = Record(kind="parcel", key=key(1).as_record_key(), source="other writer")
            other.record_attributes(attributes={"owner": "Trần Thị B"}, source="other writer")
            self.save(other)
        return found


def test_a_batch_another_writer_got_to_first_lands_row_by_row(tmp_path, request):
    url = f"sqlite:///{tmp_path}/e.sqlite3"
    store = RacedStore(env=eventstore_env(url))
    request.addfinalizer(store.close)
    path = jsonl(tmp_path / "p.jsonl", *(row(n, area_m2=50 + n) for n in range(1, 6)))

    report = import_records(store, path)

    # the batch's one save fails on parcel 1; row by row, parcel 1 is updated, not overwritten
    assert (report.registered, report.updated, report.rejected) == (4, 1, [])
    first = store.record(key(1).id)
    assert first.attributes == {"owner": "Trần Thị B", "area_m2": 51}
    assert store.record(key(5).id).attributes["area_m2"] == 55


def test_a_bad_row_that_touched_a_shared_record_leaves_it_untouched(store, tmp_path):
    import_records(store, jsonl(tmp_path / "a.jsonl", row(34, area_m2=100), row(35, area_m2=90)))
    path = jsonl(
        tmp_path / "b.jsonl",
        row("34a", area_m2=60, split_from="61/12/34", effective_date="2021-03-01"),
        # parcel 34 again, with a new area and a split dated in the future: rejected, after
        # its new area was applied to the record the row above retired in the same batch
        row(34, area_m2=120, split_from="61/12/35", effective_date="2999-01-01"),
        row(36, area_m2=70),
    )

    report = import_records(store, path)

    assert report.registered == 2
    assert [(r["line"], "future" in r["reason"]) for r in report.rejected] == [(2, True)]
    parent = store.record(key(34).id)
    assert parent.attributes["area_m2"] == 100  # the rejected row's value is not recorded
    assert parent.retired == "2021-03-01"
    assert store.record(key(35).id).retired is None


def test_get_many_reads_recorded_aggregates_at_their_current_version(store):
    one = Record(kind="parcel", key=key(1).as_record_key(), source="t")
    one.record_attributes(attributes={"area_m2": 1.0}, source="t")
    store.save(one)
    one.record_attributes(attributes={"area_m2": 2.0}, source="t")
    store.save(one)

    found = store.get_many([key(1).id, key(2).id, key(1).id])

    assert list(found) == [key(1).id]
    assert found[key(1).id].version == 3
    assert found[key(1).id].attributes == {"area_m2": 2.0}
