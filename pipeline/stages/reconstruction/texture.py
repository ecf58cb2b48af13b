"""A texture atlas for a photogrammetry mesh, cut from the photographs themselves.

Per face, the best view is the registered photo that sees it (an Open3D ray from the camera
reaches that face first) most squarely and most closely: score = cos(angle) · (f / depth)², the
photo's pixels per unit of the face's area. Edge-connected faces with the same best view form a
chart; each chart's bounding box is cut from its photo (through COLMAP's camera model, so lens
distortion is honoured at the corners), scaled by one factor for all charts so that together
they fit an atlas of at most `max_px` × `max_px`, and packed in shelves. Faces no photo sees
get a grey patch. Vertices are split only where charts meet, so a chart keeps its shared
vertices.

The atlas bound is the memory and download bound: at most `max_px`² × 3 bytes in memory and one
JPEG in the GLB; charts are never enlarged past the photo's own resolution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

PAD = 2
"""Pixels around each chart, so texture filtering does not bleed a neighbour into it."""
FILL = 0.8
"""Share of the atlas the charts' boxes are sized to cover before packing."""
GREY = 128


@dataclass
class Textured:
    vertices: np.ndarray  # (V, 3) float64, split where charts meet
    faces: np.ndarray  # (F, 3) int64
    uv: np.ndarray  # (V, 2) float64, glTF convention: (0, 0) is the atlas's top-left
    atlas: np.ndarray  # (H, W, 3) uint8 RGB
    views: int
    """Photos that contributed a chart."""
    unseen_faces: int


def texture_mesh(
    vertices: np.ndarray,
    faces: np.ndarray,
    model,
    images: Path,
    max_px: int,
    on_view: Callable[[], None] | None = None,
) -> Textured:
    """Cut an atlas of at most `max_px` square from the photos for a mesh in the model's frame."""
    vertices = np.asarray(vertices, np.float64)
    faces = np.asarray(faces, np.int64)
    views = [model.image(i) for i in sorted(model.reg_image_ids())]
    label, corners = best_views(vertices, faces, views)
    a, b = _adjacent(faces)
    _smooth(label, corners, vertices[faces], views, a, b)
    charts = _charts(faces, label, a, b)
    boxes = _boxes(charts, label, corners, views)
    factor, places, size = _pack(boxes, max_px)
    atlas = np.full((size[1], size[0], 3), GREY, np.uint8)
    uv_px = np.zeros((len(faces), 3, 2))
    used = 0
    for v, view in enumerate(views):
        members = np.flatnonzero(boxes[:, 4] == v)
        if len(members):
            used += _paste(atlas, images / view.name, view, boxes, places, members, factor)
        if on_view:
            on_view()
    seen = charts >= 0
    ratio = _scaled(boxes, factor) / np.maximum(boxes[:, 2:4] - boxes[:, 0:2], 1)
    c = charts[seen]
    uv_px[seen] = (corners[seen] - boxes[c, None, 0:2]) * ratio[c, None] + places[c, None]
    unseen = label < 0
    uv_px[unseen] = 1.0  # inside the grey corner patch the packer leaves free
    return _split(vertices, faces, charts, uv_px, atlas, used, int(unseen.sum()))


def best_views(vertices: np.ndarray, faces: np.ndarray, views: list) -> tuple[np.ndarray, ...]:
    """Per face: the index of its best view (-1: none sees it) and its corners' pixel
    coordinates in that view (F, 3, 2)."""
    import open3d as o3d

    tri = vertices[faces]
    centroid = tri.mean(axis=1)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-30)
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(
        o3d.core.Tensor(vertices.astype(np.float32)), o3d.core.Tensor(faces.astype(np.uint32))
    )
    best = np.zeros(len(faces))
    label = np.full(len(faces), -1, np.int64)
    corners = np.zeros((len(faces), 3, 2))
    for v, view in enumerate(views):
        centre = view.projection_center()
        ray = centroid - centre
        depth = np.linalg.norm(ray, axis=1)
        facing = -(normal * ray).sum(axis=1) / np.maximum(depth, 1e-30)
        pixels = _project(view, centroid)
        cam = view.camera
        inside = (
            (facing > 0.1)
            & np.isfinite(pixels).all(axis=1)
            & (pixels[:, 0] >= 0)
            & (pixels[:, 0] < cam.width)
            & (pixels[:, 1] >= 0)
            & (pixels[:, 1] < cam.height)
        )
        score = facing * (cam.mean_focal_length() / np.maximum(depth, 1e-30)) ** 2
        candidates = np.flatnonzero(inside & (score > best))
        if not len(candidates):
            continue
        rays = np.hstack([np.broadcast_to(centre, (len(candidates), 3)), ray[candidates]])
        hit = scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))
        visible = hit["primitive_ids"].numpy().astype(np.int64) == candidates
        chosen = candidates[visible]
        projected = _project(view, tri[chosen].reshape(-1, 3)).reshape(-1, 3, 2)
        finite = np.isfinite(projected).all(axis=(1, 2))
        chosen = chosen[finite]
        best[chosen] = score[chosen]
        label[chosen] = v
        corners[chosen] = projected[finite]
    return label, corners


