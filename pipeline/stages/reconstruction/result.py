"""What a 3D reconstruction produces, whichever path made it (scanner clouds or photographs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reconstruction:
    method: str
    """"scan-registration" or "photogrammetry"."""
    glb: bytes
    """The full-detail model (binary glTF): vertex colours where scans had them; for photo sets
    a texture atlas cut from the photos (one JPEG in the GLB, `texture_px` at most)."""
    lods: dict[str, bytes]
    """Web levels of detail by name ("100k", "20k", …) → GLB bytes (textured like the model,
    each with an atlas in proportion to its faces)."""
    preview_png: bytes
    """A rendered preview image of the model."""
    metrics: dict[str, Any]
    """At least: faces, points, bbox_m [dx, dy, dz], surface_area_m2, volume_m3 (None unless
    watertight); scans add rmse_m and fitness; photo sets add registered_images, images,
    reprojection_error_px, the scale (scale_known, scale_source, metres_per_unit, scale_detail,
    size_m) and the texture (texture, atlas_px, texture_views, untextured_faces)."""
    params: dict[str, Any]
    """Every parameter that produced it, defaults included."""
    stages: list[dict[str, Any]] = field(default_factory=list)
    """Per stage: {"stage": name, "seconds": s, "peak_rss_mb": m, …} in order."""
