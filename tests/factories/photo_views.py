"""Photographs of a known object from known cameras, for photogrammetry tests.

The object is a temple gate made of axis-aligned boxes (two pillars and a lintel) standing on
a ground slab in front of a back wall, every face carrying a random multi-scale colour texture
so SIFT finds plenty of features. A numpy ray-caster renders it at twice the size and averages
down (anti-aliasing), and the JPEGs carry the focal length in EXIF (FocalLengthIn35mmFilm,
which COLMAP reads as f = f35 / 35 · max(width, height)).

World frame: metres, y up. Cameras follow COLMAP's convention: x right, y down, z forward,
`cam_from_world` = [R | t], centre = -Rᵀt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# (min corner, max corner) per box.
GATE_BOXES: tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...] = (
    ((-0.9, 0.0, -0.2), (-0.5, 1.6, 0.2)),  # left pillar
    ((0.5, 0.0, -0.2), (0.9, 1.6, 0.2)),  # right pillar
    ((-1.15, 1.6, -0.28), (1.15, 1.95, 0.28)),  # lintel
    ((-2.6, -0.1, -1.6), (2.6, 0.0, 2.4)),  # ground slab (its top face is the ground)
    ((-2.6, 0.0, -1.8), (2.6, 2.6, -1.6)),  # back wall
)
TARGET = np.array([0.0, 0.9, -0.2])
_TEX_SIZE = 1024
_TEX_ORIGIN = -3.0  # world coordinate of texel 0
_TEX_DENSITY = _TEX_SIZE / 6.0  # texels per metre: the texture spans [-3, 3] m


@dataclass(frozen=True)
class View:
    path: Path
    cam_from_world: np.ndarray  # 3×4
    focal_px: float

    @property
    def centre(self) -> np.ndarray:
        r, t = self.cam_from_world[:, :3], self.cam_from_world[:, 3]
        return -r.T @ t


def look_at(centre: np.ndarray, target: np.ndarray) -> np.ndarray:
    """cam_from_world [R | t] of a camera at `centre` looking at `target`, world y up."""
    z = target - centre
    z = z / np.linalg.norm(z)
    x = np.cross(z, [0.0, 1.0, 0.0])  # right-handed with y down in the image
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    r = np.stack([x, y, z])
    return np.hstack([r, (-r @ centre)[:, None]])


def arc_cameras(
    n: int, radius: float = 4.6, height: float = 1.7, span_deg: float = 70.0
) -> list[np.ndarray]:
    """n cameras on a frontal arc (like walking past a façade), all looking at the gate."""
    out = []
    for a in np.radians(np.linspace(-span_deg / 2, span_deg / 2, n)):
        centre = np.array([radius * np.sin(a), height, radius * np.cos(a)])
        out.append(look_at(centre, TARGET))
    return out


def textures(seed: int) -> np.ndarray:
    """Three RGB textures (one per face axis), uint8, sums of noise at several scales."""
    rng = np.random.default_rng(seed)
    out = np.zeros((3, _TEX_SIZE, _TEX_SIZE, 3), np.float32)
    for axis in range(3):
        for scale, weight in ((4, 0.9), (12, 1.0), (40, 0.8), (128, 0.6)):
            cells = _TEX_SIZE // scale + 2
            noise = rng.random((cells, cells, 3), dtype=np.float32)
            big = cv2.resize(noise, (cells * scale, cells * scale), interpolation=cv2.INTER_CUBIC)
            out[axis] += weight * big[:_TEX_SIZE, :_TEX_SIZE]
    lo, hi = np.percentile(out, [1, 99])
    return np.clip((out - lo) / (hi - lo) * 255, 0, 255).astype(np.uint8)


def render(
    cam_from_world: np.ndarray,
    focal_px: float,
    size: tuple[int, int],
    tex: np.ndarray,
    boxes=GATE_BOXES,
) -> np.ndarray:
    """An RGB uint8 image (h, w, 3) of the boxes seen by a pinhole camera, 2× supersampled."""
    w, h = size[0] * 2, size[1] * 2
    f = focal_px * 2
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    rays_cam = np.stack([(u - w / 2) / f, (v - h / 2) / f, np.ones_like(u)], axis=-1)
    r, t = cam_from_world[:, :3], cam_from_world[:, 3]
    origin = -r.T @ t
    dirs = np.einsum("nj,jk->nk", rays_cam.reshape(-1, 3), r)  # no BLAS: it crawls under load
    depth, axis, sign = _cast(origin, dirs, boxes)
    hit = np.isfinite(depth)
    points = origin + dirs * np.where(hit, depth, 0)[:, None]
    colour = _sky(dirs)
    colour[hit] = _shade(points[hit], axis[hit], sign[hit], tex)
    img = colour.reshape(h, w, 3).astype(np.float32)
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA).clip(0, 255).astype(np.uint8)


def _cast(origin: np.ndarray, dirs: np.ndarray, boxes) -> tuple[np.ndarray, ...]:
    """Nearest hit distance along each ray (inf if none), the hit face's axis and normal sign.

    Slab test per box, one column per axis (reductions along a length-3 axis are slow)."""
    n = len(dirs)
    best = np.full(n, np.inf)
    best_axis = np.zeros(n, np.int8)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = [1.0 / dirs[:, a] for a in range(3)]
        for lo, hi in boxes:
            t1 = [(lo[a] - origin[a]) * inv[a] for a in range(3)]
            t2 = [(hi[a] - origin[a]) * inv[a] for a in range(3)]
            tmin = [np.minimum(t1[a], t2[a]) for a in range(3)]
            tmax = [np.maximum(t1[a], t2[a]) for a in range(3)]
            near = np.maximum(np.maximum(tmin[0], tmin[1]), tmin[2])
            far = np.minimum(np.minimum(tmax[0], tmax[1]), tmax[2])
            ok = (near <= far) & (near > 1e-6) & (near < best)
            best = np.where(ok, near, best)
            entry = np.where(tmin[0] == near, 0, np.where(tmin[1] == near, 1, 2))
            best_axis = np.where(ok, entry, best_axis)
    best_sign = -np.sign(np.choose(best_axis, [dirs[:, 0], dirs[:, 1], dirs[:, 2]]))
    return best, best_axis, best_sign


def _shade(points: np.ndarray, axis: np.ndarray, sign: np.ndarray, tex: np.ndarray) -> np.ndarray:
    """Texture colour times a Lambert term for a fixed light (faces get distinct brightness)."""
    light = np.array([0.45, 0.8, 0.4])
    light = light / np.linalg.norm(light)
    out = np.zeros((len(points), 3))
    for a in range(3):
        sel = axis == a
        uv = np.delete(points[sel], a, axis=1)
        texel = _bilinear(tex[a], (uv - _TEX_ORIGIN) * _TEX_DENSITY)
        lambert = 0.35 + 0.65 * np.clip(sign[sel] * light[a], 0, 1)
        out[sel] = texel * lambert[:, None]
    return out


def _bilinear(img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear samples of img (h, w, c) at pixel coordinates xy (n, 2), clamped at the edges."""
    h, w = img.shape[:2]
    x = np.clip(xy[:, 0], 0, w - 1.001)
    y = np.clip(xy[:, 1], 0, h - 1.001)
    x0, y0 = x.astype(np.int64), y.astype(np.int64)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def _sky(dirs: np.ndarray) -> np.ndarray:
    """A smooth featureless gradient where no box is hit."""
    up = dirs[:, 1] / np.linalg.norm(dirs, axis=1)
    return np.stack([150 + 60 * up, 180 + 50 * up, 230 + 20 * up], axis=-1)


