"""Media types from content (never the extension), and cheap structural checks at ingest.

`sniff` looks at magic bytes; `probe` reads headers, trailers and declared sizes with bounded
memory (never the whole file, never the pixels) and rejects input that is corrupt, truncated or
over a limit with a reason a person can act on. Every read of a structure goes through
`pipeline.bounded` (lengths and offsets checked before reading), so a lying or cut-off header is
a rejection naming the file and the structure, never a `struct.error` or an `IndexError`.

PDFium is not thread-safe: every call into pypdfium2, here or in other stages, must hold
`PDFIUM_LOCK`. Pillow has its own process-wide pixel guard (`PIL.Image.MAX_IMAGE_PIXELS`, an error
at twice its value); the entrypoint should call `configure_pillow(limits)` once so that guard is
never tighter than SOHOA_MAX_PIXELS.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline.bounded import BoundedReader, first, unpack
from pipeline.errors import InputRejectedError

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

PDFIUM_LOCK = threading.RLock()

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Limits applied to every input (settings)."""

    max_file_bytes: int
    max_pixels: int
    max_pages: int
    max_points: int
    max_zip_members: int
    max_zip_ratio: int


def configure_pillow(limits: Limits) -> None:
    """Align Pillow's process-wide decompression-bomb guard with our pixel limit."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = limits.max_pixels


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


# --- probing -------------------------------------------------------------------------------------


def probe(path: Path, media_type: str, limits: Limits) -> dict:
    """Check structure cheaply (headers, trailers, declared sizes) without decoding pixels.

    Returns small facts learnt on the way (e.g. {"pages": 3, "width": .., "height": ..});
    raises InputRejectedError with a reason a person can act on.
    """
    size = path.stat().st_size
    if size == 0:
        raise InputRejectedError("empty file")
    if size > limits.max_file_bytes:
        raise InputRejectedError(
            f"file is {size:,} bytes, over the limit of {limits.max_file_bytes:,} "
            "(SOHOA_MAX_FILE_BYTES)"
        )
    check = _PROBES.get(media_type)
    if check is None:
        raise InputRejectedError(f"unsupported media type {media_type!r}")
    with path.open("rb") as f:
        return check(BoundedReader(f, size, path.name), limits, path)


def _reject_pixels(what: str, width: int, height: int, limits: Limits) -> None:
    if width <= 0 or height <= 0:
        raise InputRejectedError(f"{what} declares {width}×{height} pixels (an empty image)")
    if width * height > limits.max_pixels:
        raise InputRejectedError(
            f"{what} declares {width}×{height} pixels, over the limit of "
            f"{limits.max_pixels:,} (SOHOA_MAX_PIXELS)"
        )


def _reject_points(what: str, points: int, limits: Limits) -> None:
    if points > limits.max_points:
        raise InputRejectedError(
            f"{what} declares {points:,} points, over the limit of {limits.max_points:,} "
            "(SOHOA_MAX_POINTS)"
        )


def _reject_pages(what: str, pages: int, limits: Limits) -> None:
    if pages > limits.max_pages:
        raise InputRejectedError(
            f"{what} has {pages:,} pages, over the limit of {limits.max_pages:,} (SOHOA_MAX_PAGES)"
        )


def _read_at(f: BinaryIO, offset: int, n: int) -> bytes:
    f.seek(offset)
    return f.read(n)


def _last_bytes_before_padding(r: BoundedReader, n: int) -> bytes:
    """The last n bytes of the file, ignoring trailing zero padding."""
    end = r.size
    while end > 0:
        start = max(0, end - _CHUNK)
        stripped = r.read_up_to(start, end - start).rstrip(b"\0")
        if stripped:
            stop = start + len(stripped)
            return r.read_up_to(max(0, stop - n), min(n, stop))
        end = start
    return b""


def _count_occurrences(f: BinaryIO, patterns: tuple[bytes, ...]) -> list[int]:
    """How often each pattern occurs in the file, streaming (a leading newline is implied)."""
    counts = [0] * len(patterns)
    # Each pattern keeps the last len-1 bytes it saw: enough to find a match that straddles
    # two chunks, too few to hold (and count twice) a whole one.
    carries = [b"\n"] * len(patterns)
    f.seek(0)
    while chunk := f.read(_CHUNK):
        for i, pattern in enumerate(patterns):
            data = carries[i] + chunk
            counts[i] += data.count(pattern)
            carries[i] = data[max(0, len(data) - len(pattern) + 1) :]
    return counts


_PILLOW_HEADER_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    struct.error,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
    ZeroDivisionError,
    zlib.error,
)
"""What Pillow's header parsers raise on corrupt input (found by fuzzing, not by reading)."""


