"""The VN-2000 corner table of a certificate: corner rows, the first table, the shoelace area."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.stages.certificate.fields import Found, fix_digits
from pipeline.stages.certificate.layout import Row, union

_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:[ .]\d{3})+|\d+)(?:[.,](\d{1,3}))?(?!\d)")
NORTHING = (900_000.0, 2_700_000.0)
"""X (northing) range of VN-2000 TM-3 coordinates across Vietnam."""
EASTING = (100_000.0, 900_000.0)
"""Y (easting) range (false easting 500 000 m, a 3° zone)."""


@dataclass(frozen=True)
class CornerRow:
    point: int | None
    northing: float
    easting: float
    start: int
    end: int


def parse_corner_row(row: Row) -> CornerRow | None:
    """One row of "BẢNG KÊ TỌA ĐỘ": point, X (northing), Y (easting) and perhaps an edge
    length. X comes before Y, as the table prints them. Values OCR garbled in the usual ways
    are repaired when that brings them into range (see `_in_range`)."""
    text = fix_digits(row.text.replace("|", " "))
    numbers = []
    for m in _NUMBER.finditer(text):
        whole = m.group(1).replace(" ", "").replace(".", "")
        numbers.append((whole, m.group(2), m.start(), m.end()))
    for i in range(len(numbers) - 1):
        x = _in_range(*numbers[i][:2], NORTHING)
        y = _in_range(*numbers[i + 1][:2], EASTING)
        if x is None or y is None:
            continue
        point = None
        before = numbers[i - 1] if i > 0 else None
        if before and before[1] is None and len(before[0]) <= 3:
            point = int(before[0])
        return CornerRow(point, x, y, numbers[i][2], numbers[i + 1][3])
    return None


def _in_range(whole: str, decimals: str | None, bounds: tuple[float, float]) -> float | None:
    """The value, or a repaired reading of it, that falls within `bounds`: as read; with a
    lost decimal comma put back ("233566073" → 2335660.73); without a leading rule digit."""
    readings = [(whole, decimals)]
    if decimals is None:
        readings += [(whole[:-k], whole[-k:]) for k in (2, 3, 1) if len(whole) > k]
    readings.append((whole[1:], decimals))
    for digits, tail in readings:
        if digits:
            value = float(digits + ("." + tail if tail else ""))
            if bounds[0] <= value < bounds[1]:
                return value
    return None


def shoelace(points: list[tuple[float, float]]) -> float:
    """Area of a simple polygon (m² for metres)."""
    if len(points) < 3:
        return 0.0
    pairs = zip(points, [*points[1:], points[0]], strict=True)
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in pairs)) / 2


def read_corners(rows: Sequence[Row]) -> tuple[list[tuple[float, float]], Found | None]:
    """The first corner table: consecutive rows of one page that hold an X and a Y."""
    points: list[tuple[float, float]] = []
    used: list[tuple[Row, int, int]] = []
    for row in rows:
        parsed = parse_corner_row(row)
        if parsed is None:
            if used and row.page == used[-1][0].page and row.box[1] > used[-1][0].box[3] + 200:
                break
            continue
        if used and row.page != used[-1][0].page:
            break
        point = (parsed.easting, parsed.northing)
        if points and point == points[0]:
            continue  # the closing row repeats the first corner
        points.append(point)
        used.append((row, parsed.start, parsed.end))
    if len(points) < 3:
        return [], None
    conf = sum(r.span_conf(s, e) for r, s, e in used) / len(used)
    box = union(r.span_box(s, e) for r, s, e in used)
    return points, Found(None, conf, used[0][0].page, box)
