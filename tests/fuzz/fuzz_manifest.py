"""Fuzz target: a CSV manifest for a batch (`pipeline.usecases.sidecar.read_manifest`)."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.errors import InputRejectedError
from pipeline.usecases.sidecar import CaptureMeta, read_manifest
from tests.fuzz.common import as_file


def test_one(data: bytes) -> None:
    try:
        rows = read_manifest(as_file(data, "manifest.csv"))
    except InputRejectedError:
        return
    for meta in rows.values():
        if not isinstance(meta, CaptureMeta | InputRejectedError):
            raise AssertionError(f"a manifest row is {meta!r}")


def seeds() -> Iterable[bytes]:
    yield (
        "path,kind,title,dpi,tags,unit_code,unit_era,sheet,parcel_number\n"
        "a.tif,land-certificate,Giấy chứng nhận,300,x;y,00070,2025,12,345\n"
        "b.pdf,document,,,,,,,\n"
        "../c.png,,,,,,,,\n"
    ).encode()
    yield b"\xef\xbb\xbfpath;site_code\r\nd.jpg;HN-1\r\n"
    yield b"title\nno path column\n"