def _project(view, points: np.ndarray) -> np.ndarray:
    """Pixel coordinates (COLMAP's continuous convention: a pixel's centre at +0.5, which is
    also an image array's continuous coordinate), NaN behind the camera."""
    pose = view.cam_from_world().matrix()
    cam = points @ pose[:, :3].T + pose[:, 3]
    out = np.full((len(points), 2), np.nan)
    ahead = cam[:, 2] > 1e-9
    if ahead.any():
        out[ahead] = view.camera.img_from_cam(cam[ahead])
    return out


def _adjacent(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of faces that share an edge."""
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    owner = np.tile(np.arange(len(faces)), 3)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges, owner = edges[order], owner[order]
    same_edge = (edges[1:] == edges[:-1]).all(axis=1)
    return owner[:-1][same_edge], owner[1:][same_edge]


def _smooth(label, corners, tri, views, a, b, rounds: int = 3) -> None:
    """Give a face the view two of its neighbours have, where that view sees it squarely and
    whole: fewer, larger charts (less atlas lost to chart borders), and small unseen gaps
    filled. In place."""
    n = len(label)
    ends = np.concatenate([a, b])
    others = np.concatenate([b, a])
    order = np.argsort(ends, kind="stable")
    ends, others = ends[order], others[order]
    slot = np.arange(len(ends)) - np.searchsorted(ends, ends)
    keep = slot < 3
    neighbours = np.full((n, 3), -1)
    neighbours[ends[keep], slot[keep]] = others[keep]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-30)
    for _ in range(rounds):
        votes = np.where(neighbours >= 0, label[neighbours], -2)
        v0, v1, v2 = votes.T
        major = np.where((v0 == v1) | (v0 == v2), v0, np.where(v1 == v2, v1, -2))
        candidates = np.flatnonzero((major >= 0) & (major != label))
        if not len(candidates):
            return
        for v in np.unique(major[candidates]):
            f = candidates[major[candidates] == v]
            view = views[v]
            ray = tri[f].mean(axis=1) - view.projection_center()
            facing = -(normal[f] * ray).sum(axis=1) / np.maximum(np.linalg.norm(ray, axis=1), 1e-30)
            px = _project(view, tri[f].reshape(-1, 3)).reshape(-1, 3, 2)
            size = [view.camera.width, view.camera.height]
            inside = np.isfinite(px).all(axis=(1, 2)) & ((px >= 0) & (px < size)).all(axis=(1, 2))
            ok = inside & (facing > 0.2)
            label[f[ok]] = v
            corners[f[ok]] = px[ok]


def _charts(faces: np.ndarray, label: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Chart id per face: components of edge-adjacent faces with the same view (-1: unseen)."""
    n = len(faces)
    keep = (label[a] == label[b]) & (label[a] >= 0)
    component = _components(n, a[keep], b[keep])
    seen = label >= 0
    out = np.full(n, -1, np.int64)
    out[seen] = np.unique(component[seen], return_inverse=True)[1]
    return out


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of n nodes joined by edges (a, b): hook each root to the smaller
    root across every edge, then compress paths, until nothing changes (a few rounds)."""
    parent = np.arange(n)
    while True:
        ra, rb = parent[a], parent[b]
        low = np.minimum(ra, rb)
        before = parent.copy()
        np.minimum.at(parent, ra, low)
        np.minimum.at(parent, rb, low)
        while not np.array_equal(parent, parent[parent]):
            parent = parent[parent]
        if np.array_equal(parent, before):
            return parent


def _boxes(charts: np.ndarray, label: np.ndarray, corners: np.ndarray, views: list) -> np.ndarray:
    """Per chart: [x0, y0, x1, y1, view] in its photo's pixels (integers, padded, clipped)."""
    count = int(charts.max()) + 1 if len(charts) and charts.max() >= 0 else 0
    seen = charts >= 0
    lo = np.full((count, 2), np.inf)
    hi = np.full((count, 2), -np.inf)
    np.minimum.at(lo, charts[seen], corners[seen].min(axis=1))
    np.maximum.at(hi, charts[seen], corners[seen].max(axis=1))
    view = np.zeros(count, np.int64)
    view[charts[seen]] = label[seen]
    size = np.array([(views[v].camera.width, views[v].camera.height) for v in view]).reshape(-1, 2)
    x0y0 = np.clip(np.floor(lo) - PAD, 0, None)
    x1y1 = np.clip(np.ceil(hi) + PAD, None, size)
    return np.column_stack([x0y0, np.maximum(x1y1, x0y0 + 1), view]).astype(np.int64)


def _pack(boxes: np.ndarray, max_px: int) -> tuple[float, np.ndarray, tuple[int, int]]:
    """One scale factor for all charts and each chart's top-left in the atlas (shelf packing,
    tallest first); the atlas's (width, height). A 4×4 grey patch stays free at the origin."""
    sizes = (boxes[:, 2:4] - boxes[:, 0:2]).astype(float)
    area = float((sizes + 1).prod(axis=1).sum()) + 16
    factor = min(1.0, float(np.sqrt(FILL * max_px * max_px / max(area, 1.0))))
    while True:
        scaled = _scaled(boxes, factor) + 1  # + a gutter
        width = int(min(max_px, max(64, np.sqrt(area) * factor * 1.1, scaled[:, 0].max(initial=4))))
        places, height = _shelves(scaled, width)
        if height <= max_px:
            return factor, places.astype(float), (width, max(height, 4))
        factor *= 0.9


def _scaled(boxes: np.ndarray, factor: float) -> np.ndarray:
    """Each chart's (width, height) in the atlas."""
    return np.maximum(np.ceil((boxes[:, 2:4] - boxes[:, 0:2]) * factor), 1).astype(np.int64)


def _shelves(sizes: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    places = np.zeros((len(sizes), 2), np.int64)
    x, y, shelf = 4, 0, 4  # the first shelf starts after the grey patch
    for i in np.argsort(-sizes[:, 1], kind="stable"):
        w, h = sizes[i]
        if x + w > width:
            x, y, shelf = 0, y + shelf, 0
        places[i] = (x, y)
        x += w
        shelf = max(shelf, h)
    return places, y + shelf


def _paste(atlas, path: Path, view, boxes, places, members, factor: float) -> int:
    """Copy the charts of one photo into the atlas; 1 if the photo could be read, else 0."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None or bgr.shape[:2] != (view.camera.height, view.camera.width):
        return 0
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    for c in members:
        x0, y0, x1, y1, _ = boxes[c]
        crop = rgb[y0:y1, x0:x1]
        w, h = (int(v) for v in _scaled(boxes[c : c + 1], factor)[0])
        if (w, h) != (x1 - x0, y1 - y0):
            crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
        ax, ay = int(places[c][0]), int(places[c][1])
        atlas[ay : ay + h, ax : ax + w] = crop[: atlas.shape[0] - ay, : atlas.shape[1] - ax]
    return 1


def _split(vertices, faces, charts, uv_px, atlas, views: int, unseen: int) -> Textured:
    """One vertex per (vertex, chart) pair, so each chart has its own UVs at its border."""
    n_charts = int(charts.max()) + 2 if len(charts) else 1
    keys = faces * n_charts + (charts[:, None] + 1)
    unique, inverse = np.unique(keys.ravel(), return_inverse=True)
    new_faces = inverse.reshape(-1, 3)
    uv = np.zeros((len(unique), 2))
    uv[inverse] = uv_px.reshape(-1, 2)
    height, width = atlas.shape[:2]
    uv /= [width, height]
    return Textured(vertices[unique // n_charts], new_faces, uv, atlas, views, unseen)


def atlas_colours(textured: Textured) -> np.ndarray:
    """The atlas's colour at each vertex (uint8 RGB): what the preview picture is drawn with."""
    height, width = textured.atlas.shape[:2]
    x = np.clip((textured.uv[:, 0] * width).astype(np.int64), 0, width - 1)
    y = np.clip((textured.uv[:, 1] * height).astype(np.int64), 0, height - 1)
    return textured.atlas[y, x]


def to_glb(textured: Textured, transform: np.ndarray, quality: int = 85) -> bytes:
    """Binary glTF of the textured mesh moved by `transform` (4×4), its atlas as a JPEG."""
    import io

    import trimesh
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(textured.atlas, "RGB").save(buffer, "JPEG", quality=quality)
    image = Image.open(io.BytesIO(buffer.getvalue()))  # a JPEG: trimesh embeds it as one
    vertices = textured.vertices @ transform[:3, :3].T + transform[:3, 3]
    material = trimesh.visual.material.PBRMaterial(
        baseColorTexture=image, metallicFactor=0.0, roughnessFactor=1.0, doubleSided=True
    )
    # trimesh keeps UVs with the origin at the bottom-left (OpenGL) and flips them for glTF
    uv = np.column_stack([textured.uv[:, 0], 1.0 - textured.uv[:, 1]])
    visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    mesh = trimesh.Trimesh(vertices, textured.faces, visual=visual, process=False)
    return trimesh.Scene(mesh).export(file_type="glb")
