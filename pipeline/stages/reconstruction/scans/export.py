"""What leaves the 3D path: GLB bytes, a preview PNG and measurements.

Shared by the scanner and the photogrammetry paths, so each function accepts any of: an Open3D
TriangleMesh or PointCloud, a trimesh Trimesh or PointCloud, a `Geometry`, or a
(vertices, faces) tuple. The preview is drawn by a small numpy z-buffer rasteriser (orthographic,
flat Lambert shading), because Open3D's OffscreenRenderer needs EGL, which servers lack.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.errors import InputRejectedError

_CLAY = np.array([0.78, 0.74, 0.68])
_LIGHT = np.array([0.35, 0.55, 0.76])
_CHUNK = 2_000_000  # (triangle, pixel) candidates tested at once by the rasteriser


@dataclass(frozen=True)
class Arrays:
    vertices: np.ndarray  # (N, 3) float64
    faces: np.ndarray | None  # (M, 3) int64
    colours: np.ndarray | None  # (N, 3) uint8
    normals: np.ndarray | None  # (N, 3) float64


def as_arrays(obj: Any, colours: np.ndarray | None = None) -> Arrays:
    """Vertices, faces, colours and normals of any accepted mesh or cloud type."""
    vertices, faces, own_colours, normals = _unpack(obj)
    vertices = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    faces = None if faces is None or not len(faces) else np.asarray(faces, np.int64).reshape(-1, 3)
    chosen = colours if colours is not None else own_colours
    if chosen is not None:
        chosen = np.asarray(chosen)
        if len(chosen) != len(vertices):
            raise InputRejectedError(
                f"{len(chosen):,} colours for {len(vertices):,} vertices: they must match"
            )
        if chosen.dtype.kind == "f":
            chosen = np.clip(np.rint(chosen[:, :3] * (255 if chosen.max() <= 1 else 1)), 0, 255)
        chosen = chosen[:, :3].astype(np.uint8)
    if normals is not None and len(normals) != len(vertices):
        normals = None
    if faces is not None and len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise InputRejectedError("faces refer to vertices that do not exist")
    return Arrays(vertices, faces, chosen, normals)


def _unpack(obj: Any) -> tuple[Any, Any, Any, Any]:
    if isinstance(obj, tuple):
        return obj[0], obj[1] if len(obj) > 1 else None, None, None
    if hasattr(obj, "triangles") and hasattr(obj, "has_vertex_colors"):  # Open3D mesh
        return (
            np.asarray(obj.vertices),
            np.asarray(obj.triangles),
            np.asarray(obj.vertex_colors) if obj.has_vertex_colors() else None,
            np.asarray(obj.vertex_normals) if obj.has_vertex_normals() else None,
        )
    if hasattr(obj, "has_colors") and hasattr(obj, "points"):  # Open3D cloud
        return (
            np.asarray(obj.points),
            None,
            np.asarray(obj.colors) if obj.has_colors() else None,
            np.asarray(obj.normals) if obj.has_normals() else None,
        )
    if hasattr(obj, "points") and hasattr(obj, "to_metre"):  # Geometry
        return obj.points, obj.faces, obj.colours, obj.normals
    if hasattr(obj, "vertices"):  # trimesh
        faces = getattr(obj, "faces", None)
        colours = None
        visual = getattr(obj, "visual", None)
        if visual is not None and getattr(visual, "kind", None) == "vertex":
            colours = np.asarray(visual.vertex_colors)[:, :3]
        elif getattr(obj, "colors", None) is not None and len(obj.colors):
            colours = np.asarray(obj.colors)[:, :3]
        return obj.vertices, faces, colours, None
    raise InputRejectedError(f"cannot export a {type(obj).__name__}")


# --- GLB -----------------------------------------------------------------------------------------


def to_glb(mesh_or_cloud: Any, colours: np.ndarray | None = None) -> bytes:
    """Binary glTF of a mesh (or a cloud as points), with vertex colours where present."""
    import trimesh

    a = as_arrays(mesh_or_cloud, colours)
    if not len(a.vertices):
        raise InputRejectedError("nothing to export: no vertices")
    rgba = None
    if a.colours is not None:
        rgba = np.column_stack([a.colours, np.full(len(a.colours), 255, np.uint8)])
    if a.faces is None:
        geometry = trimesh.PointCloud(a.vertices, colors=rgba)
    else:
        geometry = trimesh.Trimesh(
            a.vertices, a.faces, vertex_colors=rgba, vertex_normals=a.normals, process=False
        )
    return trimesh.Scene(geometry).export(file_type="glb")


# --- preview -------------------------------------------------------------------------------------


def render_preview(
    mesh: Any, size: tuple[int, int] = (640, 480), *, up: str = "auto", background: int = 255
) -> bytes:
    """A PNG of the model from the front, right and above, fitted to `size` (width, height).

    `up` is "y", "z" or "auto" (z when the model is much flatter in z than across, as terrain
    is, else y, as objects are usually modelled).
    """
    width, height = size
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise InputRejectedError(f"preview size {width}×{height} is out of range")
    a = as_arrays(mesh)
    if not len(a.vertices) or not np.isfinite(a.vertices).all():
        raise InputRejectedError("nothing to render: no finite vertices")
    screen, depth, rotation = _project(a.vertices, width, height, _up_axis(a.vertices, up))
    image = np.full((height, width, 3), background / 255.0)
    zbuf = np.full(height * width, np.inf)
    if a.faces is not None:
        _draw_triangles(a, screen, depth, rotation, image.reshape(-1, 3), zbuf, width, height)
    else:
        _draw_points(a, screen, depth, rotation, image.reshape(-1, 3), zbuf, width, height)
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.clip(image * 255, 0, 255).astype(np.uint8), "RGB").save(out, "PNG")
    return out.getvalue()


def _up_axis(vertices: np.ndarray, up: str) -> int:
    if up in ("y", "z"):
        return 1 if up == "y" else 2
    if up != "auto":
        raise InputRejectedError(f"up must be 'y', 'z' or 'auto', not {up!r}")
    extent = np.ptp(vertices, axis=0)
    return 2 if extent[2] < 0.3 * min(extent[0], extent[1]) else 1


def _project(
    vertices: np.ndarray, width: int, height: int, up_axis: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Screen coordinates (pixels), depth (larger is farther) and the view rotation."""
    up = np.eye(3)[up_axis]
    toward = np.array([0.55, 0.45, 0.70]) if up_axis == 1 else np.array([0.55, -0.70, 0.45])
    toward = toward / np.linalg.norm(toward)  # from the model towards the viewer
    right = np.cross(up, toward)
    right /= np.linalg.norm(right)
    true_up = np.cross(toward, right)
    rotation = np.stack([right, true_up, toward])
    view = (vertices - vertices.mean(axis=0)) @ rotation.T
    lo, hi = view[:, :2].min(axis=0), view[:, :2].max(axis=0)
    scale = 0.9 * min(width / max(hi[0] - lo[0], 1e-12), height / max(hi[1] - lo[1], 1e-12))
    centre = (lo + hi) / 2
    x = (view[:, 0] - centre[0]) * scale + width / 2
    y = height / 2 - (view[:, 1] - centre[1]) * scale
    return np.column_stack([x, y]), -view[:, 2], rotation


