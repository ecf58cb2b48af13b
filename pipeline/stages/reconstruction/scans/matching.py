"""Matching one scan onto another for `pipeline.stages.reconstruction.scans.register`: each scan
prepared (downsampled, normals oriented, FPFH features), then every pair matched globally
several ways (fast global registration, RANSAC seeds, matches implied through a third scan),
each refined by ICP; the distinct results are the pair's candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.stages.reconstruction.scans.clean import require_points
from pipeline.stages.reconstruction.scans.freespace import _both_known, _refuted

if TYPE_CHECKING:
    import open3d as o3d


KEEP_CANDIDATES = 2
"""Distinct candidates kept per pair for the loop checks."""


@dataclass(frozen=True, eq=False)
class Pair:
    """One match of scan `source` onto scan `target` (compared by identity)."""

    source: int
    target: int
    transformation: np.ndarray
    """Maps the source scan into the target scan's frame."""
    fitness: float
    rmse_m: float
    correspondences: int
    method: str = ""
    """Which global match the candidate came from (fgr, ransac-1, via-3, …)."""
    via: int = -1
    """For a match implied through a third scan: that scan (its own triangle proves nothing)."""


@dataclass
class _Prepared:
    coarse: o3d.geometry.PointCloud
    fine: o3d.geometry.PointCloud
    features: Any
    sensor: np.ndarray | None


def _prepare(cloud: o3d.geometry.PointCloud, voxel: float, sensor: np.ndarray | None) -> _Prepared:
    import open3d as o3d

    reg = o3d.pipelines.registration
    coarse = cloud.voxel_down_sample(voxel)
    fine = cloud.voxel_down_sample(voxel / 3)
    require_points(coarse, 10, "registration (after downsampling; the scan is too sparse)")
    for c, radius in ((coarse, 2 * voxel), (fine, voxel)):
        c.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=radius, max_nn=30))
    _orient(coarse, sensor)
    if sensor is not None:
        fine.orient_normals_towards_camera_location(sensor)
    features = reg.compute_fpfh_feature(
        coarse, o3d.geometry.KDTreeSearchParamHybrid(radius=5 * voxel, max_nn=100)
    )
    return _Prepared(coarse, fine, features, sensor)


def _orient(cloud: o3d.geometry.PointCloud, sensor: np.ndarray | None) -> None:
    """Normals towards the scanner where it is known; else consistent along the surface (a
    spanning tree of tangent planes) and then all flipped together so that most point away from
    the scan's centroid (the visible side of an object bulges towards whoever saw it)."""
    if sensor is not None:
        cloud.orient_normals_towards_camera_location(sensor)
        return
    if len(cloud.points) > 30:
        cloud.orient_normals_consistent_tangent_plane(12)
    points, normals = np.asarray(cloud.points), np.asarray(cloud.normals)
    if np.einsum("ij,ij->i", normals, points - points.mean(axis=0)).mean() < 0:
        normals *= -1


# --- candidates per pair -------------------------------------------------------------------------


def _candidates(
    prepared: list[_Prepared],
    i: int,
    j: int,
    voxel: float,
    found: list[tuple[str, np.ndarray, int]],
    known: list[Pair] = (),
) -> list[Pair]:
    """`known` and the global matches `found` of scan i onto scan j, each refined by coarse ICP:
    the distinct ones, best fitness first (at most KEEP_CANDIDATES)."""
    source, target = prepared[i], prepared[j]
    refined: list[Pair] = list(known)
    tried: list[np.ndarray] = [k.transformation for k in known]
    for name, transform, via in found:
        if any(_same(transform, t, source, voxel) for t in tried):
            continue
        tried.append(transform)
        result = _icp_coarse(source, target, transform, voxel)
        if result.fitness > 0:
            refined.append(
                Pair(i, j, np.asarray(result.transformation), float(result.fitness),
                     float(result.inlier_rmse), len(result.correspondence_set), name, via)
            )  # fmt: skip
    distinct: list[Pair] = []
    for pair in sorted(refined, key=lambda p: -p.fitness):
        if _both_known(source, target) and pair not in known:
            fine = _icp_fine(prepared, pair, voxel)  # free space needs the pose to a point spacing
            if _refuted(source, target, fine.transformation, voxel):
                continue
        if all(not _same(pair.transformation, d.transformation, source, voxel) for d in distinct):
            distinct.append(pair)
    return distinct[:KEEP_CANDIDATES]


