"""Land-use-right certificates (GCN): which section each page holds, and the certificate's
fields, owners, corner polygon and changes, from the pages' OCR text (DOMAIN.md §1).

    classify_page(page) -> "I" | "II" | "III" | "IV" | "other"
    extract_certificate(pages) -> CertificateFields     (.to_json(), .public_json())

Both generations are read: the 4-page 2009–2024 form (sections I–IV) and the 2-page 2025 QR
form (items 1–6; its page 1 classifies as "I", page 2 as "III"). Nothing is guessed: a field
whose label is not found, or whose value does not parse, is None; pages that are not a
certificate give kind "other" and no fields at all.

Every value carries its provenance: the page, the pixel box of the words it was read from,
and a confidence in 0..1 (the words' OCR confidence, lowered when the label was matched only
approximately or the value needed repair). Owners, ID numbers, birth years, the changes
section, the serial and the registry number are restricted personal data (DOMAIN.md §6):
`RESTRICTED_FIELDS` names them and `public_json()` leaves them out.

Corners are [easting, northing] in metres (VN-2000; EPSG:5897 for Hà Nội, axis order x=E,
y=N as GeoJSON wants): the printed table's Y then X, since Vietnamese tables print X = north.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.stages.certificate.corners import read_corners, shoelace
from pipeline.stages.certificate.fields import (
    Found,
    find_date,
    find_serial,
    normalise_parcel,
    normalise_registry,
    parse_area,
    parse_purpose,
    parse_term,
    parse_use_form,
)
from pipeline.stages.certificate.layout import (
    OTHER,
    Hit,
    Row,
    classify_rows,
    detect_form,
    find,
    fold_keep_length,
    label_at_start,
    page_rows,
    union,
    value_after,
)
from pipeline.stages.certificate.owners import read_owners
from pipeline.stages.pages.pagetext import PageText

FIELDS = (
    "parcel_number", "map_sheet", "area_m2", "purpose", "purpose_code", "term", "use_form",
    "origin", "address", "issue_date", "issuer", "serial", "registry_number",
)  # fmt: skip
RESTRICTED_FIELDS = frozenset({"owners", "changes", "serial", "registry_number"})
"""Parts of `to_json()` that are personal data: keys of the top level or of "fields"."""
AREA_TOLERANCE = 0.01
"""The corner polygon agrees with the stated area within 1 % (or 0.5 m² for tiny parcels):
areas are printed to 0.1 m² and corners to the centimetre."""


@dataclass
class CertificateFields:
    kind: str
    sections: list[str]
    form: str | None = None
    fields: dict[str, Found] = field(default_factory=dict)
    corners: list[tuple[float, float]] = field(default_factory=list)
    """[(easting, northing)] in metres, in the table's order."""
    corners_found: Found | None = None
    owners: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def area_check(self) -> dict[str, Any] | None:
        stated = self.fields.get("area_m2")
        if not self.corners:
            return None
        polygon = round(shoelace(self.corners), 2)
        ok = None
        if stated is not None:
            ok = abs(polygon - stated.value) <= max(AREA_TOLERANCE * stated.value, 0.5)
        return {"stated_m2": stated.value if stated else None, "polygon_m2": polygon, "ok": ok}

    def to_json(self) -> dict[str, Any]:
        if self.kind != "land_certificate":
            return {
                "kind": self.kind, "form": None, "pages": self.sections, "fields": {},
                "provenance": {}, "corners": [], "area_check": None, "owners": [], "changes": [],
            }  # fmt: skip
        provenance = {k: f.provenance() for k, f in self.fields.items()}
        if self.corners_found:
            provenance["corners"] = self.corners_found.provenance()
        return {
            "kind": self.kind,
            "form": self.form,
            "pages": self.sections,
            "fields": {k: self.fields[k].value if k in self.fields else None for k in FIELDS},
            "provenance": provenance,
            "corners": [[e, n] for e, n in self.corners],
            "area_check": self.area_check(),
            "owners": self.owners,
            "changes": self.changes,
        }

    def public_json(self) -> dict[str, Any]:
        """`to_json()` without the restricted parts (for public search and pages)."""
        out = self.to_json()
        for key in RESTRICTED_FIELDS:
            out.pop(key, None)
            out["fields"].pop(key, None)
            out["provenance"].pop(key, None)
        return out


def classify_page(page: PageText) -> str:
    """ "I", "II", "III", "IV" (the certificate section the page holds) or "other"."""
    return classify_rows(page_rows(page))


def extract_certificate(pages: Sequence[PageText]) -> CertificateFields:
    """The certificate read from its pages' text (any order; non-certificate pages ignored)."""
    per_page = [page_rows(p) for p in pages]
    sections = [classify_rows(rows) for rows in per_page]
    kept = [(s, rows) for s, rows in zip(sections, per_page, strict=True) if s != OTHER]
    if not kept:
        return CertificateFields(kind="other", sections=sections)
    rows = [r for _, page in kept for r in page]
    first_sections = {page[0].page: s for s, page in kept if page}
    changes, in_changes = _changes(rows)
    body = [r for i, r in enumerate(rows) if i not in in_changes]
    found = _labelled(body)
    found.update(_signing(body))
    serial = _serial(body)
    if serial:
        found["serial"] = serial
    corners, corners_found = read_corners(body)
    result = CertificateFields(
        kind="land_certificate",
        sections=sections,
        form=detect_form(rows, serial.value if serial else None),
        fields=found,
        corners=corners,
        corners_found=corners_found,
        owners=read_owners(body, first_sections),
        changes=changes,
    )
    check = result.area_check()
    if corners_found and check and check["ok"] is False:
        result.corners_found = replace(corners_found, confidence=corners_found.confidence * 0.6)
    return result


