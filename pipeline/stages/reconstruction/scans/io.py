"""Read every accepted 3D format into one `Geometry`: points in metres, optional attributes.

`probe` (pipeline.media) runs first, so the file's declared sizes and limits hold before any
decoding. Point clouds are read in chunks and pass through a `VoxelStream`, so a cloud larger
than the working budget is averaged onto a voxel grid as it streams and memory stays bounded.
Meshes (OBJ, STL, GLB, PLY with faces) are read whole; the probe has bounded their size.
Non-finite coordinates are dropped and counted; a file with nothing usable left is rejected.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.media.limits import Limits
from pipeline.media.models3d import read_pcd_header
from pipeline.media.probe import probe
from pipeline.media.sniff import FORMAT_NAMES, MODEL_TYPES
from pipeline.stages.reconstruction.scans.voxels import Columns, VoxelStream

DEFAULT_BUDGET = 3_000_000
"""Points held in memory at most while reading a cloud; larger clouds are voxel-averaged."""
CHUNK_POINTS = 1_000_000
_CHUNK_LINES = 200_000
ASSUMED = "m (assumed)"

# Errors that third-party readers raise on corrupt content.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    EOFError,
    AttributeError,
    NotImplementedError,
    struct.error,
)


@dataclass(frozen=True)
class Geometry:
    """A point cloud or a mesh, in metres, as read from one file."""

    points: np.ndarray
    """(N, 3) float64, metres."""
    colours: np.ndarray | None = None
    """(N, 3) uint8 RGB."""
    normals: np.ndarray | None = None
    """(N, 3) float64 unit vectors."""
    faces: np.ndarray | None = None
    """(M, 3) int64 indices into points; None for a point cloud."""
    crs: str | None = None
    """The coordinate reference system the file declares ("EPSG:2992", or WKT)."""
    units: str = ASSUMED
    """The unit of the file's coordinates, before conversion to metres."""
    to_metre: float = 1.0
    """The factor the file's coordinates were multiplied by."""
    facts: dict[str, Any] = field(default_factory=dict)
    """What reading learnt: format, points read, non-finite points dropped, voxel, notes."""
    sensor_m: np.ndarray | None = None
    """Where the scanner stood, in metres in the points' frame, when the file says so (an E57
    scan's pose, a PCD VIEWPOINT other than the default); None when it does not."""


@dataclass
class _Read:
    columns: Columns
    faces: np.ndarray | None = None
    crs: str | None = None
    units: str = ASSUMED
    to_metre: float = 1.0
    facts: dict[str, Any] = field(default_factory=dict)
    sensor: np.ndarray | None = None


def load(path: Path, media_type: str, limits: Limits, *, budget: int = DEFAULT_BUDGET) -> Geometry:
    """Read one 3D file; raises InputRejectedError with a reason a person can act on."""
    if media_type not in MODEL_TYPES:
        raise InputRejectedError(f"{media_type!r} is not a 3D model or point cloud type")
    if budget < 1000:
        raise InputRejectedError(f"the point budget must be at least 1,000, not {budget:,}")
    probed = probe(path, media_type, limits)
    read = _READERS[media_type](path, budget)
    read.facts = {"format": FORMAT_NAMES[media_type], **probed, **read.facts}
    return _finish(read)


# --- finishing -----------------------------------------------------------------------------------


def _finish(read: _Read) -> Geometry:
    cols, faces, facts = read.columns, read.faces, read.facts
    finite = np.isfinite(cols.points).all(axis=1)
    dropped = int((~finite).sum()) + facts.pop("dropped", 0)
    if dropped:
        facts["non_finite_dropped"] = dropped
    if not finite.all():
        cols, faces = _keep(cols, faces, finite)
    n = len(cols)
    if n == 0:
        if dropped:
            raise InputRejectedError(f"all {dropped:,} points have NaN or infinite coordinates")
        raise InputRejectedError("the file holds no points")
    if n == 1:
        raise InputRejectedError("the file holds a single point: nothing to measure or mesh")
    if np.ptp(cols.points, axis=0).max() == 0:
        raise InputRejectedError(f"all {n:,} points coincide: nothing to measure or mesh")
    if faces is not None and len(faces) == 0:
        faces = None
        facts["note"] = "a mesh without faces: read as a point cloud"
    colours = None if cols.colours is None else _to_uint8(cols.colours)
    normals = None if cols.normals is None or not np.isfinite(cols.normals).all() else cols.normals
    return Geometry(
        points=np.ascontiguousarray(cols.points, dtype=np.float64) * read.to_metre,
        colours=colours,
        normals=normals,
        faces=faces,
        crs=read.crs,
        units=read.units,
        to_metre=read.to_metre,
        facts=facts,
        sensor_m=None if read.sensor is None else np.asarray(read.sensor) * read.to_metre,
    )


