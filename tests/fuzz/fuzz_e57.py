"""Fuzz target: the E57 probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("model/e57", "scan.e57")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_e57_stub(p.with_suffix(".e57")),
    )
