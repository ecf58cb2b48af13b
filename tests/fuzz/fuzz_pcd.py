"""Fuzz target: the PCD probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("application/x-pcd", "scan.pcd")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_pcd(p.with_suffix(".pcd"), 10),
        lambda p: samples.make_pcd(p.with_suffix(".pcd"), 10, binary=True),
    )
