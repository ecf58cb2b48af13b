"""Values of a land certificate read from OCR text: numbers, dates, identifiers, land-use
purposes and their codes. Pure functions on strings and rows (the VN-2000 corner table is
`corners.py`, the owners `owners.py`).

OCR habits this undoes (DOMAIN.md §1.4–1.5): O/o for 0 and l/I/| for 1 inside numbers;
"m2", "m²", "m?" or a bare "m" after an area; a decimal comma ("120,5"), with "." accepted
as a decimal point or thousands separator; dates written "ngày 12 tháng 3 năm 2014" or
"12/03/2014"; labels and purposes without their diacritics.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.stages.certificate.layout import fold_keep_length
from pipeline.stages.pages.pagetext import Box


@dataclass(frozen=True)
class Found:
    value: Any
    confidence: float
    page: int
    box: Box
    raw: str | None = None
    """The text the value was read from, as OCR gave it (shown beside a rejected value)."""

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


_UNITS = {"khong": 0, "mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5,
          "lam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9}  # fmt: skip
_POWERS = {"nghin": 1000, "ngan": 1000, "trieu": 1_000_000}


def parse_area_words(text: str) -> float | None:
    """The area spelt out after "bằng chữ" ("ba trăm năm mươi mốt phẩy sáu mét vuông" → 351.6),
    or None when there is none, or it is cut short (no "mét vuông" after it) or unreadable."""
    folded = fold_keep_length(text).lower()
    m = re.search(r"bang\s*chu\W*(.*?)\bmet\s*vuong", folded)
    if not m:
        return None
    whole, _, tenths = m.group(1).partition("phay")
    number = _words_number(whole.split())
    decimals = [_UNITS.get(w) for w in tenths.split()]
    if number is None or None in decimals:
        return None
    fraction = float("0." + "".join(map(str, decimals))) if decimals else 0.0
    return number + fraction


def _words_number(words: list[str]) -> int | None:
    total, group, last = 0, 0, 0
    for w in (w.strip(",.;:()") for w in words):
        if w in _UNITS:
            last = _UNITS[w]
            group += last
        elif w == "muoi" and group % 10 == last and last:  # "năm mươi": the digit was tens
            group += last * 9
            last = 0
        elif w == "muoi":  # "mười" folds to the same: ten
            group += 10
        elif w == "tram":
            group = group - last + last * 100
        elif w in ("le", "linh") or not w:
            continue
        elif w in _POWERS:
            total += (group or 1) * _POWERS[w]
            group = last = 0
        else:
            return None
    return total + group if words else None


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
