"""Fuzz target: the PLY probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("model/ply", "scan.ply")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_ply(p.with_suffix(".ply"), 20),
        lambda p: samples.make_ply(p.with_suffix(".ply"), 10, extra_element=True, binary=False),
    )
