"""Photogrammetry: a set of photographs becomes a measured, textured mesh.

    reconstruct_photos(photos, workdir, PhotoParams(), progress) -> Reconstruction

1. inputs: every member is opened; non-images and repeated frames are skipped (listed in the
   metrics), fewer than `min_photos` distinct readable photos is bad input; EXIF GPS is read
   (broken EXIF is listed, the photo still used).
2. sparse (`pipeline.stages.reconstruction.sparse`, pycolmap on the CPU in a child process):
   features, matching (every pair for small sets, sequential without a vocabulary for large
   ones), incremental mapping; intrinsics start from EXIF.
3. dense (`pipeline.stages.reconstruction.dense`): OpenCV StereoSGBM depth from rectified pairs of
   registered views, fused in an Open3D TSDF volume one map at a time, marching cubes.
4. scale (`pipeline.stages.reconstruction.scale`): metres per model unit from the `scale`
   parameter (two photos' camera positions a known distance apart) or from EXIF GPS.
5. texture (`pipeline.stages.reconstruction.texture`): an atlas cut from the photos per face,
   for the model and each level of detail.
6. export: y up, the photographed side facing +z, in metres when the scale is known; GLB,
   levels of detail, a preview picture and the metrics.

Each stage reports to `progress` (a file the job in the parent process follows).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.photos import photo_positions, readable_photos, stage_images
from pipeline.stages.reconstruction.progress import ProgressFile, timed
from pipeline.stages.reconstruction.result import Reconstruction
from pipeline.stages.reconstruction.scale import Scale, check_scale_photos, fit_scale, parse_scale

MATCHERS = ("auto", "exhaustive", "sequential")
DENSE_METHODS = ("sgbm",)
LOD_FACES = (100_000, 20_000)
CAMERA_MODELS = ("SIMPLE_PINHOLE", "PINHOLE", "SIMPLE_RADIAL", "RADIAL", "OPENCV")


@dataclass(frozen=True)
class PhotoParams:
    """Every knob of the photogrammetry path; `asdict` of it is recorded with the result."""

    max_image_size: int = 1600
    """Longest side (px) the photos are scaled to for SIFT; keypoints stay in full-size pixels."""
    max_features: int = 8192
    matcher: str = "auto"
    """"exhaustive" matches every pair, "sequential" each photo with its `sequential_overlap`
    successors in name order; "auto" is exhaustive up to `exhaustive_max_images` photos."""
    exhaustive_max_images: int = 40
    sequential_overlap: int = 10
    camera_model: str = "SIMPLE_RADIAL"
    min_photos: int = 3
    min_registered_fraction: float = 0.5
    """Fewer registered photos than this share of the readable ones is a failed set."""
    dense_method: str = "sgbm"
    dense_max_size: int = 1200
    """Longest side (px) of the images the stereo matcher sees."""
    dense_neighbours: int = 2
    """Stereo partners per registered photo (each pair is matched once)."""
    dense_min_views: int = 2
    """A surface is kept where at least this many depth maps saw it (TSDF weight)."""
    voxel_px: float = 2.0
    """TSDF voxel size as a multiple of the median pixel footprint at the dense resolution."""
    target_faces: int = 200_000
    scale: str = ""
    """"A.jpg,B.jpg,3.20": the cameras of photos A.jpg and B.jpg stood 3.20 m apart; a bare
    number: metres per model unit; empty: from EXIF GPS when the photos carry it, else unknown
    (the model is then in arbitrary units, and says so)."""
    texture_px: int = 4096
    """Longest side of the texture atlas cut from the photos (0: vertex colours only); levels
    of detail get smaller atlases in proportion."""
    sparse_timeout_s: float = 3600.0
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.matcher in MATCHERS, f"matcher must be one of {', '.join(MATCHERS)}")
        _check(
            self.dense_method in DENSE_METHODS,
            f"dense_method must be one of {', '.join(DENSE_METHODS)} (pycolmap's patch-match "
            "stereo needs a CUDA build)",
        )
        _check(self.camera_model in CAMERA_MODELS, f"camera_model: one of {CAMERA_MODELS}")
        _check(self.max_image_size >= 200, "max_image_size must be at least 200")
        _check(self.dense_max_size >= 100, "dense_max_size must be at least 100")
        _check(self.max_features >= 100, "max_features must be at least 100")
        _check(self.min_photos >= 3, "min_photos must be at least 3")
        _check(0 <= self.min_registered_fraction <= 1, "min_registered_fraction in [0, 1]")
        _check(self.dense_neighbours >= 1, "dense_neighbours must be at least 1")
        _check(self.dense_min_views >= 1, "dense_min_views must be at least 1")
        _check(self.voxel_px > 0, "voxel_px must be positive")
        _check(self.target_faces >= 100, "target_faces must be at least 100")
        _check(self.texture_px == 0 or 256 <= self.texture_px <= 8192, "texture_px: 0 or 256–8192")
        parse_scale(self.scale)
        _check(self.sparse_timeout_s > 0, "sparse_timeout_s must be positive")

    @classmethod
    def from_overrides(cls, overrides: dict[str, str]) -> PhotoParams:
        """Parameters from `--param k=v` strings; unknown keys and bad values are rejected."""
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, text in overrides.items():
            if key not in types:
                raise InputRejectedError(
                    f"unknown photogrammetry parameter {key!r}; known: {', '.join(types)}"
                )
            values[key] = _parse(key, types[key], text)
        return cls(**values)


def reconstruct_photos(
    photos: list[Path], workdir: Path, params: PhotoParams, progress: ProgressFile | None = None
) -> Reconstruction:
    """Photographs → a textured mesh with its metrics. Bad input raises InputRejectedError."""
    from pipeline.stages.reconstruction import dense, sparse

    progress = progress or ProgressFile(None)
    stages: list[dict[str, Any]] = []
    with timed(stages, "inputs", progress) as info:
        request = parse_scale(params.scale)
        usable, skipped = readable_photos(photos, params.min_photos)
        check_scale_photos(request, [p.name for p in usable])
        gps, exif_problems = photo_positions(usable)
        names = stage_images(usable, workdir / "images")
        info["photos"] = len(names)
    stages += sparse.run_sparse(workdir, names, params, progress)
    with timed(stages, "load", progress):
        model = sparse.load_model(workdir / "sparse", len(names), params.min_registered_fraction)
    with timed(stages, "dense", progress) as info:
        fused = dense.fuse(model, workdir / "images", params, on_pair=_reporter(progress, "dense"))
        info["depth_maps"] = fused.depth_maps
    with timed(stages, "mesh", progress):
        mesh = dense.clean_mesh(fused.mesh, params.target_faces)
        _require_faces(mesh)
    original = dict(zip(names, usable, strict=True))
    with timed(stages, "scale", progress) as info:
        scale = fit_scale(request, _centres(model, original), gps)
        to_display = dense.display_transform(model, mesh, scale.metres_per_unit)
        info["source"] = scale.source
    with timed(stages, "texture", progress) as info:
        models = _textured(mesh, model, workdir / "images", params, progress)
        info["atlas_px"] = models["full"].get("atlas_px")
    with timed(stages, "export", progress):
        mesh.transform(to_display)
        out = export(mesh, model, fused, params, models, to_display)
        out.metrics |= _scale_metrics(scale, out.metrics) | {
            "skipped_files": skipped,
            "exif_problems": exif_problems,
            "gps_photos": len(gps),
            "cameras": camera_centres(model, original, to_display),
        }
    out.stages = stages
    return out


def _reporter(progress: ProgressFile, stage: str):
    return lambda done, total: progress.report(stage, done, total)


def _require_faces(mesh) -> None:
    if len(mesh.triangles) == 0:
        raise InputRejectedError(
            "the photos registered but no surface could be built from them (too little overlap "
            "between neighbouring views, or featureless surfaces)"
        )


def _centres(model, original: dict[str, Path]) -> dict[str, np.ndarray]:
    """Camera centres (model units) of the registered photos, by their original names."""
    out = {}
    for image_id in model.reg_image_ids():
        image = model.image(image_id)
        out[original[image.name].name] = np.asarray(image.projection_center())
    return out


def _textured(mesh, model, images: Path, params: PhotoParams, progress: ProgressFile) -> dict:
    """{"full": {...}, "100k": {...}, …}: each level's mesh, and its texture when asked for."""
    from pipeline.stages.reconstruction.scans import surface
    from pipeline.stages.reconstruction.texture import texture_mesh

    faces = len(mesh.triangles)
    smaller = tuple(n for n in LOD_FACES if faces > n * 1.2)
    levels = {"full": mesh} | (surface.levels_of_detail(mesh, smaller) if smaller else {})
    out: dict[str, dict[str, Any]] = {}
    views = model.num_reg_images()
    step = progress.counter("texture", views * len(levels)) if params.texture_px else None
    for name, level in levels.items():
        out[name] = {"mesh": level}
        if not params.texture_px:
            continue
        share = len(level.triangles) / faces
        side = max(512, int(params.texture_px * math.sqrt(share)) // 256 * 256)
        tex = texture_mesh(
            np.asarray(level.vertices), np.asarray(level.triangles), model, images, side, step
        )
        out[name] |= {"texture": tex, "atlas_px": [tex.atlas.shape[1], tex.atlas.shape[0]]}
    return out


def _scale_metrics(scale: Scale, metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        "scale_known": scale.known,
        "scale_source": scale.source,
        "metres_per_unit": round(scale.metres_per_unit, 9) if scale.known else None,
        "scale_detail": scale.detail,
        "size_m": metrics["bbox_m"] if scale.known else None,
    }


# --- export ------------------------------------------------------------------------------------


def export(mesh, model, fused, params: PhotoParams, models: dict, transform) -> Reconstruction:
    """GLB (textured when the atlas was made), levels of detail, preview and metrics (the
    scanner path's measures and preview renderer, so both paths measure and draw alike)."""
    from pipeline.stages.reconstruction import texture
    from pipeline.stages.reconstruction.scans import export as out

    full = models["full"]
    glbs = {}
    for name, level in models.items():
        if "texture" in level:
            glbs[name] = texture.to_glb(level["texture"], transform)
        else:
            moved = type(level["mesh"])(level["mesh"])
            glbs[name] = out.to_glb(moved if name == "full" else moved.transform(transform))
    metrics = out.metrics(mesh) | {
        "registered_images": model.num_reg_images(),
        "images": fused.images,
        "reprojection_error_px": round(float(model.compute_mean_reprojection_error()), 4),
        "vertices": len(mesh.vertices),
        "points_sparse": model.num_points3D(),
        "points_dense": fused.points,
        "points": fused.points,
        "mean_track_length": round(float(model.compute_mean_track_length()), 3),
    }
    if "texture" in full:
        tex = full["texture"]
        metrics |= {
            "texture": "atlas",
            "atlas_px": full["atlas_px"],
            "texture_views": tex.views,
            "untextured_faces": tex.unseen_faces,
        }
        preview = _textured_preview(tex, transform)
    else:
        metrics["texture"] = "vertex colours"
        preview = mesh
    return Reconstruction(
        method="photogrammetry",
        glb=glbs["full"],
        lods={name: data for name, data in glbs.items() if name != "full"},
        preview_png=out.render_preview(preview, (800, 600)),
        metrics=metrics,
        params=asdict(params),
    )


def _textured_preview(tex, transform):
    """The textured mesh as a vertex-coloured trimesh (the atlas sampled at each vertex)."""
    import trimesh

    from pipeline.stages.reconstruction.texture import atlas_colours

    vertices = tex.vertices @ transform[:3, :3].T + transform[:3, 3]
    return trimesh.Trimesh(vertices, tex.faces, vertex_colors=atlas_colours(tex), process=False)


def camera_centres(model, original: dict[str, Path], transform: np.ndarray) -> list:
    """[{name, centre}] of the registered photos in the model's frame (metres if scaled)."""
    out = []
    for image_id in sorted(model.reg_image_ids()):
        image = model.image(image_id)
        centre = transform[:3, :3] @ image.projection_center() + transform[:3, 3]
        out.append(
            {"name": original[image.name].name, "centre": [round(float(c), 5) for c in centre]}
        )
    return out


# --- helpers -----------------------------------------------------------------------------------


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise InputRejectedError(f"photogrammetry parameter: {message}")


def _parse(key: str, kind: Any, text: str) -> Any:
    kind = {"int": int, "float": float, "str": str}.get(str(kind), kind)
    try:
        value = kind(text.replace("_", "")) if kind in (int, float) else str(text)
    except ValueError:
        raise InputRejectedError(
            f"photogrammetry parameter {key}: expected {kind.__name__}, got {text!r}"
        ) from None
    if isinstance(value, float) and not np.isfinite(value):
        raise InputRejectedError(f"photogrammetry parameter {key}: {text!r} is not finite")
    return value
