"""Registering several partial scans of one object: global candidates, loops, a pose graph.

1. Each scan is downsampled at a voxel measured from the scans themselves (their point spacing
   and size), normals estimated and oriented (towards the scanner when its position is known,
   else consistently along the surface and outwards), FPFH features computed.
2. Every pair is matched globally several ways, none trusted alone: fast global registration
   (Zhou et al. 2016) and RANSAC with several seeds. Each result is refined by point-to-plane
   ICP; distinct results are kept as the pair's candidates, best fitness first.
3. A candidate is *confirmed* when it closes a loop with candidates of two other pairs (i→j→k
   agrees with i→k): three wrong matches almost never agree. Each pair keeps its best confirmed
   candidate, else its best one.
4. Pairs that overlap (fitness ≥ `min_fitness`) are the edges of a pose graph. The maximum
   spanning tree (confirmed first, then fitness) gives the initial poses; the graph is optimised
   with line processes that prune the edges the others contradict (Choi, Zhou and Koltun 2015,
   Open3D's `global_optimization` with `edge_prune_threshold`). Each scan is then refined by
   ICP against all the others merged.
5. Scans the overlapping pairs do not connect are reported by group, not registered on a guess.

Scans may be in any frame (published raw scans often sit in a turntable's or a package's frame,
not the scanner's). Where the scanner's position in a scan's frame *is* known (the file says so,
or the caller declares a convention), a match that puts one scan's points in space the other
scanner saw empty is rejected (the free-space check). Where it is not known, nothing is rejected
on a guess of where the scanner was. Poses map each scan into the frame of the first scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.scans.clean import require_points, spacing

if TYPE_CHECKING:
    import open3d as o3d

MIN_SCAN_POINTS = 100
MAX_SEE_THROUGH = 0.05
"""With both scanners known: a match is wrong if more than this share of one scan lies where
the other scanner saw nothing (nearer to it than the surface it measured in that direction, by
more than FREE_SPACE_MARGIN voxels). Chosen on the generated stele (development data): the true
poses of its 28 pairs score 0.0 %, the back laid on the front 13–70 %."""
FREE_SPACE_MARGIN = 0.5
REFINE_ROUNDS = 6
"""At most; refinement stops when no scan moved more than a hundredth of a voxel in a round
(on the bunny, development: 2 rounds 0.54 mm mean error at scan centroids, 5 rounds 0.40)."""
MAX_CONTRADICTED = 0.2
"""A registration that contradicts more than this share of the well-fitting, loop-confirmed
pairs is ambiguous (chosen on development data: the generated stele and the bunny)."""
KEEP_CANDIDATES = 2
"""Distinct candidates kept per pair for the loop checks."""
MAX_SIZE_RATIO = 20.0
"""Scans of one object differ less than this in size; beyond it, units differ (mm among m)."""


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
    facts: dict[str, Any]
    """Candidates tried, loops closed, edges pruned, free-space checks run."""


@dataclass
class _Prepared:
    coarse: o3d.geometry.PointCloud
    fine: o3d.geometry.PointCloud
    features: Any
    sensor: np.ndarray | None


def register_scans(
    clouds: list[o3d.geometry.PointCloud],
    voxel_m: float = 0.0,
    *,
    sensors: list[np.ndarray | None] | None = None,
    min_fitness: float = 0.3,
    ransac_iterations: int = 100_000,
    tries: int = 3,
    seed: int = 0,
) -> Registration:
    """Register `clouds` (two or more partial scans) into the first one's frame.

    `sensors`: per scan, the scanner's position in that scan's frame, or None where unknown.
    `tries`: global matches per pair (one fast global registration, the rest RANSAC seeds).
    """
    if len(clouds) < 2:
        raise InputRejectedError(
            "registration needs at least two scans; a set of one scan is reconstructed alone"
        )
    sensors = list(sensors) if sensors is not None else [None] * len(clouds)
    if len(sensors) != len(clouds):
        raise ValueError("one sensor position (or None) per scan")
    for k, cloud in enumerate(clouds):
        require_points(cloud, MIN_SCAN_POINTS, f"registering scan {k + 1}")
    check_sizes(clouds)
    voxel = voxel_m if voxel_m > 0 else auto_voxel(clouds)
    prepared = [_prepare(c, voxel, s) for c, s in zip(clouds, sensors, strict=True)]
    candidates = {
        (i, j): _candidates(
            prepared, i, j, voxel, [("fgr", _fgr(prepared[i], prepared[j], voxel), -1)]
        )
        for i, j in combinations(range(len(clouds)), 2)
    }
    confirmed = _confirmed(candidates, prepared, voxel)
    for (i, j), found in candidates.items():  # RANSAC seeds where fast global found no loop
        if not any(id(c) in confirmed for c in found):
            seeds = _ransac_seeds(prepared, i, j, voxel, ransac_iterations, tries - 1, seed)
            found[:] = _candidates(prepared, i, j, voxel, seeds, found)
            if not found and _both_known(prepared[i], prepared[j]):
                # every match so far seen through: RANSAC once more, with other seeds
                seeds = _ransac_seeds(
                    prepared, i, j, voxel, ransac_iterations, tries - 1, seed, first=tries - 1
                )
                found[:] = _candidates(prepared, i, j, voxel, seeds, found)
    confirmed = _confirmed(candidates, prepared, voxel)
    for (i, k), found in candidates.items():  # matches implied through a third scan
        if not any(id(c) in confirmed for c in found):
            implied = _implied(candidates, i, k, len(clouds), min_fitness)
            found[:] = _candidates(prepared, i, k, voxel, implied, found)
    confirmed = _confirmed(candidates, prepared, voxel)
    chosen = _choose(candidates, confirmed, prepared, voxel, min_fitness)
    good = [p for p in chosen if p.fitness >= min_fitness]
    keys = {(p.source, p.target) for p in good if id(p) in confirmed}
    tree = _spanning_tree(len(clouds), good, chosen, keys)
    poses, pruned = _optimise(len(clouds), good, tree, prepared, voxel, keys)
    poses = _refine(poses, prepared, voxel)
    facts = {
        "candidates": sum(len(c) for c in candidates.values()),
        "ransac_pairs": sum(
            any(c.method.startswith("ransac") for c in f) for f in candidates.values()
        ),
        "implied_pairs": sum(
            any(c.method.startswith("via") for c in f) for f in candidates.values()
        ),
        "loop_confirmed_pairs": len(keys),
        "edges": len(good),
        "edges_pruned": pruned,
        "free_space_checked": sum(s is not None for s in sensors) >= 2,
        "sensors_known": sum(s is not None for s in sensors),
    }
    result = _evaluate(poses, good, tree, prepared, voxel, keys, facts)
    _check_unambiguous(result, min_fitness)
    return result


def _check_unambiguous(result: Registration, min_fitness: float) -> None:
    """Reject a result that many well-fitting pairs contradict: the scans fit together more
    than one way (a nearly symmetric object), and fitness alone cannot tell which is true."""
    strong = [r for r in result.pairs if r["match_fitness"] >= min_fitness]
    # Wrong matches the graph pruned are noise; contradicted matches that close loops among
    # themselves are another way the scans fit.
    against = [r for r in strong if not r["agrees"] and r["loop_confirmed"]]
    if len(against) < 2 or len(against) <= MAX_CONTRADICTED * len(strong):
        return
    named = ", ".join(f"{r['source'] + 1}–{r['target'] + 1}" for r in against[:6])
    raise InputRejectedError(
        f"the scans fit together more than one way: {len(against)} of {len(strong)} "
        f"well-overlapping pairs (scans {named}{'…' if len(against) > 6 else ''}) match in a way "
        "the best registration contradicts: are they scans of more than one object, or of a "
        "nearly symmetric one? If more than one object, ingest each object as a set of its own; "
        "if each scan is in its scanner's frame, say so (--param sensor=origin) so that the "
        "free-space check can tell the ways apart; or add scans whose overlaps show distinctive "
        "detail"
    )


def check_sizes(clouds: list[o3d.geometry.PointCloud]) -> None:
    """Reject a set whose scans differ in size by a factor that only a unit mix-up explains."""
    sizes = np.array([float(np.linalg.norm(np.ptp(np.asarray(c.points), axis=0))) for c in clouds])
    median = float(np.median(sizes))
    odd = [k for k, s in enumerate(sizes) if max(s / median, median / s) > MAX_SIZE_RATIO]
    if odd:
        which = ", ".join(f"{k + 1} ({_ratio(sizes[k] / median)} the others)" for k in odd)
        raise InputRejectedError(
            f"scan(s) {which} differ in size from the rest of the set by more than "
            f"{MAX_SIZE_RATIO:g}×: mixed units (millimetres among metres?); export every scan "
            "in one unit, or give each its unit"
        )


def _ratio(r: float) -> str:
    return f"{r:,.0f}× the size of" if r >= 1 else f"1/{1 / r:,.0f} of the size of"


def auto_voxel(clouds: list[o3d.geometry.PointCloud]) -> float:
    """From the scans themselves: twice the coarsest scan's point spacing, no finer than 1/80 of
    the median scan's size (features need a few thousand points, not more)."""
    sizes = [float(np.linalg.norm(np.ptp(np.asarray(c.points), axis=0))) for c in clouds]
    return max(2.0 * max(spacing(c) for c in clouds), float(np.median(sizes)) / 80.0)


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