GPS_ORIGIN = (21.0285, 105.8355, 12.0)
"""Where generated photo sets with GPS stand (lat°, lon°, altitude m): Văn Miếu, Hà Nội."""
EARTH_RADIUS_M = 6_378_137.0


def gps_of(centre: np.ndarray, origin: tuple[float, float, float] = GPS_ORIGIN) -> tuple:
    """(lat°, lon°, alt m) of a world point (x east, y up, z south; metres) near `origin`."""
    lat = origin[0] + np.degrees(-centre[2] / EARTH_RADIUS_M)
    lon = origin[1] + np.degrees(centre[0] / (EARTH_RADIUS_M * np.cos(np.radians(origin[0]))))
    return float(lat), float(lon), float(origin[2] + centre[1])


def _rational_dms(value: float) -> tuple:
    from fractions import Fraction

    d = int(abs(value))
    m = int((abs(value) - d) * 60)
    s = (abs(value) - d - m / 60) * 3600
    return (Fraction(d), Fraction(m), Fraction(round(s * 1_000_000), 1_000_000))


def write_jpeg(
    path: Path, rgb: np.ndarray, focal_px: float | None, gps: tuple | None = None
) -> Path:
    """Save with EXIF FocalLengthIn35mmFilm when a focal length is given, and GPS (lat°, lon°,
    alt m) when a position is."""
    from fractions import Fraction

    im = Image.fromarray(rgb, "RGB")
    exif = Image.Exif()
    if focal_px is not None:
        exif.get_ifd(0x8769)[0xA405] = round(focal_px / max(im.size) * 35)
    if gps is not None:
        info = exif.get_ifd(0x8825)
        info.update({1: "N" if gps[0] >= 0 else "S", 2: _rational_dms(gps[0])})
        info.update({3: "E" if gps[1] >= 0 else "W", 4: _rational_dms(gps[1])})
        info.update({5: 0, 6: Fraction(round(gps[2] * 1000), 1000)})
    im.save(path, "JPEG", quality=92, exif=exif)
    return path


