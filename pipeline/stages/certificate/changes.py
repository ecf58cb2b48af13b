"""The changes section of a certificate: its table's entries (date, content and legal basis)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pipeline.stages.certificate.fields import find_date
from pipeline.stages.certificate.layout import Row, find, label_at_start, union

_CHANGES_HEADER = "noi dung thay doi va co so phap ly"
_CHANGES_HEADING = "nhung thay doi sau khi cap"
_CHANGES_END = re.compile(r"nguoi duoc cap giay|so vao so cap|^\W*\d\.\s|^\W*[ivx]+\.\s")


def _changes(rows: Sequence[Row]) -> tuple[list[dict[str, Any]], set[int]]:
    """Entries of the changes table (section IV / item 6), and the indices of its rows."""
    entries: list[dict[str, Any]] = []
    used: set[int] = set()
    i = 0
    while i < len(rows):
        header = rows[i]
        if not find(header.folded, _CHANGES_HEADER) and not label_at_start(
            header, _CHANGES_HEADING
        ):
            i += 1
            continue
        if i + 1 < len(rows) and find(rows[i + 1].folded, _CHANGES_HEADER):
            used.add(i)
            i += 1
            header = rows[i]
        split = _column_split(header, rows[i + 1 : i + 40])
        used.add(i)
        body: list[Row] = []
        i += 1
        while i < len(rows) and rows[i].page == header.page:
            if _CHANGES_END.search(rows[i].folded):
                break
            if not body and find(rows[i].folded, "co tham quyen"):
                used.add(i)
                i += 1
                continue
            body.append(rows[i])
            used.add(i)
            i += 1
        entries += _entries(body, split)
    return entries, used


def _column_split(header: Row, below: Sequence[Row]) -> float:
    """Left edge of the "Xác nhận của cơ quan có thẩm quyền" column: from the table header,
    or, when OCR lost it, from the confirmation dates ("Ngày 03/01/2022") on the right."""
    for word, start in zip(header.words, header.starts, strict=True):
        if header.folded[start:].startswith("xac"):
            return word.box[0] - 30
    middle = header.box[0] + (max((r.box[2] for r in below), default=0) - header.box[0]) / 2
    dated = [
        w.box[0]
        for r in below
        if r.page == header.page
        for w, start in zip(r.words, r.starts, strict=True)
        if w.box[0] > middle and re.match(r"ngay\W*\d", r.folded[start:])
    ]
    return min(dated) - 30 if dated else float("inf")


def _entries(rows: Sequence[Row], split: float) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    height = max((r.height for r in rows), default=0)
    prev_bottom = None
    for row in rows:
        left = [w for w in row.words if w.box[0] < split]
        right = [w for w in row.words if w.box[0] >= split]
        if left:
            top = min(w.box[1] for w in left)
            if not groups or prev_bottom is None or top - prev_bottom > 0.9 * height:
                groups.append({"left": [], "right": [], "page": row.page})
            groups[-1]["left"].append(left)
            prev_bottom = max(w.box[3] for w in left)
        if right and groups:
            groups[-1]["right"].append(right)
        elif right:
            groups.append({"left": [], "right": [right], "page": row.page})
    return [e for g in groups if (e := _entry(g))]


def _entry(group: dict[str, Any]) -> dict[str, Any] | None:
    text = " ".join(" ".join(w.text for w in ws) for ws in group["left"]).strip()
    if not text:
        return None
    confirm = " ".join(" ".join(w.text for w in ws) for ws in group["right"])
    dated = find_date(confirm) or find_date(text)
    words = [w for ws in group["left"] + group["right"] for w in ws]
    conf = sum(min(max(w.conf, 0), 100) for w in words) / (100 * len(words))
    return {
        "date": dated[0] if dated else None,
        "text": text,
        "page": group["page"],
        "box": list(union(w.box for w in words)),
        "confidence": round(conf, 3),
    }
