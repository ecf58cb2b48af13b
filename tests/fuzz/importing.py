"""The shared body of the import targets: read a file's rows and parse each, without a store."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable

from pipeline.errors import InputRejectedError
from pipeline.usecases.importing.readers import detect_format, read_rows
from pipeline.usecases.importing.records import parse_row
from pipeline.usecases.importing.rows import RowRejected
from tests.fuzz.common import as_file

_NAMES = {"csv": "parcels.csv", "jsonl": "sites.jsonl", "geojson": "parcels.geojson"}


def read_and_parse(data: bytes, fmt: str) -> None:
    path = as_file(data, _NAMES[fmt])
    try:
        detect_format(path)
        for raw in read_rows(path, fmt):
            if raw.error:
                continue
            with contextlib.suppress(RowRejected):
                parse_row(raw, {"unit_era": "pre2025"})
    except InputRejectedError:
        pass


_ROWS = [
    {
        "kind": "parcel",
        "unit_code": "10354",
        "unit_era": "pre2025",
        "sheet": "12",
        "parcel_number": 345,
        "area_m2": "1.234,5",
        "purpose": "ODT+CLN",
        "owner": "Nguyễn Văn A",
        "valid_from": "01/07/2020",
        "published": "true",
        "extra": {"OBJECTID": 7},
    },
    {
        "code": "hn-01",
        "name": "Đình Đông Ngạc",
        "type": "di tích; kiến trúc",
        "lat": 21.08,
        "lon": 105.78,
        "rank": "quốc gia",
    },
    {
        "MaXa": "20248",
        "SoHieuToBanDo": 3,
        "SoThuTuThua": 17,
        "DienTich": "98,6",
        "ten_chu": "NguyÔn V¨n A",
        "loai_dat": "T",
    },
]


def import_seeds(fmt: str) -> Iterable[bytes]:
    if fmt == "jsonl":
        yield "\n".join(json.dumps(r, ensure_ascii=False) for r in _ROWS).encode()
    elif fmt == "geojson":
        features = [
            {
                "type": "Feature",
                "properties": _ROWS[0],
                "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]},
            },
            {"type": "Feature", "properties": _ROWS[1], "geometry": None},
        ]
        crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5897"}}
        doc = {"type": "FeatureCollection", "crs": crs, "features": features}
        yield json.dumps(doc, ensure_ascii=False).encode()
        yield json.dumps({"type": "Feature", "properties": _ROWS[2], "geometry": None}).encode()
    else:
        yield (
            "unit_code;unit_era;sheet;parcel_number;area_m2;owner;valid_from\n"
            "10354;pre2025;12;345;12,5;Nguyễn Văn A;2020-07-01\n"
            '10354;pre2025;12;346;"1.234,5";NguyÔn V¨n B;\n'
        ).encode()
        yield "so_thua,to_ban_do,dien_tich,ten_chu,mdsd2003\n5,2,300,Lª ThÞ C,T\n".encode()
