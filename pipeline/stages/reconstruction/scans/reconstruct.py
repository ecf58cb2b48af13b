"""The whole scanner path: files of partial scans in, a `Reconstruction` out.

load → clean (voxel-average to what Poisson can use, then outliers) → register and merge (two or
more scans) → density (voxel) → normals → surface (Poisson or ball pivoting) → decimate (full
detail, levels of detail) → export (GLB, preview, metrics). Every stage is timed (wall and CPU
seconds, all threads) and its peak resident memory recorded (Linux: the process's high-water
mark is reset before each stage through /proc/self/clear_refs; where that is not allowed the
figure is the process's peak so far). Memory is process-wide: a worker that runs other jobs in
threads at the same time shares it.

Georeferenced input keeps its coordinates as an `origin_m` offset: the model itself is centred
near the origin, because GLB stores float32, which would blur millimetres at UTM magnitudes.
"""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.media.limits import Limits
from pipeline.stages.reconstruction.result import Reconstruction
from pipeline.stages.reconstruction.scans import clean, export, surface
from pipeline.stages.reconstruction.scans.io import Geometry, load
from pipeline.stages.reconstruction.scans.params import ScanParams
from pipeline.stages.reconstruction.scans.register import register_scans

METHOD = "scan-registration"
_LARGE_COORDINATE = 10_000.0  # metres; beyond this the model is shifted to a local origin


def reconstruct_scans(
    inputs: list[tuple[Path, str]], params: ScanParams, limits: Limits, *, set_of_one: bool = False
) -> Reconstruction:
    """Reconstruct one object from one or more scans (path, media type) of it.

    `set_of_one`: the input came as a scan set holding one scan (the outcome says so)."""
    if not inputs:
        raise InputRejectedError("no scans to reconstruct from")
    with _open3d_threads(params.threads):
        return _reconstruct(inputs, params, limits, set_of_one)


def _reconstruct(
    inputs: list[tuple[Path, str]], params: ScanParams, limits: Limits, set_of_one: bool
) -> Reconstruction:
    stages: list[dict[str, Any]] = []
    facts: dict[str, Any] = {}
    with _stage(stages, "load") as info:
        geometries = [
            _load(k, p, t, limits, params, len(inputs)) for k, (p, t) in enumerate(inputs)
        ]
        info["points"] = sum(len(g.points) for g in geometries)
    facts.update(_input_facts(geometries))
    if len(geometries) > 1:
        _check_set(geometries, [p for p, _ in inputs])
    origin = _origin(geometries)
    if len(geometries) == 1 and len(inputs) == 1 and set_of_one:
        facts["notes"] = [
            "a scan set of one scan: nothing to register; the model shows only what that scan saw"
        ]
    if len(geometries) == 1 and geometries[0].faces is not None and not params.remesh:
        mesh = _given_mesh(geometries[0], origin, stages)
    else:
        mesh = _mesh_from_clouds(geometries, origin, params, stages, facts)
    return _finish(mesh, params, stages, facts)


def _mesh_from_clouds(
    geometries: list[Geometry],
    origin: np.ndarray,
    params: ScanParams,
    stages: list[dict[str, Any]],
    facts: dict[str, Any],
) -> Any:
    with _stage(stages, "clean") as info:
        clouds, removed, voxels = [], 0, []
        coloured = all(g.colours is not None for g in geometries)
        for g in geometries:
            cloud = clean.to_cloud(g.points - origin, g.colours if coloured else None, g.normals)
            if voxel := _surface_voxel(np.asarray(cloud.points), params):
                cloud, _ = clean.downsample(cloud, voxel)
            voxels.append(voxel)
            cloud, dropped = clean.remove_outliers(
                cloud, params.outlier_neighbours, params.outlier_std
            )
            clouds.append(cloud)
            removed += dropped
        info["outliers_removed"] = facts["outliers_removed"] = removed
    if len(clouds) > 1:
        with _stage(stages, "register") as info:
            result = register_scans(
                clouds,
                params.register_voxel_m,
                sensors=_sensors(geometries, origin, params.sensor),
                min_fitness=params.min_fitness,
                ransac_iterations=params.ransac_iterations,
                tries=params.ransac_tries,
                seed=params.seed,
            )
            merged = clouds[0]
            for cloud, pose in zip(clouds[1:], result.poses[1:], strict=True):
                merged += cloud.transform(pose)
            info.update(pairs=len(result.pairs), rmse_m=result.rmse_m, fitness=result.fitness)
            info.update(result.facts)
        facts.update(
            rmse_m=result.rmse_m,
            fitness=result.fitness,
            registration_pairs=result.pairs,
            poses=[np.round(p, 9).tolist() for p in result.poses],
            registration_voxel_m=result.voxel_m,
            registration=result.facts,
        )
    else:
        merged = clouds[0]
    with _stage(stages, "downsample") as info:
        least = _surface_voxel(np.asarray(merged.points), params)
        if len(clouds) == 1 and voxels[0] and not params.voxel_m:
            voxel = voxels[0]  # averaged to it while cleaning: again would only blur
            if len(merged.points) > params.target_points:
                merged, voxel = clean.downsample(merged, 0.0, params.target_points)
        else:
            merged, voxel = clean.downsample(
                merged, params.voxel_m, params.target_points, least_voxel_m=least
            )
        info.update(points=len(merged.points), voxel_m=voxel)
        facts["voxel_m"] = voxel
    with _stage(stages, "normals") as info:
        georeferenced = any(g.crs for g in geometries)
        merged, orientation = clean.estimate_normals(
            merged, params.normal_neighbours, params.orient, georeferenced=georeferenced
        )
        info["orientation"] = facts["normals_orientation"] = orientation
    with _stage(stages, "surface") as info:
        if params.method == "poisson":
            gap = params.trim_gap * clean.spacing(merged) if params.trim_gap else 0.0
            mesh = surface.poisson(
                merged, params.poisson_depth, params.trim_quantile, max_gap_m=gap
            )
            info["trim_gap_m"] = gap
        else:
            mesh = surface.ball_pivoting(merged)
        info["faces"] = len(mesh.triangles)
    return mesh


