"""Registering several partial scans of one object: FPFH + RANSAC, ICP, then a pose graph.

Every pair of scans is matched globally (FPFH features, RANSAC) and refined with point-to-plane
ICP, coarse then fine. Pairs that overlap (ICP fitness at least `min_fitness`) become edges of a
pose graph: the maximum spanning tree by fitness gives the initial poses and the "odometry"
edges, the other pairs are loop closures that the optimiser may prune. After the pose graph,
each scan is refined by ICP against all the others merged, at closer correspondences than the
pairs use. Poses map each scan into the frame of the first scan. Scans are expected in their
scanner's frame, as scanners write them; normals for the features are oriented towards that
frame's origin when it lies outside the scan (the sensor), else away from the scan's centroid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.scans.clean import require_points, spacing

if TYPE_CHECKING:
    import open3d as o3d

MIN_SCAN_POINTS = 100
MAX_SEE_THROUGH = 0.05
"""A match is wrong if more than this share of a scan lies where the other scanner saw nothing."""
REFINE_ROUNDS = 2


@dataclass(frozen=True)
class Pair:
    source: int
    target: int
    transformation: np.ndarray
    """Maps the source scan into the target scan's frame."""
    fitness: float
    rmse_m: float
    correspondences: int


@dataclass(frozen=True)
class Registration:
    poses: list[np.ndarray]
    """Per scan, the 4×4 transform into the first scan's frame (the first is identity)."""
    pairs: list[dict[str, Any]]
    """Per overlapping pair after optimisation: source, target, fitness, rmse_m, in_graph."""
    fitness: float
    """Mean fitness of the overlapping pairs (the share of points with a partner)."""
    rmse_m: float
    """Root mean square distance between corresponding points over all overlapping pairs."""
    voxel_m: float


@dataclass
class _Prepared:
    coarse: o3d.geometry.PointCloud
    fine: o3d.geometry.PointCloud
    features: Any


def register_scans(
    clouds: list[o3d.geometry.PointCloud],
    voxel_m: float = 0.0,
    *,
    min_fitness: float = 0.3,
    ransac_iterations: int = 100_000,
    tries: int = 3,
    seed: int = 0,
) -> Registration:
    """Register `clouds` (two or more partial scans) into the first one's frame."""

    if len(clouds) < 2:
        raise InputRejectedError("registration needs at least two scans")
    for k, cloud in enumerate(clouds):
        require_points(cloud, MIN_SCAN_POINTS, f"registering scan {k + 1}")
    voxel = voxel_m if voxel_m > 0 else auto_voxel(clouds)
    prepared = [_prepare(c, voxel) for c in clouds]
    pairs = [
        _best_match(prepared, i, j, voxel, ransac_iterations, tries, seed, min_fitness)
        for i in range(len(clouds))
        for j in range(i + 1, len(clouds))
    ]
    good = [p for p in pairs if p.fitness >= min_fitness]
    confirmed = _confirmed(good, prepared, voxel)
    tree = _spanning_tree(len(clouds), good, pairs, confirmed)
    edges = [p for p in good if p in tree or (p.source, p.target) in confirmed]
    poses = _optimise(len(clouds), edges, tree, prepared, voxel)
    poses = _refine(poses, prepared, voxel)
    return _evaluate(poses, edges, tree, prepared, voxel, confirmed)


def _best_match(
    prepared: list[_Prepared],
    i: int,
    j: int,
    voxel: float,
    iterations: int,
    tries: int,
    seed: int,
    min_fitness: float,
) -> Pair:
    """RANSAC + ICP, tried again (another seed) while the result sees through the other scan.

    A match that leaves many points of one scan in the space the other scanner saw empty is
    wrong, however many points it pairs up (flat faces fit anywhere on other flat faces).
    """
    import open3d as o3d

    pair = None
    for attempt in range(max(1, tries)):
        o3d.utility.random.seed(seed + 7919 * attempt + 1000 * i + j)
        pair = _match(prepared[i], prepared[j], i, j, voxel, iterations, attempt % 2 == 0)
        if pair.fitness < min_fitness:
            return pair  # these scans hardly overlap: trying again would not help
        if _sees_through(prepared[i], prepared[j], pair.transformation, voxel) <= MAX_SEE_THROUGH:
            return pair
    assert pair is not None
    return Pair(i, j, pair.transformation, 0.0, pair.rmse_m, 0)  # never trusted


