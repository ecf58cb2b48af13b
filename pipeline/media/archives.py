"""Structural probes of ZIP archives."""

from __future__ import annotations

import itertools
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import InputRejectedError
from pipeline.media.bounded import BoundedReader, unpack

if TYPE_CHECKING:
    from pipeline.media.limits import Limits


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
