"""Media types from content (never the extension), and cheap structural checks at ingest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 4096

PAGE_TYPES = frozenset({"image/tiff", "image/jpeg", "image/png", "image/jp2", "application/pdf"})
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/tiff"})
MODEL_TYPES = frozenset(
    {
        "model/ply",
        "model/obj",
        "model/stl",
        "model/gltf-binary",
        "application/x-pcd",
        "text/x-xyz",
        "application/vnd.las",
        "application/vnd.laszip",
        "model/e57",
    }
)
ZIP = "application/zip"


@dataclass(frozen=True)
class Limits:
    """Limits applied to every input (settings)."""

    max_file_bytes: int
    max_pixels: int
    max_pages: int
    max_points: int
    max_zip_members: int
    max_zip_ratio: int


def sniff(head: bytes) -> str | None:
    """The media type the first bytes say, or None for anything we do not accept."""
    raise NotImplementedError


def probe(path: Path, media_type: str, limits: Limits) -> dict:
    """Check structure cheaply (headers, trailers, declared sizes) without decoding pixels.

    Returns small facts learnt on the way (e.g. {"pages": 3, "width": .., "height": ..});
    raises InputRejectedError with a reason a person can act on.
    """
    raise NotImplementedError