def _keep(cols: Columns, faces: np.ndarray | None, mask: np.ndarray) -> tuple[Columns, Any]:
    """The points where mask holds, and only the faces whose corners all survive."""
    kept = Columns(*(None if a is None else a[mask] for a in cols.arrays()))
    if faces is None:
        return kept, None
    index = np.full(len(mask), -1, dtype=np.int64)
    index[mask] = np.arange(int(mask.sum()))
    remapped = index[faces]
    return kept, remapped[(remapped >= 0).all(axis=1)]


def _to_uint8(colours: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(colours), 0, 255).astype(np.uint8)


def _finite(cols: Columns) -> tuple[Columns, int]:
    mask = np.isfinite(cols.points).all(axis=1)
    if mask.all():
        return cols, 0
    return Columns(*(None if a is None else a[mask] for a in cols.arrays())), int((~mask).sum())


def _stream(chunks: Iterator[Columns], budget: int, facts: dict | None = None) -> _Read:
    """Pass chunks through a VoxelStream; facts record what was dropped and averaged."""
    stream = VoxelStream(budget)
    dropped = 0
    for chunk in chunks:
        kept, bad = _finite(chunk)
        dropped += bad
        stream.add(kept)
    columns, voxel = stream.result()
    facts = {**(facts or {}), "dropped": dropped, "points_read": stream.seen + dropped}
    if voxel:
        facts["streamed_voxel_m"] = voxel
        facts["note"] = (
            f"{stream.seen:,} points are over the working budget of {budget:,}: "
            f"averaged on a {voxel:.4g} voxel grid while reading"
        )
    return _Read(columns, facts=facts)


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


def _check_faces(faces: np.ndarray, vertices: int) -> None:
    if len(faces) and (faces.min() < 0 or faces.max() >= vertices):
        raise InputRejectedError(
            f"corrupt mesh: faces refer to vertices beyond the {vertices:,} it holds"
        )


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


# --- OBJ, STL, GLB (trimesh) ---------------------------------------------------------------------


def _read_trimesh(path: Path, budget: int, file_type: str) -> _Read:
    import trimesh

    try:
        loaded = trimesh.load(str(path), file_type=file_type, process=False)
        parts = loaded.dump() if isinstance(loaded, trimesh.Scene) else [loaded]
    except _DECODE_ERRORS as e:
        raise InputRejectedError(f"cannot read the 3D model: {e}") from e
    meshes = [p for p in parts if isinstance(p, trimesh.Trimesh) and len(p.faces)]
    clouds = [p for p in parts if isinstance(p, trimesh.PointCloud | trimesh.Trimesh)]
    if meshes:
        read = _trimesh_meshes(meshes)
        return _merge_duplicates(read) if file_type == "stl" else read
    chunks = (
        Columns(np.asarray(c.vertices, dtype=np.float64).reshape(-1, 3), _cloud_colours(c))
        for c in clouds
    )
    read = _stream(chunks, budget)
    if clouds:
        read.facts["note"] = "a mesh without faces: read as a point cloud"
    return read


def _cloud_colours(part: Any) -> np.ndarray | None:
    colours = np.asarray(getattr(part, "colors", []), dtype=np.float64)
    if colours.ndim == 2 and len(colours) == len(part.vertices) and colours.shape[1] >= 3:
        return colours[:, :3]
    return None