def _ransac_seeds(
    prepared: list[_Prepared],
    i: int,
    j: int,
    voxel: float,
    iterations: int,
    tries: int,
    seed: int,
    *,
    first: int = 0,
) -> list[tuple[str, np.ndarray, int]]:
    import open3d as o3d

    out = []
    for attempt in range(first, first + max(1, tries)):
        o3d.utility.random.seed(seed + 7919 * attempt + 1000 * i + j)
        transform = _ransac(prepared[i], prepared[j], voxel, iterations, attempt % 2 == 0)
        out.append((f"ransac-{attempt + 1}", transform, -1))
    return out


def _implied(
    candidates: dict[tuple[int, int], list[Pair]], i: int, k: int, n: int, min_fitness: float
) -> list[tuple[str, np.ndarray, int]]:
    """i→k through every third scan j (i→j then j→k), from candidates that overlap well: the
    narrow overlaps that features miss are often found this way."""

    def onto(a: int, b: int) -> list[np.ndarray]:
        """Direct matches only: implied from implied ones would confirm each other."""
        direct = [c for c in candidates[(min(a, b), max(a, b))] if c.via < 0]
        good = [c.transformation for c in direct if c.fitness >= min_fitness]
        return good if a < b else [np.linalg.inv(t) for t in good]

    out = []
    for j in range(n):
        if j in (i, k):
            continue
        for ij in onto(i, j):
            for jk in onto(j, k):
                out.append((f"via-{j + 1}", jk @ ij, j))
    return out


def _fgr(source: _Prepared, target: _Prepared, voxel: float, seed: int) -> np.ndarray:
    """Fast global registration; its random tuples drawn from Open3D's generator, seeded."""
    import open3d as o3d

    reg = o3d.pipelines.registration
    o3d.utility.random.seed(seed)
    result = reg.registration_fgr_based_on_feature_matching(
        source.coarse,
        target.coarse,
        source.features,
        target.features,
        reg.FastGlobalRegistrationOption(maximum_correspondence_distance=1.5 * voxel),
    )
    return np.asarray(result.transformation)


def _ransac(
    source: _Prepared, target: _Prepared, voxel: float, iterations: int, mutual: bool
) -> np.ndarray:
    import open3d as o3d

    reg = o3d.pipelines.registration
    distance = 1.5 * voxel
    result = reg.registration_ransac_based_on_feature_matching(
        source.coarse,
        target.coarse,
        source.features,
        target.features,
        mutual,
        distance,
        reg.TransformationEstimationPointToPoint(False),
        3,
        [
            reg.CorrespondenceCheckerBasedOnEdgeLength(0.9),
            reg.CorrespondenceCheckerBasedOnDistance(distance),
        ],
        reg.RANSACConvergenceCriteria(iterations, 0.999),
    )
    return np.asarray(result.transformation)


def _icp_coarse(source: _Prepared, target: _Prepared, init: np.ndarray, voxel: float) -> Any:
    import open3d as o3d

    reg = o3d.pipelines.registration
    return reg.registration_icp(
        source.coarse,
        target.coarse,
        1.5 * voxel,
        init,
        reg.TransformationEstimationPointToPlane(),
        reg.ICPConvergenceCriteria(max_iteration=50),
    )


def _icp_fine(prepared: list[_Prepared], pair: Pair, voxel: float) -> Pair:
    import open3d as o3d

    source, target, init = prepared[pair.source], prepared[pair.target], pair.transformation

    reg = o3d.pipelines.registration
    fine = reg.registration_icp(
        source.fine,
        target.fine,
        voxel / 2,
        init,
        reg.TransformationEstimationPointToPlane(),
        reg.ICPConvergenceCriteria(max_iteration=60, relative_rmse=1e-8, relative_fitness=1e-8),
    )
    transform = np.asarray(fine.transformation) if fine.fitness > 0 else init
    return Pair(
        pair.source,
        pair.target,
        transform,
        float(fine.fitness),
        float(fine.inlier_rmse),
        len(fine.correspondence_set),
        pair.method,
        pair.via,
    )


def _same(a: np.ndarray, b: np.ndarray, source: _Prepared, voxel: float) -> bool:
    """Two transforms that move the scan's points by less than two voxels (RMS) from each other."""
    return _rms_apart(np.linalg.inv(b) @ a, np.asarray(source.coarse.points)) < 2 * voxel


def _rms_apart(transform: np.ndarray, points: np.ndarray) -> float:
    moved = points @ transform[:3, :3].T + transform[:3, 3]
    return float(np.sqrt(np.mean(np.sum((moved - points) ** 2, axis=1))))
