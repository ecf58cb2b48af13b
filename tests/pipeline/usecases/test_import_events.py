"""A record an import registers gets its events straight from the row: the very events its
aggregate would record, however the store encodes them; one named as a parent later in the
same batch is built as an aggregate after all."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from eventsourcing.persistence import JSONTranscoder, Mapper

from models.application import RecordRef, RecordStore
from models.ids import ParcelKey
from models.record import Record
from pipeline.settings import eventstore_env
from pipeline.usecases.importing.events import batch_encoder, registration_events
from pipeline.usecases.importing.geometry import _positions, check_geometry
from pipeline.usecases.importing.lineage import Parents
from pipeline.usecases.importing.records import import_records
from pipeline.usecases.importing.rows import ParsedRow, RowRejected
from pipeline.usecases.importing.saving import Context, change_record

KEY = ParcelKey.of("61", "pre2025", "12", "7")
GEOMETRY = {"type": "Point", "coordinates": [105.81, 21.02]}


@pytest.fixture(params=["plain", "compressed"])
def store(request, tmp_path):
    env = eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3")
    if request.param == "compressed":
        env["COMPRESSOR_TOPIC"] = "zlib"
    s = RecordStore(env=env)
    yield s
    s.close()


def parsed(**values) -> ParsedRow:
    fields = {
        "attributes": {"area_m2": 120.5, "purpose": "ODT", "extra": {"OBJECTID": 7}},
        "geometry": GEOMETRY,
        "crs": "EPSG:4326",
        "publish": True,
        "valid_from": "2020-01-02",
    } | values
    return ParsedRow(ref=RecordRef("parcel", KEY.as_record_key()), **fields)


def through_the_aggregate(store: RecordStore, row: ParsedRow) -> list:
    record = Record(kind="parcel", key=KEY.as_record_key(), source="import:f:1")
    context = Context(store, Parents(store), "t", date(2026, 1, 1), 0.02)
    change_record(context, record, row, "import:f:1", lambda key: None)
    return [store.mapper.to_stored_event(e) for e in record.collect_events()]


def decoded(store: RecordStore, stored: list) -> list[tuple[str, int, dict]]:
    out = []
    for s in stored:
        state = dict(store.mapper.to_domain_event(s).__dict__)
        state.pop("timestamp")
        out.append((s.topic, s.originator_version, state))
    return out


@pytest.mark.parametrize(
    "values",
    [{}, {"publish": False, "valid_from": None}, {"attributes": {}, "geometry": None}],
    ids=["everything", "unpublished-undated", "key-only"],
)
def test_a_new_records_events_are_the_ones_its_aggregate_records(store, values):
    row = parsed(**values)
    ours = registration_events(store.mapper, KEY.id, row, "import:f:1")
    assert decoded(store, ours) == decoded(store, through_the_aggregate(store, row))
    store.recorder.insert_events(ours)
    record = store.record(KEY.id)  # and they load as the aggregate
    assert (record.version, record.published) == (len(ours), row.publish)
    assert record.geometry == ({"geometry": GEOMETRY, "crs": "EPSG:4326"} if row.geometry else None)


def test_a_record_registered_then_named_as_parent_in_one_batch_is_derived_from(tmp_path):
    store = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3"))
    base = {"unit_code": "61", "unit_era": "pre2025", "sheet": 12}
    rows = [
        {**base, "parcel_number": 34, "area_m2": 100},
        {**base, "parcel_number": 35, "area_m2": 80},
        {
            **base,
            "parcel_number": "34a",
            "area_m2": 60,
            "split_from": "61/12/34",
            "effective_date": "2021-03-01",
        },
    ]
    path = Path(tmp_path / "p.jsonl")
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    report = import_records(store, path)

    assert (report.registered, report.rejected) == (3, [])
    parent = store.record(ParcelKey.of("61", "pre2025", "12", "34").id)
    child = store.record(ParcelKey.of("61", "pre2025", "12", "34a").id)
    assert parent.retired == "2021-03-01" and parent.attributes["area_m2"] == 100
    assert child.derived_by == parent.retired_by and len(child.parents) == 1
    assert [e.event for e in store.history(parent.id)] == [
        "Record.Registered",
        "Record.AttributesRecorded",
        "Record.Retired",
    ]
    store.close()


@pytest.mark.parametrize(
    "coordinates",
    [
        [[[105.8, 21.0], [105.9, 21.0], [105.9, 21.1], [105.8, 21.0]]],  # kept as it is
        [[[105, 21], [105.9, 21.0], [105.9, 21.1], [105, 21]]],  # integers become floats
        [[[105.8, 21.0, 3.0], [105.9, 21.0, 3.0], [105.9, 21.1, 3], [105.8, 21.0, 3.0]]],
    ],
    ids=["floats", "integers", "with-z"],
)
def test_a_checked_polygon_is_the_same_by_either_path(coordinates):
    polygon = {"type": "Polygon", "coordinates": coordinates}
    checked = check_geometry(polygon)
    assert checked["coordinates"] == _positions(coordinates, 2, "EPSG:4326")
    assert all(type(v) is float for ring in checked["coordinates"] for p in ring for v in p)


@pytest.mark.parametrize(
    ("position", "reason"),
    [
        ([float("nan"), 21.0], "is not a finite number"),
        ([21.0, 105.8], "axes swapped?"),
        ([True, 21.0], "is not a finite number"),
        ([105.8], "a position must be"),
    ],
)
def test_a_bad_position_is_still_worded_by_the_full_check(position, reason):
    ring = [[105.8, 21.0], position, [105.9, 21.1], [105.8, 21.0]]
    with pytest.raises(RowRejected, match=re.escape(reason)):
        check_geometry({"type": "Polygon", "coordinates": [ring]})


def test_a_repeated_key_is_rejected_naming_its_first_row_within_and_across_batches(tmp_path):
    store = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3"))
    base = {"unit_code": "61", "unit_era": "pre2025", "sheet": 12}
    numbers = [1, 2, "01", 3, 2, 4, 1]  # "01" is parcel 1; batches of 3: (1 2 01) (3 2 4) (1)
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({**base, "parcel_number": n}) + "\n" for n in numbers))

    report = import_records(store, path, batch_rows=3)

    assert report.registered == 4
    assert [(r["line"], r["reason"].split(" (")[0]) for r in report.rejected] == [
        (3, "same parcel as line 1"),
        (5, "same parcel as line 2"),
        (7, "same parcel as line 1"),
    ]
    store.close()


def test_a_batch_is_written_in_the_order_of_the_stores_key(tmp_path):
    store = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3"))
    base = {"unit_code": "61", "unit_era": "pre2025", "sheet": 12, "area_m2": 50}
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps({**base, "parcel_number": n}) + "\n" for n in range(20)))

    import_records(store, path)

    logged = [(n.originator_id.int, n.originator_version) for n in store.notifications()]
    assert len(logged) == 40 and logged == sorted(logged)
    store.close()


@pytest.mark.parametrize(
    "state",
    [
        {"timestamp": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "kind": "parcel"},
        {"owner": "Nguyễn Văn A", "area_m2": 0.1 + 0.2, "n": [1, -2.5e-9, None, True]},
        {"geometry": GEOMETRY, "extra": {"OBJECTID": 7, "ghi chú": 'a "b"\n'}},
        "a lone string",
    ],
    ids=["datetime", "text-and-numbers", "nested", "string"],
)
def test_a_batch_encoder_writes_the_bytes_the_transcoder_writes(store, state):
    encode = batch_encoder(store.mapper)
    assert encode is not store.mapper.transcoder.encode  # the library's JSON transcoder
    assert [encode(state), encode(state)] == [store.mapper.transcoder.encode(state)] * 2


def test_a_batch_encoder_of_another_transcoder_is_its_own_encode(store):
    class Other(JSONTranscoder):
        pass

    mapper = Mapper(transcoder=Other())
    assert batch_encoder(mapper) == mapper.transcoder.encode
