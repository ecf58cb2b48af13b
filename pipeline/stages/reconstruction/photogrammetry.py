"""Photogrammetry: a set of photographs becomes a measured, coloured mesh.

    reconstruct_photos(photos, workdir, PhotoParams()) -> Reconstruction

1. inputs: every member is opened; non-images are skipped (listed in the metrics), fewer than
   `min_photos` readable photos is bad input.
2. sparse (pycolmap, CPU SIFT): feature extraction, matching (exhaustive for small sets,
   sequential for large ones), incremental mapping; intrinsics start from EXIF. It runs in a
   child process (`python -m pipeline.stages.reconstruction.photogrammetry SPARSE_JOB.json`)
because COLMAP
   aborts the process on some internal checks, and so a time limit can stop it.
3. dense (`pipeline.stages.reconstruction.dense`): OpenCV StereoSGBM depth from rectified pairs of
registered
   views, fused in an Open3D TSDF volume, marching cubes, vertex colours from the photographs.
4. export: the mesh is turned so that y is up and the photographed side faces +z, scaled by
   `scale` (metres per model unit: a photo set alone has no scale), then GLB, levels of
   detail, a preview picture and the metrics.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.photos import _camera_mode, readable_photos, stage_images
from pipeline.stages.reconstruction.result import Reconstruction

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
    scale: float = 1.0
    """Metres per model unit, when known (a measured distance); otherwise 1 (arbitrary)."""
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
        _check(self.scale > 0 and math.isfinite(self.scale), "scale must be a positive number")
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


def reconstruct_photos(photos: list[Path], workdir: Path, params: PhotoParams) -> Reconstruction:
    """Photographs → a coloured mesh with its metrics. Bad input raises InputRejectedError."""
    from pipeline.stages.reconstruction import dense

    stages: list[dict[str, Any]] = []
    with _stage(stages, "inputs"):
        usable, skipped = readable_photos(photos, params.min_photos)
        names = stage_images(usable, workdir / "images")
    stages += run_sparse(workdir, names, params)
    with _stage(stages, "load"):
        model = load_model(workdir / "sparse", len(names), params)
    with _stage(stages, "dense") as info:
        fused = dense.fuse(model, workdir / "images", params)
        info["depth_maps"] = fused.depth_maps
    with _stage(stages, "mesh"):
        mesh = dense.clean_mesh(fused.mesh, params.target_faces)
        to_display = dense.display_transform(model, mesh, params.scale)
        mesh.transform(to_display)
    with _stage(stages, "export"):
        out = export(mesh, model, fused, params, skipped)
        out.metrics["cameras"] = camera_centres(model, names, usable, to_display)
    out.stages = stages
    return out


# --- sparse: pycolmap in a child process -------------------------------------------------------


def run_sparse(workdir: Path, names: list[str], params: PhotoParams) -> list[dict]:
    """Run the sparse job in a child process; returns its stages. Crashes become rejections."""
    job = workdir / "sparse_job.json"
    result = workdir / "sparse" / "result.json"
    result.unlink(missing_ok=True)
    job.write_text(json.dumps({"workdir": str(workdir), "names": names, "params": asdict(params)}))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.stages.reconstruction.photogrammetry", str(job)],
            capture_output=True,
            text=True,
            timeout=params.sparse_timeout_s,
            cwd=Path(__file__).resolve().parents[3],
        )
    except subprocess.TimeoutExpired:
        raise InputRejectedError(
            f"structure from motion took longer than {params.sparse_timeout_s:.0f} s"
        ) from None
    if done.returncode != 0 or not result.exists():
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise InputRejectedError(
            f"structure from motion failed (exit {done.returncode}): {tail or 'no message'}"
        )
    return json.loads(result.read_text())["stages"]


def sparse_job(workdir: Path, names: list[str], p: PhotoParams) -> None:
    """Features, matches and the incremental map; writes sparse/{model/,result.json}."""
    import pycolmap

    pycolmap.set_random_seed(p.seed)
    images, database = workdir / "images", workdir / "sparse" / "database.db"
    shutil.rmtree(database.parent, ignore_errors=True)  # nothing of an earlier run survives
    database.parent.mkdir(parents=True)
    stages: list[dict] = []
    with _stage(stages, "features") as info:
        mode = _camera_mode(images, names)
        extraction = pycolmap.FeatureExtractionOptions()
        extraction.max_image_size = p.max_image_size
        extraction.sift.max_num_features = p.max_features
        pycolmap.extract_features(
            database,
            images,
            image_names=names,
            camera_mode=getattr(pycolmap.CameraMode, mode),
            reader_options=pycolmap.ImageReaderOptions(camera_model=p.camera_model),
            extraction_options=extraction,
            device=pycolmap.Device.cpu,
        )
        info["camera_mode"] = mode
    with _stage(stages, "matching") as info:
        info["matcher"] = _match(database, len(names), p)
    with _stage(stages, "mapping") as info:
        best = _map(database, images, workdir / "sparse" / "model", len(names), p)
        info["registered"] = best
    (workdir / "sparse" / "result.json").write_text(json.dumps({"stages": stages}))


def _match(database: Path, n: int, p: PhotoParams) -> str:
    import pycolmap

    kind = p.matcher
    if kind == "auto":
        kind = "exhaustive" if n <= p.exhaustive_max_images else "sequential"
    verification = pycolmap.TwoViewGeometryOptions()
    verification.ransac.random_seed = p.seed
    if kind == "exhaustive":
        pycolmap.match_exhaustive(
            database, verification_options=verification, device=pycolmap.Device.cpu
        )
    else:
        pairing = pycolmap.SequentialPairingOptions(overlap=p.sequential_overlap)
        pycolmap.match_sequential(
            database,
            pairing_options=pairing,
            verification_options=verification,
            device=pycolmap.Device.cpu,
        )
    return kind


def _map(database: Path, images: Path, out: Path, n: int, p: PhotoParams) -> int:
    """Incremental mapping; keeps the model with the most registered images. Returns its count."""
    import pycolmap

    options = pycolmap.IncrementalPipelineOptions()
    options.min_model_size = 3
    options.random_seed = p.seed
    options.mapper.random_seed = p.seed
    options.triangulation.random_seed = p.seed
    staging = out.parent / "models"
    staging.mkdir(parents=True, exist_ok=True)
    models = pycolmap.incremental_mapping(database, images, staging, options=options)
    if not models:
        return 0
    best = max(models.values(), key=lambda r: r.num_reg_images())
    out.mkdir(parents=True, exist_ok=True)
    best.write(out)
    return best.num_reg_images()


def load_model(sparse: Path, readable: int, params: PhotoParams):
    """The sparse model, or InputRejectedError "n of m photos registered" if too few are in it."""
    import pycolmap

    registered = 0
    model = None
    if (sparse / "model" / "images.bin").exists():
        model = pycolmap.Reconstruction(sparse / "model")
        registered = model.num_reg_images()
    needed = max(3, math.ceil(params.min_registered_fraction * readable))
    if model is None or registered < needed:
        raise InputRejectedError(
            f"{registered} of {readable} photos registered (need {needed}): the photos do not "
            "overlap enough, or show too little texture to match"
        )
    return model


# --- export ------------------------------------------------------------------------------------


def export(mesh, model, fused, params: PhotoParams, skipped: list[dict]) -> Reconstruction:
    """GLB, levels of detail, preview and metrics of the finished mesh (the scanner path's
    exporters, so both paths measure and draw alike)."""
    from pipeline.stages.reconstruction.scans import export as out
    from pipeline.stages.reconstruction.scans import surface

    faces = len(mesh.triangles)
    if faces == 0:
        raise InputRejectedError(
            "the photos registered but no surface could be built from them (too little overlap "
            "between neighbouring views, or featureless surfaces)"
        )
    smaller = tuple(n for n in LOD_FACES if faces > n * 1.2)
    lods = surface.levels_of_detail(mesh, smaller) if smaller else {}
    metrics = out.metrics(mesh) | {
        "registered_images": model.num_reg_images(),
        "images": fused.images,
        "reprojection_error_px": round(float(model.compute_mean_reprojection_error()), 4),
        "vertices": len(mesh.vertices),
        "points_sparse": model.num_points3D(),
        "points_dense": fused.points,
        "points": fused.points,
        "mean_track_length": round(float(model.compute_mean_track_length()), 3),
        "scale_known": params.scale != 1.0,
        "skipped_files": skipped,
    }
    return Reconstruction(
        method="photogrammetry",
        glb=out.to_glb(mesh),
        lods={name: out.to_glb(lod) for name, lod in lods.items()},
        preview_png=out.render_preview(mesh, (800, 600)),
        metrics=metrics,
        params=asdict(params),
    )


def camera_centres(model, names: list[str], photos: list[Path], transform: np.ndarray) -> list:
    """[{name, centre}] of the registered photos in the model's frame (metres if scaled)."""
    original = dict(zip(names, photos, strict=True))
    out = []
    for image_id in sorted(model.reg_image_ids()):
        image = model.image(image_id)
        centre = transform[:3, :3] @ image.projection_center() + transform[:3, 3]
        out.append(
            {"name": original[image.name].name, "centre": [round(float(c), 5) for c in centre]}
        )
    return out


# --- helpers -----------------------------------------------------------------------------------


class _stage:
    """`with _stage(stages, "name") as info:` appends {stage, seconds, peak_rss_mb, **info}."""

    def __init__(self, stages: list[dict], name: str) -> None:
        self.stages, self.name, self.info = stages, name, {}

    def __enter__(self) -> dict:
        self.start = time.perf_counter()
        return self.info

    def __exit__(self, *exc: object) -> None:
        seconds = round(time.perf_counter() - self.start, 3)
        self.stages.append(
            {"stage": self.name, "seconds": seconds, "peak_rss_mb": _peak_rss_mb(), **self.info}
        )


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6, 1)


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


if __name__ == "__main__":
    _job = json.loads(Path(sys.argv[1]).read_text())
    sparse_job(Path(_job["workdir"]), _job["names"], PhotoParams(**_job["params"]))
