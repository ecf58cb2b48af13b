"""Fuzz target: the JPEG 2000 probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("image/jp2", "page.jp2")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_jp2(p.with_suffix(".jp2"), 16, 12),
    )
