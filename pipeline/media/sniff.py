"""Media types from content (never the extension)."""

from __future__ import annotations

import re
import struct
from pathlib import Path

HEAD_BYTES = 4096

PAGE_TYPES = frozenset({"image/tiff", "image/jpeg", "image/png", "image/jp2", "application/pdf"})
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/tiff"})
MODEL_TYPES = frozenset(
    {
        "model/ply",
        "model/obj",
        "model/stl",
        "model/gltf-binary",
        "application/x-pcd",
        "text/x-xyz",
        "application/vnd.las",
        "application/vnd.laszip",
        "model/e57",
    }
)
ZIP = "application/zip"

FORMAT_NAMES = {
    "application/pdf": "PDF",
    "model/ply": "PLY",
    "model/obj": "OBJ",
    "model/stl": "STL",
    "model/gltf-binary": "GLB",
    "application/x-pcd": "PCD",
    "text/x-xyz": "XYZ",
    "application/vnd.las": "LAS",
    "application/vnd.laszip": "LAZ",
    "model/e57": "E57",
    ZIP: "ZIP",
}
"""Short format names for the media types whose name is not their subtype."""


# --- sniffing ------------------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"II+\x00", "image/tiff"),  # BigTIFF
    (b"MM\x00+", "image/tiff"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "image/jp2"),
    (b"\xff\x4f\xff\x51", "image/jp2"),  # raw JPEG 2000 codestream
    (b"ply\n", "model/ply"),
    (b"ply\r\n", "model/ply"),
    (b"glTF", "model/gltf-binary"),
    (b"ASTM-E57", "model/e57"),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),  # empty archive
)

# Bytes that occur in text files: tab, LF, FF, CR, printable ASCII and anything >= 0x80 (UTF-8,
# legacy Vietnamese code pages). Any other control byte means binary.
_TEXT_BYTES = bytes([9, 10, 12, 13, *range(32, 127), *range(128, 256)])

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_XYZ_LINE = re.compile(rf"\s*{_NUMBER}(?:(?:\s*,\s*|\s+){_NUMBER}){{2,6}}\s*,?\s*")
# A column header some exporters write first: "X Y Z", "x,y,z,r,g,b", CloudCompare's "//X,Y,Z".
_XYZ_HEADER = re.compile(r"\s*(?://)?\s*[A-Za-z_]\w*(?:(?:\s*,\s*|\s+)[A-Za-z_]\w*){2,6}\s*")
_STL_FACET = re.compile(rb"^\s*(?:facet\s+normal|endsolid)\b", re.MULTILINE)
_OBJ_KEYWORDS = frozenset({"v", "vn", "vt", "vp", "f", "l", "p", "o", "g", "s", "mtllib", "usemtl"})
_PCD_KEYWORDS = frozenset(
    {"VERSION", "FIELDS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT", "VIEWPOINT", "POINTS", "DATA"}
)


def sniff(head: bytes) -> str | None:
    """The media type the first bytes say, or None for anything we do not accept.

    Binary STL has no magic: only `sniff_file`, which knows the file size, recognises it.
    """
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if head.startswith(b"LASF"):
        # Point data format byte: LASzip sets bit 7 (and bit 6) on compressed files.
        compressed = len(head) > 104 and head[104] & 0xC0
        return "application/vnd.laszip" if compressed else "application/vnd.las"
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    if _is_pcd(head):
        return "application/x-pcd"
    return _sniff_text(head)


def sniff_file(path: Path) -> str | None:
    """`sniff` on the file's head, plus binary STL (recognised by its size formula)."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    media_type = sniff(head)
    if media_type is None and _is_binary_stl(head, path.stat().st_size):
        return "model/stl"
    return media_type


def _is_binary_stl(head: bytes, size: int) -> bool:
    if size < 84 or len(head) < 84:
        return False
    (triangles,) = struct.unpack_from("<I", head, 80)
    return size == 84 + 50 * triangles


def _is_text(data: bytes) -> bool:
    return bool(data) and not data.translate(None, _TEXT_BYTES)


def _complete_lines(head: bytes) -> list[str]:
    """The lines of a text head, without a last line the head may have cut short."""
    lines = head.decode("utf-8", errors="replace").splitlines()
    if len(lines) > 1 and not head.endswith((b"\n", b"\r")):
        lines.pop()
    return lines


def _is_pcd(head: bytes) -> bool:
    """A PCD header: keyword lines up to DATA (binary point data may follow it)."""
    seen: set[str] = set()
    for raw in head.split(b"\n"):
        if not _is_text(raw.rstrip(b"\r") or b" "):
            return False
        words = raw.decode("ascii", errors="replace").split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] not in _PCD_KEYWORDS:
            return False
        seen.add(words[0])
        if words[0] == "DATA":
            return "FIELDS" in seen
    return False


def _sniff_text(head: bytes) -> str | None:
    """STL (ASCII), OBJ or XYZ point lists; None for binary junk or other text."""
    if not _is_text(head):
        return None
    if head.lstrip().startswith(b"solid") and _STL_FACET.search(head):
        return "model/stl"
    lines = [ln.strip() for ln in _complete_lines(head)]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines:
        return None
    first_words = {ln.split()[0] for ln in lines}
    if first_words <= _OBJ_KEYWORDS and "v" in first_words:
        return "model/obj"
    if _XYZ_HEADER.fullmatch(lines[0]):
        lines = lines[1:]
    if lines and all(_XYZ_LINE.fullmatch(ln) for ln in lines):
        return "text/x-xyz"
    return None