def _sees_through(
    source: _Prepared, target: _Prepared, transform: np.ndarray, voxel: float
) -> float:
    """The larger share, either way round, of one scan's points that the other scanner should
    have hit but saw past (nearer to it than the surface it measured in that direction).

    Needs both scans in their scanner's frame (the scanner at the origin); 0.0 otherwise.
    """
    return max(
        _free_space_share(np.asarray(source.fine.points), transform, target, voxel),
        _free_space_share(np.asarray(target.fine.points), np.linalg.inv(transform), source, voxel),
    )


def _free_space_share(
    points: np.ndarray, transform: np.ndarray, seen: _Prepared, voxel: float
) -> float:
    import open3d as o3d

    measured = np.asarray(seen.fine.points)
    if not _origin_outside(measured):
        return 0.0
    moved = points @ transform[:3, :3].T + transform[:3, 3]
    ranges = np.linalg.norm(moved, axis=1)
    measured_ranges = np.linalg.norm(measured, axis=1)
    search = o3d.core.nns.NearestNeighborSearch(
        o3d.core.Tensor((measured / measured_ranges[:, None]).astype(np.float32))
    )
    search.knn_index()
    index, dist2 = search.knn_search(
        o3d.core.Tensor((moved / ranges[:, None]).astype(np.float32)), 1
    )
    index, angle = index.numpy()[:, 0], np.sqrt(dist2.numpy()[:, 0])
    # In view: within about one point spacing (as an angle) of a measured ray.
    in_view = angle < 1.5 * (voxel / 3) / measured_ranges[index]
    if in_view.sum() < 20:
        return 0.0
    through = ranges[in_view] < measured_ranges[index[in_view]] - 2 * voxel
    return float(through.mean())


def _origin_outside(points: np.ndarray) -> bool:
    lo, hi = points.min(axis=0), points.max(axis=0)
    return bool(np.any(lo > 0) or np.any(hi < 0))


def auto_voxel(clouds: list[o3d.geometry.PointCloud]) -> float:
    """Twice the coarsest scan's point spacing, and no finer than 1/80 of the object."""
    extent = max(float(np.linalg.norm(np.ptp(np.asarray(c.points), axis=0))) for c in clouds)
    return max(2.0 * max(spacing(c) for c in clouds), extent / 80.0)


def _prepare(cloud: o3d.geometry.PointCloud, voxel: float) -> _Prepared:
    import open3d as o3d

    reg = o3d.pipelines.registration
    coarse = cloud.voxel_down_sample(voxel)
    fine = cloud.voxel_down_sample(voxel / 3)
    require_points(coarse, 10, "registration (after downsampling; the scan is too sparse)")
    for c, radius in ((coarse, 2 * voxel), (fine, voxel)):
        c.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=radius, max_nn=30))
        _orient_to_sensor(c)
    features = reg.compute_fpfh_feature(
        coarse, o3d.geometry.KDTreeSearchParamHybrid(radius=5 * voxel, max_nn=100)
    )
    return _Prepared(coarse, fine, features)


def _orient_to_sensor(cloud: o3d.geometry.PointCloud) -> None:
    points = np.asarray(cloud.points)
    if _origin_outside(points):  # the scanner
        cloud.orient_normals_towards_camera_location(np.zeros(3))
    else:
        normals = np.asarray(cloud.normals)
        flip = np.einsum("ij,ij->i", normals, points - points.mean(axis=0)) < 0
        normals[flip] *= -1