def _trimesh_meshes(meshes: list) -> _Read:
    points, faces, colours, offset = [], [], [], 0
    for m in meshes:
        v = np.asarray(m.vertices, dtype=np.float64).reshape(-1, 3)
        f = np.asarray(m.faces, dtype=np.int64).reshape(-1, 3)
        _check_faces(f, len(v))
        points.append(v)
        faces.append(f + offset)
        colours.append(_vertex_colours(m))
        offset += len(v)
    all_colours = None if any(c is None for c in colours) else np.concatenate(colours)
    return _Read(Columns(np.concatenate(points), all_colours), np.concatenate(faces))


def _vertex_colours(mesh: Any) -> np.ndarray | None:
    """Per-vertex RGB (0–255) from vertex colours or a texture; None when it is plain."""
    visual = mesh.visual
    try:
        if visual.kind == "texture":
            visual = visual.to_color()
        if visual.kind != "vertex":
            return None
        return np.asarray(visual.vertex_colors, dtype=np.float64)[:, :3]
    except _DECODE_ERRORS:
        return None  # an unreadable texture costs the colours, not the model


def _merge_duplicates(read: _Read) -> _Read:
    """STL stores three corners per triangle: share equal corners so the mesh is connected."""
    if read.faces is None or not len(read.columns):
        return read
    unique, first, inverse = np.unique(
        read.columns.points, axis=0, return_index=True, return_inverse=True
    )
    colours = None if read.columns.colours is None else read.columns.colours[first]
    read.columns = Columns(unique, colours)
    read.faces = inverse.reshape(-1)[read.faces]
    return read


# --- LAS / LAZ (laspy) ---------------------------------------------------------------------------


def _read_las(path: Path, budget: int) -> _Read:
    import laspy

    try:
        reader = laspy.open(str(path))
    except (laspy.errors.LaspyException, *_DECODE_ERRORS) as e:
        raise InputRejectedError(f"cannot read the LAS header: {e}") from e
    with reader:
        header = reader.header
        if header.are_points_compressed and not laspy.LazBackend.detect_available():
            raise InputRejectedError("LAZ needs a decompressor: install lazrs (laspy[lazrs])")
        crs, units, to_metre, note = _las_crs(header)
        facts: dict[str, Any] = {
            "las_scale": [float(s) for s in header.scales],
            "las_offset": [float(o) for o in header.offsets],
            "las_version": str(header.version),
        }
        if note:
            facts["crs_note"] = note
        read = _stream(_las_chunks(reader, header.point_count), budget, facts)
    read.crs, read.units, read.to_metre = crs, units, to_metre
    return read


def _las_chunks(reader: Any, declared: int) -> Iterator[Columns]:
    import laspy

    names = set(reader.header.point_format.dimension_names)
    read = 0
    try:
        for chunk in reader.chunk_iterator(CHUNK_POINTS):
            read += len(chunk)
            colours = None
            if {"red", "green", "blue"} <= names:
                colours = np.column_stack([chunk.red, chunk.green, chunk.blue]).astype(np.float64)
                if colours.max(initial=0) > 255:  # 16-bit colour, as the LAS spec asks
                    colours /= 257.0
            yield Columns(np.column_stack([chunk.x, chunk.y, chunk.z]), colours)
    except (laspy.errors.LaspyException, *_DECODE_ERRORS, RuntimeError) as e:
        raise InputRejectedError(
            f"cannot read the LAS points (the header declares {declared:,}, "
            f"{read:,} were read): {e}"
        ) from e
    if read < declared:
        raise InputRejectedError(
            f"LAS header claims {declared:,} points but the file holds only {read:,}"
        )