@contextmanager
def open_image(path: Path | BinaryIO, kind: str) -> Iterator:
    """Pillow's lazy open (headers only), with its errors turned into InputRejectedError."""
    from PIL import Image, UnidentifiedImageError

    try:
        im = Image.open(path)
    except Image.DecompressionBombError as e:
        raise InputRejectedError(f"{kind} is too large to open: {e} (SOHOA_MAX_PIXELS)") from e
    except (UnidentifiedImageError, *_PILLOW_HEADER_ERRORS) as e:
        raise InputRejectedError(f"not a readable {kind}: {e}") from e
    with im:
        yield im


# PNG


_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _probe_png(r: BoundedReader, limits: Limits, path: Path) -> dict:
    head = r.read_up_to(0, 33)
    if len(head) < 33 or head[12:16] != b"IHDR":
        raise InputRejectedError("not a PNG: no IHDR header")
    (crc,) = struct.unpack_from(">I", head, 29)
    if zlib.crc32(head[12:29]) != crc:
        raise InputRejectedError("corrupt PNG: the IHDR header fails its checksum")
    width, height = struct.unpack_from(">II", head, 16)
    _reject_pixels("PNG", width, height, limits)
    if r.read_up_to(r.size - 12, 12) != _PNG_IEND:
        raise InputRejectedError("truncated PNG (no IEND)")
    return {"width": width, "height": height}


# JPEG and JPEG 2000


def _probe_jpeg(r: BoundedReader, limits: Limits, path: Path) -> dict:
    with open_image(r.f, "JPEG") as im:
        width, height = im.size
    _reject_pixels("JPEG", width, height, limits)
    if _last_bytes_before_padding(r, 2) != b"\xff\xd9":
        raise InputRejectedError("truncated JPEG (it does not end with an EOI marker)")
    return {"width": width, "height": height}


def _probe_jp2(r: BoundedReader, limits: Limits, path: Path) -> dict:
    if r.read_up_to(0, 4) == b"\xff\x4f\xff\x51":
        if _last_bytes_before_padding(r, 2) != b"\xff\xd9":
            raise InputRejectedError("truncated JPEG 2000 codestream (no EOC marker)")
    else:
        _check_jp2_boxes(r)
    with open_image(r.f, "JPEG 2000") as im:
        width, height = im.size
    _reject_pixels("JPEG 2000", width, height, limits)
    return {"width": width, "height": height}


def _check_jp2_boxes(r: BoundedReader) -> None:
    """Every top-level box must end inside the file (a length of 0 means 'to the end')."""
    offset, size = 0, r.size
    while offset < size:
        header = r.read_up_to(offset, 16)
        if len(header) < 8:
            raise InputRejectedError("truncated JPEG 2000: a box header is cut off")
        (length,) = struct.unpack_from(">I", header)
        if length == 1:
            if len(header) < 16:
                raise InputRejectedError("truncated JPEG 2000: a box header is cut off")
            (length,) = struct.unpack_from(">Q", header, 8)
        elif length == 0:
            return
        if length < 8 or offset + length > size:
            raise InputRejectedError(
                f"truncated JPEG 2000: box {header[4:8]!r} runs past the end of the file"
            )
        offset += length


# TIFF

_TIFF_FORMATS = {
    1: "B",
    3: "H",
    4: "I",
    13: "I",
    16: "Q",
    18: "Q",
}  # BYTE SHORT LONG IFD LONG8 IFD8
_TIFF_WANTED = frozenset({256, 257, 273, 279, 324, 325})
_TIFF_MAX_VALUES = 4_000_000  # strips or tiles of one page; real scans have thousands at most


@dataclass(frozen=True)
class TiffPage:
    """What one TIFF directory declares: dimensions and where its strips or tiles lie."""

    number: int
    width: int
    height: int
    offsets: tuple[int, ...]
    byte_counts: tuple[int, ...]


