"""The owners of a certificate: names, ID numbers and birth years, row by row."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from pipeline.stages.certificate.fields import _SLIPS
from pipeline.stages.certificate.layout import Row, label_at_start, union

_OWNER_START = re.compile(
    r"^\W{0,3}(?:(ho)\s+)?(ong|ba|va\s+vo|va\s+chong|vo|chong)\s*[:;]\s*", re.IGNORECASE
)
_ID = re.compile(
    r"(cmnd|cccd|can\s*cuoc(?:\s*cong\s*dan)?|chung\s*minh\s*nhan\s*dan|ho\s*chieu"
    r"|so\s*dinh\s*danh(?:\s*ca\s*nhan)?)(?:\s*so)?\s*[:;.]?\s*([A-Za-z]?[0-9OoIl|]{6,14})"
)
_BIRTH = re.compile(r"nam\s*sinh\s*[:;.]?\s*([0-9OoIl|]{4})")


def owner_start(row: Row) -> re.Match[str] | None:
    """Whether `row` opens an owner ("Ông:", "Bà:", "Hộ ông:", "Và vợ:", "Và chồng:")."""
    return _OWNER_START.match(row.folded)


def owner_name(row: Row, start: re.Match[str]) -> str:
    """The name after the title, up to the first comma or the next label on the line."""
    rest = row.text[start.end() :]
    folded = row.folded[start.end() :]
    stop = re.search(r"[,;(]|\b(nam sinh|cmnd|cccd|ho chieu|can cuoc|sinh nam)\b", folded)
    name = rest[: stop.start()] if stop else rest
    return re.sub(r"[^\w\s'-]", "", name).strip()


def id_kind(label: str) -> str:
    if label.startswith("ho"):
        return "passport"
    return "CMND" if label.startswith(("cmnd", "chung")) else "CCCD"


def find_id(row: Row) -> tuple[str, str, int, int] | None:
    """(kind, number, start, end) of an ID number on `row`: CMND (9 or 12 digits), CCCD
    (12 digits) or a passport (a letter and 7 digits)."""
    m = _ID.search(row.folded)
    if not m:
        return None
    kind = id_kind(m.group(1))
    raw = row.text[m.start(2) : m.end(2)]
    number = raw[0].upper() + raw[1:].translate(_SLIPS) if kind == "passport" else raw
    if kind != "passport":
        number = number.translate(_SLIPS)
        if not number.isdigit():
            return None
    return kind, number, m.start(2), m.end(2)


def find_birth_year(row: Row, today: date | None = None) -> tuple[int, int, int] | None:
    m = _BIRTH.search(row.folded)
    if not m:
        return None
    digits = m.group(1).translate(_SLIPS)
    year = int(digits) if digits.isdigit() else 0
    if not 1900 <= year <= (today or date.today()).year:
        return None
    return year, m.start(1), m.end(1)


_OWNERS_HEADING = "nguoi su dung dat, chu so huu"
_PARCEL_HEADINGS = ("thua dat, nha o va tai san", "thong tin thua dat", "thua dat:")


def read_owners(rows: Sequence[Row], first_sections: dict[int, str]) -> list[dict[str, Any]]:
    """Owners from section I (2009–2024) or item 1 (2025): name, ID and birth year."""
    block = _owner_block(rows, first_sections)
    owners: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for row in block:
        start = owner_start(row)
        if start:
            current = _new_owner(row, owner_name(row, start))
            owners.append(current)
        if current is None:
            continue
        current["_confs"].append(row.span_conf(0, len(row.text)))
        if current["id_number"] is None and (ident := find_id(row)):
            current["id_kind"], current["id_number"] = ident[0], ident[1]
            current["box"] = list(union([tuple(current["box"]), row.box]))
        if current["birth_year"] is None and (birth := find_birth_year(row)):
            current["birth_year"] = birth[0]
            current["box"] = list(union([tuple(current["box"]), row.box]))
    for owner in owners:
        confs = owner.pop("_confs")
        owner["confidence"] = round(sum(confs) / len(confs), 3)
    return [o for o in owners if o["name"]]


def _new_owner(row: Row, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "id_number": None,
        "birth_year": None,
        "id_kind": None,
        "page": row.page,
        "box": list(row.box),
        "_confs": [],
    }


def _owner_block(rows: Sequence[Row], first_sections: dict[int, str]) -> list[Row]:
    start = next((i for i, r in enumerate(rows) if label_at_start(r, _OWNERS_HEADING)), None)
    if start is None:
        pages = {p for p, s in first_sections.items() if s == "I"}
        candidates = [i for i, r in enumerate(rows) if r.page in pages]
        if not candidates:
            return []
        start = candidates[0] - 1
    block = []
    for row in rows[start + 1 :]:
        if row.page != rows[max(start, 0)].page:
            break
        if any(label_at_start(row, h) for h in _PARCEL_HEADINGS):
            break
        block.append(row)
    return block
