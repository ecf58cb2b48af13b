"""Limits at ingest and the helpers probes share to enforce them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from pipeline.errors import InputRejectedError
from pipeline.media.bounded import BoundedReader

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
