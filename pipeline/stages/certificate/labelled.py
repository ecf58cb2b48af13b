"""The labelled fields of a certificate: parcel, sheet, area, purpose, term, use form, origin,
address, registry number (a label, then its value on the row or the rows it wraps onto).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pipeline.stages.certificate.fields import (
    Found,
    normalise_parcel,
    normalise_registry,
    parse_area,
    parse_purpose,
    parse_term,
    parse_use_form,
)
from pipeline.stages.certificate.layout import (
    Hit,
    Row,
    find,
    fold_keep_length,
    label_at_start,
    union,
    value_after,
)

_NOT_PARCEL_ADDRESS = re.compile(r"^\W*(thuong tru|dang ky|lien he|tam tru|noi o)")
_NOT_PARCEL_AREA = re.compile(r"^\W*(san|xay dung|su dung chung|su dung rieng|nha|dat o)")
_CONTINUATION_STOP = re.compile(r"^\W{0,2}(?:[a-z]{1,2}\W?\)|\d{1,2}[.)]|[ivx]{1,4}\.)")


_SPANS = (
    ("area_m2", "dien tich", _NOT_PARCEL_AREA),
    ("use_form", "hinh thuc su dung", None),
    ("term", "thoi han su dung", None),
    ("registry_number", "so vao so cap", None),
)
_WRAPPED = (("address", "dia chi", _NOT_PARCEL_ADDRESS), ("origin", "nguon goc su dung", None))


def _labelled(rows: Sequence[Row]) -> dict[str, Found]:
    """The labelled values: for each label, the first row that starts with it."""
    found: dict[str, Found] = {}
    parsers = {
        "area_m2": _area,
        "use_form": parse_use_form,
        "term": parse_term,
        "registry_number": _registry,
        "address": lambda v: (v, 1.0),
        "origin": lambda v: (v.rstrip(" ./"), 1.0),
    }
    for i, row in enumerate(rows):
        if "parcel_number" not in found and (hit := label_at_start(row, "thua dat so")):
            found.update(_parcel(row, hit))
        if "purpose" not in found and (
            hit := label_at_start(row, "muc dich su dung") or label_at_start(row, "loai dat")
        ):
            found.update(_purpose(row, hit))
        for name, label, unless in _SPANS:
            if name not in found and (hit := _label(row, label, unless)):
                _put_span(found, name, row, hit, parsers[name])
                if name == "area_m2" and name in found and (whole := _continued(rows, i, hit)):
                    # the area in words ("bằng chữ: …") wraps: its raw reading holds all of it
                    found[name] = replace(found[name], raw=whole.value)
        for name, label, unless in _WRAPPED:
            if name not in found and (hit := _label(row, label, unless)):
                _put(found, name, _continued(rows, i, hit), parsers[name])
    return found


def _label(row: Row, label: str, unless: re.Pattern[str] | None) -> Hit | None:
    """`label` at the start of `row`, unless what follows it says it is another field
    ("Địa chỉ thường trú" is the owner's address, "Diện tích sàn" a flat's floor area)."""
    hit = label_at_start(row, label)
    if hit and unless and unless.match(row.folded[hit.end :].lstrip(" :")):
        return None
    return hit


def _put_span(found: dict[str, Found], name: str, row: Row, hit: Hit, parse) -> None:
    start, end = value_after(row, hit)
    raw = row.text[start:end]
    parsed = parse(raw) if start < end else None
    if parsed is None:
        if raw.strip(" .…-/"):  # kept unread, so a person sees what was there
            conf = row.span_conf(start, end) * hit.quality
            found[name] = Found(None, conf, row.page, row.span_box(start, end), raw)
        return
    value, sure = parsed
    conf = row.span_conf(start, end) * hit.quality * sure
    found[name] = Found(value, conf, row.page, row.span_box(start, end), raw)


def _put(found: dict[str, Found], name: str, piece: Found | None, parse) -> None:
    if piece is None or not piece.value:
        return
    parsed = parse(piece.value)
    if parsed and parsed[0]:
        conf = piece.confidence * parsed[1]
        found[name] = Found(parsed[0], conf, piece.page, piece.box, piece.value)


def _area(text: str) -> tuple[float, float] | None:
    parsed = parse_area(text)
    return None if parsed is None else (parsed[0], 1.0 if parsed[1] else 0.8)


def _registry(text: str) -> tuple[str, float] | None:
    value = normalise_registry(_fold_prefix(text))
    return None if value is None else (value, 1.0 if re.fullmatch(r"[A-Z]+ \d+", value) else 0.7)


def _fold_prefix(text: str) -> str:
    """`text` with a leading "GCN:" / "Giấy chứng nhận:" removed (matched without accents)."""
    m = re.match(r"^\W*(gcn|giay\s*chung\s*nhan|giay\s*cn)\W*", fold_keep_length(text))
    return text[m.end() :] if m else text


def _parcel(row: Row, hit: Hit) -> dict[str, Found]:
    """ "Thửa đất số: 12, tờ bản đồ số: 5" (or "…số 12; tờ bản đồ số 5") on one row."""
    start, end = value_after(row, hit)
    sheet_hit = find(row.folded[start:], "to ban do so")
    parcel_end = start + sheet_hit.start if sheet_hit else end
    out: dict[str, Found] = {}
    parcel = normalise_parcel(row.text[start:parcel_end])
    if parcel:
        conf = row.span_conf(start, parcel_end) * hit.quality
        box = row.span_box(start, parcel_end)
        out["parcel_number"] = Found(parcel, conf, row.page, box, row.text[start:parcel_end])
    if sheet_hit:
        s_start, s_end = value_after(row, Hit(start + sheet_hit.start, start + sheet_hit.end, 1))
        area = _INLINE_AREA.search(row.folded, s_start)
        s_end = area.start() if area else s_end
        sheet = normalise_parcel(row.text[s_start:s_end])
        if sheet:
            conf = row.span_conf(s_start, s_end) * sheet_hit.quality
            box = row.span_box(s_start, s_end)
            out["map_sheet"] = Found(sheet, conf, row.page, box, row.text[s_start:s_end])
        if area:  # "…; tờ bản đồ số: 01; Diện tích: 10.012 m2" on one row (the 2025 mock-up)
            _put_span(out, "area_m2", row, Hit(area.start(), area.end(), 1.0), _area)
    return out


_INLINE_AREA = re.compile(r"\bdien\s*tich\b")


def _purpose(row: Row, hit: Hit) -> dict[str, Found]:
    start, end = value_after(row, hit)
    if start >= end:
        return {}
    text, code, sure = parse_purpose(row.text[start:end])
    if not text or text == "-/-":
        return {}
    conf = row.span_conf(start, end) * hit.quality
    box = row.span_box(start, end)
    raw = row.text[start:end]
    out = {"purpose": Found(text, conf * sure, row.page, box, raw)}
    if code:
        out["purpose_code"] = Found(code, conf * sure, row.page, box, raw)
    elif re.search(r"\(\s*\w{2,4}\s*\)", raw):  # a printed code off the list: kept unread
        out["purpose_code"] = Found(None, conf, row.page, box, raw)
    return out


def _continued(rows: Sequence[Row], i: int, hit: Hit) -> Found | None:
    """A label's value with the wrapped lines that continue it (indented, no label)."""
    row = rows[i]
    start, end = value_after(row, hit)
    parts, confs = [row.text[start:end]], [row.span_conf(start, end)]
    boxes = [row.span_box(start, end)] if start < end else []
    prev = row
    for nxt in rows[i + 1 : i + 3]:
        gap = nxt.box[1] - prev.box[3]
        if nxt.page != row.page or gap > 1.2 * row.height or nxt.box[0] < row.box[0] + 8:
            break
        if _CONTINUATION_STOP.match(nxt.folded) or ":" in nxt.text[:40]:
            break
        parts.append(nxt.text)
        confs.append(nxt.span_conf(0, len(nxt.text)))
        boxes.append(nxt.box)
        prev = nxt
    text = re.sub(r"\s+", " ", " ".join(parts)).replace(" ,", ",").strip(" .;")
    if not text or text == "-/-":
        return None
    return Found(text, hit.quality * sum(confs) / len(confs), row.page, union(boxes))
