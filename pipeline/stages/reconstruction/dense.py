"""Dense geometry of a photo set on the CPU: stereo depth from rectified pairs, fused in a TSDF.

For each registered photo the best stereo partners are the views sharing the most sparse points
at a useful triangulation angle with a mostly sideways baseline. Each pair is rectified through
the exact COLMAP camera model (one remap does undistortion and rectification), matched with
OpenCV's StereoSGBM over the disparity range the sparse points predict, and turned into a depth
map in the left rectified camera. Depth maps are fused in an Open3D voxel-block TSDF (colour from
the photographs); marching cubes keeps only surfaces that `dense_min_views` depth maps agreed on,
which discards most stereo noise without a separate consistency check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import open3d as o3d

from pipeline.stages.reconstruction.scans import surface

MAX_DISPARITIES = 320


@dataclass
class Fused:
    mesh: o3d.geometry.TriangleMesh
    points: int
    """Points on the fused surface (the dense cloud)."""
    depth_maps: int
    images: int
    """Registered photos that contributed a depth map."""


@dataclass
class Pair:
    left: int
    right: int
    points: np.ndarray
    """(n, 3) sparse points both views see, in world coordinates."""


@dataclass
class Depth:
    depth: np.ndarray  # float32 (h, w), 0 where unknown
    colour: np.ndarray  # uint8 (h, w, 3) RGB
    intrinsic: np.ndarray  # 3×3
    extrinsic: np.ndarray  # 4×4 rectified-camera-from-world


VOXEL_SAMPLE = 8
"""Depth maps held at once: the voxel size is set from the first few, then each map is fused
and dropped, so memory does not grow with the number of photos."""


def fuse(model, images: Path, params, on_pair: Callable[[int, int], None] | None = None) -> Fused:
    """Depth maps of the chosen pairs fused in a TSDF; the mesh of the agreed surfaces.
    `on_pair(done, total)` is told after each pair."""
    chosen = stereo_pairs(model, params.dense_neighbours)
    held: list[Depth] = []
    grid = None
    count = 0
    for k, pair in enumerate(chosen):
        d = pair_depth(model, images, pair, params)
        if d is not None:
            count += 1
            held.append(d)
        if grid is None and (len(held) >= VOXEL_SAMPLE or k == len(chosen) - 1) and held:
            voxel = params.voxel_px * float(np.median([_footprint(h) for h in held]))
            grid = _grid(voxel)
        if grid is not None:
            for h in held:
                _integrate(grid, h)
            held.clear()
        if on_pair:
            on_pair(k + 1, len(chosen))
    if grid is None:
        return Fused(o3d.geometry.TriangleMesh(), 0, 0, 0)
    threshold = params.dense_min_views - 0.5
    mesh = grid.extract_triangle_mesh(weight_threshold=threshold).to_legacy()
    points = len(grid.extract_point_cloud(weight_threshold=threshold).point.positions)
    contributing = {p.left for p in chosen} | {p.right for p in chosen}
    return Fused(mesh, points, count, len(contributing))


def _grid(voxel: float):
    return o3d.t.geometry.VoxelBlockGrid(
        ("tsdf", "weight", "color"),
        (o3d.core.float32, o3d.core.float32, o3d.core.float32),
        ((1), (1), (3)),
        voxel_size=voxel,
        block_resolution=8,
        block_count=20_000,
    )


# --- pairs -------------------------------------------------------------------------------------


def stereo_pairs(model, neighbours: int) -> list[Pair]:
    """Up to `neighbours` partners per registered image, each unordered pair once."""
    tracks: dict[tuple[int, int], list[int]] = {}
    for pid, point in model.points3D.items():
        ids = sorted({e.image_id for e in point.track.elements})
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                tracks.setdefault((a, b), []).append(pid)
    centres = {i: model.image(i).projection_center() for i in model.reg_image_ids()}
    scored: dict[int, list[tuple[float, tuple[int, int]]]] = {i: [] for i in centres}
    for (a, b), pids in tracks.items():
        xyz = np.array([model.point3D(p).xyz for p in pids])
        score = _pair_score(model, a, b, xyz, centres)
        if score > 0:
            scored[a].append((score, (a, b)))
            scored[b].append((score, (a, b)))
    keys = {key for options in scored.values() for _, key in sorted(options)[::-1][:neighbours]}
    pairs = []
    for a, b in sorted(keys):
        xyz = np.array([model.point3D(p).xyz for p in tracks[(a, b)]])
        pairs.append(Pair(a, b, xyz))
    return pairs


def _pair_score(model, a: int, b: int, xyz: np.ndarray, centres: dict) -> float:
    """Shared points weighted by triangulation angle (best from ~10°); 0 for unusable pairs."""
    if len(xyz) < 30:
        return 0.0
    ra, rb = xyz - centres[a], xyz - centres[b]
    cos = np.sum(ra * rb, axis=1) / (np.linalg.norm(ra, axis=1) * np.linalg.norm(rb, axis=1))
    angle = float(np.degrees(np.median(np.arccos(np.clip(cos, -1, 1)))))
    pose = model.image(a).cam_from_world().matrix()
    baseline = pose[:, :3] @ (centres[b] - centres[a])
    if not 2.0 <= angle <= 40.0 or abs(baseline[0]) < abs(baseline[1]):
        return 0.0
    return len(xyz) * min(angle, 10.0) / 10.0


# --- depth from one pair -----------------------------------------------------------------------


def pair_depth(model, images: Path, pair: Pair, params) -> Depth | None:
    """Rectify, match and triangulate one pair; None when the pair yields too little."""
    left, right = _order(model, pair.left, pair.right)
    size, scale = _dense_size(model.image(left).camera, params.dense_max_size)
    k_left = _pinhole(model.image(left).camera, scale)
    k_right = _pinhole(model.image(right).camera, scale)
    rot, trans = _relative(model, left, right)
    none = np.zeros(5)
    r1, r2, p1, p2, *_ = cv2.stereoRectify(
        k_left, none, k_right, none, size, rot, trans.reshape(3, 1), flags=cv2.CALIB_ZERO_DISPARITY
    )
    if abs(p2[1, 3]) > abs(p2[0, 3]):
        return None  # vertical rectification; the pair choice should have avoided it
    rect_from_world = _homogeneous(r1) @ _homogeneous(model.image(left).cam_from_world().matrix())
    low, high = _disparity_range(pair.points, rect_from_world, p1, p2)
    if high - low < 1:
        return None
    span = min(MAX_DISPARITIES, int(np.ceil(max(high - low, 1) / 16)) * 16)
    low = max(low, (low + high - span) // 2)
    # Both images are padded by `span` columns on the left and the right one is shifted by
    # `low`, so SGBM searches [0, span) and leaves no original column unmatched.
    pad = (size[0] + span, size[1])
    img_l = _rectified(model, images, left, r1, _shifted(p1, span), pad, params.dense_max_size)
    img_r = _rectified(
        model, images, right, r2, _shifted(p2, span + low), pad, params.dense_max_size
    )
    if img_l is None or img_r is None:
        return None  # a format pycolmap reads but OpenCV does not: the pair is left out
    disparity = _sgbm(img_l, img_r, span)[:, span:] + low
    depth = _depth(disparity, -p2[0, 3], pair.points, rect_from_world)
    if np.count_nonzero(depth) < 0.01 * depth.size:
        return None
    rgb = cv2.cvtColor(img_l[:, span:], cv2.COLOR_BGR2RGB)
    return Depth(depth, np.ascontiguousarray(rgb), p1[:, :3].copy(), rect_from_world)


def _shifted(proj: np.ndarray, columns: int) -> np.ndarray:
    """The projection with its image moved `columns` pixels to the right."""
    out = proj.copy()
    out[0, 2] += columns
    out[0, 3] += columns * out[2, 3]
    return out


def _order(model, a: int, b: int) -> tuple[int, int]:
    """(left, right): the right camera sits on the +x side of the left one."""
    pose = model.image(a).cam_from_world().matrix()
    offset = pose[:, :3] @ (model.image(b).projection_center() - model.image(a).projection_center())
    return (a, b) if offset[0] > 0 else (b, a)


def _dense_size(camera, max_size: int) -> tuple[tuple[int, int], float]:
    scale = min(1.0, max_size / max(camera.width, camera.height))
    return (round(camera.width * scale), round(camera.height * scale)), scale


def _pinhole(camera, scale: float) -> np.ndarray:
    """A distortion-free K at the dense scale, OpenCV pixel centres (COLMAP's are at +0.5)."""
    f = camera.mean_focal_length() * scale
    cx = camera.principal_point_x * scale - 0.5
    cy = camera.principal_point_y * scale - 0.5
    return np.array([[f, 0, cx], [0, f, cy], [0, 0, 1.0]])


def _relative(model, left: int, right: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and translation of the right camera from the left one."""
    tl = _homogeneous(model.image(left).cam_from_world().matrix())
    tr = _homogeneous(model.image(right).cam_from_world().matrix())
    rel = tr @ np.linalg.inv(tl)
    return rel[:3, :3].copy(), rel[:3, 3].copy()


def _homogeneous(m: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[: m.shape[0], : m.shape[1]] = m
    return out


def _disparity_range(
    xyz: np.ndarray, rect_from_world: np.ndarray, p1: np.ndarray, p2: np.ndarray
) -> tuple[int, int]:
    """The disparities the shared sparse points predict, widened by a margin."""
    rect = (rect_from_world[:3, :3] @ xyz.T).T + rect_from_world[:3, 3]
    rect = rect[rect[:, 2] > 0]
    if len(rect) < 10:
        return 0, 0
    hom = np.hstack([rect, np.ones((len(rect), 1))])
    xl = (p1 @ hom.T)[0] / rect[:, 2]
    xr = (p2 @ hom.T)[0] / rect[:, 2]
    d_low, d_high = np.percentile(xl - xr, [1, 99])
    margin = 0.15 * (d_high - d_low) + 4
    return int(np.floor(d_low - margin)), int(np.ceil(d_high + margin))


def _rectified(
    model, images: Path, image_id: int, rot: np.ndarray, proj: np.ndarray, size, max_size: int
) -> np.ndarray | None:
    """The photo undistorted and rectified in one remap through COLMAP's own camera model, at
    output `size`; None if OpenCV cannot decode it."""
    image = model.image(image_id)
    camera = image.camera
    bgr = cv2.imread(str(images / image.name), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None or bgr.shape[:2] != (camera.height, camera.width):
        return None
    (sw, sh), _ = _dense_size(camera, max_size)
    small = cv2.resize(bgr, (sw, sh), interpolation=cv2.INTER_AREA)
    w, h = size
    k = proj[:, :3]
    x = (np.arange(w) - k[0, 2]) / k[0, 0]
    y = (np.arange(h) - k[1, 2]) / k[1, 1]
    # camera-frame rays R^T·(x, y, 1), written out: BLAS matmuls of (n, 3) crawl under load
    rays = x[None, :, None] * rot[0] + y[:, None, None] * rot[1] + rot[2]
    pixels = camera.img_from_cam(rays.reshape(-1, 3), check_cheirality=False)
    map_x = (pixels[:, 0] * (sw / camera.width) - 0.5).reshape(h, w).astype(np.float32)
    map_y = (pixels[:, 1] * (sh / camera.height) - 0.5).reshape(h, w).astype(np.float32)
    return cv2.remap(small, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def _sgbm(left: np.ndarray, right: np.ndarray, span: int) -> np.ndarray:
    """Disparity in pixels (float32) over [0, span), NaN where SGBM found none."""
    block = 5
    matcher = cv2.StereoSGBM_create(
        minDisparity=0,
        numDisparities=span,
        blockSize=block,
        P1=8 * 3 * block**2,
        P2=32 * 3 * block**2,
        disp12MaxDiff=1,
        uniquenessRatio=10,
        speckleWindowSize=100,
        speckleRange=2,
        mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY,
    )
    disparity = matcher.compute(left, right).astype(np.float32) / 16.0
    invalid = (disparity < 0) | (left.max(axis=2) == 0) | _flat(left)
    disparity[invalid] = np.nan
    return disparity


def _flat(bgr: np.ndarray, window: int = 7, min_std: float = 2.5) -> np.ndarray:
    """Pixels without texture (sky, blank walls), where any disparity would be a guess."""
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean = cv2.blur(grey, (window, window))
    var = cv2.blur(grey * grey, (window, window)) - mean * mean
    return var < min_std**2


def _depth(disparity: np.ndarray, focal_baseline: float, xyz: np.ndarray, rect_from_world):
    """Depth (rectified-left z) from disparity; unknown, discontinuous or implausible → 0."""
    filled = np.nan_to_num(disparity, nan=0.0)
    # A slanted plane equals its local mean; at an occlusion edge the two differ.
    jump = np.abs(filled - cv2.blur(filled, (5, 5)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = focal_baseline / disparity
    rect_z = (rect_from_world[2, :3] @ xyz.T) + rect_from_world[2, 3]
    z_low, z_high = np.percentile(rect_z[rect_z > 0], [1, 99])
    ok = np.isfinite(z) & (jump < 1.0) & (z > 0.5 * z_low) & (z < 1.5 * z_high)
    return np.where(ok, z, 0).astype(np.float32)


def _footprint(d: Depth) -> float:
    """Median size of one pixel on the surface (model units)."""
    return float(np.median(d.depth[d.depth > 0]) / d.intrinsic[0, 0])


def _integrate(grid, d: Depth) -> None:
    depth = o3d.t.geometry.Image(o3d.core.Tensor(d.depth))
    colour = o3d.t.geometry.Image(o3d.core.Tensor(d.colour.astype(np.float32) / 255.0))
    intrinsic = o3d.core.Tensor(d.intrinsic, o3d.core.float64)
    extrinsic = o3d.core.Tensor(d.extrinsic, o3d.core.float64)
    depth_max = float(d.depth.max()) * 1.01
    blocks = grid.compute_unique_block_coordinates(depth, intrinsic, extrinsic, 1.0, depth_max)
    grid.integrate(blocks, depth, colour, intrinsic, extrinsic, 1.0, depth_max)


# --- mesh --------------------------------------------------------------------------------------


def clean_mesh(mesh: o3d.geometry.TriangleMesh, target_faces: int) -> o3d.geometry.TriangleMesh:
    """Drop degenerate faces and small floating fragments, then decimate to `target_faces`."""
    if len(mesh.triangles) == 0:
        return mesh
    return surface.decimate(surface.tidy(o3d.geometry.TriangleMesh(mesh), 0.005), target_faces)


def display_transform(model, mesh: o3d.geometry.TriangleMesh, scale: float) -> np.ndarray:
    """4×4 similarity to a viewer's frame: y up, the photographed side facing +z, the model
    centred, model units × `scale`."""
    poses = [model.image(i).cam_from_world().matrix()[:, :3] for i in model.reg_image_ids()]
    up = _up(poses)
    # Facing the viewer: back along the mean viewing direction; for straight-down views, the
    # photos' bottom edge; failing both, any horizontal direction.
    candidates = [-np.mean([r[2] for r in poses], axis=0), np.mean([r[1] for r in poses], axis=0)]
    candidates += [np.eye(3)[0], np.eye(3)[2]]
    facing = next(f for c in candidates if (f := _perpendicular(c, up)) is not None)
    rot = np.stack([np.cross(up, facing), up, facing])
    vertices = np.asarray(mesh.vertices)
    centre = (vertices.min(axis=0) + vertices.max(axis=0)) / 2 if len(vertices) else np.zeros(3)
    out = np.eye(4)
    out[:3, :3] = scale * rot
    out[:3, 3] = -scale * rot @ centre
    return out


def _up(poses: list[np.ndarray]) -> np.ndarray:
    """The world's up direction. Photographers hold cameras level but tilt them, so the image x
    axes lie in the horizontal plane (up is that plane's normal) when they point in enough
    directions; otherwise up is against the mean image-down axis."""
    xs = np.array([r[0] for r in poses])
    hint = -np.mean([r[1] + r[2] for r in poses], axis=0)  # image-up, or back from a nadir view
    _, sv, vt = np.linalg.svd(xs)
    if sv[1] > 0.1 * sv[0]:
        return vt[2] * (1.0 if vt[2] @ hint >= 0 else -1.0)
    up = -np.mean([r[1] for r in poses], axis=0)
    return up / np.linalg.norm(up)


def _perpendicular(v: np.ndarray, axis: np.ndarray) -> np.ndarray | None:
    """v without its component along the unit `axis`, normalised; None if nothing is left."""
    v = v - axis * (v @ axis)
    norm = np.linalg.norm(v)
    return v / norm if norm > 1e-6 else None