def render_views(
    folder: Path,
    n: int = 8,
    size: tuple[int, int] = (640, 480),
    focal_px: float = 560.0,
    seed: int = 7,
    exif: bool = True,
    gps: bool = False,
    span_deg: float = 70.0,
) -> list[View]:
    """Render n views of the gate along a frontal arc into `folder` as view_00.jpg, …; with
    `gps`, each photo's EXIF carries its true camera position (`gps_of`, exact to ~1 mm)."""
    folder.mkdir(parents=True, exist_ok=True)
    tex = textures(seed)
    views = []
    for i, cam in enumerate(arc_cameras(n, span_deg=span_deg)):
        img = render(cam, focal_px, size, tex)
        view = View(
            folder / f"view_{i:03d}.jpg" if n > 100 else folder / f"view_{i:02d}.jpg", cam, focal_px
        )
        position = gps_of(view.centre) if gps else None
        write_jpeg(view.path, img, focal_px if exif else None, position)
        views.append(view)
    return views


def noise_photos(folder: Path, n: int, size: tuple[int, int] = (640, 480)) -> list[Path]:
    """n photos of unrelated random textures: nothing in one appears in another."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        tex = textures(1000 + i)[i % 3]
        img = cv2.resize(tex[: size[1], : size[0]], size)
        paths.append(write_jpeg(folder / f"unrelated_{i:02d}.jpg", img, 560.0))
    return paths


def distance_to_gate(points: np.ndarray, boxes=GATE_BOXES) -> np.ndarray:
    """Distance from each point to the nearest box surface (the true surface of the scene)."""
    best = np.full(len(points), np.inf)
    for lo, hi in boxes:
        centre = (np.array(lo) + np.array(hi)) / 2
        half = (np.array(hi) - np.array(lo)) / 2
        q = np.abs(points - centre) - half
        outside = np.linalg.norm(np.maximum(q, 0), axis=1)
        inside = np.minimum(q.max(axis=1), 0)
        best = np.minimum(best, np.abs(outside + inside))
    return best
