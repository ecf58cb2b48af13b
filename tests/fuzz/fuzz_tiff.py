"""Fuzz target: the TIFF probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("image/tiff", "scan.tif")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_tiff(p.with_suffix(".tif"), 2, w=16, h=12),
        lambda p: samples.make_tiff(p.with_suffix(".tif"), 1, w=8, h=8, compression="tiff_lzw"),
        lambda p: samples.make_tiff_with_corrupt_page(p.with_suffix(".tif"), pages=2, bad_page=2),
    )
