"""Surfaces from an oriented cloud (screened Poisson, or ball pivoting) and web levels of detail.

Poisson closes every hole and invents surface far from the data; the density Open3D returns
per vertex says how much data supports it, so vertices under a low quantile of density are
trimmed. Ball pivoting keeps to the data and leaves holes where it is thin.

Poisson refines its octree only where the samples are dense enough, so points much closer than
an octree cell cost time and add no detail: `cell_size` says how fine the cloud need be.
Decimation is fast-simplification's quadric collapse (ten times Open3D's speed on a million
faces, the same distances to the truth), Open3D's when that package is missing.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.scans.clean import require_points, spacing

if TYPE_CHECKING:
    import open3d as o3d

METHODS = ("poisson", "ball_pivoting")
MIN_SURFACE_POINTS = 100
POISSON_SCALE = 1.1
UNSEEN_MIN_SIDE = 3.0
"""Filled-in regions (see `_trim_unseen`) smaller than this many gaps squared are kept (the
bunny, development: 3 removes its unseen holes; a random 20k-point sample of the stele stays
watertight)."""
_SIMPLIFY_LOCK = threading.Lock()  # fast-simplification keeps the mesh in module globals


def cell_size(points: np.ndarray, depth: int, scale: float = POISSON_SCALE) -> float:
    """The edge of a finest Poisson octree cell at `depth` for these points, metres.

    The extent is taken between the 0.5 and 99.5 percentiles, so that a few stray points far
    off (not yet removed as outliers) do not make the cells coarse.
    """
    if len(points) < 2:
        return 0.0
    lo, hi = np.quantile(points, [0.005, 0.995], axis=0)
    return float((hi - lo).max()) * scale / 2**depth


def poisson(
    cloud: o3d.geometry.PointCloud,
    depth: int = 9,
    trim_quantile: float = 0.02,
    *,
    scale: float = POISSON_SCALE,
    max_gap_m: float = 0.0,
) -> o3d.geometry.TriangleMesh:
    """Screened Poisson at octree `depth`, vertices under the `trim_quantile` density removed,
    and (`max_gap_m` > 0) the regions farther than `max_gap_m` from every point of `cloud` that
    are larger than a pinhole: surface Poisson filled in where no scan saw (a hole, a concavity
    no scanner reached)."""
    import open3d as o3d

    _require_oriented(cloud)
    if not 5 <= depth <= 12:
        raise InputRejectedError(f"Poisson depth must be between 5 and 12, not {depth}")
    if not 0 <= trim_quantile < 1:
        raise InputRejectedError(
            f"the density trim quantile must be in [0, 1), not {trim_quantile}"
        )
    with o3d.utility.VerbosityContextManager(o3d.utility.VerbosityLevel.Error):
        mesh, densities = o3d.geometry.TriangleMesh.create_from_point_cloud_poisson(
            cloud, depth=depth, scale=scale, linear_fit=False
        )
    densities = np.asarray(densities)
    if trim_quantile > 0 and len(densities):
        mesh.remove_vertices_by_mask(densities < np.quantile(densities, trim_quantile))
    if max_gap_m > 0 and len(mesh.triangles):
        _trim_unseen(mesh, cloud, max_gap_m)
    return tidy(mesh)


def _trim_unseen(
    mesh: o3d.geometry.TriangleMesh, cloud: o3d.geometry.PointCloud, max_gap_m: float
) -> None:
    """Remove the regions of triangles with a vertex farther than `max_gap_m` from every point
    whose area exceeds a square of `UNSEEN_MIN_SIDE` gaps: a hole no scan saw. Smaller ones are
    the gaps between the samples of a sparse or random cloud, and keep a closed surface closed.
    """
    import open3d as o3d

    gap = np.asarray(o3d.geometry.PointCloud(mesh.vertices).compute_point_cloud_distance(cloud))
    triangles = np.asarray(mesh.triangles)
    far = (gap > max_gap_m)[triangles].any(axis=1)
    if not far.any():
        return
    unseen = o3d.geometry.TriangleMesh(mesh.vertices, o3d.utility.Vector3iVector(triangles[far]))
    clusters, _, areas = unseen.cluster_connected_triangles()
    large = np.asarray(areas)[np.asarray(clusters)] > (UNSEEN_MIN_SIDE * max_gap_m) ** 2
    remove = np.zeros(len(triangles), dtype=bool)
    remove[np.flatnonzero(far)[large]] = True
    mesh.remove_triangles_by_mask(remove)
    mesh.remove_unreferenced_vertices()


def ball_pivoting(
    cloud: o3d.geometry.PointCloud, radii_factors: tuple[float, ...] = (1.5, 3.0, 6.0)
) -> o3d.geometry.TriangleMesh:
    """Ball pivoting with radii that are multiples of the cloud's point spacing."""
    import open3d as o3d

    _require_oriented(cloud)
    step = spacing(cloud)
    radii = o3d.utility.DoubleVector([f * step for f in radii_factors])
    mesh = o3d.geometry.TriangleMesh.create_from_point_cloud_ball_pivoting(cloud, radii)
    return tidy(mesh)


