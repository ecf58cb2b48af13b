"""Fuzz target: IIIF image sizes (`web.portal.iiif.fit`, the level-0 `full/max` rendition every
`info.json` and manifest declares) for any page size an inspection may have recorded.

The region and size path segments themselves are compared with the fixed renditions in
`web.portal.iiif_routes.image` (level 0 accepts nothing else), so there is no parser to fuzz
there."""

from __future__ import annotations

from collections.abc import Iterable

import atheris

from web.portal.iiif import MAX_SIDE, fit


def test_one(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    width = fdp.ConsumeIntInRange(-(2**40), 2**40) if fdp.ConsumeBool() else fdp.ConsumeInt(2)
    height = fdp.ConsumeIntInRange(-(2**40), 2**40) if fdp.ConsumeBool() else fdp.ConsumeInt(2)
    w, h = fit(width, height)
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise AssertionError(f"fit({width}, {height}) = {w}×{h}, outside 1..{MAX_SIDE}")


def seeds() -> Iterable[bytes]:
    yield b"\x01\x00\x10\x00\x00\x01\x00\x20\x00\x00"
    yield b"\x00\xff\xff\x00\xff\xff"