def _las_crs(header: Any) -> tuple[str | None, str, float, str | None]:
    """(CRS, unit name, factor to metres, a note when the CRS does not fit the coordinates)."""
    import laspy
    from pyproj.exceptions import CRSError

    try:
        crs = header.parse_crs()
    except (CRSError, laspy.errors.LaspyException, *_DECODE_ERRORS) as e:
        return None, ASSUMED, 1.0, f"the CRS record is unreadable ({e}); metres assumed"
    if crs is None:
        return None, ASSUMED, 1.0, None
    name = f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.to_wkt()
    if crs.is_geographic:
        lo, hi = np.asarray(header.mins), np.asarray(header.maxs)
        if np.all(np.abs(lo[:2]) <= 180) and np.all(np.abs(hi[:2]) <= 180):
            raise InputRejectedError(
                f"the coordinates are longitude/latitude degrees ({name}): reproject the cloud "
                "to a projected CRS in metres or feet before reconstruction"
            )
        return (
            name,
            ASSUMED,
            1.0,
            (
                f"the file declares {name} (degrees) but its coordinates are far outside ±180: "
                "treated as metres in an unknown projected CRS"
            ),
        )
    axis = crs.axis_info[0]
    return name, axis.unit_name, float(axis.unit_conversion_factor), None


# --- E57 (pye57) ---------------------------------------------------------------------------------


def _read_e57(path: Path, budget: int) -> _Read:
    import pye57

    try:
        e57 = pye57.E57(str(path))
    except (pye57.libe57.E57Exception, *_DECODE_ERRORS) as e:
        raise InputRejectedError(f"cannot read the E57 file: {e}") from e
    try:
        scans = e57.scan_count
        if scans == 0:
            raise InputRejectedError("the E57 file holds no scans")
        read = _stream(_e57_chunks(e57, scans), budget, {"scans": scans})
        # One scan: its pose places the scanner (the origin of the scan's own frame).
        sensor = np.asarray(e57.get_header(0).translation, dtype=np.float64) if scans == 1 else None
    except (pye57.libe57.E57Exception, *_DECODE_ERRORS) as e:
        raise InputRejectedError(f"cannot read the E57 points: {e}") from e
    finally:
        e57.close()
    read.units = "m"  # E57 coordinates are metres by specification
    read.sensor = sensor
    return read


def _e57_chunks(e57: Any, scans: int) -> Iterator[Columns]:
    for index in range(scans):
        header = e57.get_header(index)
        fields = set(header.point_fields)
        if not {"cartesianX", "cartesianY", "cartesianZ"} <= fields:
            raise InputRejectedError("E57 scans in spherical coordinates are not supported yet")
        wanted = ["cartesianX", "cartesianY", "cartesianZ"]
        rgb = ["colorRed", "colorGreen", "colorBlue"]
        if set(rgb) <= fields:
            wanted += rgb
        if "cartesianInvalidState" in fields:
            wanted.append("cartesianInvalidState")
        capacity = max(1, min(CHUNK_POINTS, header.point_count))
        data, buffers = e57.make_buffers(wanted, capacity)
        rotation, translation = header.rotation_matrix, header.translation
        reader = header.points.reader(buffers)
        try:
            while n := reader.read():
                yield _e57_columns(data, n, rotation, translation)
        finally:
            reader.close()


def _e57_columns(data: dict, n: int, rotation: np.ndarray, translation: np.ndarray) -> Columns:
    xyz = np.column_stack([data[f"cartesian{a}"][:n] for a in "XYZ"]).astype(np.float64)
    xyz = xyz @ rotation.T + translation
    colours = None
    if "colorRed" in data:
        colours = np.column_stack([data[c][:n] for c in ("colorRed", "colorGreen", "colorBlue")])
        colours = colours.astype(np.float64)
    if "cartesianInvalidState" in data:
        valid = data["cartesianInvalidState"][:n] == 0
        xyz = xyz[valid]
        colours = None if colours is None else colours[valid]
    return Columns(xyz, colours)


_READERS: dict[str, Callable[[Path, int], _Read]] = {
    "model/ply": _read_ply,
    "model/obj": partial(_read_trimesh, file_type="obj"),
    "model/stl": partial(_read_trimesh, file_type="stl"),
    "model/gltf-binary": partial(_read_trimesh, file_type="glb"),
    "application/x-pcd": _read_pcd,
    "text/x-xyz": _read_xyz,
    "application/vnd.las": _read_las,
    "application/vnd.laszip": _read_las,
    "model/e57": _read_e57,
}
