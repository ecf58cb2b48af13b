"""Search documents from real records: what is public, what is restricted, where things are."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from models.record import RESTRICTED_ATTRIBUTES, Record
from models.store import Receipt, RecordRef, RecordStore
from pipeline.importer import import_records
from search.documents import capture_document, record_document

SITE = {
    "code": "hn-0001",
    "name": "Văn Miếu – Quốc Tử Giám",
    "aliases": "Văn Miếu; Quốc Tử Giám",
    "type": "di tích lịch sử; kiến trúc nghệ thuật",
    "rank": "quốc gia đặc biệt",
    "period": "Lý",
    "ward": "Phường Văn Miếu - Quốc Tử Giám",
    "district": "Đống Đa",
    "description": "Trường đại học đầu tiên của Việt Nam.",
    "lat": 21.0293,
    "lon": 105.8355,
    "published": True,
}
PARCEL = {
    "unit_code": "00061",
    "unit_era": "pre2025",
    "sheet": "12",
    "parcel_number": "34",
    "area_m2": "120,5",
    "purpose": "ODT",
    "address": "Hàng Bạc",
    "ward": "Hàng Bạc",
    "owner": "Lê Thị Mận",
    "owner_address": "12 Hàng Bạc",
    "serial": "CS 01234",
    "registry_number": "VP-123",
    "description": "Ghi chú của cán bộ: bà Lê Thị Mận",
    "published": True,
}


def write_jsonl(path: Path, *rows: dict) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def imported(store: RecordStore, tmp_path: Path, row: dict) -> Record:
    report = import_records(store, write_jsonl(tmp_path / "rows.jsonl", row))
    assert not report.rejected, report.rejected
    kind = "parcel" if "unit_code" in row else "site"
    return store.record(_ref(kind, row).id)


def _ref(kind: str, row: dict) -> RecordRef:
    if kind == "site":
        return RecordRef("site", {"code": row["code"].upper()})
    key = {"unit_code": row["unit_code"], "era": row["unit_era"]}
    return RecordRef("parcel", {**key, "sheet": row["sheet"], "number": row["parcel_number"]})


def test_a_published_site_is_public_with_its_heritage_fields(store, tmp_path):
    record = imported(store, tmp_path, SITE)
    doc = record_document(record)
    assert (doc.id, doc.version, doc.kind, doc.published) == (
        str(record.id),
        record.version,
        "site",
        True,
    )
    assert doc.title == SITE["name"]
    assert doc.public["type"] == ["di tích lịch sử", "kiến trúc nghệ thuật"]
    assert doc.public["aliases"] == ["Văn Miếu", "Quốc Tử Giám"]
    assert doc.public["rank"] == "quốc gia đặc biệt" and doc.public["district"] == "Đống Đa"
    assert doc.public["has_model"] is False and doc.public["has_documents"] is False
    assert doc.point == pytest.approx((21.0293, 105.8355))
    assert (doc.public["lat"], doc.public["lon"]) == pytest.approx((21.0293, 105.8355))
    assert doc.text == SITE["description"] and doc.restricted == {}


def test_an_unpublished_site_is_not_public(store, tmp_path):
    doc = record_document(imported(store, tmp_path, {**SITE, "published": False}))
    assert doc.published is False


def test_a_parcel_shows_only_cadastral_fields_publicly(store, tmp_path):
    record = imported(store, tmp_path, PARCEL)
    doc = record_document(record)
    assert doc.kind == "parcel" and doc.published is True
    expected = {"unit_code": "00061", "era": "pre2025", "sheet": "12", "parcel_number": "34"}
    assert expected.items() <= doc.public.items()
    assert doc.public["area_m2"] == 120.5 and doc.public["purpose"] == "ODT"
    assert doc.public["address"] == "Hàng Bạc"
    assert {"owner", "owner_address", "serial", "registry_number"} <= set(doc.restricted)
    assert "description" in doc.restricted  # officers' notes may name people
    assert "Mận" not in json.dumps(doc.public, ensure_ascii=False) + doc.title + doc.text


def test_an_unpublished_parcel_is_not_public(store, tmp_path):
    doc = record_document(imported(store, tmp_path, {**PARCEL, "published": False}))
    assert doc.published is False


@pytest.mark.parametrize("kind", ["parcel", "site", "document"])
def test_restricted_attributes_are_never_public(kind):
    key = {"parcel": {"unit_code": "00061", "era": "pre2025", "sheet": "1", "number": "2"}}
    record = Record(kind=kind, key=key.get(kind, {"code": "X1"}), source="test")
    personal = {name: f"secret {name}" for name in RESTRICTED_ATTRIBUTES}
    record.record_attributes(attributes={**personal, "extra": {"id": "7"}}, source="test")
    record.publish()
    doc = record_document(record)
    assert not set(doc.public) & (RESTRICTED_ATTRIBUTES | {"extra"})
    assert set(personal) | {"extra"} <= set(doc.restricted)
    assert "secret" not in json.dumps(doc.public) + doc.title + doc.text


def test_vn2000_geometry_is_converted_to_wgs84(store, tmp_path):
    pytest.importorskip("pyproj")
    e, n = 588405.0, 2326366.0  # Hoàn Kiếm Lake in VN-2000 / TM-3 105° (EPSG:5897)
    ring = [
        [e - 10, n - 10],
        [e + 10, n - 10],
        [e + 10, n + 10],
        [e - 10, n + 10],
        [e - 10, n - 10],
    ]
    props = {k: v for k, v in PARCEL.items() if k != "published"}
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5897"}},
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    path = tmp_path / "parcels.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), "utf-8")
    assert not import_records(store, path).rejected
    doc = record_document(store.record(_ref("parcel", PARCEL).id))
    lon, lat = doc.shape["coordinates"][0][0]
    assert 105.85 < lon < 105.86 and 21.02 < lat < 21.03
    assert doc.point == pytest.approx((21.0287, 105.8524), abs=2e-4)
    assert doc.public["geometry"] == doc.shape


def test_a_capture_is_never_public_and_carries_its_text(store):
    data = b"a scanned land certificate"
    sha = hashlib.sha256(data).hexdigest()
    receipt = Receipt(
        sha,
        f"sha256/{sha}",
        len(data),
        "image/png",
        "land-certificate",
        "gcn.png",
        "station-1",
        "lan",
        {"dpi": 300},
    )
    capture_id, _ = store.receive(receipt)
    capture = store.capture(capture_id)
    doc = capture_document(capture, text="GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT")
    assert (doc.id, doc.version, doc.kind, doc.published) == (
        str(capture_id),
        capture.version,
        "capture",
        False,
    )
    assert doc.title == "gcn.png" and doc.text.startswith("GIẤY CHỨNG NHẬN")
    assert (
        doc.public["capture_kind"] == "land-certificate" and doc.public["media_type"] == "image/png"
    )