def tiff_pages(
    f: BinaryIO | BoundedReader, size: int, max_pages: int, name: str = "the file"
) -> Iterator[TiffPage]:
    """Walk the chain of image directories (classic and BigTIFF) without touching pixel data.

    Rejects a chain longer than max_pages, a loop, or a directory beyond the end of the file.
    """
    r = f if isinstance(f, BoundedReader) else BoundedReader(f, size, name)
    head = r.read_up_to(0, 16)
    order = "<" if head[:2] == b"II" else ">"
    big = unpack(order + "H", head, 2, "TIFF header", r.name)[0] == 43
    (offset,) = unpack(order + ("Q" if big else "I"), head, 8 if big else 4, "TIFF header", r.name)
    seen: set[int] = set()
    number = 0
    while offset:
        number += 1
        if number > max_pages:
            raise InputRejectedError(
                f"TIFF has more than {max_pages:,} pages, the limit (SOHOA_MAX_PAGES)"
            )
        if offset in seen:
            raise InputRejectedError(f"corrupt TIFF: page {number}'s directory loops back")
        seen.add(offset)
        tags, offset = _tiff_directory(r, offset, order, big, number)
        yield _tiff_page(number, tags, r.name)


def _tiff_directory(
    r: BoundedReader, offset: int, order: str, big: bool, number: int
) -> tuple[dict[int, tuple[int, ...]], int]:
    """The wanted tags of the directory at `offset`, and the offset of the next one."""
    count_fmt, entry_size, inline = ("Q", 20, 8) if big else ("H", 12, 4)
    count_size = struct.calcsize(count_fmt)
    what = f"TIFF page {number}'s directory"
    (entries,) = r.unpack_at(order + count_fmt, offset, what)
    table = r.read_at(offset + count_size, entries * entry_size + inline, what)
    tags: dict[int, tuple[int, ...]] = {}
    for i in range(entries):
        entry = table[i * entry_size : (i + 1) * entry_size]
        tag, kind = struct.unpack_from(order + "HH", entry)
        if tag in _TIFF_WANTED and kind in _TIFF_FORMATS:
            tags[tag] = _tiff_values(r, entry, order, big, number)
    (next_offset,) = struct.unpack_from(order + ("Q" if big else "I"), table, entries * entry_size)
    return tags, next_offset


def _tiff_values(
    r: BoundedReader, entry: bytes, order: str, big: bool, number: int
) -> tuple[int, ...]:
    kind = struct.unpack_from(order + "H", entry, 2)[0]
    item = _TIFF_FORMATS[kind]
    count = struct.unpack_from(order + ("Q" if big else "I"), entry, 4)[0]
    if count > _TIFF_MAX_VALUES:
        raise InputRejectedError(f"corrupt TIFF: page {number} declares {count:,} strips or tiles")
    nbytes = count * struct.calcsize(item)
    field = entry[12:20] if big else entry[8:12]
    if nbytes <= len(field):
        data = field[:nbytes]
    else:
        (where,) = struct.unpack(order + ("Q" if big else "I"), field)
        data = r.read_at(where, nbytes, f"TIFF page {number}'s strip table")
    return struct.unpack(f"{order}{count}{item}", data)


def _tiff_page(number: int, tags: dict[int, tuple[int, ...]], name: str) -> TiffPage:
    if 256 not in tags or 257 not in tags:
        raise InputRejectedError(f"corrupt TIFF: page {number} has no image dimensions")
    offsets = tags.get(273) or tags.get(324) or ()
    counts = tags.get(279) or tags.get(325) or ()
    if not offsets or len(offsets) != len(counts):
        raise InputRejectedError(f"corrupt TIFF: page {number} has no usable strip or tile table")
    width = first(tags[256], f"TIFF page {number}'s width", name)
    height = first(tags[257], f"TIFF page {number}'s height", name)
    return TiffPage(number, width, height, offsets, counts)


def _probe_tiff(r: BoundedReader, limits: Limits, path: Path) -> dict:
    page_1: TiffPage | None = None
    pages = 0
    for page in tiff_pages(r, r.size, limits.max_pages):
        _reject_pixels(f"TIFF page {page.number}", page.width, page.height, limits)
        if max(o + c for o, c in zip(page.offsets, page.byte_counts, strict=True)) > r.size:
            raise InputRejectedError(
                f"truncated TIFF: page {page.number}'s data lies beyond the end of the file"
            )
        page_1 = page_1 or page
        pages = page.number
    if page_1 is None:
        raise InputRejectedError("corrupt TIFF: it has no pages")
    with open_image(r.f, "TIFF"):
        pass  # Pillow must understand page 1's directory (compression, photometric, …).
    return {"pages": pages, "width": page_1.width, "height": page_1.height}


