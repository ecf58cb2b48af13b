"""Generated land-use-right certificates (GCN) with known values, for tests and the benchmark.

`make_certificate(form, values, seed)` draws the pages of a certificate at 300 dpi the way the
real ones look (DOMAIN.md §1.2–1.4): the pink sheet with a faint drum pattern, the national
heading, the red title, section I with the owners, section II with the labelled parcel fields
and the signing block, section III with the parcel drawing and its VN-2000 corner table, and
section IV, the changes table. The 2025 form is the two-page A4 sheet with a QR code.

Every name, ID number, serial and coordinate is invented (fixed seeds, deterministic output).
The corner table's polygon has the stated area (the area is the polygon's, rounded to 0.1 m²).
`expected` uses the shape of `CertificateFields.to_json()` so tests can compare directly;
its corners are [easting, northing] = [Y, X] of the printed table (GeoJSON order).
"""

from __future__ import annotations

import difflib
import io
import math
import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from models.language.text import normalise
from pipeline.stages.pages.pagetext import PageText

DPI = 300
FONTS = "/usr/share/fonts/truetype/dejavu/"
SIZE_2009 = (2268, 3213)  # 192 × 272 mm, the 4-page booklet's page
SIZE_2025 = (2480, 3508)  # A4
INK = (25, 20, 20)
RED = (200, 30, 30)
PAPER = (252, 232, 230)

# --- fictitious values ----------------------------------------------------------------------

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương"]
_MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành"]
_MIDDLE_F = ["Thị", "Thu", "Ngọc", "Thanh", "Mai"]
_GIVEN_M = ["Hùng", "Dũng", "Tuấn", "Khánh", "Long", "Sơn", "Thắng", "Phúc", "Cường"]
_GIVEN_F = ["Hoa", "Lan", "Hương", "Hằng", "Nga", "Yến", "Thảo", "Trang", "Liên"]
_STREETS = ["Trần Duy Hưng", "Hoàng Quốc Việt", "Nguyễn Trãi", "Kim Mã", "Láng Hạ", "Cầu Giấy"]
_WARDS_2009 = [
    ("phường Dịch Vọng", "quận Cầu Giấy"),
    ("phường Trung Hòa", "quận Cầu Giấy"),
    ("phường Kim Liên", "quận Đống Đa"),
    ("phường Yên Nghĩa", "quận Hà Đông"),
    ("xã Vân Đình", "huyện Ứng Hòa"),
    ("phường Thụy Khuê", "quận Tây Hồ"),
]
_WARDS_2025 = ["phường Cầu Giấy", "phường Đống Đa", "phường Hà Đông", "xã Ứng Hòa", "phường Tây Hồ"]
_PURPOSES = [
    ("Đất ở tại đô thị", "ODT"),
    ("Đất ở tại nông thôn", "ONT"),
    ("Đất trồng cây lâu năm", "CLN"),
    ("Đất thương mại, dịch vụ", "TMD"),
    ("Đất chuyên trồng lúa nước", "LUC"),
]
_ORIGINS = [
    "Nhà nước giao đất có thu tiền sử dụng đất",
    "Công nhận quyền sử dụng đất như giao đất có thu tiền sử dụng đất",
    "Nhận chuyển nhượng đất được công nhận quyền sử dụng đất",
    "Nhà nước giao đất không thu tiền sử dụng đất",
]
_ISSUERS_2009 = [
    "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI",
    "ỦY BAN NHÂN DÂN QUẬN CẦU GIẤY",
    "ỦY BAN NHÂN DÂN QUẬN ĐỐNG ĐA",
    "SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG HÀ NỘI",
]
_ISSUERS_2025 = [
    "SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG HÀ NỘI",
    "ỦY BAN NHÂN DÂN PHƯỜNG CẦU GIẤY",
    "ỦY BAN NHÂN DÂN XÃ ỨNG HÒA",
]
_CHANGES = [
    "Đã chuyển nhượng toàn bộ thửa đất cho {name}, theo hồ sơ số {file}",
    "Thế chấp bằng quyền sử dụng đất tại Ngân hàng TMCP Sông Hồng theo hợp đồng số {file}",
    "Xóa thế chấp theo đơn đề nghị số {file}",
    "Đính chính địa chỉ thửa đất theo hồ sơ số {file}",
]


def _name(rng: random.Random, male: bool) -> str:
    middle, given = (_MIDDLE_M, _GIVEN_M) if male else (_MIDDLE_F, _GIVEN_F)
    return f"{rng.choice(_FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEGHKLMNPSTVX") for _ in range(n))