# --- labelled fields --------------------------------------------------------------------------

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
    parsed = parse(row.text[start:end]) if start < end else None
    if parsed is None:
        return
    value, sure = parsed
    conf = row.span_conf(start, end) * hit.quality * sure
    found[name] = Found(value, conf, row.page, row.span_box(start, end))


def _put(found: dict[str, Found], name: str, piece: Found | None, parse) -> None:
    if piece is None or not piece.value:
        return
    parsed = parse(piece.value)
    if parsed and parsed[0]:
        found[name] = Found(parsed[0], piece.confidence * parsed[1], piece.page, piece.box)


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
        out["parcel_number"] = Found(parcel, conf, row.page, row.span_box(start, parcel_end))
    if sheet_hit:
        s_start, s_end = value_after(row, Hit(start + sheet_hit.start, start + sheet_hit.end, 1))
        sheet = normalise_parcel(row.text[s_start:s_end])
        if sheet:
            conf = row.span_conf(s_start, s_end) * sheet_hit.quality
            out["map_sheet"] = Found(sheet, conf, row.page, row.span_box(s_start, s_end))
    return out


def _purpose(row: Row, hit: Hit) -> dict[str, Found]:
    start, end = value_after(row, hit)
    if start >= end:
        return {}
    text, code, sure = parse_purpose(row.text[start:end])
    if not text or text == "-/-":
        return {}
    conf = row.span_conf(start, end) * hit.quality
    box = row.span_box(start, end)
    out = {"purpose": Found(text, conf * sure, row.page, box)}
    if code:
        out["purpose_code"] = Found(code, conf * sure, row.page, box)
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


# --- signing block, serial ---------------------------------------------------------------------

_ISSUER = re.compile(
    r"uy\s*ban\s*nhan\s*dan|ubnd|so\s*tai\s*nguyen|so\s*nong\s*nghiep|van\s*phong\s*dang\s*ky"
    r"|chi\s*nhanh"
)
_TITLE = re.compile(r"^\W*(kt\W|tuq|tm\W|chu\s*tich|pho\s*chu|giam\s*doc|pho\s*giam)")


_DATE_LINE = re.compile(r"ngay.{0,14}thang.{0,14}nam|ngay\s*\S{1,2}\s?/")


def _signing(rows: Sequence[Row]) -> dict[str, Found]:
    """The issue date ("Hà Nội, ngày 06 tháng 11 năm 2014") and the body signing under it.

    The date line is the one an issuing body follows; when its (often handwritten) digits do
    not read as a date, the issuer is still taken and the date left out."""
    fallback: dict[str, Found] = {}
    for i, row in enumerate(rows):
        if re.search(r"thoi\s*han|den\s*ngay|loai\s*dat", row.folded):
            continue
        found = find_date(row.text)
        if not found and not _DATE_LINE.search(row.folded):
            continue
        out = {}
        if found:
            iso, start, end = found
            out["issue_date"] = Found(
                iso, row.span_conf(start, end), row.page, row.span_box(start, end)
            )
        issuer = _issuer(rows, i)
        if issuer:
            return {**out, "issuer": issuer}
        if found and not fallback and "," in row.text[: found[1]]:
            date_found = out["issue_date"]
            fallback = {"issue_date": replace(date_found, confidence=date_found.confidence * 0.7)}
    return fallback


def _issuer(rows: Sequence[Row], i: int) -> Found | None:
    for j in range(i + 1, min(i + 4, len(rows))):
        row = rows[j]
        if row.page != rows[i].page:
            return None
        body = _ISSUER.search(row.folded)
        if not body:
            continue
        # From the body's name on: "TM.", "KT." and their misreadings ("IM .") are left out.
        text = row.text[body.start() :]
        used = [row]
        nxt = rows[j + 1] if j + 1 < len(rows) else None
        cut = re.search(r"nhan\s*dan\W*$", row.folded)
        if cut and nxt and _upper(nxt.text) and not _TITLE.match(nxt.folded):
            text, used = f"{text} {nxt.text}", [row, nxt]
        conf = sum(r.span_conf(0, len(r.text)) for r in used) / len(used)
        return Found(text.strip(" ."), conf, row.page, union(r.box for r in used))
    return None


def _upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _serial(rows: Sequence[Row]) -> Found | None:
    """The serial: standing alone on its line if any such reading exists (the surest
    reading wins), else the first one found inside a line."""
    alone: list[Found] = []
    inside: list[Found] = []
    for row in rows:
        if label_at_start(row, "so vao so cap"):
            continue
        single = len(row.words) <= 2
        found = find_serial(row.text, alone=single)
        if found:
            value, start, end = found
            conf = row.span_conf(start, end) * (1.0 if single else 0.8)
            (alone if single else inside).append(
                Found(value, conf, row.page, row.span_box(start, end))
            )
    if alone:
        return max(alone, key=lambda f: f.confidence)
    return inside[0] if inside else None


# --- changes -----------------------------------------------------------------------------------

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
