"""`sohoa import`: existing parcel and site data become records, idempotently, row by row."""

from __future__ import annotations

import json
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from models.application import RecordRef, RecordStore
from models.language.legacy_encodings import to_unicode
from pipeline.errors import InputRejectedError
from pipeline.settings import eventstore_env
from pipeline.usecases.importing.fieldmaps import COMMON_FIELDS, PARCEL_FIELDS, SITE_FIELDS
from pipeline.usecases.importing.readers import count_rows, detect_format
from pipeline.usecases.importing.records import import_records
from pipeline.usecases.importing.values import PARSERS
from scanners.cli.importing import run_import

DANANG = "land/cadastral_danang/danang_parcels_20248.geojson"
VANDINH = "land/cadastral_vandinh_hanoi/vandinh_sample_parcels.geojson"


@pytest.fixture
def store(tmp_path):
    s = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3"))
    yield s
    s.close()


def parcel(unit="00061", era="pre2025", sheet="12", number="34") -> RecordRef:
    return RecordRef("parcel", {"unit_code": unit, "era": era, "sheet": sheet, "number": number})


def site(code: str) -> RecordRef:
    return RecordRef("site", {"code": code})


def jsonl(path: Path, *rows: object) -> Path:
    path.write_text(
        "".join(
            (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows
        ),
        encoding="utf-8",
    )
    return path


def feature(props: dict, geometry: dict | None) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def collection(path: Path, *features: dict, **members) -> Path:
    doc = {"type": "FeatureCollection", **members, "features": list(features)}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[105.85, 21.03], [105.851, 21.03], [105.851, 21.031], [105.85, 21.03]]],
}


def test_every_documented_field_has_a_parser():
    assert set(PARSERS) == COMMON_FIELDS | SITE_FIELDS | PARCEL_FIELDS


def test_jsonl_sites_with_alias_and_type_lists(store, tmp_path):
    nfd = unicodedata.normalize("NFD", "Văn Miếu – Quốc Tử Giám")
    path = jsonl(
        tmp_path / "sites.jsonl",
        {
            "code": "vmqtg",
            "name": nfd,
            "aliases": ["Văn Miếu", "Quốc Tử Giám", "Văn Miếu"],
            "type": ["di tích lịch sử", "di tích kiến trúc nghệ thuật"],
            "rank": "quốc gia đặc biệt",
            "district": "Đống Đa",
            "lat": 21.0285,
            "lon": 105.8355,
            "published": True,
        },
        "",
        {
            "kind": "site",
            "code": "HN-0002",
            "name": "Đền Ngọc Sơn",
            "aliases": "Đền Ngọc Sơn; Ngọc Sơn từ",
            "type": "di tích lịch sử;di tích kiến trúc nghệ thuật",
            "published": "0",
            "valid_from": "23/11/2024",
        },
    )

    report = import_records(store, path)

    assert (report.rows, report.registered, report.rejected) == (2, 2, [])
    vm = store.record(site("VMQTG").id)
    assert vm.kind == "site" and vm.key == {"code": "VMQTG"}
    assert vm.attributes["name"] == "Văn Miếu – Quốc Tử Giám"  # NFC
    assert unicodedata.is_normalized("NFC", vm.attributes["name"])
    assert vm.attributes["aliases"] == ["Văn Miếu", "Quốc Tử Giám"]
    assert vm.attributes["type"] == ["di tích lịch sử", "di tích kiến trúc nghệ thuật"]
    assert vm.attributes["rank"] == "quốc gia đặc biệt"
    assert vm.published is True
    assert vm.geometry == {
        "geometry": {"type": "Point", "coordinates": [105.8355, 21.0285]},
        "crs": "EPSG:4326",
    }
    assert "lat" not in vm.attributes and "published" not in vm.attributes
    ns = store.record(site("HN-0002").id)
    assert ns.attributes["aliases"] == ["Đền Ngọc Sơn", "Ngọc Sơn từ"]
    assert ns.attributes["type"] == ["di tích lịch sử", "di tích kiến trúc nghệ thuật"]
    assert ns.attributes["valid_from"] == "2024-11-23"
    assert ns.published is False and ns.geometry is None
    assert ns.provenance["name"] == "import:sites.jsonl:3"  # the file line, blank lines counted


