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

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.scans.clean import require_points, spacing
from pipeline.stages.reconstruction.scans.freespace import _both_known
from pipeline.stages.reconstruction.scans.matching import (
    _candidates,
    _fgr,
    _implied,
    _prepare,
    _ransac_seeds,
)
from pipeline.stages.reconstruction.scans.posegraph import (
    Registration,
    _choose,
    _confirmed,
    _evaluate,
    _optimise,
    _refine,
    _spanning_tree,
)

if TYPE_CHECKING:
    import open3d as o3d

MIN_SCAN_POINTS = 100
MAX_CONTRADICTED = 0.2
"""A registration that contradicts more than this share of the well-fitting, loop-confirmed
pairs is ambiguous (chosen on development data: the generated stele and the bunny)."""
MAX_SIZE_RATIO = 20.0
"""Scans of one object differ less than this in size; beyond it, units differ (mm among m)."""


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
            prepared,
            i,
            j,
            voxel,
            [("fgr", _fgr(prepared[i], prepared[j], voxel, seed + 1000 * i + j), -1)],
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