def _fgr(source: _Prepared, target: _Prepared, voxel: float) -> np.ndarray:
    import open3d as o3d

    reg = o3d.pipelines.registration
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


# --- free space (only where both scanners are known) ---------------------------------------------


def _both_known(source: _Prepared, target: _Prepared) -> bool:
    return source.sensor is not None and target.sensor is not None


def _refuted(source: _Prepared, target: _Prepared, transform: np.ndarray, voxel: float) -> bool:
    if not _both_known(source, target):
        return False  # where the scanners stood is not known: no guess, no rejection
    return _sees_through(source, target, transform, voxel) > MAX_SEE_THROUGH


def _sees_through(
    source: _Prepared, target: _Prepared, transform: np.ndarray, voxel: float
) -> float:
    """The larger share, either way round, of one scan's points that the other scanner should
    have hit but saw past (nearer to it than the surface it measured in that direction)."""
    return max(
        _free_space_share(np.asarray(source.fine.points), transform, target, voxel),
        _free_space_share(np.asarray(target.fine.points), np.linalg.inv(transform), source, voxel),
    )


def _free_space_share(
    points: np.ndarray, transform: np.ndarray, seen: _Prepared, voxel: float
) -> float:
    """The share of `points` (moved by `transform`) that lie in front of the surface `seen`
    measured in their direction: the scanner's rays to its neighbouring returns all passed them.

    The surface along a ray is the measured points' tangent planes (a grazing surface changes
    range fast from ray to ray); only points whose four nearest rays hit surfaces facing the
    scanner, within two point spacings of them, count as in view.
    """
    import open3d as o3d

    assert seen.sensor is not None
    measured = np.asarray(seen.fine.points) - seen.sensor
    normals = np.asarray(seen.fine.normals)
    moved = points @ transform[:3, :3].T + transform[:3, 3] - seen.sensor
    ranges = np.linalg.norm(moved, axis=1)
    measured_ranges = np.linalg.norm(measured, axis=1)
    if ranges.min() <= 0 or measured_ranges.min() <= 0:
        return 0.0
    search = o3d.core.nns.NearestNeighborSearch(
        o3d.core.Tensor((measured / measured_ranges[:, None]).astype(np.float32))
    )
    search.knn_index()
    rays = moved / ranges[:, None]
    index, dist2 = search.knn_search(o3d.core.Tensor(rays.astype(np.float32)), 4)
    index, angle = index.numpy(), np.sqrt(dist2.numpy())
    spacing_angle = (voxel / 3) / measured_ranges[index]
    facing = np.abs(np.einsum("ij,ikj->ik", rays, normals[index]))
    in_view = np.all((angle < 2 * spacing_angle) & (facing > 0.3), axis=1)
    if in_view.sum() < 20:
        return 0.0
    m, n, d = measured[index[in_view]], normals[index[in_view]], rays[in_view]
    plane = np.einsum("ikj,ikj->ik", n, m) / np.einsum("ikj,ij->ik", n, d)
    through = ranges[in_view] < plane.min(axis=1) - FREE_SPACE_MARGIN * voxel
    return float(through.mean())


