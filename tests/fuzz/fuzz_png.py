"""Fuzz target: the PNG probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("image/png", "page.png")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_png(p.with_suffix(".png"), 16, 12),
        lambda p: samples.make_png(p.with_suffix(".png"), 8, 8, mode="L"),
        lambda p: samples.make_png_declaring(p.with_suffix(".png")),
    )