def test_csv_parcels_with_plain_names_and_a_decimal_comma(store, tmp_path):
    path = tmp_path / "parcels.csv"
    path.write_bytes(
        "\ufeffunit_code;unit_era;sheet;parcel_number;area_m2;purpose;address;owner;lat;lon\n"
        "61;pre2025;12;034;12,5;ODT;Hàng Bạc;Nguyễn Văn A;21,0341;105,8520\n"
        "00061;pre2025;12;35;1.234,5;ODT+CLN;;;;\n"
        '00070;2025;3;7;"98.25";TMD;"Phố Hàng Bạc; Hoàn Kiếm";;;\n'.encode()
    )

    report = import_records(store, path)

    assert report.format == "csv"
    assert (report.registered, report.rejected) == (3, [])
    first = store.record(parcel().id)  # "61" and "034" are the same key as "00061" and "34"
    assert first.key == {"unit_code": "00061", "era": "pre2025", "sheet": "12", "number": "34"}
    assert first.attributes["area_m2"] == 12.5
    assert first.attributes["owner"] == "Nguyễn Văn A"
    assert first.geometry["geometry"]["coordinates"] == [105.852, 21.0341]
    second = store.record(parcel(number="35").id)
    assert second.attributes == {"area_m2": 1234.5, "purpose": "ODT+CLN"}  # empty cells: absent
    third = store.record(parcel("00070", "2025", "3", "7").id)
    assert third.attributes["area_m2"] == 98.25
    assert third.attributes["address"] == "Phố Hàng Bạc; Hoàn Kiếm"
    assert third.provenance["area_m2"] == "import:parcels.csv:4"


def test_vbdlis_geojson_maps_vendor_fields_and_defaults_to_pre2025(store, tmp_path):
    path = collection(
        tmp_path / "export.geojson",
        feature(
            {
                "OBJECTID": 7,
                "MaXa": "00061",
                "SoHieuToBanDo": 12,
                "SoThuTuThua": 34,
                "DienTich": 155.4,
                "KyHieuMucDichSuDung": "ODT",
                "soHieuToBanDoCu": "5",
                "soThuTuThuaCu": "120",
            },
            SQUARE,
        ),
    )

    report = import_records(store, path)

    assert (report.format, report.registered, report.rejected) == ("geojson", 1, [])
    r = store.record(parcel().id)
    assert r.attributes == {
        "area_m2": 155.4,
        "purpose": "ODT",
        "old_sheet": "5",
        "old_parcel_number": "120",
        "extra": {"OBJECTID": 7},
    }
    assert r.geometry == {"geometry": SQUARE, "crs": "EPSG:4326"}
    assert r.provenance["purpose"] == "import:export.geojson:feature 1"


def test_reimport_adds_no_events(store, tmp_path):
    path = collection(
        tmp_path / "export.geojson",
        feature({"MaXa": "61", "SoHieuToBanDo": 1, "SoThuTuThua": 1, "DienTich": 10.5}, SQUARE),
        feature({"MaXa": "61", "SoHieuToBanDo": 1, "SoThuTuThua": 2, "DienTich": 11}, None),
        feature({"kind": "site", "code": "S1", "published": True}, SQUARE),
    )
    first = import_records(store, path)
    assert first.registered == 3
    before = store.max_notification_id()

    again = import_records(store, path)

    assert (again.unchanged, again.registered, again.updated) == (3, 0, 0)
    assert store.max_notification_id() == before


def test_a_changed_row_records_only_what_changed_and_as_of_shows_the_past(store, tmp_path):
    row = {"unit_code": "61", "unit_era": "pre2025", "sheet": 12, "parcel_number": 34}
    import_records(store, jsonl(tmp_path / "v1.jsonl", {**row, "area_m2": 100, "purpose": "ODT"}))
    between = datetime.now(UTC)
    time.sleep(0.01)
    v2 = jsonl(
        tmp_path / "v2.jsonl",
        {"note": "this line is bad"},
        {**row, "area_m2": "120,5", "purpose": "ODT", "valid_from": "2024-05-01"},
    )

    report = import_records(store, v2)

    assert (report.updated, len(report.rejected)) == (1, 1)
    rid = parcel().id
    assert store.record(rid).attributes["area_m2"] == 120.5
    assert store.as_of(rid, between).attributes["area_m2"] == 100
    recorded = [e for e in store.history(rid) if e.event.endswith("AttributesRecorded")]
    assert [e.data["source"] for e in recorded] == ["import:v1.jsonl:1", "import:v2.jsonl:2"]
    # only the changed attribute, with the date the values took effect
    assert recorded[1].data["attributes"] == {"area_m2": 120.5, "valid_from": "2024-05-01"}


