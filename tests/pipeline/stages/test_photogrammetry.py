"""Photogrammetry on rendered photographs of a known gate: real pycolmap, OpenCV and Open3D.

One reconstruction of 8 views (640×480) is shared by the geometry tests; its cameras and mesh
are compared with the truth after a similarity alignment (a photo set has no scale of its own).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import asdict, replace

import cv2
import numpy as np
import open3d as o3d
import pytest
import trimesh

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.photogrammetry import PhotoParams, reconstruct_photos
from pipeline.stages.reconstruction.result import Reconstruction
from tests.factories.photo_views import (
    View,
    arc_cameras,
    distance_to_gate,
    noise_photos,
    render_views,
)

VIEWS = 8
_ENDS = [-np.linalg.inv(c[:, :3]) @ c[:, 3] for c in arc_cameras(VIEWS)[:: VIEWS - 1]]
TAPE_M = round(float(np.linalg.norm(_ENDS[0] - _ENDS[1])), 3)
"""What a tape measure says between where the first and the last photo were taken."""
PARAMS = PhotoParams(
    max_image_size=640,
    dense_max_size=640,
    target_faces=60_000,
    texture_px=2048,
    scale=f"view_00.jpg,view_{VIEWS - 1:02d}.jpg,{TAPE_M}",
)
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
def test_a_known_distance_between_two_photos_puts_the_model_in_metres(gate):
    views, result = gate
    m = result.metrics
    assert m["scale_source"] == "distance" and m["scale_known"]
    assert m["scale_detail"]["photos"] == ["view_00.jpg", "view_07.jpg"]
    truth = {v.path.name: v.centre for v in views}
    found = np.array([c["centre"] for c in m["cameras"]])
    scale, *_ = similarity(found, np.array([truth[c["name"]] for c in m["cameras"]]))
    assert abs(scale - 1) < 0.01  # metres, to 1 %
    assert m["size_m"] == m["bbox_m"]


@pytest.mark.slow
def test_the_texture_atlas_shows_what_the_photographs_show(gate):
    views, result = gate
    mesh = glb_mesh(result.glb)
    atlas = np.asarray(mesh.visual.material.baseColorTexture.convert("RGB"), float)
    assert list(atlas.shape[1::-1]) == result.metrics["atlas_px"]
    assert max(atlas.shape[:2]) <= PARAMS.texture_px
    # the atlas colour at each vertex (trimesh's UVs: origin bottom-left) against the middle
    # photo's colour where that vertex appears in it, on the gate's front faces it sees
    h, w = atlas.shape[:2]
    uv = mesh.visual.uv
    texel = atlas[
        ((1 - uv[:, 1]) * h).astype(int).clip(0, h - 1), (uv[:, 0] * w).astype(int).clip(0, w - 1)
    ]
    *_, apply = to_truth(gate)
    points = apply(np.asarray(mesh.vertices))
    front = np.zeros(len(points), bool)
    for (x0, x1), (y0, y1), z in FRONTS:
        front |= (
            (points[:, 0] > x0) & (points[:, 0] < x1) & (points[:, 1] > y0) & (points[:, 1] < y1)
        )
        front &= np.abs(points[:, 2] - z) < 0.02
    view = views[VIEWS // 2]
    cam = points[front] @ view.cam_from_world[:, :3].T + view.cam_from_world[:, 3]
    photo = cv2.cvtColor(cv2.imread(str(view.path)), cv2.COLOR_BGR2RGB).astype(float)
    px = (cam[:, :2] / cam[:, 2:] * view.focal_px + [320, 240]).astype(int)
    seen = photo[px[:, 1].clip(0, 479), px[:, 0].clip(0, 639)]
    error = np.abs(texel[front] - seen).mean()
    shuffled = np.abs(texel[front] - np.roll(seen, len(seen) // 2, axis=0)).mean()
    assert front.sum() > 200 and error < 0.5 * shuffled, (error, shuffled)


@pytest.mark.slow
def test_preview_metrics_stages_and_params_are_recorded(gate):
    _, result = gate
    preview = cv2.imdecode(np.frombuffer(result.preview_png, np.uint8), cv2.IMREAD_COLOR)
    assert preview is not None
    drawn = np.abs(preview.astype(int) - preview[0, 0].astype(int)).sum(axis=2) > 30
    assert drawn.mean() > 0.2  # the model fills a good part of the picture
    m = result.metrics
    assert len(glb_mesh(result.glb).faces) == m["faces"] <= PARAMS.target_faces
    assert m["volume_m3"] is None and not m["watertight"]
    assert len(m["bbox_m"]) == 3 and all(x > 0 for x in m["bbox_m"])
    names = [s["stage"] for s in result.stages]
    assert names == [
        "inputs",
        "features",
        "matching",
        "mapping",
        "load",
        "dense",
        "mesh",
        "scale",
        "texture",
        "export",
    ]
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
        reconstruct_photos(photos, tmp_path / "work", replace(PARAMS, scale=""))


def test_a_scale_naming_a_photo_not_in_the_set_is_rejected_before_any_work(tmp_path):
    photos = noise_photos(tmp_path / "photos", 3, size=(200, 150))
    with pytest.raises(InputRejectedError, match=r"scale names view_00\.jpg, view_07\.jpg, which"):
        reconstruct_photos(photos, tmp_path / "work", PARAMS)
    assert not (tmp_path / "work" / "sparse").exists()


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
    assert PhotoParams.from_overrides({"scale": "0.01"}).scale == "0.01"
    assert PhotoParams.from_overrides({"scale": "a.jpg, b.jpg, 3.2"}).scale == "a.jpg, b.jpg, 3.2"
    for bad, message in [
        ({"colour": "yes"}, "unknown photogrammetry parameter 'colour'"),
        ({"target_faces": "many"}, "target_faces: expected int, got 'many'"),
        ({"matcher": "vocabtree"}, "matcher must be one of"),
        ({"scale": "nan"}, "neither metres per model unit"),
        ({"scale": "a.jpg,a.jpg,2"}, "neither metres per model unit"),
        ({"texture_px": "100"}, "texture_px: 0 or 256"),
        ({"dense_method": "patchmatch"}, "needs a CUDA build"),
    ]:
        with pytest.raises(InputRejectedError, match=message):
            PhotoParams.from_overrides(bad)


def test_a_missing_path_is_reported(tmp_path):
    missing = tmp_path / "gone.jpg"
    with pytest.raises(InputRejectedError, match=r"gone\.jpg: not a readable image"):
        reconstruct_photos([missing] * 3, tmp_path / "work", PARAMS)


@pytest.mark.slow
def test_levels_of_detail_keep_a_smaller_texture(gate):
    _, result = gate
    full = max(result.metrics["atlas_px"])
    assert result.lods  # 60,000 faces: a 20k level
    for data in result.lods.values():
        mesh = glb_mesh(data)
        atlas = mesh.visual.material.baseColorTexture
        assert len(mesh.visual.uv) == len(mesh.vertices) and max(atlas.size) <= full
