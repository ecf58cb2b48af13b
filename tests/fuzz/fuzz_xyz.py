"""Fuzz target: the XYZ probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("text/x-xyz", "points.xyz")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_xyz(p.with_suffix(".xyz"), 10),
        lambda p: samples.make_xyz(p.with_suffix(".xyz"), 10, sep=","),
    )