def tidy(mesh: o3d.geometry.TriangleMesh, min_share: float = 0.01) -> o3d.geometry.TriangleMesh:
    """Remove degenerate and duplicated triangles and islands under `min_share` of the faces.

    Non-manifold edges stay: Poisson makes a few (four triangles on one edge) on closed
    surfaces, and removing them would open holes.
    """
    mesh.remove_degenerate_triangles()
    mesh.remove_duplicated_triangles()
    mesh.remove_duplicated_vertices()
    if len(mesh.triangles):
        clusters, counts, _ = mesh.cluster_connected_triangles()
        clusters, counts = np.asarray(clusters), np.asarray(counts)
        small = counts[clusters] < min_share * len(clusters)
        mesh.remove_triangles_by_mask(small)
    mesh.remove_unreferenced_vertices()
    if not len(mesh.triangles):
        raise InputRejectedError("surface reconstruction produced no faces from these points")
    return mesh


def decimate(mesh: o3d.geometry.TriangleMesh, faces: int) -> o3d.geometry.TriangleMesh:
    """Quadric decimation to at most `faces` triangles (the mesh itself if it has fewer).

    Vertex colours follow: each kept vertex takes the colour of the nearest original vertex.
    """
    if faces < 4:
        raise InputRejectedError(f"a level of detail needs at least 4 faces, not {faces}")
    if len(mesh.triangles) <= faces:
        return mesh
    try:
        import fast_simplification
    except ImportError:
        return mesh.simplify_quadric_decimation(target_number_of_triangles=faces)
    return _fast_decimate(mesh, faces, fast_simplification)


def _fast_decimate(
    mesh: o3d.geometry.TriangleMesh, faces: int, fast_simplification: Any
) -> o3d.geometry.TriangleMesh:
    import open3d as o3d

    vertices = np.asarray(mesh.vertices)
    with _SIMPLIFY_LOCK:
        kept, triangles = fast_simplification.simplify(
            vertices, np.asarray(mesh.triangles, dtype=np.int32), target_count=faces
        )
    out = o3d.geometry.TriangleMesh(
        o3d.utility.Vector3dVector(np.asarray(kept, dtype=np.float64)),
        o3d.utility.Vector3iVector(np.asarray(triangles, dtype=np.int32)),
    )
    if mesh.has_vertex_colors() and len(kept):
        nearest = _nearest(vertices, np.asarray(kept))
        out.vertex_colors = o3d.utility.Vector3dVector(np.asarray(mesh.vertex_colors)[nearest])
    out.remove_degenerate_triangles()
    out.remove_unreferenced_vertices()
    return out


def _nearest(points: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of the nearest of `points` to each query point."""
    import open3d as o3d

    search = o3d.core.nns.NearestNeighborSearch(o3d.core.Tensor(points.astype(np.float32)))
    search.knn_index()
    index, _ = search.knn_search(o3d.core.Tensor(queries.astype(np.float32)), 1)
    return index.numpy()[:, 0]


def levels_of_detail(
    mesh: o3d.geometry.TriangleMesh, faces: tuple[int, ...]
) -> dict[str, o3d.geometry.TriangleMesh]:
    """Decimated copies by name ("100k", "20k"), each from the previous (largest first)."""
    out, source = {}, mesh
    for target in sorted(set(faces), reverse=True):
        source = decimate(source, target)
        out[lod_name(target)] = source
    return out


def lod_name(faces: int) -> str:
    return f"{faces // 1000}k" if faces >= 1000 and faces % 1000 == 0 else str(faces)


def _require_oriented(cloud: o3d.geometry.PointCloud) -> None:
    require_points(cloud, MIN_SURFACE_POINTS, "surface reconstruction")
    if not cloud.has_normals():
        raise InputRejectedError("surface reconstruction needs normals: estimate them first")
    extent = np.ptp(np.asarray(cloud.points), axis=0)
    if np.sort(extent)[1] <= 0:
        raise InputRejectedError("the points lie on a line: there is no surface to reconstruct")
