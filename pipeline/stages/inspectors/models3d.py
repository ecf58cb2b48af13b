"""Facts and a top-down splat of meshes and point clouds (LAS/LAZ, XYZ, PCD), sampled."""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.media.models3d import PcdHeader, read_las_header, read_pcd_header
from pipeline.media.sniff import FORMAT_NAMES
from pipeline.stages.inspectors.images import _DECODE_ERRORS, _jpeg_bytes

SPLAT_POINTS = 200_000
_CHUNK_POINTS = 1_000_000
_CHUNK_LINES = 200_000  # text lines held as Python strings at once


def _inspect_mesh(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes | None]:
    """PLY, OBJ, STL, GLB through trimesh (the probe bounded the vertex count)."""
    import trimesh

    file_type = FORMAT_NAMES[media_type].lower()
    try:
        loaded = trimesh.load(str(path), file_type=file_type, process=False)
        geometries = loaded.dump() if isinstance(loaded, trimesh.Scene) else [loaded]
        arrays = [np.asarray(g.vertices, dtype=np.float64) for g in geometries]
    except (*_DECODE_ERRORS, AttributeError, NotImplementedError) as e:
        raise InputRejectedError(f"cannot read the 3D model: {e}") from e
    arrays = [a for a in arrays if a.ndim == 2 and a.shape[1] == 3 and len(a)]
    vertices = np.concatenate(arrays) if arrays else np.empty((0, 3))
    more: dict = {"format": FORMAT_NAMES[media_type]}
    if len(vertices):
        more["bbox"] = _bbox(vertices.min(axis=0), vertices.max(axis=0))
    return more, point_splat(_sample(vertices, len(vertices)), px)


def _inspect_las(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes | None]:
    """Header facts; a thumbnail when laspy can read the points (LAZ needs lazrs or laszip)."""
    import laspy

    with path.open("rb") as f:
        header = read_las_header(f)
    more: dict = {
        "format": FORMAT_NAMES[media_type],
        "compressed": header.compressed,
        "bbox": _bbox(header.mins, header.maxs),
    }
    if header.compressed and not laspy.LazBackend.detect_available():
        return more, None  # No decompressor installed: facts only.
    step = max(1, math.ceil(header.points / SPLAT_POINTS))
    samples = []
    try:
        with laspy.open(path) as reader:
            for chunk in reader.chunk_iterator(_CHUNK_POINTS):
                xyz = np.column_stack([chunk.x, chunk.y, chunk.z])
                samples.append(xyz[::step])
    except (laspy.errors.LaspyException, *_DECODE_ERRORS) as e:
        raise InputRejectedError(f"cannot read the LAS points: {e}") from e
    points = np.concatenate(samples) if samples else np.empty((0, 3))
    return more, point_splat(points, px)


def _inspect_xyz(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes | None]:
    with path.open("r", encoding="utf-8", errors="replace") as f:
        return _text_points(f, columns=(0, 1, 2), points=facts["points"], px=px, fmt="XYZ")


def _inspect_pcd(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes | None]:
    """ASCII and binary PCD; binary_compressed (LZF) gets facts without a thumbnail."""
    with path.open("rb") as f:
        header = read_pcd_header(f)
    more: dict = {"format": "PCD", "fields": list(header.fields)}
    if (
        not {"x", "y", "z"} <= set(header.fields)
        or header.data == "binary_compressed"
        or header.points == 0
    ):
        return more, None
    starts = list(itertools.accumulate(header.counts, initial=0))
    columns = tuple(starts[header.fields.index(axis)] for axis in "xyz")
    if header.data == "ascii":
        with path.open("rb") as raw:
            raw.seek(header.length)
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
            extra, thumbnail = _text_points(text, columns, header.points, px, "PCD")
        return {**more, **extra}, thumbnail
    records = np.memmap(
        path, dtype=_pcd_dtype(header), mode="r", offset=header.length, shape=(header.points,)
    )
    names = [records.dtype.names[header.fields.index(axis)] for axis in "xyz"]
    chunks = (
        np.column_stack([records[n][i : i + _CHUNK_POINTS] for n in names]).astype(np.float64)
        for i in range(0, header.points, _CHUNK_POINTS)
    )
    extra, thumbnail = _summarise_chunks(chunks, header.points, px)
    return {**more, **extra}, thumbnail