# --- loops, the tree, the pose graph -------------------------------------------------------------


def _confirmed(
    candidates: dict[tuple[int, int], list[Pair]], prepared: list[_Prepared], voxel: float
) -> set[int]:
    """ids of candidates in at least one triangle of candidates that closes (i→j→k ≈ i→k).

    A wrong match can score a high fitness (a flat side laid on any flat face), but three wrong
    or mixed matches almost never agree with each other.
    """
    confirmed: set[int] = set()
    n = len(prepared)
    for i, j, k in combinations(range(n), 3):
        points = np.asarray(prepared[i].coarse.points)
        for ij in candidates[(i, j)]:
            for jk in candidates[(j, k)]:
                for ik in candidates[(i, k)]:
                    if not _independent(ij, jk, ik, i, j, k):
                        continue
                    loop = np.linalg.inv(ik.transformation) @ jk.transformation @ ij.transformation
                    if _rms_apart(loop, points) < 2 * voxel:
                        confirmed |= {id(ij), id(jk), id(ik)}
    return confirmed


def _independent(ij: Pair, jk: Pair, ik: Pair, i: int, j: int, k: int) -> bool:
    """A triangle is evidence only with at most one implied match in it, and not implied
    through this very triangle (matches implied from implied ones would confirm each other)."""
    if sum(p.via >= 0 for p in (ij, jk, ik)) > 1:
        return False
    return not (ij.via == k or jk.via == i or ik.via == j)


