"""Fuzz target: the STL probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("model/stl", "model.stl")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_stl(p.with_suffix(".stl")),
        lambda p: samples.make_stl(p.with_suffix(".stl"), binary=False),
    )