def test_bad_rows_are_reported_with_their_line_and_the_rest_imports(store, tmp_path):
    good = {"unit_code": "61", "unit_era": "pre2025", "sheet": 1}
    path = jsonl(
        tmp_path / "mixed.jsonl",
        {**good, "parcel_number": 1, "area_m2": 10},
        "{not json",
        {**good, "parcel_number": 2, "aera_m2": 10},
        {**good, "parcel_number": 3, "area_m2": "12,5m2"},
        {"unit_code": "61", "sheet": 1, "parcel_number": 4},
        {**good, "parcel_number": 5, "rank": "quốc gia"},
        {"name": "no key at all"},
        ["a", "list"],
        {**good, "parcel_number": 6, "owner": 123456789012},
        {**good, "parcel_number": 7, "lat": 21.0},
        {**good, "parcel_number": 1, "area_m2": 11},
        {**good, "parcel_number": 8, "area_m2": 10},
    )

    report = import_records(store, path)

    assert report.registered == 2
    reasons = {r["line"]: r["reason"] for r in report.rejected}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "not valid JSON" in reasons[2]
    assert "'aera_m2'" in reasons[3]
    assert "area_m2" in reasons[4] and "12,5m2" in reasons[4]
    assert "unit_era" in reasons[5]
    assert "rank" in reasons[6] and "parcel" in reasons[6]
    assert "kind" in reasons[7]
    assert "JSON object" in reasons[8]
    assert "owner" in reasons[9] and "123456789012" not in reasons[9]  # personal data stays out
    assert "lat and lon" in reasons[10]
    assert "same parcel as line 1" in reasons[11]
    assert all(r["where"] == f"line {r['line']}" for r in report.rejected)
    assert store.record(parcel("61", number="8", sheet="1").id).attributes["area_m2"] == 10
    assert store.record(parcel("61", number="1", sheet="1").id).attributes["area_m2"] == 10


def test_broken_geometry_is_reported_per_feature(store, tmp_path):
    def props(n: int) -> dict:
        return {"MaXa": "61", "SoHieuToBanDo": 1, "SoThuTuThua": n}

    open_ring = [[105.85, 21.03], [105.851, 21.03], [105.851, 21.031], [105.852, 21.031]]
    path = collection(
        tmp_path / "broken.geojson",
        feature(props(1), SQUARE),
        feature(props(2), {"type": "Polygon", "coordinates": [open_ring]}),
        feature(props(3), {"type": "Polygon", "coordinates": [open_ring[:2] + open_ring[:1]]}),
        feature(props(4), {"type": "Point", "coordinates": [105.8, "21.0"]}),
        feature(props(5), {"type": "Circle", "coordinates": [105.8, 21.0]}),
        feature(props(6), {"type": "Point", "coordinates": [588405.0, 2326366.0]}),
        feature(props(7), {"type": "Point", "coordinates": [21.03, 105.85]}),
        feature(props(8), {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]}),
        "not a feature",
    )

    report = import_records(store, path)

    assert report.registered == 2
    reasons = {r["where"]: r["reason"] for r in report.rejected}
    assert sorted(reasons) == [f"feature {n}" for n in range(2, 8)] + ["feature 9"]
    assert "not closed" in reasons["feature 2"]
    assert "3 positions" in reasons["feature 3"]
    assert "not a finite number" in reasons["feature 4"]
    assert "'Circle'" in reasons["feature 5"]
    assert "crs" in reasons["feature 6"] and "EPSG" in reasons["feature 6"]
    assert "axes swapped" in reasons["feature 7"]
    assert "not a GeoJSON Feature" in reasons["feature 9"]
    assert all(r.startswith("geometry: ") for w, r in reasons.items() if w != "feature 9")


def test_a_vn2000_crs_member_is_recorded(store, tmp_path):
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5897"}}
    point = {"type": "Point", "coordinates": [588405.0, 2326366.0]}  # Hoàn Kiếm Lake, E/N
    swapped = {"type": "Point", "coordinates": [2326366.0, 588405.0]}
    path = collection(
        tmp_path / "vn2000.geojson",
        feature({"MaXa": "61", "SoHieuToBanDo": 1, "SoThuTuThua": 1}, point),
        feature({"MaXa": "61", "SoHieuToBanDo": 1, "SoThuTuThua": 2}, swapped),
        crs=crs,
    )

    report = import_records(store, path)

    assert report.registered == 1
    assert "(E, N)" in report.rejected[0]["reason"]
    r = store.record(parcel("61", sheet="1", number="1").id)
    assert r.geometry == {"geometry": point, "crs": "EPSG:5897"}