# PDF


def _probe_pdf(r: BoundedReader, limits: Limits, path: Path) -> dict:
    if b"%%EOF" not in r.read_up_to(max(0, r.size - 2048), 2048):
        raise InputRejectedError("truncated PDF (no %%EOF marker at the end)")
    with open_pdf(path) as pdf:
        pages = len(pdf)
    _reject_pages("PDF", pages, limits)
    _reject_flate_bombs(path, limits)
    return {"pages": pages}


_STREAM = re.compile(rb"stream\r?\n")
_PDF_BOMB_FLOOR = 16 * 1024 * 1024
"""A non-image stream may inflate this much whatever its ratio (real content streams do)."""


def _reject_flate_bombs(path: Path, limits: Limits) -> None:
    """Inflate each Flate-compressed non-image stream, bounded: one that would expand past
    SOHOA_MAX_ZIP_RATIO × its compressed size (and past 16 MB) is a bomb. Page content and
    fonts compress a few times; a bomb a thousand times. Image streams are bounded by the
    pixel limit when pages are rendered, and a blank scan legitimately compresses 1000×."""
    import mmap

    if path.stat().st_size == 0:
        return
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for m in _STREAM.finditer(data):
            start = m.end()
            header = data[max(0, m.start() - 2048) : m.start()]
            if (
                b"FlateDecode" not in header[header.rfind(b"<<") :]
                or b"/Image" in header[header.rfind(b"<<") :]
            ):
                continue
            end = data.find(b"endstream", start)
            if end < 0:
                return  # PDFium has judged the structure; nothing more to inflate here
            cap = max(_PDF_BOMB_FLOOR, (end - start) * limits.max_zip_ratio)
            inflater = zlib.decompressobj()
            out = 0
            for pos in range(start, end, 1 << 16):
                try:
                    chunk = data[pos : min(end, pos + (1 << 16))]
                    out += len(inflater.decompress(chunk, 1 << 20))
                    while inflater.unconsumed_tail and out <= cap:
                        out += len(inflater.decompress(inflater.unconsumed_tail, 1 << 20))
                except zlib.error:
                    break  # not our business: a broken stream fails where it is read
                if out > cap:
                    raise InputRejectedError(
                        f"a PDF stream inflates past {cap:,} bytes from {end - start:,} "
                        f"(SOHOA_MAX_ZIP_RATIO): a possible decompression bomb"
                    )


