"""What the readers of `pipeline.stages.reconstruction.scans.io` share: the read they give
back (`_Read`), chunk sizes, the errors third-party readers raise, the streaming of a cloud
through a `VoxelStream` and the check of a mesh's faces.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.scans.voxels import Columns, VoxelStream

CHUNK_POINTS = 1_000_000
_CHUNK_LINES = 200_000
ASSUMED = "m (assumed)"

# Errors that third-party readers raise on corrupt content.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    EOFError,
    AttributeError,
    NotImplementedError,
    struct.error,
)


@dataclass
class _Read:
    columns: Columns
    faces: np.ndarray | None = None
    crs: str | None = None
    units: str = ASSUMED
    to_metre: float = 1.0
    facts: dict[str, Any] = field(default_factory=dict)
    sensor: np.ndarray | None = None


def _finite(cols: Columns) -> tuple[Columns, int]:
    mask = np.isfinite(cols.points).all(axis=1)
    if mask.all():
        return cols, 0
    return Columns(*(None if a is None else a[mask] for a in cols.arrays())), int((~mask).sum())


def _stream(chunks: Iterator[Columns], budget: int, facts: dict | None = None) -> _Read:
    """Pass chunks through a VoxelStream; facts record what was dropped and averaged."""
    stream = VoxelStream(budget)
    dropped = 0
    for chunk in chunks:
        kept, bad = _finite(chunk)
        dropped += bad
        stream.add(kept)
    columns, voxel = stream.result()
    facts = {**(facts or {}), "dropped": dropped, "points_read": stream.seen + dropped}
    if voxel:
        facts["streamed_voxel_m"] = voxel
        facts["note"] = (
            f"{stream.seen:,} points are over the working budget of {budget:,}: "
            f"averaged on a {voxel:.4g} voxel grid while reading"
        )
    return _Read(columns, facts=facts)


def _check_faces(faces: np.ndarray, vertices: int) -> None:
    if len(faces) and (faces.min() < 0 or faces.max() >= vertices):
        raise InputRejectedError(
            f"corrupt mesh: faces refer to vertices beyond the {vertices:,} it holds"
        )
