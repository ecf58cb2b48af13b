"""Fuzz target: a JSON sidecar (`pipeline.usecases.sidecar.read_json`, with its links to
records)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pipeline.errors import InputRejectedError
from pipeline.usecases.sidecar import read_json
from tests.fuzz.common import as_file


def test_one(data: bytes) -> None:
    try:
        meta = read_json(as_file(data, "scan.tif.json"))
        meta.records()
        meta.stored()
    except InputRejectedError:
        pass


def seeds() -> Iterable[bytes]:
    for values in (
        {
            "kind": "land-certificate",
            "unit_code": "00070",
            "unit_era": "2025",
            "sheet": 12,
            "parcel_number": "345",
            "dpi": 300,
            "tags": ["a", "b"],
        },
        {"title": "Đình Kim Liên", "site_code": "hn-di-001", "captured_at": "2026-01-02"},
        {"document_code": "QĐ-12", "operator": "lan", "station": "s1", "language": "vie"},
    ):
        yield json.dumps(values, ensure_ascii=False).encode()
    yield b"[1, 2]"
    yield b'{"dpi": true}'