def _pcd_dtype(header: PcdHeader) -> np.dtype:
    kinds = {"F": "f", "I": "i", "U": "u"}
    fields = []
    for i, (size, kind, count) in enumerate(
        zip(header.sizes, header.types, header.counts, strict=True)
    ):
        base = f"<{kinds.get(kind, 'u')}{size}"
        fields.append((f"f{i}", base) if count == 1 else (f"f{i}", base, (count,)))
    return np.dtype(fields)


def _text_points(
    lines: Iterable[str], columns: tuple[int, int, int], points: int, px: int, fmt: str
) -> tuple[dict, bytes | None]:
    """Exact bounds and a sampled splat of a text point list, parsed in batches of lines."""

    def chunks() -> Iterator[np.ndarray]:
        rows = (ln.replace(",", " ") for ln in lines if _is_data_line(ln))
        while batch := list(itertools.islice(rows, _CHUNK_LINES)):
            try:
                yield np.loadtxt(batch, usecols=columns, ndmin=2, dtype=np.float64)
            except ValueError as e:
                raise InputRejectedError(f"cannot read the {fmt} points: {e}") from e

    more, thumbnail = _summarise_chunks(chunks(), points, px)
    return {"format": fmt, **more}, thumbnail


def _is_data_line(line: str) -> bool:
    """Not blank, not a comment ("#", "//"), not a column header ("X Y Z")."""
    start = line.lstrip()[:1]
    return bool(start) and start not in "#/" and not start.isalpha() and start != "_"


def _summarise_chunks(
    chunks: Iterable[np.ndarray], points: int, px: int
) -> tuple[dict, bytes | None]:
    """Bounds over every point, and a splat of an evenly strided sample."""
    step = max(1, math.ceil(points / SPLAT_POINTS))
    lo, hi, samples, seen = None, None, [], 0
    for chunk in chunks:
        if not len(chunk):
            continue
        lo = chunk.min(axis=0) if lo is None else np.minimum(lo, chunk.min(axis=0))
        hi = chunk.max(axis=0) if hi is None else np.maximum(hi, chunk.max(axis=0))
        samples.append(chunk[(-seen) % step :: step])
        seen += len(chunk)
    if lo is None or hi is None:
        return {}, None
    return {"bbox": _bbox(lo, hi)}, point_splat(np.concatenate(samples), px)


def _sample(points: np.ndarray, n: int) -> np.ndarray:
    return points[:: max(1, math.ceil(n / SPLAT_POINTS))]


def _bbox(lo: Iterable[float], hi: Iterable[float]) -> list[list[float]]:
    """[[min x, y, z], [max x, y, z]], rounded to a micrometre in metre units."""
    return [[round(float(v), 6) for v in lo], [round(float(v), 6) for v in hi]]


def point_splat(points: np.ndarray, px: int) -> bytes | None:
    """A top-down view (x right, y up) of points, darker where higher; None without points."""
    points = points[np.isfinite(points).all(axis=1)]
    if not len(points):
        return None
    xy, z = points[:, :2], points[:, 2]
    lo = xy.min(axis=0)
    span = xy.max(axis=0) - lo
    scale = (px - 1) / max(float(span.max()), 1e-12)
    width, height = (int(v) + 1 for v in span * scale)
    cols = ((xy[:, 0] - lo[0]) * scale).astype(np.intp)
    rows = (height - 1) - ((xy[:, 1] - lo[1]) * scale).astype(np.intp)
    top = np.full((height, width), -np.inf)
    np.maximum.at(top, (rows, cols), z)  # keep the highest point per pixel
    if len(points) < width * height // 4:
        top = _dilate(top)  # sparse clouds: draw 3×3 dots
    hit = np.isfinite(top)
    zlo, zhi = float(z.min()), float(z.max())
    level = (top - zlo) / (zhi - zlo) if zhi > zlo else np.zeros_like(top)
    canvas = np.full((height, width), 255, dtype=np.uint8)
    canvas[hit] = (200 - 170 * level[hit]).astype(np.uint8)
    return _jpeg_bytes(Image.fromarray(canvas, "L").convert("RGB"))


def _dilate(top: np.ndarray) -> np.ndarray:
    padded = np.pad(top, 1, constant_values=-np.inf)
    h, w = top.shape
    shifts = [padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    return np.max(shifts, axis=0)
