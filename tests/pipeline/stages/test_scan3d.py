"""The scanner path on generated data with a known truth (real Open3D, trimesh, laspy, pye57)."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import InputRejectedError
from pipeline.media.limits import Limits
from pipeline.stages.reconstruction.scans.export import metrics, render_preview, to_glb
from pipeline.stages.reconstruction.scans.io import load
from pipeline.stages.reconstruction.scans.params import ScanParams
from pipeline.stages.reconstruction.scans.reconstruct import reconstruct_scans
from tests.factories import scans

LIMITS = Limits(
    max_file_bytes=1 << 30,
    max_pixels=600_000_000,
    max_pages=2000,
    max_points=50_000_000,
    max_zip_members=10_000,
    max_zip_ratio=200,
)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def stele():
    return scans.stele_mesh()


@pytest.fixture(scope="module")
def front_scans():
    """Four partial scans along a 140° arc in front of the stele (scanner frames, 0.1 mm noise)."""
    return scans.partial_scans(4, arc_deg=140, pixels=(160, 160))


@pytest.fixture(scope="module")
def scan_result(front_scans, tmp_path_factory):
    _, parts = front_scans
    folder = tmp_path_factory.mktemp("scans")
    inputs = [
        (scans.write_ply(folder / f"scan{k}.ply", s.points, s.colours), "model/ply")
        for k, s in enumerate(parts)
    ]
    params = ScanParams(poisson_depth=8, lods=(20_000, 5_000), max_faces=100_000)
    return reconstruct_scans(inputs, params, LIMITS)


def _distances(truth, points: np.ndarray) -> np.ndarray:
    import open3d as o3d

    scene = scans.raycasting_scene(truth)
    return scene.compute_distance(o3d.core.Tensor(points.astype(np.float32))).numpy()


def _glb_mesh(data: bytes):
    import trimesh

    return trimesh.load(io.BytesIO(data), file_type="glb", force="mesh", process=False)


# --- registration and surface against the truth -------------------------------------------------


def test_partial_scans_register_to_their_known_poses_within_a_millimetre(front_scans, scan_result):
    _, parts = front_scans
    first = np.linalg.inv(parts[0].pose)
    for k, (scan, found) in enumerate(zip(parts, scan_result.metrics["poses"], strict=True)):
        truth = first @ scan.pose
        found = np.asarray(found)
        moved_true = scan.points @ truth[:3, :3].T + truth[:3, 3]
        moved_found = scan.points @ found[:3, :3].T + found[:3, 3]
        error = np.linalg.norm(moved_true - moved_found, axis=1).max()
        assert error < 0.001, f"scan {k} is {error * 1000:.2f} mm from its true pose"
    assert scan_result.metrics["rmse_m"] < 0.002
    assert scan_result.metrics["fitness"] > 0.4


def test_the_merged_surface_lies_on_the_known_mesh(stele, front_scans, scan_result):
    _, parts = front_scans
    mesh = _glb_mesh(scan_result.glb)
    pose = parts[0].pose  # the model is in the first scan's frame
    vertices = np.asarray(mesh.vertices) @ pose[:3, :3].T + pose[:3, 3]
    distance = _distances(stele, vertices)
    assert np.median(distance) < 0.0003
    assert np.percentile(distance, 90) < 0.0015
    assert len(mesh.visual.vertex_colors) == len(mesh.vertices)  # the scans' colours survive


def test_the_result_has_lods_preview_metrics_and_timed_stages(scan_result):
    r = scan_result
    assert r.method == "scan-registration"
    assert set(r.lods) == {"20k", "5k"}
    assert len(_glb_mesh(r.lods["5k"]).faces) <= 5_000
    assert r.preview_png.startswith(b"\x89PNG")
    assert r.metrics["faces"] <= 100_000 and r.metrics["points"] > 1000
    assert len(r.metrics["bbox_m"]) == 3
    assert r.params["poisson_depth"] == 8 and r.params["lods"] == [20_000, 5_000]
    names = [s["stage"] for s in r.stages]
    assert names == ["load", "clean", "register", "downsample", "normals", "surface",
                     "decimate", "export"]  # fmt: skip
    assert all(s["seconds"] >= 0 and s["peak_rss_mb"] > 0 for s in r.stages)


def test_a_closed_cloud_becomes_a_watertight_model_of_the_right_size(stele, tmp_path):
    points, colours = scans.surface_cloud(stele, 20_000)
    path = scans.write_xyz(tmp_path / "stele.xyz", points, colours)
    params = ScanParams(poisson_depth=7, trim_quantile=0.0, lods=(5_000,), max_faces=30_000)
    r = reconstruct_scans([(path, "text/x-xyz")], params, LIMITS)
    assert r.metrics["watertight"]
    assert r.metrics["volume_m3"] == pytest.approx(stele.volume, rel=0.03)
    assert r.metrics["surface_area_m2"] == pytest.approx(stele.area, rel=0.05)
    assert np.allclose(r.metrics["bbox_m"], np.ptp(stele.vertices, axis=0), atol=0.002)


def test_metrics_of_the_known_mesh_are_exact(stele):
    m = metrics(stele)
    assert m["watertight"] and m["faces"] == len(stele.faces)
    assert m["volume_m3"] == pytest.approx(stele.volume, rel=1e-9)
    assert m["surface_area_m2"] == pytest.approx(stele.area, rel=1e-9)


def test_glb_and_preview_of_a_mesh_and_of_a_cloud(stele):
    colours = scans.stele_colours(np.asarray(stele.vertices))
    back = _glb_mesh(to_glb(stele, colours))
    assert np.allclose(back.vertices, stele.vertices, atol=1e-6)
    assert np.array_equal(back.visual.vertex_colors[:, :3], colours)
    png = render_preview(stele, (320, 240))
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(png)))
    assert image.shape == (240, 320, 3)
    assert (image.min(axis=2) < 250).mean() > 0.1  # the stele covers part of the frame
    cloud_png = render_preview((np.asarray(stele.vertices), None), (160, 120))
    assert cloud_png.startswith(b"\x89PNG")


# --- formats --------------------------------------------------------------------------------------


def _cloud(n: int = 2000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    points = rng.uniform(-0.1, 0.1, (n, 3))
    return points, scans.stele_colours(points + np.array([0, 0.1, 0]))


@pytest.mark.parametrize(
    ("name", "media_type", "tolerance"),
    [
        ("c.ply", "model/ply", 1e-6),
        ("c.pcd", "application/x-pcd", 1e-6),
        ("c.xyz", "text/x-xyz", 1e-6),
        ("c.las", "application/vnd.las", 1e-4),
        ("c.laz", "application/vnd.laszip", 1e-4),
        ("c.e57", "model/e57", 1e-6),
    ],
)
def test_clouds_round_trip_with_colours(tmp_path, name, media_type, tolerance):
    points, colours = _cloud()
    path = tmp_path / name
    writer = {
        ".ply": scans.write_ply,
        ".pcd": scans.write_pcd,
        ".xyz": scans.write_xyz,
        ".las": scans.write_las,
        ".laz": scans.write_las,
        ".e57": scans.write_e57,
    }[path.suffix]
    writer(path, points, colours)
    g = load(path, media_type, LIMITS)
    assert g.points.shape == points.shape and g.faces is None
    assert np.abs(g.points - points).max() < tolerance
    assert np.abs(g.colours.astype(int) - colours).max() <= 1


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("m.obj", "model/obj"), ("m.stl", "model/stl"), ("m.glb", "model/gltf-binary")],
)
def test_meshes_round_trip(tmp_path, stele, name, media_type):
    path = scans.write_trimesh(tmp_path / name, stele.vertices, stele.faces)
    g = load(path, media_type, LIMITS)
    assert len(g.faces) == len(stele.faces)
    assert len(g.points) == len(stele.vertices)  # STL's repeated corners are shared again
    assert metrics((g.points, g.faces))["volume_m3"] == pytest.approx(stele.volume, rel=1e-5)


def test_las_keeps_its_crs_and_converts_feet_to_metres(tmp_path):
    points, _ = _cloud()
    feet = points * 1000 + [7_600_000, 700_000, 100]  # Oregon GIC Lambert (ft), EPSG:2992
    g = load(
        scans.write_las(tmp_path / "f.las", feet, epsg=2992, scale=0.01),
        "application/vnd.las",
        LIMITS,
    )
    assert g.crs == "EPSG:2992" and g.units == "foot" and g.to_metre == pytest.approx(0.3048)
    assert np.allclose(g.points, feet * 0.3048, atol=0.01)
    assert g.facts["las_scale"] == [0.01, 0.01, 0.01]


def test_a_cloud_over_the_budget_is_averaged_while_streaming(tmp_path):
    path = scans.write_big_ply(tmp_path / "big.ply", 300_000)
    g = load(path, "model/ply", LIMITS, budget=40_000)
    assert 5_000 < len(g.points) <= 40_000
    assert g.facts["points_read"] == 300_000 and "streamed_voxel_m" in g.facts
    radius = np.linalg.norm(g.points, axis=1)  # voxel centroids of a unit sphere
    assert np.abs(radius - 1).max() < g.facts["streamed_voxel_m"]


# --- bad input ------------------------------------------------------------------------------------


def test_a_few_nan_and_inf_points_are_dropped_and_counted(tmp_path):
    points, _ = _cloud(1000)
    g = load(scans.write_nan_cloud(tmp_path / "n.ply", points, every=50), "model/ply", LIMITS)
    assert g.facts["non_finite_dropped"] == 30 and len(g.points) == 970
    assert np.isfinite(g.points).all()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("all_nan", "all 1,000 points have NaN or infinite coordinates"),
        ("empty", "holds no points"),
        ("single", "a single point"),
        ("coincident", "coincide"),
        ("las_count", "claims"),
        ("empty_stl", "holds no points"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(tmp_path, case, message):
    points, _ = _cloud(1000)
    path, media_type = {
        "all_nan": lambda: (
            scans.write_nan_cloud(tmp_path / "a.ply", points, every=1),
            "model/ply",
        ),
        "empty": lambda: (scans.write_ply(tmp_path / "e.ply", points[:0]), "model/ply"),
        "single": lambda: (scans.write_xyz(tmp_path / "s.xyz", points[:1]), "text/x-xyz"),
        "coincident": lambda: (scans.write_ply(tmp_path / "c.ply", np.zeros((50, 3))), "model/ply"),
        "las_count": lambda: (
            scans.write_las_absurd_count(tmp_path / "l.las", points, 2_000_000),
            "application/vnd.las",
        ),
        "empty_stl": lambda: (_empty_stl(tmp_path / "x.stl"), "model/stl"),
    }[case]()
    with pytest.raises(InputRejectedError, match=message):
        load(path, media_type, LIMITS)


def _empty_stl(path: Path) -> Path:
    path.write_bytes(b"\0" * 80 + (0).to_bytes(4, "little"))
    return path


def test_a_stanford_ply_with_a_range_grid_element_reads(tmp_path):
    points, _ = _cloud(500)
    path = scans.write_ply(tmp_path / "bun000.ply", points, range_grid=(40, 30))
    g = load(path, "model/ply", LIMITS)
    assert len(g.points) == 500 and g.facts["ignored_elements"] == ["range_grid"]
    ascii_path = scans.write_ply(tmp_path / "a.ply", points, ascii=True, range_grid=(40, 30))
    assert np.allclose(load(ascii_path, "model/ply", LIMITS).points, points, atol=1e-6)


def test_a_mesh_without_faces_is_read_as_a_cloud(tmp_path):
    points, _ = _cloud(500)
    g = load(scans.write_ply(tmp_path / "m.ply", points, declared_faces=0), "model/ply", LIMITS)
    assert g.faces is None and "without faces" in g.facts["note"]


def test_params_parse_overrides_and_reject_unknown_keys_and_bad_values():
    p = ScanParams.from_overrides({"poisson_depth": "10", "lods": "100k,20k", "remesh": "yes"})
    assert (p.poisson_depth, p.lods, p.remesh) == (10, (100_000, 20_000), True)
    with pytest.raises(InputRejectedError, match="unknown parameter 'depth'"):
        ScanParams.from_overrides({"depth": "9"})
    with pytest.raises(InputRejectedError, match="bad value 'nine' for parameter 'poisson_depth'"):
        ScanParams.from_overrides({"poisson_depth": "nine"})
    with pytest.raises(InputRejectedError, match=r"poisson_depth must be in 5\.\.12"):
        ScanParams.from_overrides({"poisson_depth": "40"})
    with pytest.raises(InputRejectedError, match="method must be one of"):
        ScanParams.from_overrides({"method": "marching"})
    p = ScanParams.from_overrides({"surface_voxel_cells": "0", "threads": "1"})
    assert (p.surface_voxel_cells, p.threads) == (0.0, 1)
    with pytest.raises(InputRejectedError, match="surface_voxel_cells must be 0 or in"):
        ScanParams.from_overrides({"surface_voxel_cells": "0.1"})


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (np.column_stack([np.linspace(0, 1, 500), np.zeros(500), np.zeros(500)]), "on a line"),
        (np.random.default_rng(0).uniform(size=(6, 3)), "needs at least"),
    ],
)
def test_degenerate_clouds_are_rejected_and_the_process_lives_on(tmp_path, points, message):
    """Open3D aborts the process on some degenerate input: run it in a child and check the
    child reports a clean rejection (a crash would show as a signal exit code)."""
    path = scans.write_xyz(tmp_path / "d.xyz", points)
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from pipeline.errors import InputRejectedError
        from pipeline.media.limits import Limits
        from pipeline.stages.reconstruction.scans.params import ScanParams
        from pipeline.stages.reconstruction.scans.reconstruct import reconstruct_scans
        limits = Limits(1 << 30, 600_000_000, 2000, 50_000_000, 10_000, 200)
        try:
            reconstruct_scans([(Path({str(path)!r}), "text/x-xyz")], ScanParams(), limits)
        except InputRejectedError as e:
            print("REJECTED", e)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "REJECTED" in done.stdout and message in done.stdout
