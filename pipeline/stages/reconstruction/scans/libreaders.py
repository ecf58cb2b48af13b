"""Readers of `pipeline.stages.reconstruction.scans.io` that use a third-party library: OBJ,
STL and GLB (trimesh), LAS and LAZ (laspy), E57 (pye57).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import InputRejectedError
from pipeline.stages.reconstruction.scans.reading import (
    _DECODE_ERRORS,
    ASSUMED,
    CHUNK_POINTS,
    _check_faces,
    _Read,
    _stream,
)
from pipeline.stages.reconstruction.scans.voxels import Columns

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
