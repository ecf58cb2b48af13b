"""Generated 3D data with a known truth: a stele, partial scans of it, files in every format.

The stele is a watertight slab (arched top, carved relief on both faces) in metres. Partial
scans are cast from pinhole viewpoints around it with Open3D's ray casting (as a structured-light
or laser scanner sees it: occlusion, grazing angles, range noise) and expressed in the scanner's
own frame, so the true pose of every scan is known. Writers produce each accepted format, and
the bad inputs of issue 5.

`range_scans` does the same for any mesh, with a scanner model closer to a real one (range
noise growing at grazing angles, grazing returns lost, mixed pixels at silhouettes) and each
scan written in a frame of its own whose origin is *not* the scanner, as published raw range
scans are (a turntable's frame, a registration package's export). `stanford_mesh` reads the real
reconstructed meshes of ../shared/data/scans3d (Stanford 3D Scanning Repository; research use,
acknowledge the Stanford Computer Graphics Laboratory). Rule: the bunny is the development
object (tests, tuning); the dragon is held out for the figures of bench/bench_3d.py.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHARED_SCANS = Path(__file__).resolve().parents[3] / "shared" / "data" / "scans3d"
STANFORD = SHARED_SCANS / "stanford_reconstructed_meshes"
DEVELOPMENT_OBJECT = "bunny"
"""Tests and the choice of every default use this one."""
HELD_OUT_OBJECT = "dragon_vrip_res4"
"""Used only to report figures (bench/bench_3d.py): never to choose a threshold or default."""

WIDTH, HEIGHT, DEPTH = 0.14, 0.20, 0.10
"""The stele's extent at its base, metres (x, y, z): it tapers, thins and arches upwards."""


# --- the known object ----------------------------------------------------------------------------


def _front_relief(u: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Carving on the front (metres, outward), at u in [-1, 1] across: nothing in it repeats
    under a rotation or a mirror (a title band, a sun disc and a boss on the left, inscriptions
    of different lengths, a frame open at the bottom)."""
    v = y / HEIGHT
    frame = 0.003 * ((u > 0.85) | (u < -0.9) | (v > 0.9))
    band = 0.004 * ((v > 0.72) & (v < 0.8) & (u > -0.1) & (u < 0.7))
    sun = 0.008 * np.exp(-(((u + 0.5) / 0.16) ** 2 + ((v - 0.76) / 0.06) ** 2))
    boss = 0.010 * np.exp(-(((u + 0.35) / 0.14) ** 2 + ((v - 0.18) / 0.05) ** 2))
    groove = np.zeros_like(u)
    for cu, v_end in ((0.6, 0.65), (0.3, 0.5), (0.0, 0.6)):  # columns of unequal length
        rows = np.sin(v * 45 + 3 * cu) > 0.4
        groove -= 0.003 * ((np.abs(u - cu) < 0.07) & rows & (v > 0.3) & (v < v_end))
    return frame + band + sun + boss + groove


def _back_relief(u: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The back: a broad off-centre swelling and one vertical ridge."""
    v = y / HEIGHT
    swell = 0.008 * np.exp(-(((u - 0.25) / 0.3) ** 2 + ((v - 0.6) / 0.15) ** 2))
    ridge = 0.005 * np.exp(-(((u + 0.6) / 0.08) ** 2)) * (v > 0.15) * (v < 0.85)
    return swell + ridge


def stele_colours(points: np.ndarray) -> np.ndarray:
    """A stone colour that varies with position (uint8 RGB), to test colour survives."""
    v = np.clip(points[:, 1] / HEIGHT, 0, 1)
    u = np.clip(points[:, 0] / WIDTH + 0.5, 0, 1)
    return np.column_stack([120 + 100 * v, 110 + 60 * u, 90 + 40 * (1 - v)]).astype(np.uint8)


def stele_mesh(step_m: float = 0.001):
    """The stele as a watertight trimesh (outward normals), base centre at the origin."""
    import trimesh

    nx, ny = round(WIDTH / step_m) + 1, round(HEIGHT / step_m) + 1
    u, v = np.meshgrid(np.linspace(-WIDTH / 2, WIDTH / 2, nx), np.linspace(0, 1, ny))
    # Asymmetric on purpose (a weathered stele): an off-centre arch, tapering towards the top,
    # thinner towards the top and towards the left edge. Mirror-symmetric shapes make partial
    # scans ambiguous for any registration method.
    top = HEIGHT - 5.0 * (u - 0.015) ** 2
    x, y = u * (1 - 0.25 * v), v * top
    half = DEPTH / 2 * (1 - 0.35 * v) * (1 + 4.0 * u)
    front = np.stack([x, y, half + _front_relief(u / (WIDTH / 2), y)], axis=-1).reshape(-1, 3)
    back = np.stack([x, y, -half - _back_relief(u / (WIDTH / 2), y)], axis=-1).reshape(-1, 3)
    grid = np.arange(nx * ny).reshape(ny, nx)
    a, b, c, d = grid[:-1, :-1], grid[:-1, 1:], grid[1:, :-1], grid[1:, 1:]
    quads = np.stack([a, b, d, c], axis=-1).reshape(-1, 4)
    front_faces = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    back_faces = front_faces[:, ::-1] + nx * ny
    ring = np.concatenate([grid[0, :], grid[1:, -1], grid[-1, -2::-1], grid[-2:0:-1, 0]])
    nxt = np.roll(ring, -1)
    n = nx * ny
    walls = np.concatenate(
        [np.column_stack([ring, nxt + n, nxt]), np.column_stack([ring, ring + n, nxt + n])]
    )
    faces = np.concatenate([front_faces, back_faces, walls])
    mesh = trimesh.Trimesh(np.concatenate([front, back]), faces, process=False)
    if mesh.volume < 0:
        mesh.invert()
    return mesh


# --- partial scans -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartialScan:
    """One scan in the scanner's frame; pose maps scanner coordinates to object coordinates."""

    points: np.ndarray
    colours: np.ndarray
    pose: np.ndarray


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    """The scanner-to-object pose of a scanner at `eye` looking at `target` (its +z forward)."""
    forward = target - eye
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, np.asarray(up))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, :3] = np.column_stack([right, down, forward])
    pose[:3, 3] = eye
    return pose