def _choose(
    candidates: dict[tuple[int, int], list[Pair]],
    confirmed: set[int],
    prepared: list[_Prepared],
    voxel: float,
    min_fitness: float,
) -> list[Pair]:
    """Per pair: its best confirmed candidate, else its best direct one, refined by fine ICP;
    a candidate the free-space check refutes (both scanners known) gives way to the next.
    The refined pairs of confirmed candidates are added to `confirmed`."""
    chosen = []
    for pairs in candidates.values():
        # An implied match is a hypothesis: only an independent loop makes it a match.
        usable = [p for p in pairs if p.via < 0 or id(p) in confirmed]
        for pair in sorted(usable, key=lambda p: (id(p) not in confirmed, -p.fitness)):
            fine = _icp_fine(prepared, pair, voxel)
            if fine.fitness >= min_fitness and _refuted(
                prepared[pair.source], prepared[pair.target], fine.transformation, voxel
            ):
                continue
            if id(pair) in confirmed:
                confirmed.add(id(fine))
            chosen.append(fine)
            break
    return chosen


def _spanning_tree(
    n: int, good: list[Pair], pairs: list[Pair], confirmed: set[tuple[int, int]]
) -> list[Pair]:
    """The maximum spanning tree (Prim's, from scan 0) by confirmation, then fitness.

    Rejects a set of scans that the overlapping pairs do not connect, naming the groups.
    """
    inside, tree = {0}, []
    while len(inside) < n:
        crossing = [p for p in good if (p.source in inside) != (p.target in inside)]
        if not crossing:
            raise InputRejectedError(_disconnected(n, good, pairs))
        best_pair = max(crossing, key=lambda p: ((p.source, p.target) in confirmed, p.fitness))
        tree.append(best_pair)
        inside |= {best_pair.source, best_pair.target}
    return tree


def groups(n: int, edges: list[Pair]) -> list[list[int]]:
    """The connected groups of scans (0-based), largest first."""
    parent = list(range(n))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for p in edges:
        parent[root(p.source)] = root(p.target)
    found: dict[int, list[int]] = {}
    for k in range(n):
        found.setdefault(root(k), []).append(k)
    return sorted(found.values(), key=lambda g: (-len(g), g[0]))


def _disconnected(n: int, good: list[Pair], pairs: list[Pair]) -> str:
    parts = groups(n, good)
    named = "; ".join(f"scans {', '.join(str(k + 1) for k in g)}" for g in parts)
    where = {k: g for g, members in enumerate(parts) for k in members}
    across = max((p.fitness for p in pairs if where[p.source] != where[p.target]), default=0.0)
    return (
        f"the scans form {len(parts)} groups that do not overlap each other enough to register "
        f"(best fitness across groups {across:.2f}): {named}. If they are one object, add scans "
        "that bridge the groups; if not, ingest each object as a set of its own"
    )


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
    n: int,
    good: list[Pair],
    tree: list[Pair],
    prepared: list[_Prepared],
    voxel: float,
    confirmed: set[tuple[int, int]],
) -> tuple[list[np.ndarray], int]:
    """The pose graph, optimised with line processes; (poses, edges pruned).

    Tree edges that close a loop are certain; every other edge may be pruned.
    """
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
        key = (p.source, p.target)
        uncertain = not (key in in_tree and (key in confirmed or len(good) == len(tree)))
        graph.edges.append(
            reg.PoseGraphEdge(p.source, p.target, p.transformation, info, uncertain=uncertain)
        )
    edges_before = len(graph.edges)
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
    return [first @ np.asarray(node.pose) for node in graph.nodes], edges_before - len(graph.edges)


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
        moved_most = 0.0
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
                change = np.linalg.inv(poses[k]) @ np.asarray(result.transformation)
                points = np.asarray(prepared[k].fine.points)[::50]
                moved_most = max(moved_most, _rms_apart(change, points))
                poses[k] = np.asarray(result.transformation)
                moved[k] = o3d.geometry.PointCloud(prepared[k].fine).transform(poses[k])
        if moved_most < voxel / 100:
            break
    return poses


def _evaluate(
    poses: list[np.ndarray],
    good: list[Pair],
    tree: list[Pair],
    prepared: list[_Prepared],
    voxel: float,
    confirmed: set[tuple[int, int]],
    facts: dict[str, Any],
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
                "agrees": _rms_apart(
                    np.linalg.inv(p.transformation) @ relative,
                    np.asarray(prepared[p.source].coarse.points),
                )
                < 2 * voxel,
                "match": p.method,
                "match_fitness": round(p.fitness, 4),
            }
        )
    fitness = float(np.mean([r["fitness"] for r in rows])) if rows else 0.0
    rmse = float(np.sqrt(squares / matched)) if matched else 0.0
    return Registration(poses, rows, fitness, rmse, voxel, facts)