def _polygon(rng: random.Random, area: float) -> list[tuple[float, float]]:
    """A convex-ish parcel of 4–6 corners near Hà Nội, as printed: (X northing, Y easting)."""
    n = rng.randint(4, 6)
    angles = sorted(2 * math.pi * (i + rng.uniform(-0.2, 0.2)) / n for i in range(n))
    pts = [
        (math.cos(a) * rng.uniform(0.8, 1.2), math.sin(a) * rng.uniform(0.8, 1.2)) for a in angles
    ]
    scale = math.sqrt(area / _shoelace(pts))
    x0, y0 = rng.uniform(2_320_000, 2_340_000), rng.uniform(578_000, 592_000)
    return [(round(x0 + px * scale, 2), round(y0 + py * scale, 2)) for px, py in pts]


def _shoelace(pts: Sequence[tuple[float, float]]) -> float:
    s = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(pts, [*pts[1:], pts[0]], strict=True))
    return abs(s) / 2


def random_values(form: str, rng: random.Random) -> dict[str, Any]:
    """A full set of fictitious values for one certificate of `form`."""
    urban = rng.random() < 0.6
    purpose, code = _PURPOSES[0] if urban else rng.choice(_PURPOSES[1:])
    if form == "2025" and code == "LUC":
        purpose = "Đất chuyên trồng lúa"
    polygon = _polygon(rng, rng.uniform(45, 400) if urban else rng.uniform(150, 1500))
    if form == "2009-2024":
        issued = date(2010, 1, 1) + timedelta(days=rng.randint(0, 14 * 365))
        ward, district = rng.choice(_WARDS_2009)
        where = f"{ward}, {district}, thành phố Hà Nội"
        serial = f"{_letters(rng, 2)} {_digits(rng, 6)}"
        issuer = rng.choice(_ISSUERS_2009)
    else:
        issued = date(2025, 1, 2) + timedelta(days=rng.randint(0, 300))
        where = f"{rng.choice(_WARDS_2025)}, thành phố Hà Nội"
        serial = f"{_letters(rng, 2)} {_digits(rng, 8)}"
        issuer = rng.choice(_ISSUERS_2025)
    street = f"Số {rng.randint(2, 180)} ngõ {rng.randint(3, 400)} phố {rng.choice(_STREETS)}"
    long_term = code in ("ODT", "ONT", "TMD") and (code != "TMD" or rng.random() < 0.5)
    until = date(issued.year + 50, rng.randint(1, 12), rng.randint(1, 28))
    owners = _owners(form, rng)
    return {
        "parcel_number": str(rng.randint(1, 999)),
        "map_sheet": str(rng.randint(1, 85)),
        "area_m2": round(_shoelace(polygon), 1),
        "purpose": purpose,
        "purpose_code": code,
        "term": "Lâu dài" if long_term else f"Đến ngày {until:%d/%m/%Y}",
        "use_form": "Sử dụng riêng" if rng.random() < 0.8 else "Sử dụng chung",
        "origin": rng.choice(_ORIGINS),
        "address": f"{street}, {where}" if urban else where,
        "issue_date": issued.isoformat(),
        "issuer": issuer,
        "serial": serial,
        "registry_number": f"{rng.choice(['CH', 'CS', 'CT'])} {_digits(rng, 5)}",
        "polygon": polygon,
        "owners": owners,
        "changes": _changes(rng, issued, owners),
        "date_style": rng.choice(["words", "words", "slashes"]),
        "decimal": rng.choice([",", "."]),
        "edges": rng.random() < 0.5,
    }


def _owners(form: str, rng: random.Random) -> list[dict[str, Any]]:
    couple = rng.random() < 0.6
    male_first = rng.random() < 0.7
    sexes = [male_first, not male_first] if couple else [male_first]
    out = []
    for male in sexes:
        if form == "2025":
            kind, number = "CCCD", "0" + _digits(rng, 11)
        else:
            kind = rng.choice(["CMND", "CMND", "CCCD"])
            number = _digits(rng, 9) if kind == "CMND" else "0" + _digits(rng, 11)
        out.append(
            {
                "name": _name(rng, male),
                "id_number": number,
                "birth_year": None if form == "2025" else rng.randint(1945, 1995),
                "id_kind": kind,
                "title": "Ông" if male else "Bà",
            }
        )
    return out


def _changes(rng: random.Random, issued: date, owners: list[dict[str, Any]]) -> list[dict]:
    out = []
    day = issued
    for _ in range(rng.choice([0, 1, 2, 2, 3])):
        day = day + timedelta(days=rng.randint(60, 900))
        if day >= date(2025, 12, 31):
            break
        text = rng.choice(_CHANGES).format(
            name=f"bà {_name(rng, False)}", file=f"{_digits(rng, 6)}.CN.{_digits(rng, 3)}"
        )
        out.append({"date": day.isoformat(), "text": text})
    return out