def test_format_is_decided_by_content(tmp_path):
    lines = jsonl(tmp_path / "rows.json", {"code": "A"}, {"code": "B"})
    pretty = collection(tmp_path / "export.txt", feature({"code": "A"}, None))
    one_line = tmp_path / "one.jsonl"
    one_line.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    table = tmp_path / "table.dat"
    table.write_text("code,name\nA,x\n")
    broken_first = jsonl(tmp_path / "rows", "{broken", {"code": "A"}, {"code": "B"})
    array = tmp_path / "rows.geojson"
    array.write_text("[]")

    assert detect_format(lines) == "jsonl"
    assert detect_format(pretty) == "geojson"
    assert detect_format(one_line) == "geojson"
    assert detect_format(table) == "csv"
    assert detect_format(broken_first) == "jsonl"
    with pytest.raises(InputRejectedError, match="JSON array"):
        detect_format(array)
    assert (count_rows(lines), count_rows(pretty), count_rows(table)) == (2, 1, 1)


def test_unreadable_files_raise(store, tmp_path):
    not_fc = tmp_path / "x.geojson"
    not_fc.write_text('{"type": "Point", "coordinates": [1, 2]}')
    with pytest.raises(InputRejectedError, match="FeatureCollection"):
        import_records(store, not_fc)
    with pytest.raises(InputRejectedError, match="cannot read"):
        import_records(store, tmp_path / "missing.csv")
    with pytest.raises(InputRejectedError, match="unknown default"):
        import_records(store, jsonl(tmp_path / "a.jsonl", {"code": "A"}), defaults={"x": 1})


def test_run_import_prints_json_rows_and_exits_1_on_a_rejection(store, tmp_path, capsys):
    path = jsonl(tmp_path / "sites.jsonl", {"code": "A", "name": "Đình"}, {"code": "B", "x": 1})
    settings = SimpleNamespace(operator="test", split_area_tolerance=0.02)
    svc = SimpleNamespace(store=store, settings=settings)

    assert run_import(svc, path, as_json=True) == 1

    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(o["line"], o["status"]) for o in out] == [(1, "registered"), (2, "rejected")]
    assert out[0]["record_id"] == str(site("A").id) and out[0]["error"] is None
    assert "'x'" in out[1]["error"]

    path.write_text(json.dumps({"code": "A", "name": "Đình"}) + "\n")
    assert run_import(svc, path, as_json=False) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("sites.jsonl: 1 rows, 0 registered, 0 updated, 1 unchanged")


def test_real_danang_export(store, shared_data):
    path = shared_data / DANANG
    started = time.perf_counter()
    report = import_records(store, path)
    first = time.perf_counter() - started
    before = store.max_notification_id()
    started = time.perf_counter()
    again = import_records(store, path)
    second = time.perf_counter() - started
    print(
        f"\nDa Nang: {report.rows} rows in {first:.2f} s ({report.rows / first:.0f} rows/s);"
        f" re-import {second:.2f} s ({again.rows / second:.0f} rows/s)"
    )

    assert report.rows == 1955
    # three parcel keys occur twice in the export (sheet 1 parcels 4 and 5000, sheet 5 parcel
    # 5000): the first row of each wins and the second is reported
    assert report.registered == 1952
    assert len(report.rejected) == 3
    assert all("same parcel as feature" in r["reason"] for r in report.rejected)
    assert (again.unchanged, again.registered, again.updated) == (1952, 0, 0)
    assert store.max_notification_id() == before
    r = store.record(parcel("20248", "pre2025", "1", "149").id)
    assert r.attributes["purpose"] == "DCH"
    assert r.attributes["extra"] == {"OBJECTID": 1133479}
    assert r.geometry["crs"] == "EPSG:4326" and r.geometry["geometry"]["type"] == "Polygon"


def test_real_vandinh_register_needs_a_unit_code_and_converts_legacy_text(store, shared_data):
    path = shared_data / VANDINH
    report = import_records(store, path)
    assert report.registered == 0 and len(report.rejected) == 100
    assert "unit_code" in report.rejected[0]["reason"]

    # Thị trấn Vân Đình, huyện Ứng Hòa: GSO code 10354 before the 2025 reorganisation
    report = import_records(store, path, defaults={"unit_code": "10354", "unit_era": "pre2025"})

    assert (report.registered, report.rejected) == (100, [])
    raw = json.loads(path.read_text(encoding="utf-8"))["features"][0]["properties"]
    r = store.record(parcel("10354", "pre2025", raw["to_ban_do"], raw["so_thua"]).id)
    # the register was typed in a TCVN3 font: stored as Unicode
    assert r.attributes["address"] == to_unicode(raw["dia_chi"], "tcvn3")
    assert r.attributes["address"] != raw["dia_chi"]
    assert r.attributes["address"].startswith(("Thôn", "Đồng", "Xóm"))
    assert r.attributes["owner"] == to_unicode(raw["ten_chu"], "tcvn3")
    assert r.attributes["purpose"] == raw["mdsd2003"]
    assert r.attributes["extra"] == {"id": raw["id"], "loai_dat": raw["loai_dat"]}
    assert r.geometry["geometry"]["type"] == "Point"
