"""The surface of a scan path model keeps to what the scans saw (issue 17).

Poisson closes every hole: behind a scan of one side it invents a back, over a hole a cap.
Those are trimmed; the gaps between the samples of a closed cloud are not (test_scan3d's
watertight stele).
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import open3d as o3d
import trimesh

from pipeline.media.limits import Limits
from pipeline.stages.reconstruction.scans.params import ScanParams
from pipeline.stages.reconstruction.scans.reconstruct import reconstruct_scans
from tests.factories import scans

LIMITS = Limits(1 << 30, 600_000_000, 2000, 50_000_000, 10_000, 200)


def _model_gaps_mm(glb: bytes, points: np.ndarray) -> np.ndarray:
    """Each model vertex's distance to the nearest scanned point, mm."""
    mesh = trimesh.load(io.BytesIO(glb), file_type="glb", force="mesh", process=False)
    vertices = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(mesh.vertices)))
    scanned = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    return np.asarray(vertices.compute_point_cloud_distance(scanned)) * 1000


def test_a_scan_of_one_side_gets_no_invented_back(tmp_path):
    _, parts = scans.partial_scans(1, arc_deg=0, pixels=(160, 160))
    path = scans.write_ply(tmp_path / "front.ply", parts[0].points, parts[0].colours)
    params = ScanParams(poisson_depth=8, lods=(5_000,), max_faces=50_000)
    trimmed = reconstruct_scans([(path, "model/ply")], params, LIMITS)
    gaps = _model_gaps_mm(trimmed.glb, parts[0].points)
    assert np.percentile(gaps, 99.9) < 5.0, np.percentile(gaps, [50, 99, 99.9])
    assert not trimmed.metrics["watertight"]
    # without the trim, Poisson's closed surface wraps round behind the scan
    kept = reconstruct_scans([(path, "model/ply")], replace(params, trim_gap=0.0), LIMITS)
    assert np.percentile(_model_gaps_mm(kept.glb, parts[0].points), 99.9) > 5.0