# --- drawing --------------------------------------------------------------------------------


def _font(name: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONTS + name, px)


class _Sheet:
    """One page being drawn, with a cursor that moves down as lines are written."""

    def __init__(self, size: tuple[int, int], rng: random.Random, margin: int = 210) -> None:
        self.im = _paper(size, rng)
        self.draw = ImageDraw.Draw(self.im)
        self.w, self.h = size
        self.left, self.right = margin, size[0] - margin
        self.y = 200
        self.body = _font("DejaVuSerif.ttf", 44)
        self.bold = _font("DejaVuSerif-Bold.ttf", 44)
        self.italic = _font("DejaVuSerif-BoldItalic.ttf", 44)

    def line(self, text: str, font=None, x: int | None = None, fill=INK, gap: int = 16) -> None:
        font = font or self.body
        self.draw.text((self.left if x is None else x, self.y), text, font=font, fill=fill)
        self.y += _height(font) + gap

    def centred(self, text: str, font, fill=INK, gap: int = 16, cx: int | None = None) -> None:
        width = self.draw.textlength(text, font=font)
        cx = self.w // 2 if cx is None else cx
        self.line(text, font, x=int(cx - width / 2), fill=fill, gap=gap)

    def field(self, label: str, value: str, indent: int = 60, tab: int = 0) -> None:
        """`label` then `value`, wrapped to the page width; continuation lines indent."""
        x = self.left + indent
        self.draw.text((x, self.y), label, font=self.body, fill=INK)
        vx = x + max(tab, int(self.draw.textlength(label + " ", font=self.body)))
        lines = _wrap(self.draw, value, self.body, self.right - vx)
        for i, text in enumerate(lines):
            self.draw.text((vx if i == 0 else x + 40, self.y), text, font=self.body, fill=INK)
            self.y += _height(self.body) + 16

    def wrapped(self, text: str, font=None, indent: int = 0, gap: int = 16) -> None:
        font = font or self.body
        for text_line in _wrap(self.draw, text, font, self.right - self.left - indent):
            self.line(text_line, font, x=self.left + indent, gap=gap)