@contextmanager
def open_pdf(path: Path) -> Iterator:
    """Open a PDF with pypdfium2 under PDFIUM_LOCK; load failures become reasons.

    Loads through the raw API: pypdfium2's own constructor reports an empty page tree with
    whatever error a previous, unrelated load left behind.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with PDFIUM_LOCK:
        raw = pdfium_c.FPDF_LoadDocument(os.fsencode(path) + b"\0", None)
        if not raw:
            raise InputRejectedError(
                _PDF_LOAD_ERRORS.get(pdfium_c.FPDF_GetLastError(), _UNREADABLE)
            )
        pdf = pdfium.PdfDocument(raw)
        try:
            if len(pdf) < 1:
                raise InputRejectedError("PDF has no pages")
            yield pdf
        finally:
            pdf.close()


_UNREADABLE = "not a readable PDF: PDFium cannot parse it"
_PDF_LOAD_ERRORS = {
    4: "encrypted PDF (password protected)",  # FPDF_ERR_PASSWORD
    5: "encrypted PDF (unsupported security handler)",  # FPDF_ERR_SECURITY
    2: "not a readable PDF: the file cannot be opened",  # FPDF_ERR_FILE
    3: "not a readable PDF: its structure is corrupt",  # FPDF_ERR_FORMAT
}


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


def read_las_header(f: BinaryIO) -> LasHeader:
    head = _read_at(f, 0, 375)
    if len(head) < 227 or head[:4] != b"LASF":
        raise InputRejectedError("truncated LAS: the public header is cut off")
    major, minor = head[24], head[25]
    header_size, point_offset = struct.unpack_from("<HI", head, 94)
    fmt_byte, record_length, legacy_count = struct.unpack_from("<BHI", head, 104)
    points = legacy_count
    if (major, minor) >= (1, 4) and header_size >= 255 and len(head) >= 255:
        points = struct.unpack_from("<Q", head, 247)[0] or legacy_count
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
    _reject_points("LAS header", h.points, limits)
    held = (size - h.point_offset) // h.record_length
    if not h.compressed and held < h.points:
        raise InputRejectedError(
            f"LAS header claims {h.points:,} points but the file holds only {held:,}"
        )
    return {"points": h.points, "version": h.version, "point_format": h.point_format}


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


# ZIP

_EOCD = b"PK\x05\x06"


def _probe_zip(r: BoundedReader, limits: Limits, path: Path) -> dict:
    size = r.size
    _reject_zip_members(_zip_declared_entries(r), limits)
    try:
        with zipfile.ZipFile(r.f) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
        raise InputRejectedError(f"not a readable ZIP: {e}") from e
    _reject_zip_members(len(infos), limits)
    for info in infos:
        _check_zip_entry(info)
        if not 0 <= info.header_offset <= size - 30:  # a lying central directory
            raise InputRejectedError(f"ZIP entry {info.filename!r} lies outside the file")
    _reject_overlaps(infos)
    expanded = sum(i.file_size for i in infos)
    # the file's own size, not the sum the entries declare: overlapping entries that share
    # one compressed member would otherwise each count its bytes again
    packed = max(1, min(size, sum(i.compress_size for i in infos)))
    if expanded > packed * limits.max_zip_ratio:
        raise InputRejectedError(
            f"ZIP expands {expanded // packed:,}× ({expanded:,} bytes from {packed:,}), over the "
            f"limit of {limits.max_zip_ratio}× (SOHOA_MAX_ZIP_RATIO): a possible zip bomb"
        )
    files = [i for i in infos if not i.is_dir()]
    return {"members": len(files), "expanded_bytes": expanded}


def _reject_overlaps(infos: list[zipfile.ZipInfo]) -> None:
    """Duplicate names, or entries whose data overlaps another's (a bomb built from one
    compressed member referenced many times)."""
    names: set[str] = set()
    spans = []
    for info in infos:
        if info.filename in names:
            raise InputRejectedError(f"ZIP names {info.filename!r} twice: a possible zip bomb")
        names.add(info.filename)
        if not info.is_dir():
            spans.append((info.header_offset, info.header_offset + 30 + info.compress_size))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise InputRejectedError("ZIP entries overlap one another: a possible zip bomb")


def _zip_declared_entries(r: BoundedReader) -> int:
    """Entries the end-of-central-directory record declares (before building the whole list)."""
    tail = r.read_up_to(max(0, r.size - 65557), 65557)
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        return 0  # zipfile will say what is wrong
    return unpack("<H", tail, at + 10, "ZIP end of central directory", r.name)[0]


def _reject_zip_members(members: int, limits: Limits) -> None:
    if members > limits.max_zip_members:
        raise InputRejectedError(
            f"ZIP has {members:,} entries, over the limit of {limits.max_zip_members:,} "
            "(SOHOA_MAX_ZIP_MEMBERS)"
        )


def _check_zip_entry(info: zipfile.ZipInfo) -> None:
    """Reject entries that would land outside the extraction folder (zip slip) or are links."""
    name = info.filename
    if not name:
        raise InputRejectedError("ZIP has an entry without a name")
    parts = re.split(r"[/\\]", name)
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
        raise InputRejectedError(f"ZIP entry {name!r} escapes the folder")
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        raise InputRejectedError(f"ZIP entry {name!r} is a symbolic link")


_PROBES: dict[str, Callable[[BoundedReader, Limits, Path], dict]] = {
    "image/png": _probe_png,
    "image/jpeg": _probe_jpeg,
    "image/jp2": _probe_jp2,
    "image/tiff": _probe_tiff,
    "application/pdf": _probe_pdf,
    "model/ply": _probe_ply,
    "application/vnd.las": _probe_las,
    "application/vnd.laszip": _probe_las,
    "model/gltf-binary": _probe_glb,
    "model/obj": _probe_obj,
    "model/stl": _probe_stl,
    "text/x-xyz": _probe_xyz,
    "application/x-pcd": _probe_pcd,
    "model/e57": _probe_e57,
    ZIP: _probe_zip,
}
