"""Fuzz target: the GEOJSON import reader and row parser (`pipeline.usecases.importing`): format
detection, reading rows, and every row's fields, names, numbers and TCVN3/VNI text."""

from __future__ import annotations

from collections.abc import Iterable

from tests.fuzz.importing import import_seeds, read_and_parse


def test_one(data: bytes) -> None:
    read_and_parse(data, "geojson")


def seeds() -> Iterable[bytes]:
    return import_seeds("geojson")
