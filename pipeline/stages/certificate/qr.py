"""The QR code of a 2024+ certificate (Circular 10/2024 Art. 14: 2 × 2 cm, top right of page 1,
and one after each entry of the changes column), read with zxing-cpp, and what it says.

    read_qr_codes(image, page) -> [QrCode]        every QR code on a page image
    parse_qr(text) -> {field: value}               the certificate fields its content names

The content's format is not published; what is recognised here is JSON, a URL's query, and
"label: value" pairs separated by ";", "|" or new lines (labels matched without accents), plus
a 2025-form serial anywhere in the text. Anything else is kept as raw text only. The content can
carry owners' names and ID numbers, so it is restricted (`sections.RESTRICTED_FIELDS`).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from PIL import Image

from pipeline.stages.certificate.fields import (
    find_date,
    find_serial,
    normalise_parcel,
    normalise_registry,
    parse_area,
)
from pipeline.stages.certificate.layout import fold_keep_length
from pipeline.stages.pages.pagetext import Box

log = logging.getLogger(__name__)

MAX_SIDE = 4000
"""Larger page images are scaled down before decoding (a 2 cm code stays ≥ 200 px)."""


@dataclass(frozen=True)
class QrCode:
    text: str
    page: int
    box: Box

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "page": self.page, "box": list(self.box)}


def read_qr_codes(image: Image.Image, page: int) -> list[QrCode]:
    """Every QR code zxing-cpp decodes on `image` (boxes in its pixels), top to bottom."""
    import zxingcpp

    scale = min(1.0, MAX_SIDE / max(image.size))
    im = image.convert("L")
    if scale < 1.0:
        im = im.resize((round(im.width * scale), round(im.height * scale)))
    formats = [zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode]
    try:
        found = zxingcpp.read_barcodes(im, formats=formats)
    except (RuntimeError, ValueError) as e:  # a decoder error is no reason to lose the fields
        log.warning("QR decoding of page %d failed: %s", page, type(e).__name__)
        return []
    codes = []
    for code in found:
        if not code.valid or not code.text:
            continue
        p = code.position
        xs = [pt.x / scale for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
        ys = [pt.y / scale for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
        box = (int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1)
        codes.append(QrCode(code.text, page, box))
    return sorted(codes, key=lambda c: (c.page, c.box[1], c.box[0]))


_LABELS: tuple[tuple[str, str], ...] = (
    ("so phat hanh", "serial"),
    ("so seri", "serial"),
    ("seri", "serial"),
    ("serial", "serial"),
    ("thua dat so", "parcel_number"),
    ("so thu tu thua", "parcel_number"),
    ("sothututhua", "parcel_number"),
    ("so thua", "parcel_number"),
    ("thua", "parcel_number"),
    ("parcel", "parcel_number"),
    ("to ban do so", "map_sheet"),
    ("so hieu to ban do", "map_sheet"),
    ("sohieutobando", "map_sheet"),
    ("to ban do", "map_sheet"),
    ("so to", "map_sheet"),
    ("sheet", "map_sheet"),
    ("dien tich", "area_m2"),
    ("dientich", "area_m2"),
    ("area", "area_m2"),
    ("ngay cap", "issue_date"),
    ("so vao so", "registry_number"),
    ("ma gcn", "serial"),
)


def parse_qr(text: str) -> dict[str, Any]:
    """The certificate fields `text` names, normalised as the OCR'd fields are; {} when its
    format is not recognised."""
    pairs = _pairs(text)
    out: dict[str, Any] = {}
    for label, value in pairs:
        name = _field_of(label)
        if name and name not in out and (parsed := _value(name, value)) is not None:
            out[name] = parsed
    if "serial" not in out:
        found = re.search(r"(?<![A-Z0-9])[A-Z]{2}\s?\d{8}(?!\d)", text)
        if found and (serial := find_serial(found.group(), alone=True)):
            out["serial"] = serial[0]
    return out


def _pairs(text: str) -> list[tuple[str, str]]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return [(str(k), str(v)) for k, v in data.items() if not isinstance(v, (dict, list))]
    if re.match(r"^https?://", stripped):
        return parse_qsl(urlsplit(stripped).query)
    pairs = []
    for part in re.split(r"[;|\n\r]+", text):
        label, sep, value = part.partition(":")
        if not sep:
            label, sep, value = part.partition("=")
        if sep and value.strip():
            pairs.append((label, value.strip()))
    return pairs


def _field_of(label: str) -> str | None:
    folded = re.sub(r"[_\-.]+", " ", fold_keep_length(label)).strip()
    for clue, name in _LABELS:
        if folded == clue or folded.endswith(" " + clue) or folded.startswith(clue + " "):
            return name
    return None


def _value(name: str, value: str) -> Any:
    if name == "serial":
        found = find_serial(value.upper(), alone=True)
        return found[0] if found else None
    if name in ("parcel_number", "map_sheet"):
        return normalise_parcel(value)
    if name == "area_m2":
        parsed = parse_area(value)
        return parsed[0] if parsed else None
    if name == "issue_date":
        found = find_date(value)
        return found[0] if found else None
    if name == "registry_number":
        return normalise_registry(value)
    return None
