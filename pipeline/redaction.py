"""What the public may see: attributes by allow-list, masked text, blacked-out images.

Every public response goes through here. Attributes use the search documents' allow-list
(`search.documents.split_attributes`), so the portal and the public index agree; text masks
ID-number-like digit runs (CMND 9 digits, CCCD 12 digits, also written in groups) and the names
the caller gives (a parcel's owners); images are re-encoded with boxes painted black, so no
hidden layer or metadata of the original survives.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from PIL import Image, ImageDraw

from models.record import RESTRICTED_ATTRIBUTES, Record
from search.documents import split_attributes

MASK = "█"
_SEP = r"[ .\-]?"
ID_NUMBER = re.compile(
    r"(?<![0-9])(?:"
    + _SEP.join([r"[0-9]{3}"] * 4)  # CCCD 12 digits, 3-3-3-3
    + r"|[0-9]{4}"
    + _SEP
    + r"[0-9]{4}"
    + _SEP
    + r"[0-9]{4}"  # 12 digits, 4-4-4
    + r"|"
    + _SEP.join([r"[0-9]{3}"] * 3)  # CMND 9 digits, 3-3-3
    + r")(?![0-9])"
)
"""9 or 12 digits, contiguous or in groups of 3/4 separated by a space, dot or dash."""

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in image pixels."""


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """`text` with ID numbers and each of `names` (case- and diacritic-insensitive, NFC)
    replaced by blocks of the same length."""
    text = unicodedata.normalize("NFC", text)
    text = ID_NUMBER.sub(lambda m: _blocks(m.group(0)), text)
    for name in sorted({n for n in names if n and n.strip()}, key=len, reverse=True):
        text = _name_pattern(name).sub(lambda m: _blocks(m.group(0)), text)
    return text


def _blocks(found: str) -> str:
    return "".join(c if c.isspace() else MASK for c in found)


def _name_pattern(name: str) -> re.Pattern[str]:
    """The name's words in order, separated by any whitespace, matched ignoring case."""
    words = unicodedata.normalize("NFC", name).split()
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)


def owner_names(attributes: dict[str, Any]) -> list[str]:
    """Every person's name a record holds, to mask wherever its text is shown publicly."""
    names: list[str] = []
    for key in ("owner", "owners"):
        value = attributes.get(key)
        if isinstance(value, str):
            names.extend(p.strip() for p in re.split(r"[;\n]| và ", value) if p.strip())
        elif isinstance(value, list):
            for v in value:
                names.append(v.get("name", "") if isinstance(v, dict) else str(v))
    return [n for n in names if n]


def public_attributes(record: Record) -> dict[str, Any]:
    """The attributes anyone may see (the kind's allow-list, never personal data)."""
    public, _ = split_attributes(record.kind, record.attributes)
    return {k: v for k, v in public.items() if k not in RESTRICTED_ATTRIBUTES}


def restricted_names(record: Record) -> list[str]:
    """Which of the record's attributes are not public (what an audit entry names)."""
    _, restricted = split_attributes(record.kind, record.attributes)
    return sorted(restricted)


def is_public(record: Record) -> bool:
    return bool(record.published)


def redact_image(data: bytes, boxes: Sequence[Box], fmt: str = "JPEG") -> bytes:
    """A public derivative: the image re-encoded with `boxes` filled black, metadata dropped."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        out = im.convert("RGB")
    draw = ImageDraw.Draw(out)
    for left, top, right, bottom in boxes:
        draw.rectangle([left, top, right - 1, bottom - 1], fill=(0, 0, 0))
    buf = io.BytesIO()
    out.save(buf, format=fmt, quality=88)
    return buf.getvalue()
