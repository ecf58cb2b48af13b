"""Photogrammetry on rendered photographs of a known gate: real pycolmap, OpenCV and Open3D.

One reconstruction of 8 views (640×480) is shared by the geometry tests; its cameras and mesh
are compared with the truth after a similarity alignment (a photo set has no scale of its own).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import asdict

import cv2
import numpy as np
import open3d as o3d
import pytest
import trimesh

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.photogrammetry import PhotoParams, reconstruct_photos
from pipeline.stages.reconstruction.result import Reconstruction
from tests.factories.photo_views import View, distance_to_gate, noise_photos, render_views

PARAMS = PhotoParams(max_image_size=640, dense_max_size=640, target_faces=60_000)
VIEWS = 8
FRONTS = [  # (x range, y range, z) of the gate's faces that the cameras see head-on
    ((-0.9, -0.5), (0.05, 1.55), 0.2),
    ((0.5, 0.9), (0.05, 1.55), 0.2),
    ((-1.1, 1.1), (1.62, 1.93), 0.28),
]


@pytest.fixture(scope="module")
def gate(tmp_path_factory) -> tuple[list[View], Reconstruction]:
    folder = tmp_path_factory.mktemp("gate")
    views = render_views(folder / "photos", n=VIEWS)
    junk = folder / "photos" / "notes.jpg"
    junk.write_text("not a photograph")
    photos = [v.path for v in views[:4]] + [junk] + [v.path for v in views[4:]]
    return views, reconstruct_photos(photos, folder / "work", PARAMS)


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares scale, rotation, translation taking src points onto dst (Umeyama)."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    u, s, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ d @ vt
    scale = float(np.trace(np.diag(s) @ d) / a.var(axis=0).sum())
    return scale, rot, mu_d - scale * rot @ mu_s


def to_truth(gate) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """Camera-centre errors (m), the rotation of the model frame into the true one, and a
    function mapping model points into the true frame."""
    views, result = gate
    truth = {v.path.name: v.centre for v in views}
    cameras = result.metrics["cameras"]
    found = np.array([c["centre"] for c in cameras])
    true = np.array([truth[c["name"]] for c in cameras])
    scale, rot, shift = similarity(found, true)

    def apply(points: np.ndarray) -> np.ndarray:
        return scale * points @ rot.T + shift

    return np.linalg.norm(apply(found) - true, axis=1), rot, apply


def glb_mesh(data: bytes) -> trimesh.Trimesh:
    return trimesh.load(io.BytesIO(data), file_type="glb", force="mesh")


@pytest.mark.slow
def test_every_view_registers_and_the_junk_member_is_skipped(gate):
    _, result = gate
    m = result.metrics
    assert result.method == "photogrammetry"
    assert m["registered_images"] == VIEWS
    assert m["images"] == VIEWS
    assert [s["name"] for s in m["skipped_files"]] == ["notes.jpg"]
    assert m["reprojection_error_px"] < 0.5
    assert m["points_sparse"] > 2000
    assert m["points_dense"] > 10 * m["points_sparse"]


@pytest.mark.slow
def test_camera_centres_match_the_truth(gate):
    errors, rot, _ = to_truth(gate)
    # the cameras stand 4.6 m from the gate; SfM finds them within a centimetre
    assert errors.max() < 0.01, errors
    # the model is upright: its y axis is the true up (the cameras look down at 10°)
    assert np.degrees(np.arccos(rot[:, 1] @ [0.0, 1.0, 0.0])) < 1.0


@pytest.mark.slow
def test_mesh_lies_on_the_true_surface_and_covers_the_gate(gate):
    _, result = gate
    *_, apply = to_truth(gate)
    mesh = glb_mesh(result.glb)
    vertices = apply(np.asarray(mesh.vertices))
    distance = distance_to_gate(vertices)
    assert np.median(distance) < 0.015
    assert np.percentile(distance, 90) < 0.04
    # the gate's front faces (pillars and lintel) are reconstructed: sample them, find the mesh
    rng = np.random.default_rng(0)
    samples = np.vstack(
        [
            np.column_stack([rng.uniform(*x, 300), rng.uniform(*y, 300), np.full(300, z)])
            for x, y, z in FRONTS
        ]
    )
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(samples))
    surface = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(vertices))
    gaps = np.asarray(cloud.compute_point_cloud_distance(surface))
    assert np.mean(gaps < 0.03) > 0.9


@pytest.mark.slow
def test_vertex_colours_come_from_the_photographs(gate):
    _, result = gate
    colours = glb_mesh(result.glb).visual.vertex_colors[:, :3].astype(float)
    assert colours.std(axis=0).min() > 20  # the texture is noisy, so are the vertex colours


@pytest.mark.slow
def test_preview_metrics_stages_and_params_are_recorded(gate):
    _, result = gate
    preview = cv2.imdecode(np.frombuffer(result.preview_png, np.uint8), cv2.IMREAD_COLOR)
    assert preview is not None
    drawn = np.abs(preview.astype(int) - preview[0, 0].astype(int)).sum(axis=2) > 30
    assert drawn.mean() > 0.2  # the model fills a good part of the picture
    m = result.metrics
    assert m["faces"] == len(glb_mesh(result.glb).faces) <= PARAMS.target_faces
    assert m["volume_m3"] is None and not m["watertight"]
    assert len(m["bbox_m"]) == 3 and all(x > 0 for x in m["bbox_m"])
    names = [s["stage"] for s in result.stages]
    assert names == ["inputs", "features", "matching", "mapping", "load", "dense", "mesh", "export"]
    assert all(s["seconds"] >= 0 and s["peak_rss_mb"] > 0 for s in result.stages)
    assert result.params == asdict(PARAMS)


@pytest.mark.slow
def test_two_photos_are_rejected(gate, tmp_path):
    views, _ = gate
    with pytest.raises(InputRejectedError, match="at least 3 overlapping photos; got 2"):
        reconstruct_photos([v.path for v in views[:2]], tmp_path, PARAMS)


@pytest.mark.slow
def test_photos_that_do_not_overlap_are_rejected(tmp_path):
    photos = noise_photos(tmp_path / "photos", 3, size=(400, 300))
    with pytest.raises(InputRejectedError, match=r"^\d of 3 photos registered"):
        reconstruct_photos(photos, tmp_path / "work", PARAMS)


def test_a_set_without_readable_photos_is_rejected(tmp_path):
    files = []
    for i in range(3):
        files.append(tmp_path / f"scan_{i}.jpg")
        files[-1].write_bytes(b"\xff\xd8 truncated" if i else b"PK\x03\x04 a zip, not a photo")
    with pytest.raises(InputRejectedError, match="only 0 of 3 files are readable photos"):
        reconstruct_photos(files, tmp_path / "work", PARAMS)


def test_params_from_overrides():
    p = PhotoParams.from_overrides({"matcher": "sequential", "target_faces": "50_000"})
    assert (p.matcher, p.target_faces, p.max_image_size) == ("sequential", 50_000, 1600)
    assert PhotoParams.from_overrides({"scale": "0.01"}).scale == 0.01
    for bad, message in [
        ({"colour": "yes"}, "unknown photogrammetry parameter 'colour'"),
        ({"target_faces": "many"}, "target_faces: expected int, got 'many'"),
        ({"matcher": "vocabtree"}, "matcher must be one of"),
        ({"scale": "nan"}, "not finite"),
        ({"dense_method": "patchmatch"}, "needs a CUDA build"),
    ]:
        with pytest.raises(InputRejectedError, match=message):
            PhotoParams.from_overrides(bad)


def test_a_missing_path_is_reported(tmp_path):
    missing = tmp_path / "gone.jpg"
    with pytest.raises(InputRejectedError, match=r"gone\.jpg: not a readable image"):
        reconstruct_photos([missing] * 3, tmp_path / "work", PARAMS)
