"""Read every accepted 3D format into one `Geometry`: points in metres, optional attributes.

`probe` (pipeline.media) runs first, so the file's declared sizes and limits hold before any
decoding. Point clouds are read in chunks and pass through a `VoxelStream`, so a cloud larger
than the working budget is averaged onto a voxel grid as it streams and memory stays bounded.
Meshes (OBJ, STL, GLB, PLY with faces) are read whole; the probe has bounded their size.
Non-finite coordinates are dropped and counted; a file with nothing usable left is rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.media.limits import Limits
from pipeline.media.probe import probe
from pipeline.media.sniff import FORMAT_NAMES, MODEL_TYPES
from pipeline.stages.reconstruction.scans.libreaders import _read_e57, _read_las, _read_trimesh
from pipeline.stages.reconstruction.scans.readers import _read_pcd, _read_ply, _read_xyz
from pipeline.stages.reconstruction.scans.reading import ASSUMED, _Read
from pipeline.stages.reconstruction.scans.voxels import Columns

DEFAULT_BUDGET = 3_000_000
"""Points held in memory at most while reading a cloud; larger clouds are voxel-averaged."""


@dataclass(frozen=True)
class Geometry:
    """A point cloud or a mesh, in metres, as read from one file."""

    points: np.ndarray
    """(N, 3) float64, metres."""
    colours: np.ndarray | None = None
    """(N, 3) uint8 RGB."""
    normals: np.ndarray | None = None
    """(N, 3) float64 unit vectors."""
    faces: np.ndarray | None = None
    """(M, 3) int64 indices into points; None for a point cloud."""
    crs: str | None = None
    """The coordinate reference system the file declares ("EPSG:2992", or WKT)."""
    units: str = ASSUMED
    """The unit of the file's coordinates, before conversion to metres."""
    to_metre: float = 1.0
    """The factor the file's coordinates were multiplied by."""
    facts: dict[str, Any] = field(default_factory=dict)
    """What reading learnt: format, points read, non-finite points dropped, voxel, notes."""
    sensor_m: np.ndarray | None = None
    """Where the scanner stood, in metres in the points' frame, when the file says so (an E57
    scan's pose, a PCD VIEWPOINT other than the default); None when it does not."""


def load(path: Path, media_type: str, limits: Limits, *, budget: int = DEFAULT_BUDGET) -> Geometry:
    """Read one 3D file; raises InputRejectedError with a reason a person can act on."""
    if media_type not in MODEL_TYPES:
        raise InputRejectedError(f"{media_type!r} is not a 3D model or point cloud type")
    if budget < 1000:
        raise InputRejectedError(f"the point budget must be at least 1,000, not {budget:,}")
    probed = probe(path, media_type, limits)
    read = _READERS[media_type](path, budget)
    read.facts = {"format": FORMAT_NAMES[media_type], **probed, **read.facts}
    return _finish(read)


# --- finishing -----------------------------------------------------------------------------------


def _finish(read: _Read) -> Geometry:
    cols, faces, facts = read.columns, read.faces, read.facts
    finite = np.isfinite(cols.points).all(axis=1)
    dropped = int((~finite).sum()) + facts.pop("dropped", 0)
    if dropped:
        facts["non_finite_dropped"] = dropped
    if not finite.all():
        cols, faces = _keep(cols, faces, finite)
    n = len(cols)
    if n == 0:
        if dropped:
            raise InputRejectedError(f"all {dropped:,} points have NaN or infinite coordinates")
        raise InputRejectedError("the file holds no points")
    if n == 1:
        raise InputRejectedError("the file holds a single point: nothing to measure or mesh")
    if np.ptp(cols.points, axis=0).max() == 0:
        raise InputRejectedError(f"all {n:,} points coincide: nothing to measure or mesh")
    if faces is not None and len(faces) == 0:
        faces = None
        facts["note"] = "a mesh without faces: read as a point cloud"
    colours = None if cols.colours is None else _to_uint8(cols.colours)
    normals = None if cols.normals is None or not np.isfinite(cols.normals).all() else cols.normals
    return Geometry(
        points=np.ascontiguousarray(cols.points, dtype=np.float64) * read.to_metre,
        colours=colours,
        normals=normals,
        faces=faces,
        crs=read.crs,
        units=read.units,
        to_metre=read.to_metre,
        facts=facts,
        sensor_m=None if read.sensor is None else np.asarray(read.sensor) * read.to_metre,
    )


def _keep(cols: Columns, faces: np.ndarray | None, mask: np.ndarray) -> tuple[Columns, Any]:
    """The points where mask holds, and only the faces whose corners all survive."""
    kept = Columns(*(None if a is None else a[mask] for a in cols.arrays()))
    if faces is None:
        return kept, None
    index = np.full(len(mask), -1, dtype=np.int64)
    index[mask] = np.arange(int(mask.sum()))
    remapped = index[faces]
    return kept, remapped[(remapped >= 0).all(axis=1)]


def _to_uint8(colours: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(colours), 0, 255).astype(np.uint8)


_READERS: dict[str, Callable[[Path, int], _Read]] = {
    "model/ply": _read_ply,
    "model/obj": partial(_read_trimesh, file_type="obj"),
    "model/stl": partial(_read_trimesh, file_type="stl"),
    "model/gltf-binary": partial(_read_trimesh, file_type="glb"),
    "application/x-pcd": _read_pcd,
    "text/x-xyz": _read_xyz,
    "application/vnd.las": _read_las,
    "application/vnd.laszip": _read_las,
    "model/e57": _read_e57,
}
