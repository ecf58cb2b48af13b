"""Structural probes of 3D formats: PLY, LAS, GLB, OBJ, STL, XYZ, PCD, E57."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pipeline.errors import InputRejectedError
from pipeline.media.bounded import BoundedReader, unpack
from pipeline.media.limits import _count_occurrences, _read_at, _reject_points
from pipeline.media.sniff import HEAD_BYTES, _is_binary_stl, _is_text

if TYPE_CHECKING:
    from pipeline.media.limits import Limits


# PLY

_PLY_HEADER_MAX = 64 * 1024
_PLY_SIZES = {
    **dict.fromkeys(("char", "int8", "uchar", "uint8"), 1),
    **dict.fromkeys(("short", "int16", "ushort", "uint16"), 2),
    **dict.fromkeys(("int", "int32", "uint", "uint32", "float", "float32"), 4),
    **dict.fromkeys(("double", "float64"), 8),
}
_PLY_FORMATS = frozenset({"ascii", "binary_little_endian", "binary_big_endian"})


def _probe_ply(r: BoundedReader, limits: Limits, path: Path) -> dict:
    header, header_len = _ply_header(r)
    size = r.size
    fmt, elements = _parse_ply_header(header)
    counts = {e["name"]: e["count"] for e in elements}
    points = counts.get("vertex", 0)
    _reject_points("PLY", points, limits)
    if fmt != "ascii":
        need = header_len + sum(e["count"] * e["min_record"] for e in elements)
        if size < need:
            raise InputRejectedError(
                f"truncated PLY: its header declares {points:,} vertices, which need at least "
                f"{need:,} bytes, but the file has {size:,}"
            )
    return {
        "points": points,
        "faces": counts.get("face", 0),
        "format": fmt,
        "elements": [{"name": e["name"], "count": e["count"]} for e in elements],
    }


def _ply_header(r: BoundedReader) -> tuple[str, int]:
    data = r.read_up_to(0, _PLY_HEADER_MAX)
    end = data.find(b"end_header")
    newline = data.find(b"\n", end) if end >= 0 else -1
    if newline < 0:
        if len(data) == _PLY_HEADER_MAX:
            raise InputRejectedError("PLY header too long (no end_header in the first 64 KiB)")
        raise InputRejectedError("truncated PLY (no end_header)")
    return data[:newline].decode("ascii", errors="replace"), newline + 1


def _parse_ply_header(header: str) -> tuple[str, list[dict]]:
    """The format and the elements (name, count, least bytes per record) of a PLY header."""
    fmt = ""
    elements: list[dict] = []
    for line in header.splitlines()[1:]:
        words = line.split()
        if not words or words[0] in ("comment", "obj_info", "end_header"):
            continue
        if words[0] == "format" and len(words) >= 2:
            fmt = words[1]
        elif words[0] == "element" and len(words) == 3 and _is_count(words[2]):
            elements.append({"name": words[1], "count": int(words[2]), "min_record": 0})
        elif words[0] == "property" and elements:
            elements[-1]["min_record"] += _ply_property_size(words)
        else:
            raise InputRejectedError(f"corrupt PLY header line: {line.strip()[:80]!r}")
    if fmt not in _PLY_FORMATS:
        raise InputRejectedError(f"PLY format {fmt!r} is unknown")
    return fmt, elements


def _is_count(word: str) -> bool:
    return word.isascii() and word.isdigit()


def _ply_property_size(words: list[str]) -> int:
    """Bytes of a scalar property; for a list, the bytes of its count (the least it takes)."""
    if len(words) < 3:
        raise InputRejectedError(f"PLY property {' '.join(words[1:])!r} is incomplete")
    kind = words[2] if words[1] == "list" and len(words) == 5 else words[1]
    if kind not in _PLY_SIZES or len(words) not in (3, 5):
        raise InputRejectedError(f"PLY property {' '.join(words[1:])!r} has an unknown type")
    return _PLY_SIZES[kind]


# LAS / LAZ

_LAS_MIN_RECORD = {0: 20, 1: 28, 2: 26, 3: 34, 4: 57, 5: 63, 6: 30, 7: 36, 8: 38, 9: 59, 10: 67}


@dataclass(frozen=True)
class LasHeader:
    """The fields of a LAS public header that the checks and facts need."""

    version: str
    point_format: int
    compressed: bool
    header_size: int
    point_offset: int
    record_length: int
    points: int
    mins: tuple[float, float, float]
    maxs: tuple[float, float, float]
    vlrs: int = 0
    """Variable length records declared between the header and the points."""
    evlrs: int = 0
    """Extended variable length records declared after the points (LAS 1.4)."""
    first_evlr: int = 0
    """Offset of the first extended record (LAS 1.4)."""


def read_las_header(f: BinaryIO) -> LasHeader:
    head = _read_at(f, 0, 375)
    if len(head) < 227 or head[:4] != b"LASF":
        raise InputRejectedError("truncated LAS: the public header is cut off")
    major, minor = head[24], head[25]
    header_size, point_offset, vlrs = struct.unpack_from("<HII", head, 94)
    fmt_byte, record_length, legacy_count = struct.unpack_from("<BHI", head, 104)
    points, evlrs, first_evlr = legacy_count, 0, 0
    if (major, minor) >= (1, 4) and header_size >= 255 and len(head) >= 255:
        points = struct.unpack_from("<Q", head, 247)[0] or legacy_count
    if minor >= 4 and len(head) >= 247:  # laspy reads these whenever the minor version is ≥ 4
        first_evlr, evlrs = struct.unpack_from("<QI", head, 235)
    max_x, min_x, max_y, min_y, max_z, min_z = struct.unpack_from("<6d", head, 179)
    return LasHeader(
        version=f"{major}.{minor}",
        point_format=fmt_byte & 0x3F,
        compressed=bool(fmt_byte & 0xC0),
        header_size=header_size,
        point_offset=point_offset,
        record_length=record_length,
        points=points,
        mins=(min_x, min_y, min_z),
        maxs=(max_x, max_y, max_z),
        vlrs=vlrs,
        evlrs=evlrs,
        first_evlr=first_evlr,
    )


def _probe_las(r: BoundedReader, limits: Limits, path: Path) -> dict:
    h = read_las_header(r.f)
    size = r.size
    if h.point_format not in _LAS_MIN_RECORD:
        raise InputRejectedError(f"LAS point format {h.point_format} is unknown")
    if h.point_offset < h.header_size or h.point_offset > size:
        raise InputRejectedError("corrupt LAS: the offset to the point data is out of the file")
    if h.record_length < _LAS_MIN_RECORD[h.point_format]:
        raise InputRejectedError(
            f"corrupt LAS: point records of {h.record_length} bytes are too short for "
            f"point format {h.point_format}"
        )
    _check_las_records(h, size)
    _reject_points("LAS header", h.points, limits)
    held = (size - h.point_offset) // h.record_length
    if not h.compressed and held < h.points:
        raise InputRejectedError(
            f"LAS header claims {h.points:,} points but the file holds only {held:,}"
        )
    return {"points": h.points, "version": h.version, "point_format": h.point_format}


_VLR_HEADER = 54
_EVLR_HEADER = 60


def _check_las_records(h: LasHeader, size: int) -> None:
    """The declared (extended) variable length records must fit where the file keeps them.

    laspy reads the declared number of records one by one, even past the end of the file: a
    single flipped bit in the count (2**28 records in a 900-byte file) made it allocate record
    objects until the process was killed (issue 20). Checked here, the count is at most the
    file's size over a record header, so reading the records costs memory in proportion to the
    file.
    """
    room = h.point_offset - h.header_size
    if h.vlrs * _VLR_HEADER > room:
        raise InputRejectedError(
            f"corrupt LAS: the header declares {h.vlrs:,} variable length records, but only "
            f"{room:,} bytes lie between the header and the points "
            f"(room for {room // _VLR_HEADER:,})"
        )
    if h.evlrs:
        if h.first_evlr < h.point_offset or h.first_evlr > size:
            raise InputRejectedError(
                "corrupt LAS: the offset to the extended variable length records is out of the file"
            )
        room = size - h.first_evlr
        if h.evlrs * _EVLR_HEADER > room:
            raise InputRejectedError(
                f"corrupt LAS: the header declares {h.evlrs:,} extended variable length "
                f"records, but only {room:,} bytes follow their offset "
                f"(room for {room // _EVLR_HEADER:,})"
            )


# GLB, OBJ, STL, XYZ, PCD, E57


def _probe_glb(r: BoundedReader, limits: Limits, path: Path) -> dict:
    head, size = r.read_up_to(0, 20), r.size
    if len(head) < 20:
        raise InputRejectedError("truncated glTF binary: the header is cut off")
    _, version, length, json_length, chunk_type = struct.unpack("<4sIII4s", head)
    if version != 2:
        raise InputRejectedError(f"glTF binary version {version} is not supported (only 2)")
    if length != size:
        raise InputRejectedError(
            f"truncated glTF binary: its header declares {length:,} bytes, the file has {size:,}"
        )
    if chunk_type != b"JSON" or 20 + json_length > size:
        raise InputRejectedError("corrupt glTF binary: the first chunk is not its JSON")
    try:
        gltf = json.loads(r.read_at(20, json_length, "glTF JSON chunk"))
        points = sum(
            gltf["accessors"][prim["attributes"]["POSITION"]]["count"]
            for mesh in gltf.get("meshes", [])
            for prim in mesh.get("primitives", [])
            if "POSITION" in prim.get("attributes", {})
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError) as e:
        raise InputRejectedError(f"corrupt glTF binary: its JSON chunk is unreadable ({e})") from e
    _reject_points("glTF", points, limits)
    return {"points": points}


def _probe_obj(r: BoundedReader, limits: Limits, path: Path) -> dict:
    vertices, faces = _count_occurrences(r.f, (b"\nv ", b"\nf "))
    _reject_points("OBJ", vertices, limits)
    if vertices == 0:
        raise InputRejectedError("OBJ holds no vertices")
    return {"points": vertices, "faces": faces}


def _probe_stl(r: BoundedReader, limits: Limits, path: Path) -> dict:
    head = r.read_up_to(0, HEAD_BYTES)
    if _is_binary_stl(head, r.size):
        (faces,) = unpack("<I", head, 80, "STL triangle count", r.name)
    elif head.lstrip().startswith(b"solid") and _is_text(head):
        if b"endsolid" not in r.read_up_to(max(0, r.size - 1024), 1024):
            raise InputRejectedError("truncated STL (no endsolid at the end)")
        (faces,) = _count_occurrences(r.f, (b"endfacet",))
    else:
        raise InputRejectedError("truncated STL: the size does not match the triangle count")
    _reject_points("STL", 3 * faces, limits)
    return {"faces": faces}


def _probe_xyz(r: BoundedReader, limits: Limits, path: Path) -> dict:
    (newlines,) = _count_occurrences(r.f, (b"\n",))
    points = newlines - 1 + (r.read_up_to(r.size - 1, 1) != b"\n")  # the implied leading newline
    _reject_points("XYZ", points, limits)
    return {"points": points}


@dataclass(frozen=True)
class PcdHeader:
    fields: tuple[str, ...]
    sizes: tuple[int, ...]
    types: tuple[str, ...]
    counts: tuple[int, ...]
    points: int
    data: str
    length: int  # bytes up to and including the DATA line


def read_pcd_header(f: BinaryIO) -> PcdHeader:
    raw = _read_at(f, 0, 64 * 1024)
    values: dict[str, list[str]] = {}
    offset = 0
    for line in raw.split(b"\n"):
        offset += len(line) + 1
        words = line.decode("ascii", errors="replace").split()
        if words and not words[0].startswith("#"):
            values[words[0]] = words[1:]
        if words and words[0] == "DATA":
            break
    else:
        raise InputRejectedError("corrupt PCD: no DATA line in the header")
    try:
        fields = tuple(values["FIELDS"])
        counts = tuple(int(c) for c in values.get("COUNT", ["1"] * len(fields)))
        width, height = int(values["WIDTH"][0]), int(values.get("HEIGHT", ["1"])[0])
        points = int(values.get("POINTS", [width * height])[0])
        sizes = tuple(int(s) for s in values["SIZE"])
        types = tuple(values["TYPE"])
        data = values["DATA"][0]
    except (KeyError, IndexError, ValueError) as e:
        raise InputRejectedError(f"corrupt PCD header: {e}") from e
    if not len(fields) == len(sizes) == len(types) == len(counts):
        raise InputRejectedError("corrupt PCD header: FIELDS, SIZE, TYPE and COUNT disagree")
    return PcdHeader(fields, sizes, types, counts, points, data, offset)


def _probe_pcd(r: BoundedReader, limits: Limits, path: Path) -> dict:
    h, size = read_pcd_header(r.f), r.size
    _reject_points("PCD", h.points, limits)
    if h.data == "binary":
        need = h.length + h.points * sum(s * c for s, c in zip(h.sizes, h.counts, strict=True))
        if size < need:
            raise InputRejectedError(
                f"truncated PCD: {h.points:,} points need {need:,} bytes, the file has {size:,}"
            )
    elif h.data not in ("ascii", "binary_compressed"):
        raise InputRejectedError(f"PCD data kind {h.data!r} is unknown")
    return {"points": h.points, "data": h.data}


def _probe_e57(r: BoundedReader, limits: Limits, path: Path) -> dict:
    head, size = r.read_up_to(0, 48), r.size
    if len(head) < 48:
        raise InputRejectedError("truncated E57: the file header is cut off")
    major, minor, length, xml_offset, xml_length, _page = unpack(
        "<IIQQQQ", head, 8, "E57 header", r.name
    )
    if length != size:
        raise InputRejectedError(
            f"truncated E57: its header declares {length:,} bytes, the file has {size:,}"
        )
    if xml_offset + xml_length > size:
        raise InputRejectedError("corrupt E57: its XML section lies beyond the end of the file")
    return {"version": f"{major}.{minor}"}