def _shade(normals: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Two-sided Lambert shading with an ambient term (light from over the viewer's shoulder)."""
    lambert = np.abs(normals @ _LIGHT)
    return colours * (0.3 + 0.7 * lambert)[:, None]


def _draw_triangles(
    a: Arrays,
    screen: np.ndarray,
    depth: np.ndarray,
    rotation: np.ndarray,
    image: np.ndarray,
    zbuf: np.ndarray,
    width: int,
    height: int,
) -> None:
    faces = a.faces
    assert faces is not None
    corners = a.vertices[faces]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, lengths, out=np.zeros_like(normals), where=lengths > 0)
    base = a.colours[faces].mean(axis=1) / 255.0 if a.colours is not None else _CLAY
    face_colour = _shade(normals @ rotation.T, np.broadcast_to(base, normals.shape))
    tri = screen[faces]  # (M, 3, 2)
    lo = np.floor(tri.min(axis=1)).astype(np.int64)
    hi = np.ceil(tri.max(axis=1)).astype(np.int64)
    span = np.maximum(hi - lo, 1).max(axis=1)
    bucket = np.ceil(np.log2(span)).astype(np.int64)
    for b in np.unique(bucket):
        members = np.flatnonzero(bucket == b)
        side = 1 << int(b)
        step = max(1, _CHUNK // (side * side))
        for start in range(0, len(members), step):
            chunk = members[start : start + step]
            _raster(chunk, side, tri, lo, depth[faces], face_colour, image, zbuf, width, height)


def _raster(
    chunk: np.ndarray,
    side: int,
    tri: np.ndarray,
    lo: np.ndarray,
    corner_depth: np.ndarray,
    face_colour: np.ndarray,
    image: np.ndarray,
    zbuf: np.ndarray,
    width: int,
    height: int,
) -> None:
    """Fill the triangles of `chunk` (bounding boxes at most side×side) into the z-buffer."""
    offsets = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)
    px = lo[chunk, None, :] + offsets[None]  # (T, S², 2) pixel indices
    centre = px + 0.5
    t = tri[chunk]
    v0, v1, v2 = t[:, 0, None], t[:, 1, None], t[:, 2, None]
    area = _edge(v0, v1, v2)
    w0, w1, w2 = _edge(v1, v2, centre), _edge(v2, v0, centre), _edge(v0, v1, centre)
    with np.errstate(divide="ignore", invalid="ignore"):
        b0, b1, b2 = w0 / area, w1 / area, w2 / area
    inside = (b0 >= 0) & (b1 >= 0) & (b2 >= 0) & (np.abs(area) > 1e-12)
    inside &= (px[..., 0] >= 0) & (px[..., 0] < width) & (px[..., 1] >= 0) & (px[..., 1] < height)
    tri_index, cell = np.nonzero(inside)
    if not len(tri_index):
        return
    d = corner_depth[chunk]
    z = (
        b0[tri_index, cell] * d[tri_index, 0]
        + b1[tri_index, cell] * d[tri_index, 1]
        + b2[tri_index, cell] * d[tri_index, 2]
    )
    pixel = px[tri_index, cell, 1] * width + px[tri_index, cell, 0]
    _keep_nearest(pixel, z, face_colour[chunk[tri_index]], image, zbuf)


def _edge(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (b[..., 0] - a[..., 0]) * (p[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (
        p[..., 0] - a[..., 0]
    )


def _keep_nearest(
    pixel: np.ndarray, z: np.ndarray, colour: np.ndarray, image: np.ndarray, zbuf: np.ndarray
) -> None:
    order = np.lexsort((z, pixel))
    pixel, z, colour = pixel[order], z[order], colour[order]
    first = np.ones(len(pixel), dtype=bool)
    first[1:] = pixel[1:] != pixel[:-1]
    pixel, z, colour = pixel[first], z[first], colour[first]
    nearer = z < zbuf[pixel]
    zbuf[pixel[nearer]] = z[nearer]
    image[pixel[nearer]] = colour[nearer]


def _draw_points(
    a: Arrays,
    screen: np.ndarray,
    depth: np.ndarray,
    rotation: np.ndarray,
    image: np.ndarray,
    zbuf: np.ndarray,
    width: int,
    height: int,
) -> None:
    base = a.colours / 255.0 if a.colours is not None else np.broadcast_to(_CLAY, a.vertices.shape)
    colour = _shade(a.normals @ rotation.T, base) if a.normals is not None else base
    radius = 1 if len(a.vertices) > width * height / 8 else 2
    for dx in range(radius):
        for dy in range(radius):
            x = np.floor(screen[:, 0]).astype(np.int64) + dx
            y = np.floor(screen[:, 1]).astype(np.int64) + dy
            ok = (x >= 0) & (x < width) & (y >= 0) & (y < height)
            _keep_nearest(y[ok] * width + x[ok], depth[ok], colour[ok], image, zbuf)


# --- metrics -------------------------------------------------------------------------------------


def metrics(mesh: Any) -> dict[str, Any]:
    """bbox_m [dx, dy, dz], surface_area_m2, volume_m3 (None unless watertight), points, faces."""
    a = as_arrays(mesh)
    if not len(a.vertices):
        raise InputRejectedError("nothing to measure: no vertices")
    out: dict[str, Any] = {
        "bbox_m": [round(float(v), 6) for v in np.ptp(a.vertices, axis=0)],
        "points": len(a.vertices),
        "faces": 0 if a.faces is None else len(a.faces),
        "surface_area_m2": None,
        "volume_m3": None,
        "watertight": False,
    }
    if a.faces is None:
        return out
    corners = a.vertices[a.faces]
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    out["surface_area_m2"] = float(0.5 * np.linalg.norm(cross, axis=1).sum())
    if is_watertight(a.faces):
        out["watertight"] = True
        signed = np.einsum("ij,ij->i", corners[:, 0], np.cross(corners[:, 1], corners[:, 2]))
        out["volume_m3"] = float(abs(signed.sum()) / 6.0)
    return out


def is_watertight(faces: np.ndarray) -> bool:
    """Closed: every edge is traversed as often one way as the other (so it has no boundary
    and a consistent winding, and the enclosed volume is well defined).

    Poisson surfaces sometimes share an edge among four triangles; such a surface is still
    closed, so this does not demand that each edge has exactly two faces.
    """
    if not len(faces):
        return False
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    forward = directed[:, 0] < directed[:, 1]
    key = np.sort(directed, axis=1)
    key = key[:, 0].astype(np.int64) * (int(faces.max()) + 1) + key[:, 1]
    balance = np.bincount(
        np.unique(key, return_inverse=True)[1], weights=np.where(forward, 1.0, -1.0)
    )
    return bool(np.all(balance == 0))
