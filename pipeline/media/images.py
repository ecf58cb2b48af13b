"""Structural probes of raster images: PNG, JPEG, JPEG 2000, TIFF."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pipeline.errors import InputRejectedError
from pipeline.media.bounded import BoundedReader, first, unpack
from pipeline.media.limits import _last_bytes_before_padding, _reject_pixels

if TYPE_CHECKING:
    from pipeline.media.limits import Limits


def configure_pillow(limits: Limits) -> None:
    """Align Pillow's process-wide decompression-bomb guard with our pixel limit."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = limits.max_pixels


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
    """A TIFF is accepted when page 1 is sound. A later page cut short (its data or its
    directory beyond the end of the file) is listed in "bad_pages" with the reason, and fails
    alone when its page is read; a directory cut short ends the chain, so it is the last page.
    A directory that loops back or breaks a limit still rejects the file whole."""
    page_1: TiffPage | None = None
    pages, bad = 0, []
    chain = tiff_pages(r, r.size, limits.max_pages)
    while True:
        try:
            page = next(chain, None)
        except InputRejectedError as e:
            if page_1 is None or not str(e).startswith("truncated"):
                raise  # page 1 unreadable, a loop, a limit: the file is rejected
            pages += 1
            bad.append({"page": pages, "reason": str(e)})
            break  # the chain of directories is broken: no page follows this one
        if page is None:
            break
        _reject_pixels(f"TIFF page {page.number}", page.width, page.height, limits)
        pages = page.number
        if max(o + c for o, c in zip(page.offsets, page.byte_counts, strict=True)) > r.size:
            reason = f"truncated TIFF: page {page.number}'s data lies beyond the end of the file"
            if page_1 is None:
                raise InputRejectedError(reason)
            bad.append({"page": page.number, "reason": reason})
        page_1 = page_1 or page
    if page_1 is None:
        raise InputRejectedError("corrupt TIFF: it has no pages")
    with open_image(r.f, "TIFF"):
        pass  # Pillow must understand page 1's directory (compression, photometric, …).
    facts = {"pages": pages, "width": page_1.width, "height": page_1.height}
    return {**facts, "bad_pages": bad} if bad else facts
