"""Cleaning a cloud: statistical outliers, voxel downsampling to a target density, normals.

Everything takes and returns an Open3D `PointCloud`. Open3D aborts the process on some empty or
degenerate input (a KD-tree over nothing, normals of fewer points than neighbours), so each
function checks its input first and raises InputRejectedError instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import InputRejectedError

if TYPE_CHECKING:
    import open3d as o3d

ORIENTATIONS = ("auto", "radial", "up", "tangent", "keep")
MIN_POINTS = 10


def to_cloud(
    points: np.ndarray, colours: np.ndarray | None = None, normals: np.ndarray | None = None
) -> o3d.geometry.PointCloud:
    """An Open3D cloud of (N, 3) points; colours are uint8 RGB, normals unit vectors."""
    import open3d as o3d

    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise InputRejectedError(f"points must be an (N, 3) array, not {points.shape}")
    if not np.isfinite(points).all():
        raise InputRejectedError("points have NaN or infinite coordinates")
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    if colours is not None and len(colours) == len(points):
        cloud.colors = o3d.utility.Vector3dVector(np.asarray(colours, dtype=np.float64) / 255.0)
    if normals is not None and len(normals) == len(points):
        cloud.normals = o3d.utility.Vector3dVector(np.asarray(normals, dtype=np.float64))
    return cloud


def require_points(cloud: o3d.geometry.PointCloud, least: int, what: str) -> None:
    n = len(cloud.points)
    if n < least:
        raise InputRejectedError(f"{what} needs at least {least:,} points; the cloud has {n:,}")
    extent = np.ptp(np.asarray(cloud.points), axis=0)
    if extent.max() <= 0:
        raise InputRejectedError(f"{what}: all {n:,} points coincide")


def remove_outliers(
    cloud: o3d.geometry.PointCloud, neighbours: int = 20, std_ratio: float = 2.0
) -> tuple[o3d.geometry.PointCloud, int]:
    """Drop points whose mean distance to their neighbours is unusually large; (kept, removed)."""
    require_points(cloud, max(MIN_POINTS, neighbours + 1), "outlier removal")
    kept, index = cloud.remove_statistical_outlier(nb_neighbors=neighbours, std_ratio=std_ratio)
    return kept, len(cloud.points) - len(index)


def voxel_for(cloud: o3d.geometry.PointCloud, target_points: int) -> float:
    """A voxel size that leaves about `target_points` points (0.0: the cloud is small enough).

    Starts from the surface estimate (a surface of extent L holds (L / voxel)² cells) and
    corrects it from the count a trial downsampling leaves, twice.
    """
    n = len(cloud.points)
    if n <= target_points:
        return 0.0
    extent = np.ptp(np.asarray(cloud.points), axis=0)
    voxel = float(np.linalg.norm(extent)) / np.sqrt(target_points)
    for _ in range(3):
        got = len(cloud.voxel_down_sample(voxel).points)
        if abs(got - target_points) < 0.15 * target_points:
            break
        voxel *= np.sqrt(got / target_points)
    return voxel


def downsample(
    cloud: o3d.geometry.PointCloud,
    voxel_m: float = 0.0,
    target_points: int = 1_000_000,
    *,
    least_voxel_m: float = 0.0,
) -> tuple[o3d.geometry.PointCloud, float]:
    """Voxel-average the cloud: at `voxel_m`, or (0) to about `target_points` and no finer than
    `least_voxel_m` (the detail the surface can use); (cloud, voxel)."""
    require_points(cloud, MIN_POINTS, "downsampling")
    voxel = voxel_m if voxel_m > 0 else max(voxel_for(cloud, target_points), least_voxel_m)
    if voxel <= 0:
        return cloud, 0.0
    return cloud.voxel_down_sample(voxel), voxel


def spacing(cloud: o3d.geometry.PointCloud, sample: int = 2000, quantile: float = 0.5) -> float:
    """The median (or `quantile`) distance from a point to its nearest neighbour, over an even
    sample."""
    import open3d as o3d

    require_points(cloud, 2, "spacing")
    points = np.asarray(cloud.points)
    tree = o3d.geometry.KDTreeFlann(cloud)
    step = max(1, len(points) // sample)
    distances = [tree.search_knn_vector_3d(p, 2)[2][1] for p in points[::step]]
    return float(np.sqrt(np.quantile(distances, quantile)))


def estimate_normals(
    cloud: o3d.geometry.PointCloud,
    neighbours: int = 30,
    orient: str = "auto",
    *,
    georeferenced: bool = False,
) -> tuple[o3d.geometry.PointCloud, str]:
    """Normals from the `neighbours` nearest points, oriented; (cloud, orientation used).

    Poisson needs normals that point out of the object. "radial" points them away from the
    centroid (right for a stele, a statue, most single objects, and O(n)); "up" suits terrain
    and other georeferenced LiDAR; "tangent" propagates along the surface (slow, for concave
    shapes); "keep" trusts normals the file brought. "auto" keeps the file's normals, else picks
    "up" when georeferenced and "radial" otherwise.
    """
    import open3d as o3d

    if orient not in ORIENTATIONS:
        raise InputRejectedError(f"orientation {orient!r} is not one of {', '.join(ORIENTATIONS)}")
    require_points(cloud, max(MIN_POINTS, 3), "normal estimation")
    if orient == "auto":
        orient = "keep" if cloud.has_normals() else ("up" if georeferenced else "radial")
    if orient == "keep" and cloud.has_normals():
        cloud.normalize_normals()
        return cloud, "keep"
    k = min(neighbours, len(cloud.points) - 1)
    cloud.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(knn=k))
    if orient == "up":
        cloud.orient_normals_to_align_with_direction(np.array([0.0, 0.0, 1.0]))
    elif orient == "tangent":
        cloud.orient_normals_consistent_tangent_plane(k)
        _face_outwards(cloud)
    else:
        _point_radially(cloud)
        orient = "radial"
    return cloud, orient


def _point_radially(cloud: o3d.geometry.PointCloud) -> None:
    points, normals = np.asarray(cloud.points), np.asarray(cloud.normals)
    outward = points - points.mean(axis=0)
    flip = np.einsum("ij,ij->i", normals, outward) < 0
    normals[flip] *= -1


def _face_outwards(cloud: o3d.geometry.PointCloud) -> None:
    """Flip all normals if most of them point towards the centroid."""
    points, normals = np.asarray(cloud.points), np.asarray(cloud.normals)
    if np.einsum("ij,ij->i", normals, points - points.mean(axis=0)).mean() < 0:
        normals *= -1
