"""Readers of `pipeline.stages.reconstruction.scans.io` for PLY, PCD and XYZ (NumPy, and
Open3D for PLY meshes, ASCII PLY and ASCII or compressed PCD).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.media.models3d import read_pcd_header
from pipeline.stages.reconstruction.scans.reading import (
    _CHUNK_LINES,
    CHUNK_POINTS,
    _check_faces,
    _Read,
    _stream,
)
from pipeline.stages.reconstruction.scans.voxels import Columns

# --- PLY -----------------------------------------------------------------------------------------

_PLY_TYPES = {
    **dict.fromkeys(("char", "int8"), "i1"),
    **dict.fromkeys(("uchar", "uint8"), "u1"),
    **dict.fromkeys(("short", "int16"), "i2"),
    **dict.fromkeys(("ushort", "uint16"), "u2"),
    **dict.fromkeys(("int", "int32"), "i4"),
    **dict.fromkeys(("uint", "uint32"), "u4"),
    **dict.fromkeys(("float", "float32"), "f4"),
    **dict.fromkeys(("double", "float64"), "f8"),
}


@dataclass
class _PlyElement:
    name: str
    count: int
    properties: list[tuple[str, str]] = field(default_factory=list)  # (name, numpy kind)
    has_list: bool = False


def _ply_layout(path: Path) -> tuple[str, list[_PlyElement], int]:
    with path.open("rb") as f:
        head = f.read(64 * 1024)
    end = head.index(b"end_header")  # the probe has checked it is there
    header_len = head.index(b"\n", end) + 1
    fmt, elements = "", []
    for line in head[:header_len].decode("ascii", "replace").splitlines()[1:]:
        words = line.split()
        if words[:1] == ["format"]:
            fmt = words[1]
        elif words[:1] == ["element"]:
            elements.append(_PlyElement(words[1], int(words[2])))
        elif words[:1] == ["property"] and words[1] == "list":
            elements[-1].has_list = True
        elif words[:1] == ["property"]:
            elements[-1].properties.append((words[2], _PLY_TYPES[words[1]]))
    return fmt, elements, header_len


def _read_ply(path: Path, budget: int) -> _Read:
    fmt, elements, header_len = _ply_layout(path)
    counts = {e.name: e.count for e in elements}
    if counts.get("face", 0) > 0:
        return _read_o3d_mesh(path)
    vertex = elements[0] if elements else None
    if (
        fmt.startswith("binary")
        and vertex is not None
        and vertex.name == "vertex"
        and not vertex.has_list
    ):
        order = "<" if fmt == "binary_little_endian" else ">"
        dtype = np.dtype([(name, order + kind) for name, kind in vertex.properties])
        records = np.memmap(path, dtype=dtype, mode="r", offset=header_len, shape=(vertex.count,))
        chunks = (
            _ply_columns(records[i : i + CHUNK_POINTS])
            for i in range(0, vertex.count, CHUNK_POINTS)
        )
        read = _stream(chunks, budget)
    else:
        read = _stream(iter([_o3d_cloud(path)]), budget)
    if counts.get("face") == 0:
        read.facts["note"] = "a mesh without faces: read as a point cloud"
    extra = [e.name for e in elements if e.name not in ("vertex", "face")]
    if extra:
        read.facts["ignored_elements"] = extra
    return read


def _ply_columns(records: np.ndarray) -> Columns:
    names = set(records.dtype.names or ())
    if not {"x", "y", "z"} <= names:
        raise InputRejectedError("PLY vertices have no x, y and z properties")
    points = np.column_stack([records[a] for a in "xyz"]).astype(np.float64)
    colours = None
    for rgb in (
        ("red", "green", "blue"),
        ("r", "g", "b"),
        ("diffuse_red", "diffuse_green", "diffuse_blue"),
    ):
        if set(rgb) <= names:
            colours = np.column_stack([records[c] for c in rgb]).astype(np.float64)
            if records.dtype[rgb[0]].kind == "f":
                colours *= 255.0
            elif records.dtype[rgb[0]].itemsize == 2:
                colours /= 257.0
            break
    normals = None
    if {"nx", "ny", "nz"} <= names:
        normals = np.column_stack([records[a] for a in ("nx", "ny", "nz")]).astype(np.float64)
    return Columns(points, colours, normals)


# --- Open3D readers (PLY meshes, ASCII PLY, ASCII and compressed PCD) ---------------------------


def _o3d_cloud(path: Path) -> Columns:
    import open3d as o3d

    cloud = o3d.io.read_point_cloud(str(path))
    if not cloud.has_points():
        raise InputRejectedError("the file holds no readable points")
    return Columns(
        np.asarray(cloud.points),
        np.asarray(cloud.colors) * 255.0 if cloud.has_colors() else None,
        np.asarray(cloud.normals) if cloud.has_normals() else None,
    )


def _read_o3d_mesh(path: Path) -> _Read:
    import open3d as o3d

    mesh = o3d.io.read_triangle_mesh(str(path))
    if not mesh.has_vertices():
        raise InputRejectedError("the mesh holds no readable vertices")
    cols = Columns(
        np.asarray(mesh.vertices),
        np.asarray(mesh.vertex_colors) * 255.0 if mesh.has_vertex_colors() else None,
        np.asarray(mesh.vertex_normals) if mesh.has_vertex_normals() else None,
    )
    faces = np.asarray(mesh.triangles, dtype=np.int64).reshape(-1, 3)
    _check_faces(faces, len(cols))
    return _Read(cols, faces)


# --- PCD -----------------------------------------------------------------------------------------


def _read_pcd(path: Path, budget: int) -> _Read:
    with path.open("rb") as f:
        header = read_pcd_header(f)
    if not {"x", "y", "z"} <= set(header.fields):
        raise InputRejectedError(f"PCD has no x, y and z fields (it has {list(header.fields)})")
    sensor = _pcd_viewpoint(path)
    if header.data != "binary":
        read = _stream(iter([_o3d_cloud(path)]), budget)
        read.sensor = sensor
        return read
    kinds = {"F": "f", "I": "i", "U": "u"}
    dtype = np.dtype(
        [
            (name, f"<{kinds.get(kind, 'u')}{size}", (count,))
            if count > 1
            else (name, f"<{kinds.get(kind, 'u')}{size}")
            for name, size, kind, count in zip(
                header.fields, header.sizes, header.types, header.counts, strict=True
            )
        ]
    )
    records = np.memmap(path, dtype=dtype, mode="r", offset=header.length, shape=(header.points,))
    chunks = (
        _pcd_columns(records[i : i + CHUNK_POINTS]) for i in range(0, header.points, CHUNK_POINTS)
    )
    read = _stream(chunks, budget)
    read.sensor = sensor
    return read


def _pcd_viewpoint(path: Path) -> np.ndarray | None:
    """The sensor position a PCD declares (VIEWPOINT tx ty tz qw qx qy qz); None when it is the
    default "0 0 0 1 0 0 0", which every writer puts by default and so says nothing."""
    with path.open("rb") as f:
        head = f.read(4096).decode("ascii", "replace")
    for line in head.splitlines():
        words = line.split()
        if words[:1] == ["VIEWPOINT"] and len(words) == 8:
            try:
                values = [float(w) for w in words[1:]]
            except ValueError:
                return None
            if values == [0, 0, 0, 1, 0, 0, 0] or not np.isfinite(values).all():
                return None
            return np.asarray(values[:3])
        if words[:1] == ["DATA"]:
            break
    return None


def _pcd_columns(records: np.ndarray) -> Columns:
    names = set(records.dtype.names or ())
    points = np.column_stack([records[a] for a in "xyz"]).astype(np.float64)
    colours = None
    packed = next((n for n in ("rgb", "rgba") if n in names), None)
    if packed:
        value = np.ascontiguousarray(records[packed]).view(np.uint32)
        colours = np.column_stack([(value >> s) & 0xFF for s in (16, 8, 0)]).astype(np.float64)
    normals = None
    if {"normal_x", "normal_y", "normal_z"} <= names:
        normals = np.column_stack([records[f"normal_{a}"] for a in "xyz"]).astype(np.float64)
    return Columns(points, colours, normals)


# --- XYZ -----------------------------------------------------------------------------------------


def _read_xyz(path: Path, budget: int) -> _Read:
    with path.open("r", encoding="utf-8", errors="replace") as f:
        rows = (ln.replace(",", " ") for ln in f if _is_data_line(ln))
        return _stream(_xyz_chunks(rows), budget)


def _xyz_chunks(rows: Iterator[str]) -> Iterator[Columns]:
    while batch := list(itertools.islice(rows, _CHUNK_LINES)):
        try:
            values = np.loadtxt(batch, ndmin=2, dtype=np.float64)
        except ValueError as e:
            raise InputRejectedError(f"cannot read the XYZ points: {e}") from e
        if values.shape[1] < 3:
            raise InputRejectedError("XYZ lines need at least three numbers (x y z)")
        yield _xyz_columns(values)


def _xyz_columns(values: np.ndarray) -> Columns:
    """x y z, then (by what the numbers look like) r g b and/or nx ny nz."""
    colours = normals = None
    rest = [values[:, k : k + 3] for k in range(3, values.shape[1] - 2, 3)]
    if values.shape[1] in (4, 7, 10):  # an intensity column after x y z
        rest = [values[:, k : k + 3] for k in range(4, values.shape[1] - 2, 3)]
    for block in rest:
        finite = block[np.isfinite(block).all(axis=1)]
        if colours is None and np.all(
            (finite >= 0) & (finite <= 255) & (finite == np.round(finite))
        ):
            colours = block
        elif normals is None and np.all(np.abs(finite) <= 1.0 + 1e-6):
            normals = block
    return Columns(values[:, :3].copy(), colours, normals)


def _is_data_line(line: str) -> bool:
    """Not blank, not a comment ("#", "//"), not a column header ("X Y Z")."""
    start = line.lstrip()[:1]
    return bool(start) and start not in "#/" and not start.isalpha() and start != "_"
