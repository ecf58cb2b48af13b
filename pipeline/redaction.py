"""What the public may see: attributes by allow-list, masked text, blacked-out images.

Every public response goes through here. Attributes use the search documents' allow-list
(`models.disclosure.split_attributes`), so the portal and the public index agree; text masks
ID-number-like digit runs (CMND 9 digits, CCCD 12 digits, also written in groups) and the names
the caller gives (a parcel's owners); images are re-encoded with boxes painted black, so no
hidden layer or metadata of the original survives.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from PIL import Image, ImageDraw

from models.disclosure import split_attributes
from models.record import RESTRICTED_ATTRIBUTES, Record
from pipeline.stages.pages.pagetext import PageText, Word

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

CERTIFICATE_RESTRICTED_FIELDS = ("serial", "registry_number", "qr")
"""Certificate fields whose boxes are blacked out (with the owners and the changes; see
`pipeline.stages.certificate.sections.RESTRICTED_FIELDS`); "qr" is the QR code's box, whose
content can name the owners."""


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """`text` with ID numbers and each of `names` (case- and diacritic-insensitive, NFC)
    replaced by blocks of the same length."""
    text = unicodedata.normalize("NFC", text)
    spans = sensitive_spans(text, names)
    if not spans:
        return text
    out, at = [], 0
    for start, end in spans:
        if end <= at:
            continue
        start = max(start, at)
        out += [text[at:start], _blocks(text[start:end])]
        at = end
    out.append(text[at:])
    return "".join(out)


def sensitive_spans(text: str, names: Iterable[str] = ()) -> list[tuple[int, int]]:
    """(start, end) of every ID number and every name in `text` (NFC), sorted.

    Names are matched on a folded copy of the same length (lower case, no diacritics, đ → d),
    so "TRAN THI BICH NGOC" as OCR may read it is found for "Trần Thị Bích Ngọc".
    """
    spans = [m.span() for m in ID_NUMBER.finditer(text)]
    wanted = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    if not wanted:
        return sorted(spans)
    folded = _fold_same_length(text)
    for name in wanted:
        spans += [m.span() for m in _name_pattern(name).finditer(folded)]
    return sorted(spans)


def _blocks(found: str) -> str:
    return "".join(c if c.isspace() else MASK for c in found)


@functools.lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    base = "".join(
        d for d in unicodedata.normalize("NFD", c.lower()) if not unicodedata.combining(d)
    )
    base = base.replace("đ", "d")
    return base if len(base) == 1 else c


def _fold_same_length(text: str) -> str:
    """Lower case without diacritics, one character for one, so positions carry over."""
    return "".join(_fold_char(c) for c in text)


def _name_pattern(name: str) -> re.Pattern[str]:
    """The name's folded words in order, separated by any whitespace."""
    words = _fold_same_length(unicodedata.normalize("NFC", name)).split()
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)")


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


def certificate_restrictions(
    result: dict[str, Any] | None,
) -> tuple[list[str], dict[int, list[Box]]]:
    """What a certificate's extracted fields say must not be shown publicly: the owners' names
    and ID numbers (to find in any text), and by 0-based page the boxes of the owners, of the
    changes entries (transfers, mortgages) and of the serial and registry number."""
    names: list[str] = []
    areas: dict[int, list[Box]] = {}
    if not result:
        return names, areas
    for owner in result.get("owners") or []:
        names += [str(v) for v in (owner.get("name"), owner.get("id_number")) if v]
        _add_area(areas, owner)
    for change in result.get("changes") or []:
        _add_area(areas, change)
    provenance = result.get("provenance") or {}
    for name in CERTIFICATE_RESTRICTED_FIELDS:
        _add_area(areas, provenance.get(name))
    return names, areas


def _add_area(areas: dict[int, list[Box]], item: dict[str, Any] | None) -> None:
    if item and item.get("box") and item.get("page") is not None:
        left, top, right, bottom = (int(v) for v in item["box"])
        areas.setdefault(int(item["page"]), []).append((left, top, right, bottom))


def page_redactions(page: PageText, names: Iterable[str], areas: Sequence[Box] = ()) -> list[Box]:
    """The boxes to black out on a page image: `areas`, and every word that is part of an ID
    number or of one of `names` (the same matches `mask_text` masks, word by word)."""
    names = list(names)
    boxes = [tuple(a) for a in areas]
    for line in page.lines():
        text, starts = _joined(line)
        for start, end in sensitive_spans(text, names):
            boxes += [
                w.box
                for w, at in zip(line, starts, strict=True)
                if at < end and at + len(_nfc(w.text)) > start
            ]
    return list(dict.fromkeys(tuple(int(v) for v in b) for b in boxes))


def public_page_text(page: PageText, names: Iterable[str], areas: Sequence[Box] = ()) -> str:
    """The page's text as the public may read it: `mask_text`, and when there are restricted
    areas, the text rebuilt from its words with every word inside an area masked."""
    if not areas:
        return mask_text(page.text, names)
    lines = [
        " ".join(_blocks(w.text) if _inside(w, areas) else w.text for w in line)
        for line in page.lines()
    ]
    return mask_text("\n".join(lines), names)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _joined(line: Sequence[Word]) -> tuple[str, list[int]]:
    """The line's words joined by spaces, and where each word starts."""
    starts, at = [], 0
    for w in line:
        starts.append(at)
        at += len(_nfc(w.text)) + 1
    return " ".join(_nfc(w.text) for w in line), starts


def _inside(word: Word, areas: Sequence[Box]) -> bool:
    x = (word.box[0] + word.box[2]) / 2
    y = (word.box[1] + word.box[3]) / 2
    return any(a[0] <= x <= a[2] and a[1] <= y <= a[3] for a in areas)
