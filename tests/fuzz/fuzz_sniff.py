"""Fuzz target: sniffing (`sniff`, `sniff_file`) and then the probe of whatever was sniffed,
as `Ingestor._check` does for every file of a batch."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from pipeline.errors import InputRejectedError
from pipeline.media.probe import probe
from pipeline.media.sniff import HEAD_BYTES, sniff, sniff_file
from tests.factories import samples
from tests.fuzz.common import LIMITS, as_file, generated


def test_one(data: bytes) -> None:
    head_type = sniff(data[:HEAD_BYTES])
    path = as_file(data, "upload")
    media_type = sniff_file(path)
    if media_type != head_type and media_type != "model/stl":
        raise AssertionError(f"sniff says {head_type}, sniff_file {media_type}")
    if media_type is None:
        return
    with contextlib.suppress(InputRejectedError):
        probe(path, media_type, LIMITS)


def seeds() -> Iterable[bytes]:
    yield from generated(
        lambda p: samples.make_png(p.with_suffix(".png"), 8, 8),
        lambda p: samples.make_jpeg(p.with_suffix(".jpg"), 8, 8),
        lambda p: samples.make_tiff(p.with_suffix(".tif"), 1, w=8, h=8),
        lambda p: samples.make_jp2(p.with_suffix(".jp2"), 8, 8),
        lambda p: samples.make_pdf(p.with_suffix(".pdf"), 1, w=20, h=20),
        lambda p: samples.make_ply(p.with_suffix(".ply"), 5, binary=False),
        lambda p: samples.make_pcd(p.with_suffix(".pcd"), 5),
        lambda p: samples.make_las(p.with_suffix(".las"), 5),
        lambda p: samples.make_glb(p.with_suffix(".glb")),
        lambda p: samples.make_obj(p.with_suffix(".obj")),
        lambda p: samples.make_stl(p.with_suffix(".stl")),
        lambda p: samples.make_stl(p.with_suffix(".stl"), binary=False),
        lambda p: samples.make_xyz(p.with_suffix(".xyz"), 5),
        lambda p: samples.make_e57_stub(p.with_suffix(".e57")),
        lambda p: samples.make_zip(p.with_suffix(".zip"), {"a.txt": b"hello"}),
    )
    yield b"X Y Z\n1 2 3\n4 5 6\n"
