"""Fuzz target: the JPEG probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("image/jpeg", "photo.jpg")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_jpeg(p.with_suffix(".jpg"), 16, 12),
        lambda p: samples.make_jpeg(p.with_suffix(".jpg"), 16, 12, exif=True, orientation=6),
    )
