"""Fuzz target: the LAS/LAZ header probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("application/vnd.las", "scan.las")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_las(p.with_suffix(".las"), 10),
        lambda p: samples.make_las(p.with_suffix(".las"), 10, version="1.4", point_format=6),
    )
