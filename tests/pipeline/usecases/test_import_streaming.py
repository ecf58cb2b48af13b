"""`sohoa import` reads GeoJSON feature by feature: a file that breaks part way keeps what
came before the fault, and the fault is reported with its place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.application import RecordStore
from pipeline.errors import InputRejectedError
from pipeline.settings import eventstore_env
from pipeline.usecases.importing.readers import count_rows, read_rows
from pipeline.usecases.importing.records import import_records

BOM = "\ufeff"


@pytest.fixture
def store(tmp_path):
    s = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3"))
    yield s
    s.close()


def feature_text(n: int) -> str:
    props = {"MaXa": "61", "SoHieuToBanDo": 1, "SoThuTuThua": n, "DienTich": 100 + n}
    point = {"type": "Point", "coordinates": [105.85 + n * 1e-5, 21.03]}
    return json.dumps({"type": "Feature", "geometry": point, "properties": props})


def write(path: Path, features: list[str], head: str = '"type": "FeatureCollection"') -> Path:
    path.write_text("{" + head + ', "features": [\n' + ",\n".join(features) + "\n]}\n")
    return path


def test_malformed_json_mid_file_keeps_the_rows_before_and_names_the_place(store, tmp_path):
    # Given 3,000 features (more than one read of the parser) with feature 2,500 broken
    features = [feature_text(n) for n in range(1, 3001)]
    features[2499] = features[2499].replace('"properties": {', '"properties": {,')
    path = write(tmp_path / "parcels.geojson", features)

    # When it is imported
    report = import_records(store, path, batch_rows=400)

    # Then the 2,499 features before the fault land, and the fault is the one rejected row
    assert report.registered == 2499
    assert len(report.rejected) == 1
    fault = report.rejected[0]
    assert fault["line"] == 2500
    assert fault["where"].startswith("feature 2500 onwards (byte ")
    offset = int(fault["where"].split("byte ")[1].rstrip(")").replace(",", ""))
    text = path.read_bytes()
    assert text.rfind(b"{,", 0, offset + 1) > text.rfind(b"\n", 0, offset)  # on the bad line
    assert "not valid JSON" in fault["reason"] and "not read" in fault["reason"]


def test_a_file_broken_before_its_first_feature_is_rejected_whole(store, tmp_path):
    path = write(tmp_path / "broken.geojson", ['{"type": "Feature", "properties": {,}}'])

    with pytest.raises(InputRejectedError, match="not valid JSON"):
        import_records(store, path)
    assert count_rows(path) == 1


def test_members_before_features_are_read_and_a_bom_is_skipped(tmp_path):
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5897"}}
    head = f'"type": "FeatureCollection", "name": "x", "crs": {json.dumps(crs)}'
    path = write(tmp_path / "vn2000.geojson", [feature_text(1), feature_text(2)], head)
    path.write_text(BOM + path.read_text())

    rows = list(read_rows(path, "geojson"))

    assert [(r.where, r.crs, r.values["SoThuTuThua"]) for r in rows] == [
        ("feature 1", "EPSG:5897", 1),
        ("feature 2", "EPSG:5897", 2),
    ]


def test_a_features_member_that_is_not_a_list_is_refused(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text('{"type": "FeatureCollection", "features": {"a": 1}}')

    with pytest.raises(InputRejectedError, match="features list"):
        list(read_rows(path, "geojson"))


def test_a_lone_feature_is_one_row(tmp_path):
    path = tmp_path / "one.geojson"
    path.write_text(feature_text(7))

    rows = list(read_rows(path, "geojson"))

    assert [(r.where, r.values["SoThuTuThua"]) for r in rows] == [("feature 1", 7)]


def test_count_rows_streams_and_counts_every_feature(tmp_path):
    path = write(tmp_path / "many.geojson", [feature_text(n) for n in range(1, 5001)])

    assert count_rows(path) == 5000


def test_a_store_in_a_folder_named_memory_is_kept_on_disk(tmp_path):
    # a path that merely contains "memory" once made the store in-memory: data lost at exit
    db = tmp_path / "import-memory" / "events.sqlite3"
    path = write(tmp_path / "one.geojson", [feature_text(1)])
    store = RecordStore(env=eventstore_env(f"sqlite:///{db}"))
    assert import_records(store, path).registered == 1
    store.close()

    again = RecordStore(env=eventstore_env(f"sqlite:///{db}"))
    assert import_records(again, path).unchanged == 1
    again.close()
    assert db.exists()


def test_bytes_that_are_not_utf8_mid_file_keep_the_rows_before(store, tmp_path):
    features = [feature_text(n) for n in range(1, 3001)]
    path = write(tmp_path / "latin1.geojson", features)
    data = path.read_bytes()
    at = data.index(b'"SoThuTuThua": 2500,')
    path.write_bytes(data[:at] + b'"ghi_ch\xfa": 1, ' + data[at:])

    report = import_records(store, path)

    assert report.registered == 2499
    assert [(r["where"].split(" (")[0], r["reason"]) for r in report.rejected] == [
        ("feature 2500 onwards", "not valid UTF-8: the rest of the file was not read")
    ]
