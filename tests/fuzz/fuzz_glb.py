"""Fuzz target: the GLB probe (`pipeline.media`)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.factories import samples
from tests.fuzz.common import generated
from tests.fuzz.probes import probe_target

test_one = probe_target("model/gltf-binary", "model.glb")


def seeds() -> Iterable[bytes]:
    return generated(
        lambda p: samples.make_glb(p.with_suffix(".glb")),
    )