def _height(font: ImageFont.FreeTypeFont) -> int:
    return int(font.size * 1.25)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and draw.textlength(trial, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    return [*lines, current] if current else lines


def _paper(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Pink paper with the fine concentric rings of the drum pattern (lines ~2 px, as faint as
    the real sheet's guilloche) and a double border."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * rng.uniform(0.45, 0.55), h * rng.uniform(0.4, 0.5)
    rings = (np.sin(np.hypot(xx - cx, yy - cy) / 6.0) > 0.97).astype(np.float32)
    base = np.array(PAPER, dtype=np.float32)
    ring = np.array((242, 205, 202), dtype=np.float32)
    rgb = base + rings[..., None] * (ring - base)
    im = Image.fromarray(rgb.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(im)
    for inset, width in ((40, 14), (75, 4)):
        draw.rectangle((inset, inset, w - inset, h - inset), outline=(225, 120, 110), width=width)
    return im


def _national_heading(sheet: _Sheet) -> None:
    sheet.centred("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", _font("DejaVuSerif-Bold.ttf", 46))
    sheet.centred("Độc lập - Tự do - Hạnh phúc", _font("DejaVuSerif-Bold.ttf", 44), gap=40)


def _emblem(sheet: _Sheet, cx: int, cy: int, r: int) -> None:
    d = sheet.draw
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(230, 170, 40))
    d.ellipse((cx - r + 25, cy - r + 25, cx + r - 25, cy + r - 25), fill=(205, 35, 30))
    star = [
        (cx + math.cos(math.pi / 2 + k * math.pi / 5) * (r * 0.55 if k % 2 == 0 else r * 0.22),
         cy - math.sin(math.pi / 2 + k * math.pi / 5) * (r * 0.55 if k % 2 == 0 else r * 0.22))
        for k in range(10)
    ]  # fmt: skip
    d.polygon(star, fill=(250, 220, 60))


def _area_text(area: float, decimal: str = ",") -> str:
    return f"{area:.1f}".replace(".", decimal)


def _in_words(area: float) -> str:
    """The area spelt out as printed: 16484.0 → "mười sáu nghìn bốn trăm tám mươi bốn phẩy
    không mét vuông"."""
    whole, tenth = divmod(round(area * 10), 10)
    return f"{_number_words(whole)} phẩy {_DIGITS[tenth]} mét vuông"


_DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def _number_words(n: int) -> str:
    if n == 0:
        return "không"
    groups = []
    for unit in ("", " nghìn", " triệu"):
        n, part = divmod(n, 1000)
        if part:
            groups.append(_hundreds(part, full=bool(n)) + unit)
        if not n:
            break
    return " ".join(reversed(groups))


def _hundreds(n: int, full: bool) -> str:
    h, rest = divmod(n, 100)
    t, u = divmod(rest, 10)
    words = [f"{_DIGITS[h]} trăm"] if h or full else []
    if t == 0 and u and words:
        words.append("lẻ")
    if t == 1:
        words.append("mười")
    elif t:
        words.append(f"{_DIGITS[t]} mươi")
    if u:
        words.append("mốt" if u == 1 and t > 1 else "lăm" if u == 5 and t else _DIGITS[u])
    return " ".join(words)


def _date_text(iso: str, style: str, place: str = "Hà Nội") -> str:
    d = date.fromisoformat(iso)
    if style == "slashes":
        return f"{place}, ngày {d:%d/%m/%Y}"
    return f"{place}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


def _signing(sheet: _Sheet, v: dict[str, Any], rng: random.Random, cx: int) -> None:
    small = _font("DejaVuSerif-Italic.ttf", 42)
    sheet.centred(_date_text(v["issue_date"], v["date_style"]), small, cx=cx)
    bold = _font("DejaVuSerif-Bold.ttf", 42)
    issuer = v["issuer"]
    if issuer.startswith("ỦY BAN"):
        sheet.centred("TM. " + issuer, bold, cx=cx)
        sheet.centred(rng.choice(["CHỦ TỊCH", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]), bold, cx=cx)
    else:
        sheet.centred(issuer, bold, cx=cx)
        sheet.centred(rng.choice(["GIÁM ĐỐC", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]), bold, cx=cx)
    top = sheet.y
    sheet.draw.ellipse((cx - 170, top - 10, cx + 30, top + 190), outline=(215, 60, 60), width=10)
    sheet.y += 230
    sheet.centred(_name(rng, rng.random() < 0.5), bold, cx=cx)


def _owner_lines(form: str, owner: dict[str, Any], first: bool) -> list[tuple[str, bool]]:
    """(text, bold) lines of one owner as the form prints them."""
    title = owner["title"] if first else ("Và chồng" if owner["title"] == "Ông" else "Và vợ")
    if form == "2025":
        return [(f"{title}: {owner['name']}, {owner['id_kind']}: {owner['id_number']}", False)]
    kind = "CMND số" if owner["id_kind"] == "CMND" else "CCCD số"
    return [
        (f"{owner['title']}: {owner['name']}", True),
        (f"Năm sinh: {owner['birth_year']}, {kind}: {owner['id_number']}", False),
    ]


def _owners_block(sheet: _Sheet, form: str, v: dict[str, Any]) -> None:
    for i, owner in enumerate(v["owners"]):
        for text, bold in _owner_lines(form, owner, i == 0):
            sheet.wrapped(text, sheet.bold if bold else sheet.body, indent=60)
    if form != "2025":
        sheet.field("Địa chỉ thường trú:", v["owner_address"], indent=60)


def _page_2009_i(v: dict[str, Any], rng: random.Random) -> Image.Image:
    s = _Sheet(SIZE_2009, rng)
    s.y = 170
    _national_heading(s)
    _emblem(s, s.w // 2, s.y + 230, 220)
    s.y += 520
    s.centred("GIẤY CHỨNG NHẬN", _font("DejaVuSans-Bold.ttf", 110), fill=RED, gap=30)
    s.centred("QUYỀN SỬ DỤNG ĐẤT", _font("DejaVuSans-Bold.ttf", 58), fill=RED, gap=20)
    s.centred(
        "QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT",
        _font("DejaVuSansCondensed-Bold.ttf", 58),
        fill=RED,
        gap=120,
    )
    s.wrapped("I. Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất", s.bold)
    s.y += 10
    _owners_block(s, "2009-2024", v)
    serial = _font("DejaVuSerif.ttf", 80)
    width = s.draw.textlength(v["serial"], font=serial)
    s.draw.text((s.right - width, s.h - 380), v["serial"], font=serial, fill=INK)
    return s.im


def _page_2009_ii(v: dict[str, Any], rng: random.Random) -> Image.Image:
    s = _Sheet(SIZE_2009, rng)
    s.y = 180
    s.line("II. Thửa đất, nhà ở và tài sản khác gắn liền với đất", s.bold)
    s.line("1. Thửa đất:", s.italic, x=s.left + 30)
    s.field("a) Thửa đất số:", f"{v['parcel_number']}, tờ bản đồ số: {v['map_sheet']}")
    s.field("b) Địa chỉ:", v["address"])
    area = _area_text(v["area_m2"], v["decimal_area"])
    s.field("c) Diện tích:", f"{area} m², (bằng chữ: {_in_words(v['area_m2'])})")
    s.field("d) Hình thức sử dụng:", v["use_form"])
    s.field("đ) Mục đích sử dụng:", v["purpose"])
    s.field("e) Thời hạn sử dụng:", v["term"])
    s.field("g) Nguồn gốc sử dụng:", v["origin"])
    for item in ("2. Nhà ở:", "3. Công trình xây dựng khác:", "4. Rừng sản xuất là rừng trồng:"):
        s.line(f"{item} -/-", s.italic, x=s.left + 30)
    s.line("5. Cây lâu năm: -/-", s.italic, x=s.left + 30)
    s.line("6. Ghi chú: -/-", s.italic, x=s.left + 30, gap=120)
    _signing(s, v, rng, cx=int(s.w * 0.66))
    s.draw.text(
        (s.left, s.h - 330), "Số vào sổ cấp GCN: " + v["registry_number"], font=s.body, fill=INK
    )
    return s.im


def _page_2009_iii(v: dict[str, Any], rng: random.Random) -> Image.Image:
    s = _Sheet(SIZE_2009, rng)
    s.y = 180
    s.wrapped("III. Sơ đồ thửa đất, nhà ở và tài sản khác gắn liền với đất", s.bold)
    s.y += 20
    _diagram(s, v, (s.left + 300, s.y, s.right - 300, s.y + 700))
    s.y += 760
    _corner_table(s, v)
    s.y += 60
    s.wrapped("IV. Những thay đổi sau khi cấp Giấy chứng nhận", s.bold)
    _changes_table(s, v["changes"], bottom=s.h - 200)
    return s.im


def _page_2009_iv(v: dict[str, Any], rng: random.Random) -> Image.Image:
    s = _Sheet(SIZE_2009, rng)
    s.y = 160
    _changes_table(s, [], bottom=s.h - 560)
    s.y = s.h - 480
    small = _font("DejaVuSerif-Bold.ttf", 36)
    note = (
        "Người được cấp Giấy chứng nhận không được sửa chữa, tẩy xóa hoặc bổ sung bất kỳ nội "
        "dung nào trong Giấy chứng nhận; khi bị mất hoặc hư hỏng Giấy chứng nhận phải khai "
        "báo ngay với cơ quan cấp Giấy."
    )
    s.right = int(s.w * 0.58)
    s.wrapped(note, small, gap=8)
    _barcode(s, v["barcode"], (int(s.w * 0.62), s.h - 480))
    return s.im


def _barcode(s: _Sheet, digits: str, at: tuple[int, int]) -> None:
    x, y = at
    rng = random.Random(digits)
    s.draw.rectangle((x - 20, y - 20, x + 640, y + 230), fill="white")
    for _ in range(70):
        w = rng.choice([3, 3, 6, 9])
        s.draw.rectangle((x, y, x + w, y + 150), fill=INK)
        x += w + rng.choice([3, 6, 9])
        if x > at[0] + 600:
            break
    s.draw.text((at[0], y + 160), "  ".join(digits), font=_font("DejaVuSans.ttf", 30), fill=INK)


def _diagram(s: _Sheet, v: dict[str, Any], box: tuple[int, int, int, int]) -> None:
    """The parcel drawn to fit `box`, north up, corners numbered, edge lengths written."""
    pts = v["polygon"]
    xs, ys = [p[1] for p in pts], [p[0] for p in pts]  # easting right, northing up
    scale = min((box[2] - box[0]) / (max(xs) - min(xs)), (box[3] - box[1]) / (max(ys) - min(ys)))
    scale *= 0.8
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    mx, my = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    xy = [(cx + (e - mx) * scale, cy - (n - my) * scale) for n, e in pts]
    s.draw.polygon(xy, outline=INK, width=5)
    label = _font("DejaVuSans.ttf", 34)
    for i, (px, py) in enumerate(xy, 1):
        dx, dy = px - cx, py - cy
        norm = math.hypot(dx, dy) or 1
        s.draw.text(
            (px + 40 * dx / norm - 10, py + 40 * dy / norm - 18), str(i), font=label, fill=RED
        )


def _corner_table(s: _Sheet, v: dict[str, Any]) -> None:
    title = _font("DejaVuSerif-Bold.ttf", 42)
    s.centred("BẢNG KÊ TỌA ĐỘ", title, gap=20)
    head = ["Số hiệu điểm", "X (m)", "Y (m)"] + (["Cạnh (m)"] if v["edges"] else [])
    widths = [380, 420, 380] + ([320] if v["edges"] else [])
    x0 = (s.w - sum(widths)) // 2
    pts = v["polygon"]
    rows = []
    for i, (x, y) in enumerate(pts):
        nx, ny = pts[(i + 1) % len(pts)]
        cells = [str(i + 1), f"{x:.2f}", f"{y:.2f}"]
        cells = [c.replace(".", v["decimal"]) for c in cells]
        if v["edges"]:
            cells.append(f"{math.hypot(nx - x, ny - y):.2f}".replace(".", v["decimal"]))
        rows.append(cells)
    _grid(s, x0, widths, [head, *rows], s.body)


def _grid(s: _Sheet, x0: int, widths: list[int], rows: list[list[str]], font) -> None:
    row_h = _height(font) + 30
    top = s.y
    for r, cells in enumerate(rows):
        x = x0
        for w, cell in zip(widths, cells, strict=False):
            tw = s.draw.textlength(cell, font=font)
            s.draw.text((x + (w - tw) / 2, top + r * row_h + 14), cell, font=font, fill=INK)
            x += w
    bottom = top + len(rows) * row_h
    for r in range(len(rows) + 1):
        s.draw.line((x0, top + r * row_h, x0 + sum(widths), top + r * row_h), fill=INK, width=3)
    x = x0
    for w in [0, *widths]:
        x += w
        s.draw.line((x, top, x, bottom), fill=INK, width=3)
    s.y = bottom


def _changes_table(s: _Sheet, changes: list[dict], bottom: int) -> None:
    """The two-column changes table; each entry's confirmation gives its date."""
    split = int(s.left + (s.right - s.left) * 0.66)
    top = s.y + 10
    head = _font("DejaVuSerif.ttf", 40)
    s.draw.text((s.left + 150, top + 20), "Nội dung thay đổi và cơ sở pháp lý", font=head, fill=INK)
    s.draw.text((split + 40, top + 20), "Xác nhận của cơ", font=head, fill=INK)
    s.draw.text((split + 40, top + 72), "quan có thẩm quyền", font=head, fill=INK)
    y = top + 150
    s.draw.line((s.left, y, s.right, y), fill=INK, width=3)
    y += 30
    for entry in changes:
        d = date.fromisoformat(entry["date"])
        first = y
        for text in _wrap(s.draw, entry["text"], s.body, split - s.left - 60):
            s.draw.text((s.left + 30, y), text, font=s.body, fill=INK)
            y += _height(s.body) + 14
        s.draw.text((split + 30, first), f"Ngày {d:%d/%m/%Y}", font=s.body, fill=INK)
        s.draw.text((split + 30, first + 64), "CN VPĐKĐĐ", font=s.body, fill=INK)
        y = max(y, first + 128) + 70
    s.draw.rectangle((s.left, top, s.right, bottom), outline=INK, width=3)
    s.draw.line((split, top, split, bottom), fill=INK, width=3)
    s.y = bottom + 20


def _qr(s: _Sheet, at: tuple[int, int], seed: str) -> None:
    rng = random.Random(seed)
    x0, y0 = at
    cell = 12
    s.draw.rectangle((x0 - 20, y0 - 20, x0 + 29 * cell + 20, y0 + 29 * cell + 20), fill="white")
    for i in range(29):
        for j in range(29):
            finder = (min(i, j) < 7 and max(i, j) < 7) or (i < 7 and j > 21) or (j < 7 and i > 21)
            on = (
                (i in (0, 6) or j in (0, 6) or (2 <= i <= 4 and 2 <= j <= 4))
                if finder
                else rng.random() < 0.5
            )
            if finder and (i > 21 or j > 21):
                ii, jj = i % 22, j % 22
                on = ii in (0, 6) or jj in (0, 6) or (2 <= ii <= 4 and 2 <= jj <= 4)
            if on:
                s.draw.rectangle(
                    (x0 + i * cell, y0 + j * cell, x0 + (i + 1) * cell, y0 + (j + 1) * cell),
                    fill=INK,
                )


def _page_2025_1(v: dict[str, Any], rng: random.Random) -> Image.Image:
    s = _Sheet(SIZE_2025, rng)
    s.y = 170
    _national_heading(s)
    _qr(s, (s.right - 330, 170), v["serial"])
    _emblem(s, s.w // 2, s.y + 170, 160)
    s.y += 380
    s.centred("GIẤY CHỨNG NHẬN", _font("DejaVuSans-Bold.ttf", 100), fill=RED, gap=24)
    s.centred(
        "QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU TÀI SẢN GẮN LIỀN VỚI ĐẤT",
        _font("DejaVuSansCondensed-Bold.ttf", 56),
        fill=RED,
        gap=80,
    )
    s.wrapped("1. Người sử dụng đất, chủ sở hữu tài sản gắn liền với đất:", s.bold)
    _owners_block(s, "2025", v)
    s.y += 10
    s.line("2. Thông tin thửa đất:", s.bold)
    s.field("a. Thửa đất số:", f"{v['parcel_number']}; tờ bản đồ số: {v['map_sheet']}", indent=40)
    area = _area_text(v["area_m2"], v["decimal_area"])
    s.field("b. Diện tích:", f"{area} m²", indent=40)
    s.field("c. Loại đất:", f"{v['purpose']} ({v['purpose_code']}): {area} m²", indent=40)
    s.field("d. Thời hạn sử dụng đất:", f"{v['purpose']}: {v['term']}", indent=40)
    s.field("đ. Hình thức sử dụng:", v["use_form"], indent=40)
    s.field("e. Địa chỉ:", v["address"], indent=40)
    s.field("Nguồn gốc sử dụng:", v["origin"], indent=40)
    s.line("3. Thông tin tài sản gắn liền với đất: -/-", s.bold, gap=70)
    _signing(s, v, rng, cx=int(s.w * 0.66))
    serial = _font("DejaVuSerif.ttf", 72)
    s.draw.text((s.left + 20, s.h - 430), v["serial"], font=serial, fill=RED)
    note = "Thông tin chi tiết được thể hiện tại mã QR"
    s.draw.text((s.left + 20, s.h - 300), note, font=_font("DejaVuSerif-Italic.ttf", 38), fill=INK)
    return s.im


def _page_2025_2(v: dict[str, Any], rng: random.Random) -> Image.Image:
    s = _Sheet(SIZE_2025, rng)
    s.y = 180
    s.line("4. Sơ đồ thửa đất, tài sản gắn liền với đất:", s.bold)
    s.y += 20
    _diagram(s, v, (s.left + 400, s.y, s.right - 400, s.y + 650))
    s.y += 700
    _corner_table(s, v)
    s.y += 50
    s.line("5. Ghi chú: -/-", s.bold, gap=40)
    s.line("6. Những thay đổi sau khi cấp Giấy chứng nhận:", s.bold)
    _changes_table(s, v["changes"], bottom=s.h - 480)
    text = "Số vào sổ cấp Giấy chứng nhận: " + v["registry_number"]
    s.draw.text((s.left, s.h - 380), text, font=s.body, fill=INK)
    return s.im


# --- public ---------------------------------------------------------------------------------


def make_certificate(
    form: str = "2009-2024", values: dict[str, Any] | None = None, seed: int = 0
) -> tuple[list[Image.Image], dict[str, Any]]:
    """The pages of one certificate of `form` ("2009-2024": 4 pages, "2025": 2 pages) and the
    values a perfect extraction returns (the shape of `CertificateFields.to_json()`).

    `values` overrides any of `random_values`' keys (e.g. {"area_m2": ...} is ignored unless
    the polygon is overridden too, so the corner table always matches the stated area)."""
    if form not in ("2009-2024", "2025"):
        raise ValueError(f"unknown certificate form {form!r}")
    rng = random.Random(f"{form}-{seed}")
    v = {**random_values(form, rng), **(values or {})}
    v["area_m2"] = round(_shoelace(v["polygon"]), 1)
    v.setdefault("decimal_area", ",")
    v.setdefault("owner_address", f"Số {rng.randint(1, 99)} phố {rng.choice(_STREETS)}, Hà Nội")
    v.setdefault("barcode", "01" + _digits(rng, 11))
    if form == "2009-2024":
        makers = [_page_2009_i, _page_2009_ii, _page_2009_iii, _page_2009_iv]
        sections = ["I", "II", "III", "IV"]
    else:
        makers = [_page_2025_1, _page_2025_2]
        sections = ["I", "III"]
    pages = [make(v, random.Random(seed * 31 + i)) for i, make in enumerate(makers)]
    for im in pages:
        im.info["dpi"] = (DPI, DPI)
    return pages, _expected(form, v, sections)


def _expected(form: str, v: dict[str, Any], sections: list[str]) -> dict[str, Any]:
    keys = (
        "parcel_number", "map_sheet", "area_m2", "purpose", "purpose_code", "term", "use_form",
        "origin", "address", "issue_date", "issuer", "serial", "registry_number",
    )  # fmt: skip
    owners = [
        {k: o[k] for k in ("name", "id_number", "birth_year", "id_kind")} for o in v["owners"]
    ]
    return {
        "kind": "land_certificate",
        "form": form,
        "pages": sections,
        "fields": {k: v[k] for k in keys},
        "corners": [[y, x] for x, y in v["polygon"]],
        "owners": owners,
        "changes": [dict(c) for c in v["changes"]],
    }


def make_decree_page(seed: int = 0) -> Image.Image:
    """A page of a decision-like legal text that names a parcel, its map sheet, area, purpose
    and term in running prose (tests/factories/degrade.py's wording): not a certificate, whatever
    its
    words."""
    from tests.factories.degrade import HEADER, PARAGRAPHS, render_page

    body = [PARAGRAPHS[1], PARAGRAPHS[0], PARAGRAPHS[2], PARAGRAPHS[3]]
    text = "\n".join([*HEADER, "QUYẾT ĐỊNH", f"Số: {120 + seed}/QĐ-UBND", *body])
    return render_page(text, seed=seed).convert("RGB")


# --- degradation and OCR --------------------------------------------------------------------


def degrade(im: Image.Image, seed: int = 0, severity: float = 1.0) -> Image.Image:
    """A worn scan: rotated a degree or two, blurred, grainy, JPEG-compressed."""
    rng = np.random.default_rng(seed)
    angle = float(rng.uniform(0.8, 1.6) * rng.choice([-1, 1]) * severity)
    out = im.convert("RGB").rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor="white")
    out = out.filter(ImageFilter.GaussianBlur(1.1 * severity))
    arr = np.asarray(out, dtype=np.float32)
    arr += rng.normal(0, 12 * severity, arr.shape[:2])[..., None]
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=int(60 - 15 * severity))
    result = Image.open(io.BytesIO(buf.getvalue()))
    result.load()
    result.info["dpi"] = (DPI, DPI)
    return result


def ocr_page(im: Image.Image, page: int = 0, dpi: int = DPI, correct: bool = True) -> PageText:
    """The page read as the pipeline reads it before the certificate stage: the OCR stage
    (`pipeline.stages.ocr.recognise.ocr_image`: clean, deskew, real Tesseract `-l vie`), then, with
    `correct`, Vietnamese correction (`pipeline.stages.vietnamese.correction.correct_page`)."""
    from pipeline.stages.ocr.recognise import OcrParams, ocr_image

    text, _cleaned = ocr_image(im, OcrParams(), page=page, dpi=dpi)
    if correct:
        from pipeline.stages.vietnamese.correction import correct_page

        text = correct_page(text)
    return text


# --- scoring --------------------------------------------------------------------------------

SCORED = (
    "parcel_number", "map_sheet", "area_m2", "purpose", "purpose_code", "term", "use_form",
    "origin", "address", "issue_date", "issuer", "serial", "registry_number",
    "corners", "owners", "changes",
)  # fmt: skip


def same_text(a: object, b: object) -> bool:
    """Equal as a reader would judge: NFC, case, tone placement (hòa/hoà) and runs of blanks
    ignored; accents count."""
    if a is None or b is None:
        return a is b
    norm = [" ".join(normalise(str(x)).split()) for x in (a, b)]
    return norm[0] == norm[1]


def score(got: dict[str, Any], expected: dict[str, Any]) -> dict[str, bool]:
    """Per field of `expected`, whether `got` (a `to_json()`) has it right: areas within
    0.5 %, corners within 5 cm, owners and change dates exact, change texts ≥ 90 % alike."""
    out: dict[str, bool] = {}
    fields = got.get("fields") or {}
    for name, want in expected["fields"].items():
        have = fields.get(name)
        if name == "area_m2" and want is not None:
            out[name] = have is not None and abs(have - want) <= 0.005 * want
        else:
            out[name] = same_text(have, want)
    if "corners" in expected:
        out["corners"] = _same_corners(got.get("corners") or [], expected["corners"])
    if "owners" in expected:
        out["owners"] = _same_owners(got.get("owners") or [], expected["owners"])
    if "changes" in expected:
        out["changes"] = _same_changes(got.get("changes") or [], expected["changes"])
    return out


def _same_corners(got: list, want: list) -> bool:
    return len(got) == len(want) and all(
        abs(a[0] - b[0]) <= 0.05 and abs(a[1] - b[1]) <= 0.05
        for a, b in zip(got, want, strict=True)
    )


def _same_owners(got: list[dict], want: list[dict]) -> bool:
    keys = ("name", "id_number", "birth_year", "id_kind")
    return len(got) == len(want) and all(
        all(same_text(g.get(k), w[k]) for k in keys) for g, w in zip(got, want, strict=True)
    )


def _same_changes(got: list[dict], want: list[dict]) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):
        ratio = difflib.SequenceMatcher(None, g.get("text") or "", w["text"]).ratio()
        if g.get("date") != w["date"] or ratio < 0.9:
            return False
    return True
