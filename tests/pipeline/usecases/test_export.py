"""Parcels exported for the land database, read back with GDAL (pyogrio)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from models.ids import ParcelKey
from models.record import Record
from pipeline.usecases.export import export_parcels
from pipeline.usecases.lineage import record_change
from tests.helpers import make_services

pyogrio = pytest.importorskip("pyogrio")
E, N = 588_405.0, 2_326_366.0  # Hoàn Kiếm Lake, VN-2000 / TM-3 105° (EPSG:5897)
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[E, N], [E + 20, N], [E + 20, N + 20], [E, N + 20], [E, N]]],
}


@pytest.fixture
def svc(tmp_path):
    s = make_services(tmp_path)
    key = ParcelKey.of("70", "2025", "3", "45")
    r = Record(kind="parcel", key=key.as_record_key(), source="import:a.jsonl:1")
    values = {
        "area_m2": 400.0,
        "purpose": "ODT",
        "owner": "Phạm Thị Mẫu",
        "valid_from": "2010-01-01",
    }
    r.record_attributes(attributes=values, source="import:a.jsonl:1")
    r.set_geometry(geometry=SQUARE, crs="EPSG:5897", source="import:a.jsonl:1")
    s.store.save(r)
    child = ParcelKey.of("70", "2025", "3", "46")
    record_change(
        s.store,
        "renumber",
        [key],
        [child],
        effective=date(2022, 5, 1),
        basis="QĐ 3",
        basis_capture=None,
        recorded_by="minh",
        tolerance=0.02,
    )
    yield s
    s.close()


def test_a_geopackage_has_vbdlis_names_lineage_and_no_owners_for_the_public(svc, tmp_path):
    path = tmp_path / "parcels.gpkg"
    report = export_parcels(svc.store, path, "gpkg", role="public")
    assert report.parcels == 2 and not report.restricted
    meta, _, geometry, fields = pyogrio.raw.read(path)
    assert meta["crs"] == "EPSG:5897" and meta["geometry_type"] == "Polygon"
    columns = list(meta["fields"])
    assert {"MaXa", "SoHieuToBanDo", "SoThuTuThua", "DienTich", "KyHieuMucDichSuDung"} <= set(
        columns
    )
    assert "owner" not in columns
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*fields, strict=True)]
    old = next(r for r in rows if r["SoThuTuThua"] == "45")
    assert (old["MaXa"], old["DienTich"], old["ThuaMoi"]) == ("00070", 400.0, "00070:2025/3/46")
    assert old["NgayChamDut"] == "2022-05-01"
    assert json.loads(old["provenance"])["area_m2"] == "import:a.jsonl:1"
    new = next(r for r in rows if r["SoThuTuThua"] == "46")
    assert new["ThuaGoc"] == "00070:2025/3/45" and new["NgayBatDau"] == "2022-05-01"
    assert all(g is not None for g in geometry)


def test_geojson_is_wgs84_and_officers_get_the_restricted_columns(svc, tmp_path):
    path = tmp_path / "parcels.geojson"
    export_parcels(svc.store, path, "geojson", role="officer", valid_on=date(2020, 1, 1))
    doc = json.loads(path.read_text())
    [feature] = doc["features"]  # the renumbered parcel did not exist yet in 2020
    assert feature["properties"]["owner"] == "Phạm Thị Mẫu"
    assert feature["properties"]["NgayChamDut"] is None
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 105.8 < lon < 105.9 and 21.0 < lat < 21.1  # Hoàn Kiếm, not metres
