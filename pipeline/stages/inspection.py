"""Inspect a capture: facts (pages, size, dpi, colour mode, tags, points, bounds) and a thumbnail.

A pure stage: a path and a media type in, an `Inspection` out. It runs `probe` first, so every
limit holds before anything is decoded, and keeps memory bounded: JPEGs are decoded at reduced
scale, one TIFF page is decoded at a time, point clouds are read in chunks and sampled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputRejectedError
from pipeline.media.limits import Limits
from pipeline.media.probe import probe
from pipeline.media.sniff import FORMAT_NAMES
from pipeline.stages.inspectors.images import _inspect_image, _inspect_tiff
from pipeline.stages.inspectors.models3d import (
    _inspect_las,
    _inspect_mesh,
    _inspect_pcd,
    _inspect_xyz,
)
from pipeline.stages.inspectors.pdf import _inspect_pdf


@dataclass(frozen=True)
class Inspection:
    """What inspecting a capture learnt: JSON-serialisable facts and a small JPEG (or None)."""

    facts: dict
    thumbnail: bytes | None


def inspect(path: Path, media_type: str, *, thumbnail_px: int = 256, limits: Limits) -> Inspection:
    """Facts and a thumbnail (longest side ≤ thumbnail_px) of one file.

    Raises InputRejectedError for input that breaks a limit or cannot be decoded.
    """
    facts = probe(path, media_type, limits)
    inspector = _INSPECTORS.get(media_type, _inspect_nothing)
    more, thumbnail = inspector(path, media_type, facts, thumbnail_px)
    return Inspection(facts={**facts, **more}, thumbnail=thumbnail)


def inspect_set(
    members: list[tuple[str, Path, str]], *, thumbnail_px: int = 256, limits: Limits
) -> Inspection:
    """A photo set or scan set given as (name, path, media type): counts, and the first member.

    Members that fail their checks are listed in facts["rejected_members"] with the reason;
    the set is rejected only when no member is usable.
    """
    if not members:
        raise InputRejectedError("empty set: it has no members")
    first: Inspection | None = None
    rejected = []
    for name, path, media_type in members:
        try:
            if first is None:
                first = inspect(path, media_type, thumbnail_px=thumbnail_px, limits=limits)
            else:
                probe(path, media_type, limits)
        except InputRejectedError as e:
            rejected.append({"name": name, "reason": str(e)})
    if first is None:
        raise InputRejectedError(f"no usable member in the set (first: {rejected[0]['reason']})")
    facts = {
        "members": len(members),
        "media_types": dict(Counter(media_type for _, _, media_type in members)),
        "total_bytes": sum(path.stat().st_size for _, path, _ in members),
        "first": first.facts,
    }
    if rejected:
        facts["rejected_members"] = rejected
    return Inspection(facts=facts, thumbnail=first.thumbnail)


Inspector = Callable[[Path, str, dict, int], tuple[dict, bytes | None]]


def _inspect_nothing(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, None]:
    return {"format": FORMAT_NAMES.get(media_type, media_type)}, None


_INSPECTORS: dict[str, Inspector] = {
    "image/png": _inspect_image,
    "image/jpeg": _inspect_image,
    "image/jp2": _inspect_image,
    "image/tiff": _inspect_tiff,
    "application/pdf": _inspect_pdf,
    "model/ply": _inspect_mesh,
    "model/obj": _inspect_mesh,
    "model/stl": _inspect_mesh,
    "model/gltf-binary": _inspect_mesh,
    "application/vnd.las": _inspect_las,
    "application/vnd.laszip": _inspect_las,
    "text/x-xyz": _inspect_xyz,
    "application/x-pcd": _inspect_pcd,
}
