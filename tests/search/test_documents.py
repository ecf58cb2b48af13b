"""Search documents from real records: what is public, what is restricted, where things are."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from models.application import Receipt, RecordRef, RecordStore
from models.record import RESTRICTED_ATTRIBUTES, Record
from pipeline.usecases.importing.records import import_records
from search.documents import (
    capture_document,
    capture_version,
    captured_version,
    record_document,
)

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


def receive(store: RecordStore, data: bytes, name: str, kind: str, *links: RecordRef):
    sha = hashlib.sha256(data).hexdigest()
    receipt = Receipt(
        sha, f"sha256/{sha}", len(data), "image/png", kind, name, "station-1", "lan", {"dpi": 300}
    )
    capture_id, _ = store.receive(receipt, list(links))
    return store.capture(capture_id)


CERTIFICATE_TEXT = "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT. Người sử dụng đất: bà Lê Thị Mận"


def test_an_unlinked_capture_is_staff_material_with_its_text_restricted(store):
    capture = receive(store, b"a certificate", "/srv/inbox/Lê Thị Mận/gcn.png", "land-certificate")

    doc = capture_document(capture, text=CERTIFICATE_TEXT)

    assert (doc.id, doc.kind, doc.published, doc.title) == (
        str(capture.id),
        "capture",
        False,
        "gcn.png",  # the folders, which may name people, are left out
    )
    assert captured_version(doc.version) == capture.version
    assert doc.text == "" and doc.restricted["text"] == CERTIFICATE_TEXT
    assert (
        doc.public["capture_kind"] == "land-certificate" and doc.public["media_type"] == "image/png"
    )
    assert {"names", "operator", "source", "sha256", "meta"} <= set(doc.restricted)
    assert "Mận" not in json.dumps(doc.public, ensure_ascii=False)


def test_a_scan_of_a_published_site_is_public_with_its_text(store, tmp_path):
    site = imported(store, tmp_path, SITE)
    capture = receive(store, b"a stele", "bia-1442.png", "document", _ref("site", SITE))
    site = store.record(site.id)

    doc = capture_document(capture, "Đại Bảo tam niên Nhâm Tuất khoa", [site])

    assert doc.published and doc.text.startswith("Đại Bảo")
    assert doc.public["records"] == ["Văn Miếu – Quốc Tử Giám"]
    assert "text" not in doc.restricted and "operator" in doc.restricted
    assert doc.version == capture_version(capture.version, [site.version])


def test_a_capture_of_a_parcel_is_never_public(store, tmp_path):
    parcel = imported(store, tmp_path, PARCEL)
    site = imported(store, tmp_path, SITE)
    refs = (_ref("parcel", PARCEL), _ref("site", SITE))
    capture = receive(store, b"both", "gcn.png", "land-certificate", *refs)
    linked = [store.record(parcel.id), store.record(site.id)]

    doc = capture_document(capture, CERTIFICATE_TEXT, linked)

    assert not doc.published and doc.text == "" and doc.restricted["text"] == CERTIFICATE_TEXT


def test_a_capture_version_grows_with_the_capture_and_with_its_records():
    assert capture_version(2, [5]) > capture_version(1, [5, 900])
    assert capture_version(2, [6]) > capture_version(2, [5])
    assert capture_version(2, [5, 1]) > capture_version(2, [5])  # a new link
    assert captured_version(capture_version(7, [3, 4])) == 7


def test_a_land_certificate_scan_is_never_public_even_of_a_site(store, tmp_path):
    site = imported(store, tmp_path, SITE)
    capture = receive(store, b"odd", "gcn.png", "land-certificate", _ref("site", SITE))

    doc = capture_document(capture, CERTIFICATE_TEXT, [store.record(site.id)])

    assert not doc.published and doc.restricted["text"] == CERTIFICATE_TEXT