def _given_mesh(geometry: Geometry, origin: np.ndarray, stages: list[dict[str, Any]]) -> Any:
    import open3d as o3d

    with _stage(stages, "clean") as info:
        mesh = o3d.geometry.TriangleMesh(
            o3d.utility.Vector3dVector(geometry.points - origin),
            o3d.utility.Vector3iVector(geometry.faces.astype(np.int32)),
        )
        if geometry.colours is not None:
            mesh.vertex_colors = o3d.utility.Vector3dVector(geometry.colours / 255.0)
        mesh = surface.tidy(mesh, min_share=0.0)
        info["faces"] = len(mesh.triangles)
    return mesh


def _finish(
    mesh: Any, params: ScanParams, stages: list[dict[str, Any]], facts: dict[str, Any]
) -> Reconstruction:
    with _stage(stages, "decimate") as info:
        full = surface.decimate(mesh, params.max_faces)
        full.compute_vertex_normals()
        lods = surface.levels_of_detail(full, params.lods)
        info.update(faces=len(full.triangles), lods={k: len(m.triangles) for k, m in lods.items()})
    with _stage(stages, "export") as info:
        glb = export.to_glb(full)
        lod_glbs = {name: export.to_glb(m) for name, m in lods.items()}
        preview = export.render_preview(full, (params.preview_width, params.preview_height))
        measured = export.metrics(full)
        info["glb_bytes"] = len(glb)
    return Reconstruction(
        method=METHOD,
        glb=glb,
        lods=lod_glbs,
        preview_png=preview,
        metrics={**measured, **facts},
        params=params.as_dict(),
        stages=stages,
    )


def _load(
    k: int, path: Path, media_type: str, limits: Limits, params: ScanParams, count: int
) -> Geometry:
    """One input; in a set, a rejection names the scan (number and file)."""
    try:
        return load(path, media_type, limits, budget=params.max_points_in_memory)
    except InputRejectedError as e:
        if count == 1:
            raise
        raise InputRejectedError(f"scan {k + 1} ({path.name}): {e}") from e


def _check_set(geometries: list[Geometry], paths: list[Path]) -> None:
    """Scans of one object in frames of their own: a georeferenced tile among them is not one."""
    tiles = [k for k, g in enumerate(geometries) if g.crs]
    if tiles and len(tiles) < len(geometries):
        named = ", ".join(f"{k + 1} ({paths[k].name}, {geometries[k].crs})" for k in tiles)
        raise InputRejectedError(
            f"scan(s) {named} are georeferenced LiDAR tiles (they declare a CRS) among object "
            "scans in frames of their own: a tile cannot be registered to an object; ingest "
            "tiles on their own"
        )


def _sensors(geometries: list[Geometry], origin: np.ndarray, rule: str) -> list[Any]:
    """Per scan, its scanner's position in the scan's (shifted) frame, or None: as the files
    say (`file`), at each frame's origin by declared convention (`origin`), or never."""
    if rule == "unknown":
        return [None] * len(geometries)
    if rule == "origin":
        return [-origin for _ in geometries]
    return [None if g.sensor_m is None else g.sensor_m - origin for g in geometries]


def _surface_voxel(points: np.ndarray, params: ScanParams) -> float:
    """The voxel that leaves as many points as the Poisson octree can use (0.0: keep all)."""
    if params.method != "poisson" or not params.surface_voxel_cells or len(points) < 2:
        return 0.0
    return surface.cell_size(points, params.poisson_depth) * params.surface_voxel_cells


def _input_facts(geometries: list[Geometry]) -> dict[str, Any]:
    crs = sorted({g.crs for g in geometries if g.crs})
    return {
        "input_points": sum(len(g.points) for g in geometries),
        "scans": len(geometries),
        "crs": crs[0] if len(crs) == 1 else (crs or None),
        "units": sorted({g.units for g in geometries}),
        "non_finite_dropped": sum(g.facts.get("non_finite_dropped", 0) for g in geometries),
        "inputs": [g.facts for g in geometries],
    }


def _origin(geometries: list[Geometry]) -> np.ndarray:
    """A whole-metre offset near the data when coordinates are large (georeferenced), else 0."""
    lo = np.min([g.points.min(axis=0) for g in geometries], axis=0)
    hi = np.max([g.points.max(axis=0) for g in geometries], axis=0)
    if max(np.abs(lo).max(), np.abs(hi).max()) < _LARGE_COORDINATE:
        return np.zeros(3)
    return np.floor(lo)


# --- timing and memory ---------------------------------------------------------------------------


@contextmanager
def _open3d_threads(threads: int) -> Iterator[None]:
    """Open3D limited to `threads` CPU threads while inside (0: no limit)."""
    if not threads:
        yield
        return
    import open3d as o3d

    o3d.utility.set_max_threads(threads)
    try:
        yield
    finally:
        o3d.utility.set_max_threads(0)


@contextmanager
def _stage(stages: list[dict[str, Any]], name: str) -> Iterator[dict[str, Any]]:
    info: dict[str, Any] = {}
    _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    yield info
    stages.append(
        {
            "stage": name,
            "seconds": round(time.perf_counter() - start, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            **info,
        }
    )


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux, or not allowed: then the peak so far
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """The high-water mark of resident memory (since the last reset), MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