def view_poses(
    count: int = 8, distance: float = 0.5, seed: int = 0, arc_deg: float = 360.0
) -> list[np.ndarray]:
    """Scanner poses around the stele, alternately from above (35°) and level, random roll.

    As a person scans a stele: walking round it (or along an arc of `arc_deg` centred on the
    front), every other view from higher up so that the top and the edges tie views together.
    """
    rng = np.random.default_rng(seed)
    target = np.array([0.0, HEIGHT / 2, 0.0])
    poses = []
    for k in range(count):
        azimuth = np.radians(arc_deg * ((k + 0.5) / count - 0.5)) + rng.uniform(-0.1, 0.1)
        elevation = np.radians(35.0 if k % 2 else 5.0) + rng.uniform(-0.05, 0.05)
        direction = np.array(
            [
                np.cos(elevation) * np.sin(azimuth),
                np.sin(elevation),
                np.cos(elevation) * np.cos(azimuth),
            ]
        )
        roll = rng.uniform(-0.5, 0.5)
        up = np.array([np.sin(roll), np.cos(roll), 0.0])
        poses.append(look_at(target + distance * direction, target, up))
    return poses


def raycasting_scene(mesh):
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(
        o3d.core.Tensor(np.asarray(mesh.vertices, dtype=np.float32)),
        o3d.core.Tensor(np.asarray(mesh.faces, dtype=np.uint32)),
    )
    return scene


def cast_scan(
    scene,
    pose: np.ndarray,
    *,
    pixels: tuple[int, int] = (200, 200),
    fov_deg: float = 30.0,
    noise_m: float = 0.0001,
    seed: int = 0,
) -> PartialScan:
    """Ray-cast one range image (a `raycasting_scene`) from `pose`; noise along each ray."""
    import open3d as o3d

    w, h = pixels
    f = (w / 2) / np.tan(np.radians(fov_deg) / 2)
    cols, rows = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    local = np.stack([(cols - w / 2) / f, (rows - h / 2) / f, np.ones_like(cols)], -1)
    local = local.reshape(-1, 3) / np.linalg.norm(local.reshape(-1, 3), axis=1, keepdims=True)
    directions = local @ pose[:3, :3].T
    rays = np.concatenate([np.broadcast_to(pose[:3, 3], directions.shape), directions], axis=1)
    hit = scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))
    t = hit["t_hit"].numpy().astype(np.float64)
    found = np.isfinite(t)
    rng = np.random.default_rng(seed)
    t = t[found] + rng.normal(0.0, noise_m, found.sum())
    points_local = local[found] * t[:, None]
    world = points_local @ pose[:3, :3].T + pose[:3, 3]
    return PartialScan(points_local, stele_colours(world), pose)


