"""The structural check at ingest: one probe per media type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import InputRejectedError
from pipeline.media.archives import _probe_zip
from pipeline.media.bounded import BoundedReader
from pipeline.media.images import _probe_jp2, _probe_jpeg, _probe_png, _probe_tiff
from pipeline.media.models3d import (
    _probe_e57,
    _probe_glb,
    _probe_las,
    _probe_obj,
    _probe_pcd,
    _probe_ply,
    _probe_stl,
    _probe_xyz,
)
from pipeline.media.pdf import _probe_pdf
from pipeline.media.sniff import ZIP

if TYPE_CHECKING:
    from pipeline.media.limits import Limits


# --- probing -------------------------------------------------------------------------------------


def probe(path: Path, media_type: str, limits: Limits) -> dict:
    """Check structure cheaply (headers, trailers, declared sizes) without decoding pixels.

    Returns small facts learnt on the way (e.g. {"pages": 3, "width": .., "height": ..});
    raises InputRejectedError with a reason a person can act on.
    """
    size = path.stat().st_size
    if size == 0:
        raise InputRejectedError("empty file")
    if size > limits.max_file_bytes:
        raise InputRejectedError(
            f"file is {size:,} bytes, over the limit of {limits.max_file_bytes:,} "
            "(SOHOA_MAX_FILE_BYTES)"
        )
    check = _PROBES.get(media_type)
    if check is None:
        raise InputRejectedError(f"unsupported media type {media_type!r}")
    with path.open("rb") as f:
        return check(BoundedReader(f, size, path.name), limits, path)


_PROBES: dict[str, Callable[[BoundedReader, Limits, Path], dict]] = {
    "image/png": _probe_png,
    "image/jpeg": _probe_jpeg,
    "image/jp2": _probe_jp2,
    "image/tiff": _probe_tiff,
    "application/pdf": _probe_pdf,
    "model/ply": _probe_ply,
    "application/vnd.las": _probe_las,
    "application/vnd.laszip": _probe_las,
    "model/gltf-binary": _probe_glb,
    "model/obj": _probe_obj,
    "model/stl": _probe_stl,
    "text/x-xyz": _probe_xyz,
    "application/x-pcd": _probe_pcd,
    "model/e57": _probe_e57,
    ZIP: _probe_zip,
}
