"""Records for web tests, built through the Record aggregate (fictional people only)."""

from __future__ import annotations

from models.record import Record
from models.store import RecordStore

OWNER = "Trần Thị Bích Ngọc"
ID_NUMBER = "001190012345"
XSS = "<script>alert(1)</script>"
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[105.80, 21.02], [105.801, 21.02], [105.801, 21.021], [105.80, 21.021], [105.80, 21.02]]
    ],
}


def site(store: RecordStore, code: str, name: str, published: bool = True, **attrs) -> Record:
    r = Record(kind="site", key={"code": code}, source="test")
    r.record_attributes(attributes={"name": name, **attrs}, source="test")
    r.set_geometry(
        geometry={"type": "Point", "coordinates": [105.8355, 21.0359]},
        crs="EPSG:4326",
        source="test",
    )
    if published:
        r.publish()
    store.save(r)
    return r


def parcel(store: RecordStore, published: bool = True, **attrs) -> Record:
    key = {"unit_code": "00031", "era": "pre2025", "sheet": "12", "number": "45"}
    r = Record(kind="parcel", key=key, source="test")
    values = {"ward": "Phường Giảng Võ", "area_m2": 120.5, "owner": OWNER, "id_number": ID_NUMBER}
    r.record_attributes(attributes={**values, **attrs}, source="test")
    r.set_geometry(geometry=SQUARE, crs="EPSG:4326", source="test")
    if published:
        r.publish()
    store.save(r)
    return r
