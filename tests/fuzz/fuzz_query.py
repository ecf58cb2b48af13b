"""Fuzz target: the search query parser: free text (`search.tantivy.query.parse_text`) and the
checks every backend runs first (`search.query.check`) on fuzzed numbers and places."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import atheris

from search.query import BBox, GeoPoint, Near, Query, QueryError, Region, check
from search.tantivy.query import parse_text


def _float(fdp: atheris.FuzzedDataProvider) -> float:
    return fdp.ConsumeFloat() if fdp.ConsumeBool() else fdp.ConsumeIntInRange(-200, 200) / 1.0


def test_one(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 400))
    parsed = parse_text(text)
    parsed.strict()
    role = fdp.PickValueInList(["public", "officer", "staff", "admin", ""])
    corners = [(_float(fdp), _float(fdp)) for _ in range(fdp.ConsumeIntInRange(0, 6))]
    query = Query(
        text=text,
        role=role,
        ranges={"area_m2": (_float(fdp), _float(fdp) if fdp.ConsumeBool() else None)},
        near=Near(_float(fdp), _float(fdp), _float(fdp)) if fdp.ConsumeBool() else None,
        bbox=BBox(*(_float(fdp) for _ in range(4))) if fdp.ConsumeBool() else None,
        containing=GeoPoint(_float(fdp), _float(fdp)) if fdp.ConsumeBool() else None,
        intersecting=Region(tuple(corners)) if corners else None,
        serial=fdp.ConsumeUnicodeNoSurrogates(8),
        offset=fdp.ConsumeIntInRange(-5, 20_000),
        limit=fdp.ConsumeIntInRange(-5, 500),
    )
    with contextlib.suppress(QueryError):
        check(query)


def seeds() -> Iterable[bytes]:
    yield b'dinh lang "dong ngac" to 12 thua 345' + bytes(range(64))
    yield 'Đình Kim Liên "Hoàn Kiếm" thuỷ hòa'.encode() + b"\x01" * 80
    yield b'"""unbalanced' + b"\xff" * 80