def _match(
    source: _Prepared,
    target: _Prepared,
    i: int,
    j: int,
    voxel: float,
    iterations: int,
    mutual: bool = True,
) -> Pair:
    """Source i onto target j: RANSAC on features, ICP coarse then fine."""
    import open3d as o3d

    reg = o3d.pipelines.registration
    distance = 1.5 * voxel
    ransac = reg.registration_ransac_based_on_feature_matching(
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
    plane = reg.TransformationEstimationPointToPlane()
    coarse = reg.registration_icp(
        source.coarse,
        target.coarse,
        distance,
        ransac.transformation,
        plane,
        reg.ICPConvergenceCriteria(max_iteration=50),
    )
    fine = reg.registration_icp(
        source.fine,
        target.fine,
        voxel / 2,
        coarse.transformation,
        plane,
        reg.ICPConvergenceCriteria(max_iteration=60, relative_rmse=1e-8, relative_fitness=1e-8),
    )
    result = fine if fine.fitness > 0 else coarse
    return Pair(
        i,
        j,
        np.asarray(result.transformation),
        float(result.fitness),
        float(result.inlier_rmse),
        len(result.correspondence_set),
    )


def _confirmed(good: list[Pair], prepared: list[_Prepared], voxel: float) -> set[tuple[int, int]]:
    """Pairs in at least one triangle of pairs that closes (i→j→k agrees with i→k).

    A wrong match can score a high fitness (a flat side laid on any flat face), but three wrong
    or mixed matches almost never agree with each other.
    """
    by_key = {(p.source, p.target): p for p in good}
    confirmed: set[tuple[int, int]] = set()
    for (i, j), ij in by_key.items():
        for (a, k), jk in by_key.items():
            if a != j or (i, k) not in by_key:
                continue
            ik = by_key[(i, k)]
            loop = np.linalg.inv(ik.transformation) @ jk.transformation @ ij.transformation
            points = np.asarray(prepared[i].coarse.points)
            moved = points @ loop[:3, :3].T + loop[:3, 3]
            if np.sqrt(np.mean(np.sum((moved - points) ** 2, axis=1))) < 2 * voxel:
                confirmed |= {(i, j), (j, k), (i, k)}
    return confirmed


def _spanning_tree(
    n: int, good: list[Pair], pairs: list[Pair], confirmed: set[tuple[int, int]]
) -> list[Pair]:
    """The maximum spanning tree (Prim's, from scan 0) by confirmation, then fitness.

    Rejects a set of scans that the overlapping pairs do not connect.
    """
    inside, tree = {0}, []
    while len(inside) < n:
        crossing = [p for p in good if (p.source in inside) != (p.target in inside)]
        if not crossing:
            lonely = sorted(set(range(n)) - inside)
            best = max(
                (p.fitness for p in pairs if p.source in lonely or p.target in lonely), default=0
            )
            raise InputRejectedError(
                f"scan(s) {', '.join(str(k + 1) for k in lonely)} overlap no other scan enough "
                f"to register (best fitness {best:.2f}): add scans that bridge the gap"
            )
        best_pair = max(crossing, key=lambda p: ((p.source, p.target) in confirmed, p.fitness))
        tree.append(best_pair)
        inside |= {best_pair.source, best_pair.target}
    return tree


def _initial_poses(n: int, tree: list[Pair]) -> list[np.ndarray]:
    """Poses along the tree: a pair says P_source = P_target · T."""
    poses: dict[int, np.ndarray] = {0: np.eye(4)}
    for p in tree:  # Prim's order: one end of each edge is already placed
        if p.target in poses:
            poses[p.source] = poses[p.target] @ p.transformation
        else:
            poses[p.target] = poses[p.source] @ np.linalg.inv(p.transformation)
    return [poses[k] for k in range(n)]


def _optimise(
    n: int, good: list[Pair], tree: list[Pair], prepared: list[_Prepared], voxel: float
) -> list[np.ndarray]:
    import open3d as o3d

    reg = o3d.pipelines.registration
    graph = reg.PoseGraph()
    for pose in _initial_poses(n, tree):
        graph.nodes.append(reg.PoseGraphNode(pose))
    in_tree = {(p.source, p.target) for p in tree}
    for p in good:
        info = reg.get_information_matrix_from_point_clouds(
            prepared[p.source].fine, prepared[p.target].fine, voxel / 2, p.transformation
        )
        uncertain = (p.source, p.target) not in in_tree
        graph.edges.append(
            reg.PoseGraphEdge(p.source, p.target, p.transformation, info, uncertain=uncertain)
        )
    option = reg.GlobalOptimizationOption(
        max_correspondence_distance=voxel / 2, edge_prune_threshold=0.25, reference_node=0
    )
    with o3d.utility.VerbosityContextManager(o3d.utility.VerbosityLevel.Error):
        reg.global_optimization(
            graph,
            reg.GlobalOptimizationLevenbergMarquardt(),
            reg.GlobalOptimizationConvergenceCriteria(),
            option,
        )
    first = np.linalg.inv(np.asarray(graph.nodes[0].pose))
    return [first @ np.asarray(node.pose) for node in graph.nodes]


def _refine(
    poses: list[np.ndarray], prepared: list[_Prepared], voxel: float, rounds: int = REFINE_ROUNDS
) -> list[np.ndarray]:
    """Each scan ICP'd against all the others merged, in turn, at a finer distance than the
    pairs: the pose graph spreads pairwise errors, this pulls every scan onto the consensus."""
    import open3d as o3d

    reg = o3d.pipelines.registration
    poses = [p.copy() for p in poses]
    moved = [
        o3d.geometry.PointCloud(p.fine).transform(pose)
        for p, pose in zip(prepared, poses, strict=True)
    ]
    for _ in range(rounds):
        for k in range(1, len(poses)):
            others = o3d.geometry.PointCloud()
            for j, cloud in enumerate(moved):
                if j != k:
                    others += cloud
            result = reg.registration_icp(
                prepared[k].fine,
                others,
                voxel / 3,
                poses[k],
                reg.TransformationEstimationPointToPlane(),
                reg.ICPConvergenceCriteria(max_iteration=30),
            )
            if result.fitness > 0:
                poses[k] = np.asarray(result.transformation)
                moved[k] = o3d.geometry.PointCloud(prepared[k].fine).transform(poses[k])
    return poses


def _evaluate(
    poses: list[np.ndarray],
    good: list[Pair],
    tree: list[Pair],
    prepared: list[_Prepared],
    voxel: float,
    confirmed: set[tuple[int, int]],
) -> Registration:
    import open3d as o3d

    reg = o3d.pipelines.registration
    in_tree = {(p.source, p.target) for p in tree}
    rows, squares, matched = [], 0.0, 0
    for p in good:
        relative = np.linalg.inv(poses[p.target]) @ poses[p.source]
        result = reg.evaluate_registration(
            prepared[p.source].fine, prepared[p.target].fine, voxel / 2, relative
        )
        count = len(result.correspondence_set)
        squares += result.inlier_rmse**2 * count
        matched += count
        rows.append(
            {
                "source": p.source,
                "target": p.target,
                "fitness": round(float(result.fitness), 4),
                "rmse_m": float(result.inlier_rmse),
                "spanning_tree": (p.source, p.target) in in_tree,
                "loop_confirmed": (p.source, p.target) in confirmed,
            }
        )
    fitness = float(np.mean([r["fitness"] for r in rows])) if rows else 0.0
    rmse = float(np.sqrt(squares / matched)) if matched else 0.0
    return Registration(poses, rows, fitness, rmse, voxel)