def partial_scans(
    count: int = 8,
    *,
    arc_deg: float = 360.0,
    pixels: tuple[int, int] = (200, 200),
    noise_m: float = 0.0001,
    seed: int = 0,
) -> tuple[object, list[PartialScan]]:
    """The stele and `count` partial scans of it from around it (or an arc of the front)."""
    mesh = stele_mesh()
    scene = raycasting_scene(mesh)
    scans = [
        cast_scan(scene, pose, pixels=pixels, noise_m=noise_m, seed=seed + k)
        for k, pose in enumerate(view_poses(count, seed=seed, arc_deg=arc_deg))
    ]
    return mesh, scans


def surface_cloud(mesh, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` points sampled uniformly (by area) on the mesh surface, and their colours."""
    import trimesh

    points, _ = trimesh.sample.sample_surface(mesh, count, seed=seed)
    return np.asarray(points), stele_colours(np.asarray(points))


# --- range scans of any mesh, in frames of their own ---------------------------------------------


def stanford_mesh(name: str = DEVELOPMENT_OBJECT):
    """One of the real reconstructed meshes (metres) as a trimesh; FileNotFoundError without it."""
    import trimesh

    path = STANFORD / f"{name}.obj"
    if not path.is_file():
        raise FileNotFoundError(path)
    return trimesh.load(str(path), file_type="obj", process=True, force="mesh")


@dataclass(frozen=True)
class RangeScan:
    """One range scan as a file would hold it: points in the file's frame, the truth beside."""

    points: np.ndarray
    colours: np.ndarray
    pose: np.ndarray
    """Maps the file's frame to the object's frame (the truth registration should find)."""
    sensor: np.ndarray
    """Where the scanner was, in the file's frame (the origin only when `frame="sensor"`)."""
    view: np.ndarray
    """The scanner-to-object pose the scan was cast from."""


def all_round_poses(
    centre: np.ndarray, distance: float, count: int, seed: int = 0, arc_deg: float = 360.0
) -> list[np.ndarray]:
    """Scanner poses round an object (or along an arc): elevations from -10° to 45°, jittered
    azimuths and roll, as a person with a hand-held or tripod scanner takes them."""
    rng = np.random.default_rng(seed)
    poses = []
    for k in range(count):
        azimuth = np.radians(arc_deg * ((k + 0.5) / count - 0.5)) + rng.uniform(-0.15, 0.15)
        elevation = np.radians((40.0 if k % 2 else 0.0) + rng.uniform(-10, 5))
        direction = np.array(
            [
                np.cos(elevation) * np.sin(azimuth),
                np.sin(elevation),
                np.cos(elevation) * np.cos(azimuth),
            ]
        )
        roll = rng.uniform(-0.4, 0.4)
        poses.append(
            look_at(centre + distance * direction, centre, (np.sin(roll), np.cos(roll), 0))
        )
    return poses


def random_frame(rng: np.random.Generator, offset_m: float) -> np.ndarray:
    """A random rigid transform: any rotation, a translation up to `offset_m` each way."""
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    frame = np.eye(4)
    frame[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    frame[:3, 3] = rng.uniform(-offset_m, offset_m, 3)
    return frame


def range_scans(
    mesh,
    count: int = 10,
    *,
    seed: int = 0,
    arc_deg: float = 360.0,
    pixels: tuple[int, int] = (240, 240),
    noise_m: float = 0.0001,
    max_incidence_deg: float = 80.0,
    mixed_pixels: float = 0.002,
    frame: str = "random",
    units: float = 1.0,
) -> list[RangeScan]:
    """`count` range scans of `mesh` from all round it, each in a frame of its own.

    The scanner: a pinhole range camera at 3.5 object sizes whose view just holds the object;
    line of sight by ray casting (self-occlusion); range noise `noise_m` growing as
    1/cos(incidence); returns beyond `max_incidence_deg` lost; a share `mixed_pixels` of the
    returns at depth edges off by up to 5 mm along the ray. `frame`: "random" (a random rotation
    and an origin up to half a metre from the object, scanner somewhere else: what real raw
    scans look like), "sensor" (the scanner at the origin, looking along +z). `units` scales
    the coordinates written (1000: millimetres).
    """
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    centre = (vertices.min(axis=0) + vertices.max(axis=0)) / 2
    size = float(np.linalg.norm(np.ptp(vertices, axis=0)))
    distance = 3.5 * size
    fov = 2 * np.degrees(np.arctan(0.6 * size / distance))
    scene = raycasting_scene(mesh)
    rng = np.random.default_rng(seed + 1)
    out = []
    for view in all_round_poses(centre, distance, count, seed, arc_deg):
        local, t, normal = _cast(scene, view, pixels, fov)
        incidence = np.abs(np.einsum("ij,ij->i", normal, local @ view[:3, :3].T))
        keep = incidence > np.cos(np.radians(max_incidence_deg))
        local, t, incidence = local[keep], t[keep], incidence[keep]
        t = t + rng.normal(0.0, 1.0, len(t)) * noise_m / np.maximum(incidence, 0.2)
        mixed = rng.random(len(t)) < mixed_pixels
        t[mixed] += rng.uniform(-0.005, 0.005, int(mixed.sum()))
        in_view = local * t[:, None]
        file_frame = np.eye(4) if frame == "sensor" else random_frame(rng, 0.5)
        points = in_view @ file_frame[:3, :3].T + file_frame[:3, 3]
        to_object = view @ np.linalg.inv(file_frame)
        world = points @ to_object[:3, :3].T + to_object[:3, 3]
        scale = np.diag([units, units, units, 1.0])
        out.append(
            RangeScan(
                points * units,
                stele_colours(world - centre + [0, HEIGHT / 2, 0]),
                to_object @ np.linalg.inv(scale),
                file_frame[:3, 3] * units,
                view,
            )
        )
    return out


@dataclass(frozen=True)
class PoseError:
    rotation_deg: float
    translation_mm: float
    """At the scan's centroid."""
    max_mm: float
    """Over the scan's points."""


def set_alignment(
    points: list[np.ndarray], truth: list[np.ndarray], found: list[np.ndarray]
) -> np.ndarray:
    """The rigid transform that best lays the registered set (`found` poses) on the truth."""
    moved_true, moved_found = [], []
    for p, t, f in zip(points, truth, found, strict=True):
        sample = p[:: max(1, len(p) // 500)]
        moved_true.append(sample @ t[:3, :3].T + t[:3, 3])
        moved_found.append(sample @ f[:3, :3].T + f[:3, 3])
    a, b = np.concatenate(moved_true), np.concatenate(moved_found)
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    u, _, vt = np.linalg.svd((b - cb).T @ (a - ca))
    rot = (u @ vt).T
    if np.linalg.det(rot) < 0:
        vt[-1] *= -1
        rot = (u @ vt).T
    fit = np.eye(4)
    fit[:3, :3], fit[:3, 3] = rot, ca - rot @ cb
    return fit


def pose_errors(
    points: list[np.ndarray], truth: list[np.ndarray], found: list[np.ndarray]
) -> list[PoseError]:
    """Per scan, how far `found` (poses into the first scan's frame, or any common frame) puts
    it from `truth` (poses into the object's frame), after the one rigid transform that best
    lays the whole registered set on the truth: the set's own frame is arbitrary, and measuring
    against scan 1 alone would charge every scan with scan 1's error."""
    fit = set_alignment(points, truth, found)
    out = []
    for p, t, f in zip(points, truth, found, strict=True):
        error = np.linalg.inv(t) @ fit @ f
        angle = np.degrees(np.arccos(np.clip((np.trace(error[:3, :3]) - 1) / 2, -1, 1)))
        centre = p.mean(axis=0)
        moved = p @ error[:3, :3].T + error[:3, 3]
        out.append(
            PoseError(
                float(angle),
                float(np.linalg.norm(error[:3, :3] @ centre + error[:3, 3] - centre)) * 1000,
                float(np.linalg.norm(moved - p, axis=1).max()) * 1000,
            )
        )
    return out


def _cast(scene, view: np.ndarray, pixels: tuple[int, int], fov_deg: float):
    """Unit ray directions (scanner frame), hit distances and surface normals of the hits."""
    import open3d as o3d

    w, h = pixels
    f = (w / 2) / np.tan(np.radians(fov_deg) / 2)
    cols, rows = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    local = np.stack([(cols - w / 2) / f, (rows - h / 2) / f, np.ones_like(cols)], -1)
    local = local.reshape(-1, 3) / np.linalg.norm(local.reshape(-1, 3), axis=1, keepdims=True)
    directions = local @ view[:3, :3].T
    rays = np.concatenate([np.broadcast_to(view[:3, 3], directions.shape), directions], axis=1)
    hit = scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))
    t = hit["t_hit"].numpy().astype(np.float64)
    found = np.isfinite(t)
    normals = hit["primitive_normals"].numpy().astype(np.float64)[found]
    return local[found], t[found], normals


# --- writers -------------------------------------------------------------------------------------


def write_ply(
    path: Path,
    points: np.ndarray,
    colours: np.ndarray | None = None,
    faces: np.ndarray | None = None,
    *,
    ascii: bool = False,
    range_grid: tuple[int, int] | None = None,
    declared_faces: int | None = None,
) -> Path:
    """A PLY; `range_grid=(cols, rows)` adds Stanford's per-pixel element after the vertices."""
    n = len(points)
    head = ["ply", f"format {'ascii' if ascii else 'binary_little_endian'} 1.0"]
    if range_grid:
        head += [f"obj_info num_cols {range_grid[0]}", f"obj_info num_rows {range_grid[1]}"]
    head += [f"element vertex {n}", "property float x", "property float y", "property float z"]
    if colours is not None:
        head += ["property uchar red", "property uchar green", "property uchar blue"]
    if range_grid:
        head += [f"element range_grid {range_grid[0] * range_grid[1]}"]
        head += ["property list uchar int vertex_indices"]
    face_count = len(faces) if faces is not None else declared_faces
    if face_count is not None:
        head += [f"element face {face_count}", "property list uchar int vertex_indices"]
    head.append("end_header")
    vertex = np.dtype(
        [("xyz", "<f4", 3), ("rgb", "u1", 3)] if colours is not None else [("xyz", "<f4", 3)]
    )
    records = np.empty(n, dtype=vertex)
    records["xyz"] = points
    if colours is not None:
        records["rgb"] = colours
    with path.open("wb") as f:
        f.write(("\n".join(head) + "\n").encode())
        if ascii:
            for r in records:
                f.write((" ".join(str(v) for v in np.atleast_1d(r.tolist()[0])) + "\n").encode())
        else:
            f.write(records.tobytes())
        if range_grid:
            f.write(_range_grid_bytes(n, range_grid[0] * range_grid[1]))
        if faces is not None:
            tri = np.empty(len(faces), dtype=np.dtype([("n", "u1"), ("v", "<i4", 3)]))
            tri["n"], tri["v"] = 3, faces
            f.write(tri.tobytes())
    return path


def _range_grid_bytes(points: int, cells: int) -> bytes:
    """Stanford's range grid: per pixel, a list of 0 or 1 vertex indices (every other cell)."""
    out = bytearray()
    for cell in range(cells):
        if cell % 2 == 0 and cell // 2 < points:
            out += b"\x01" + struct.pack("<i", cell // 2)
        else:
            out += b"\x00"
    return bytes(out)


def write_big_ply(path: Path, count: int, seed: int = 0) -> Path:
    """A binary PLY of `count` points on a 1 m sphere, written in chunks (10 million: 150 MB)."""
    rng = np.random.default_rng(seed)
    record = np.dtype([("xyz", "<f4", 3), ("rgb", "u1", 3)])
    head = (
        f"ply\nformat binary_little_endian 1.0\nelement vertex {count}\nproperty float x\n"
        "property float y\nproperty float z\nproperty uchar red\nproperty uchar green\n"
        "property uchar blue\nend_header\n"
    )
    with path.open("wb") as f:
        f.write(head.encode())
        for start in range(0, count, 1_000_000):
            chunk = np.empty(min(1_000_000, count - start), dtype=record)
            xyz = rng.normal(size=(len(chunk), 3))
            chunk["xyz"] = xyz / np.linalg.norm(xyz, axis=1, keepdims=True)
            chunk["rgb"] = 128
            f.write(chunk.tobytes())
    return path


def write_pcd(path: Path, points: np.ndarray, colours: np.ndarray | None = None) -> Path:
    """A binary PCD (x y z float, rgb packed as PCL does)."""
    fields = "x y z" + (" rgb" if colours is not None else "")
    k = 4 if colours is not None else 3
    head = (
        f"# .PCD v0.7\nVERSION 0.7\nFIELDS {fields}\nSIZE {' '.join(['4'] * k)}\n"
        f"TYPE {' '.join(['F'] * k)}\nCOUNT {' '.join(['1'] * k)}\nWIDTH {len(points)}\n"
        f"HEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {len(points)}\nDATA binary\n"
    )
    data = np.empty((len(points), k), dtype="<f4")
    data[:, :3] = points
    if colours is not None:
        c = colours.astype(np.uint32)
        data[:, 3] = ((c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]).view("<f4")
    path.write_bytes(head.encode() + data.tobytes())
    return path


def write_xyz(path: Path, points: np.ndarray, colours: np.ndarray | None = None) -> Path:
    values = points if colours is None else np.column_stack([points, colours])
    fmt = ["%.6f"] * 3 + (["%d"] * 3 if colours is not None else [])
    np.savetxt(
        path,
        values,
        fmt=fmt,
        header="X Y Z" + (" R G B" if colours is not None else ""),
        comments="//",
    )
    return path


def write_trimesh(path: Path, points: np.ndarray, faces: np.ndarray, colours=None) -> Path:
    """OBJ, STL or GLB by the suffix, through trimesh."""
    import trimesh

    mesh = trimesh.Trimesh(points, faces, vertex_colors=colours, process=False)
    data = mesh.export(file_type=path.suffix.lstrip("."))
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def write_las(
    path: Path,
    points: np.ndarray,
    colours: np.ndarray | None = None,
    *,
    epsg: int | None = None,
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0),
    scale: float = 0.0001,
) -> Path:
    """LAS 1.4 (or LAZ by the suffix) with a WKT CRS when `epsg` is given."""
    import laspy

    header = laspy.LasHeader(point_format=7 if colours is not None else 6, version="1.4")
    header.offsets, header.scales = np.asarray(offset), np.full(3, scale)
    if epsg is not None:
        from pyproj import CRS

        header.add_crs(CRS.from_epsg(epsg))
    las = laspy.LasData(header)
    las.x, las.y, las.z = points[:, 0], points[:, 1], points[:, 2]
    if colours is not None:
        las.red, las.green, las.blue = (colours[:, k].astype(np.uint16) * 257 for k in range(3))
    las.write(str(path))
    return path


def write_e57(path: Path, points: np.ndarray, colours: np.ndarray | None = None) -> Path:
    import pye57

    data = {"cartesianX": points[:, 0], "cartesianY": points[:, 1], "cartesianZ": points[:, 2]}
    if colours is not None:
        for k, name in enumerate(("colorRed", "colorGreen", "colorBlue")):
            data[name] = colours[:, k].astype(np.uint8)
    with pye57.E57(str(path), mode="w") as e57:
        e57.write_scan_raw(data)
    return path


# --- bad inputs ----------------------------------------------------------------------------------


def write_las_absurd_count(path: Path, points: np.ndarray, claimed: int = 4_000_000_000) -> Path:
    """A LAS whose header claims far more points than it holds (legacy and 1.4 counts)."""
    write_las(path, points)
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 107, min(claimed, 2**32 - 1))
    struct.pack_into("<Q", data, 247, claimed)
    path.write_bytes(bytes(data))
    return path


def write_nan_cloud(path: Path, points: np.ndarray, every: int = 50) -> Path:
    """A PLY with one point in `every` set to NaN or ±Inf (every=1: all of them)."""
    bad = points.copy()
    bad[::every, 0] = np.nan
    bad[1 :: every * 2, 2] = np.inf
    if every == 1:
        bad[:, 1] = -np.inf
    return write_ply(path, bad)
