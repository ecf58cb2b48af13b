"""Values of a land certificate read from OCR text: numbers, dates, identifiers, land-use
purposes and their codes, the VN-2000 corner table. Pure functions on strings and rows.

OCR habits this undoes (DOMAIN.md §1.4–1.5): O/o for 0 and l/I/| for 1 inside numbers;
"m2", "m²", "m?" or a bare "m" after an area; a decimal comma ("120,5"), with "." accepted
as a decimal point or thousands separator; dates written "ngày 12 tháng 3 năm 2014" or
"12/03/2014"; labels and purposes without their diacritics.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.stages.certificate.layout import Row, fold_keep_length, label_at_start, union
from pipeline.stages.pages.pagetext import Box


@dataclass(frozen=True)
class Found:
    value: Any
    confidence: float
    page: int
    box: Box

    def provenance(self) -> dict[str, Any]:
        return {"confidence": round(self.confidence, 3), "page": self.page, "box": list(self.box)}


# --- numbers ---------------------------------------------------------------------------------

_SLIPS = str.maketrans({"O": "0", "o": "0", "Ó": "0", "ó": "0", "D": "0", "Q": "0",
                        "l": "1", "I": "1", "|": "1", "i": "1", "!": "1"})  # fmt: skip
_NUMBERISH = re.compile(r"[0-9OoÓóDQlI|i!]*[0-9][0-9OoÓóDQlI|i!]*|[0-9OoÓólI|]{2,}")


def fix_digits(text: str) -> str:
    """Letters OCR reads for digits, put back inside tokens that are otherwise numeric:
    "2O14" → "2014", "l986" → "1986"; words ("Lô", "CT8") are left alone."""

    def fix(m: re.Match[str]) -> str:
        token = m.group()
        digits = sum(c.isdigit() for c in token)
        size = sum(c not in ".," for c in token)
        return token.translate(_SLIPS) if digits and digits >= size / 2 else token

    return re.sub(r"[0-9A-Za-zÓó|!]+(?:[.,][0-9A-Za-zÓó|!]+)*", fix, text)


def parse_decimal(token: str) -> float | None:
    """A number as certificates print it: "16484,0", "1.234,5", "120.5", "2 330 123,45"."""
    t = re.sub(r"\s", "", token).strip(".,")
    if not t or not re.fullmatch(r"[\d.,]+", t):
        return None
    if "," in t and "." in t:
        point = max(t.rfind(","), t.rfind("."))
        t = re.sub(r"[.,]", "", t[:point]) + "." + t[point + 1 :]
    elif "," in t:
        head, _, tail = t.rpartition(",")
        t = head.replace(",", "") + "." + tail
    elif t.count(".") > 1 or re.fullmatch(r"\d{1,3}\.\d{3}", t):
        t = t.replace(".", "")
    try:
        return float(t)
    except ValueError:
        return None


_AREA = re.compile(r"(\d[\d.,]*(?:\s\d{3}(?:[.,]\d+)?)?)\s*(m\s*[2²?ˆ*'’]|m\b)?")


def parse_area(text: str) -> tuple[float, bool] | None:
    """The first area in `text` as m², and whether a unit followed it ("m2", "m²", "m?", "m")."""
    m = _AREA.search(fix_digits(text))
    if not m:
        return None
    value = parse_decimal(m.group(1))
    if value is None or not 0 < value < 1e8:
        return None
    return value, m.group(2) is not None


# --- dates -----------------------------------------------------------------------------------

_WORDS_DATE = re.compile(
    r"ngay\W{0,3}(\S{1,3}?)\W{0,3}\s*thang\W{0,3}(\S{1,3}?)\W{0,3}\s*nam\W{0,3}(\S{4})"
)
_SLASH_DATE = re.compile(r"(?<!\d)(\S{1,2})\s?[/.-]\s?(\S{1,2})\s?[/.-]\s?(\d\S{3})(?!\d)")


def find_date(text: str, today: date | None = None) -> tuple[str, int, int] | None:
    """The first plausible date in `text` (1945 to today) as ISO, with its character span."""
    folded = fix_digits(fold_keep_length(text))
    found = []
    for pattern in (_WORDS_DATE, _SLASH_DATE):
        for m in pattern.finditer(folded):
            iso = _valid_date(*m.groups(), today=today or date.today())
            if iso:
                found.append((m.start(), iso, m.end()))
    if not found:
        return None
    start, iso, end = min(found)
    return iso, start, end


def _valid_date(day: str, month: str, year: str, today: date) -> str | None:
    parts = [re.sub(r"\D", "", p.translate(_SLIPS)) for p in (day, month, year)]
    if not all(parts) or len(parts[2]) != 4:
        return None
    try:
        d = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None
    return d.isoformat() if date(1945, 1, 1) <= d <= today else None


# --- identifiers -----------------------------------------------------------------------------

_LETTER_FOR_DIGIT = str.maketrans({"8": "B", "0": "O", "5": "S", "6": "G", "1": "I", "2": "Z"})
_SERIAL = re.compile(r"(?<![A-Za-z0-9.,])([A-Z0-9]{2})\s?([0-9OIl]{6}|[0-9OIl]{8})(?![0-9A-Za-z])")


def find_serial(text: str, *, alone: bool) -> tuple[str, int, int] | None:
    """A serial ("số phát hành"): 2 letters + 6 digits (2009–2024) or + 8 digits (2025),
    normalised "BV 999451". Digits read for the letters are mapped back only when the serial
    stands `alone` on its line, where nothing else can be meant."""
    for m in _SERIAL.finditer(text):
        letters, digits = m.group(1), m.group(2).translate(_SLIPS)
        if not digits.isdigit():
            continue
        if not letters.isalpha():
            if not alone:
                continue
            letters = letters.translate(_LETTER_FOR_DIGIT)
            if not letters.isalpha():
                continue
        return f"{letters} {digits}", m.start(), m.end()
    return None


def normalise_registry(value: str) -> str | None:
    """A registry number ("số vào sổ"): "CS 05494", "CH00123" → "CH 00123"; other shapes are
    kept as read (the prefixes vary, DOMAIN.md §1.2), minus dots of an unfilled blank."""
    v = value.strip(" .…:;,_-")
    m = re.fullmatch(r"([A-Za-z]{1,4})\s*[-.:/]?\s*([0-9OoÓóIl]{3,8})\.?", v)
    if m:
        return f"{m.group(1).upper()} {m.group(2).translate(_SLIPS)}"
    return v or None


def normalise_parcel(value: str) -> str | None:
    """Parcel or sheet number as a string ("PL9", "Lô 31" and "CT8" are valid), digits fixed."""
    v = value.strip(" .…:;,_-")
    v = re.split(r"[,;]", v)[0].strip(" .…")
    if not v or not re.search(r"[0-9A-Za-z]", v):
        return None
    return v.translate(_SLIPS).replace(" ", "") if re.fullmatch(r"[0-9OoIl|\s]+", v) else v


# --- purposes --------------------------------------------------------------------------------

PURPOSES: dict[str, str] = {
    "Đất chuyên trồng lúa nước": "LUC",
    "Đất chuyên trồng lúa": "LUC",
    "Đất trồng lúa nước còn lại": "LUK",
    "Đất lúa nương": "LUN",
    "Đất bằng trồng cây hàng năm khác": "BHK",
    "Đất nương rẫy trồng cây hàng năm khác": "NHK",
    "Đất trồng cây hằng năm khác": "HNK",
    "Đất trồng cây hàng năm khác": "HNK",
    "Đất trồng cây lâu năm": "CLN",
    "Đất rừng sản xuất": "RSX",
    "Đất rừng phòng hộ": "RPH",
    "Đất rừng đặc dụng": "RDD",
    "Đất nuôi trồng thủy sản": "NTS",
    "Đất làm muối": "LMU",
    "Đất nông nghiệp khác": "NKH",
    "Đất chăn nuôi tập trung": "CNT",
    "Đất ở tại đô thị": "ODT",
    "Đất ở tại nông thôn": "ONT",
    "Đất xây dựng trụ sở cơ quan": "TSC",
    "Đất thương mại, dịch vụ": "TMD",
    "Đất cơ sở sản xuất phi nông nghiệp": "SKC",
    "Đất khu công nghiệp": "SKK",
    "Đất giao thông": "DGT",
    "Đất thủy lợi": "DTL",
    "Đất có di tích lịch sử - văn hóa": "DDT",
    "Đất danh lam thắng cảnh": "DDL",
    "Đất chợ": "DCH",
    "Đất cơ sở tôn giáo": "TON",
    "Đất cơ sở tín ngưỡng": "TIN",
    "Đất làm nghĩa trang, nghĩa địa, nhà tang lễ, nhà hỏa táng": "NTD",
    "Đất sông, ngòi, kênh, rạch, suối": "SON",
    "Đất có mặt nước chuyên dùng": "MNC",
    "Đất bằng chưa sử dụng": "BCS",
}
CODES = frozenset(PURPOSES.values()) | {"DVH", "DYT", "DGD", "DTT", "DKH", "DNL", "DBV", "DSH"}
_FOLDED_PURPOSES = {fold_keep_length(k): k for k in PURPOSES}


def parse_purpose(value: str) -> tuple[str, str | None, float]:
    """(purpose text, code, how sure) from a "Mục đích sử dụng" or "Loại đất" value.

    The first purpose is taken when several are listed ("Đất ở tại nông thôn (ONT): 93,0 m²;
    Đất trồng cây hằng năm khác (HNK): 290,0 m²"). A printed code wins; otherwise the text is
    matched to the code list, and a close match is replaced by the list's spelling."""
    first = re.split(r"[;]", value)[0]
    code_m = re.search(r"\(\s*([A-Z0-9]{3})\s*\)", first)
    text = first[: code_m.start()] if code_m else re.split(r":\s*\d", first)[0]
    text = text.strip(" :;,.-")
    code = code_m.group(1).translate(str.maketrans("01", "OI")) if code_m else None
    folded = fold_keep_length(text)
    best = difflib.get_close_matches(folded, list(_FOLDED_PURPOSES), n=1, cutoff=0.85)
    if best:
        canonical = _FOLDED_PURPOSES[best[0]]
        ratio = difflib.SequenceMatcher(None, folded, best[0]).ratio()
        code = code if code in CODES else PURPOSES[canonical]
        return canonical, code, ratio
    return text, code if code in CODES else None, 0.7


def parse_term(value: str) -> tuple[str, float] | None:
    """ "Lâu dài" or "Đến ngày dd/mm/yyyy" (the first land type's term on the 2025 form)."""
    first = re.split(r";", value)[0]
    folded = fold_keep_length(first)
    if "lau dai" in folded or "lau đai" in folded:
        return "Lâu dài", 1.0
    if re.search(r"den\s*ngay", folded):
        found = find_date(first, today=date(2200, 1, 1))
        if found:
            d = date.fromisoformat(found[0])
            return f"Đến ngày {d:%d/%m/%Y}", 1.0
    text = first.split(":")[-1].strip(" .;,")
    return (text, 0.6) if text and text not in ("-/-",) else None


def parse_use_form(value: str) -> tuple[str, float] | None:
    folded = fold_keep_length(value)
    private, shared = "rieng" in folded, "chung" in folded
    if private != shared:
        return ("Sử dụng riêng" if private else "Sử dụng chung"), 1.0
    text = value.strip(" .;,")
    return (text, 0.6) if text else None


# --- corner coordinates ----------------------------------------------------------------------

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


# --- owners ----------------------------------------------------------------------------------

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


# --- corners -----------------------------------------------------------------------------------


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


# --- owners ------------------------------------------------------------------------------------

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
