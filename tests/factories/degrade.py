"""Generated Vietnamese document pages and the ways real scans go wrong, for tests and benches.

`render_page` draws administrative-style Vietnamese text (our own wording, not copied from any
document) with DejaVu fonts at a given dpi; `degrade` applies one kind of damage, seeded.
The text drawn is returned by `page_text` so a reading can be scored against it.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONTS = Path("/usr/share/fonts/truetype/dejavu")
SERIF, SERIF_BOLD = FONTS / "DejaVuSerif.ttf", FONTS / "DejaVuSerif-Bold.ttf"
SANS, SANS_BOLD = FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf"
SIZES_IN = {"A3": (11.69, 16.54), "A4": (8.27, 11.69), "A5": (5.83, 8.27)}
KINDS = ("skew", "uneven_light", "blur", "noise", "jpeg", "rotate90", "rotate180", "stamp")

HEADER = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
TITLES = ["THÔNG TƯ", "QUYẾT ĐỊNH", "THÔNG BÁO", "BIÊN BẢN"]
PARAGRAPHS = [
    "Căn cứ Luật Đất đai và các văn bản hướng dẫn thi hành; xét đề nghị của Phòng Tài nguyên "
    "và Môi trường về việc cấp giấy chứng nhận quyền sử dụng đất cho hộ gia đình tại phường "
    "Yên Hòa, quận Cầu Giấy, thành phố Hà Nội.",
    "Điều 1. Giao cho Ủy ban nhân dân phường kiểm tra hiện trạng thửa đất số 125, tờ bản đồ "
    "số 14, diện tích 86,5 mét vuông, mục đích sử dụng là đất ở tại đô thị, thời hạn sử dụng "
    "lâu dài.",
    "Điều 2. Văn phòng đăng ký đất đai có trách nhiệm cập nhật hồ sơ địa chính, chỉnh lý "
    "biến động và lưu trữ bản sao hồ sơ theo đúng quy định hiện hành.",
    "Điều 3. Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng, Trưởng phòng Tài "
    "nguyên và Môi trường, Chủ tịch Ủy ban nhân dân phường và các cá nhân có liên quan chịu "
    "trách nhiệm thi hành.",
    "Trong quá trình thực hiện, nếu có vướng mắc, đề nghị các cơ quan, đơn vị phản ánh kịp "
    "thời về Sở Tài nguyên và Môi trường để tổng hợp, báo cáo Ủy ban nhân dân thành phố xem "
    "xét, giải quyết.",
    "Di tích đình làng Thụy Khuê được xếp hạng di tích lịch sử văn hóa cấp thành phố; việc tu "
    "bổ, phục hồi phải giữ gìn nguyên trạng kiến trúc, hoành phi, câu đối và các hiện vật cổ.",
]


def page_text(seed: int = 0, paragraphs: int = 4) -> str:
    """The text of generated page `seed`: header, a title, then body paragraphs."""
    rng = random.Random(seed)
    title = TITLES[seed % len(TITLES)]
    body = rng.sample(PARAGRAPHS, k=min(paragraphs, len(PARAGRAPHS)))
    return "\n".join([*HEADER, title, f"Số: {100 + seed}/QĐ-UBND", *body])


def render_page(
    text: str | None = None, *, dpi: int = 300, size: str = "A4", seed: int = 0
) -> Image.Image:
    """A white page (mode L) with `text` (default `page_text(seed)`) drawn like an official
    document: the first two lines are the national header (bold capitals, centred), the third
    the title (bold, centred), the rest left-aligned serif body text wrapped to the margins."""
    text = page_text(seed) if text is None else text
    w_in, h_in = SIZES_IN[size]
    width, height = round(w_in * dpi), round(h_in * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    pt = dpi / 72
    margin = round(0.9 * dpi)
    y = round(0.8 * dpi)
    for number, line in enumerate(text.split("\n")):
        bold = number < 3
        font = ImageFont.truetype(
            str(SANS_BOLD if bold else SERIF), round((13 if bold else 12) * pt)
        )
        if number == 2:
            y += round(10 * pt)
        for piece in _wrap(draw, line, font, width - 2 * margin):
            x = margin
            if bold:
                x = (width - draw.textlength(piece, font=font)) / 2
            draw.text((x, y), piece, font=font, fill=0)
            y += round(font.size * 1.5)
            if y > height - margin:
                return page
        y += round(4 * pt)
    return page


def _wrap(draw: ImageDraw.ImageDraw, line: str, font: ImageFont.FreeTypeFont, width: int) -> list:
    out: list[str] = []
    current = ""
    for word in line.split():
        trial = f"{current} {word}".strip()
        if current and draw.textlength(trial, font=font) > width:
            out.append(current)
            current = word
        else:
            current = trial
    return [*out, current] if current else out


def degrade(image: Image.Image, kind: str, seed: int = 0) -> Image.Image:
    """One kind of damage (see KINDS), strength drawn from `seed`. Returns a mode L image."""
    rng = np.random.default_rng(seed)
    grey = image.convert("L")
    if kind == "skew":
        angle = float(rng.uniform(2.0, 5.0) * rng.choice([-1, 1]))
        return grey.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if kind == "uneven_light":
        return _uneven_light(grey, rng)
    if kind == "blur":
        return grey.filter(ImageFilter.GaussianBlur(float(rng.uniform(2.6, 3.2))))
    if kind == "noise":
        return _noise(grey, rng)
    if kind == "jpeg":
        buf = io.BytesIO()
        small = grey.resize((grey.width // 2, grey.height // 2), Image.Resampling.BILINEAR)
        small.save(buf, "JPEG", quality=int(rng.integers(5, 9)))
        return Image.open(io.BytesIO(buf.getvalue())).convert("L").resize(grey.size)
    if kind == "rotate90":
        return grey.transpose(Image.Transpose.ROTATE_90)
    if kind == "rotate180":
        return grey.transpose(Image.Transpose.ROTATE_180)
    if kind == "stamp":
        return _stamp(grey, rng)
    raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")


def _stamp(grey: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A round seal (red ink, as grey) with a star and a signature's strokes laid over the
    text, as on a signed decision: the ink multiplies, so the text under it stays dark."""
    w, h = grey.size
    r = round(w * rng.uniform(0.11, 0.14))
    cx, cy = round(w * rng.uniform(0.55, 0.7)), round(h * rng.uniform(0.45, 0.75))
    seal = Image.new("L", grey.size, 255)
    d = ImageDraw.Draw(seal)
    ink = int(rng.integers(90, 130))
    for k, width in ((0, max(3, r // 25)), (r // 5, max(2, r // 40)), (r // 2, max(2, r // 40))):
        d.ellipse((cx - r + k, cy - r + k, cx + r - k, cy + r - k), outline=ink, width=width)
    star = [
        (cx + r * 0.25 * (1 if i % 2 == 0 else 0.4) * np.sin(i * np.pi / 5),
         cy - r * 0.25 * (1 if i % 2 == 0 else 0.4) * np.cos(i * np.pi / 5))
        for i in range(10)
    ]  # fmt: skip
    d.polygon(star, fill=ink)
    for _ in range(3):  # the signature
        xs = np.linspace(cx - r * 0.8, cx + r * 1.6, 40)
        ys = cy + r * 0.3 * np.sin(xs / r * rng.uniform(2, 5)) + rng.uniform(-r / 3, r / 3)
        d.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=20, width=max(2, r // 60))
    return ImageChops.darker(grey, seal)


def _uneven_light(grey: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A dim corner and a shadow across the page, on yellowed paper."""
    h, w = grey.height, grey.width
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    dist = np.hypot(xs - cx, ys - cy) / np.hypot(w, h)
    light = 0.95 - 0.6 * dist - 0.25 * (xs / w) ** 2
    a = np.asarray(grey, dtype=np.float32)
    paper = 235 * light
    out = paper - (255 - a) / 255 * paper * 0.85
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "L")


def _noise(grey: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Sensor noise plus salt-and-pepper specks."""
    a = np.asarray(grey, dtype=np.float32)
    a = a + rng.normal(0, 60, a.shape)
    specks = rng.random(a.shape)
    a[specks < 0.01] = 0
    a[specks > 0.99] = 255
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")


# --- files ---------------------------------------------------------------------------------------


def write_text_pdf(path: Path, text: str, *, font_size: float = 12) -> Path:
    """A born-digital A4 PDF (fpdf2, DejaVu Serif embedded) with `text` as real text, one
    line per line of `text`, starting 72 pt from the top-left corner, 1.5 lines apart."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.add_font("DejaVuSerif", "", str(SERIF))
    pdf.set_font("DejaVuSerif", size=font_size)
    y = 72.0
    for line in text.split("\n"):
        pdf.text(72, y + font_size, line)
        y += font_size * 1.5
    pdf.output(str(path))
    return path


def write_tiff_with_corrupt_frame(path: Path, pages: list[Image.Image], bad: int) -> Path:
    """A multi-page deflate-compressed TIFF whose page `bad` (0-based) has garbage for data."""
    from pipeline.media.images import tiff_pages

    pages[0].save(
        path, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_adobe_deflate"
    )
    with path.open("r+b") as f:
        frame = list(tiff_pages(f, path.stat().st_size, len(pages)))[bad]
        for offset, count in zip(frame.offsets, frame.byte_counts, strict=True):
            f.seek(offset)
            f.write(bytes((i * 37 + 11) % 256 for i in range(count)))
    return path


# --- development pages (issue 19) ----------------------------------------------------------------

DEV_PDF = "hrmaster1982-dev_phapluat-8chude-data__nghi-dinh-so-51-2025-nd-cp-44397.pdf"
"""A born-digital page of the development set (../shared/data/ocr-vie/born_digital): tests
that need a real government page use it, never an evaluation page (gov_docs, sealed)."""


def render_pdf_page(pdf: Path, index: int = 0, dpi: int = 200) -> Image.Image:
    """Page `index` of a PDF drawn in grey at `dpi` (pypdfium2), as a scanner would see it."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return doc[index].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        doc.close()


def pdf_page_text(pdf: Path, index: int = 0) -> str:
    """The text layer of one page (pdfplumber), NFC: the ground truth of a rendered page."""
    import unicodedata

    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        return unicodedata.normalize("NFC", doc.pages[index].extract_text() or "")


def write_image_pdf(path: Path, image: Image.Image, dpi: int = 200) -> Path:
    """An image-only PDF of one page (the image embedded at `dpi`, no text layer)."""
    image.save(path, "PDF", resolution=dpi)
    return path


MARK_KINDS = ("seal", "stamp", "signature", "logo", "rule")


def add_marks(
    page: Image.Image,
    seed: int = 0,
    kinds: tuple[str, ...] = MARK_KINDS,
    at: tuple[float, float] | None = None,
) -> Image.Image:
    """A generated page with the marks that are not text drawn where real ones sit: a round
    seal with its lettered ring over the signature block, a boxed stamp ("ĐÃ KÝ"), a signature,
    a filled logo in the top-left corner, and rules under the header and across the foot. The
    ink multiplies (darker wins), as a stamp on a printed page does. `at`: where the signature
    block is (shares of width and height); default a random place in the lower right."""
    rng = np.random.default_rng(seed)
    grey = page.convert("L")
    w, h = grey.size
    marks = Image.new("L", grey.size, 255)
    d = ImageDraw.Draw(marks)
    unit = w / 100
    ink = int(rng.integers(80, 130))
    if "seal" in kinds:
        r = unit * rng.uniform(9, 12)
        cx, cy = w * rng.uniform(0.6, 0.72), h * rng.uniform(0.55, 0.8)
        if at is not None:
            cx, cy = w * (at[0] - rng.uniform(0.04, 0.1)), h * at[1]
        d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ink, width=max(3, round(r / 18)))
        d.ellipse((cx - 0.7 * r, cy - 0.7 * r, cx + 0.7 * r, cy + 0.7 * r), outline=ink, width=2)
        font = ImageFont.truetype(str(SANS_BOLD), max(8, round(r / 7)))
        for i, ch in enumerate("ỦY BAN NHÂN DÂN * PHƯỜNG YÊN HÒA *"):
            a = 2 * np.pi * i / 34
            d.text((cx + 0.85 * r * np.sin(a), cy - 0.85 * r * np.cos(a)), ch, font=font, fill=ink)
    if "stamp" in kinds:
        x0, y0 = w * rng.uniform(0.08, 0.2), h * rng.uniform(0.6, 0.85)
        x1, y1 = x0 + unit * 22, y0 + unit * 7
        d.rectangle((x0, y0, x1, y1), outline=ink, width=max(3, round(unit / 3)))
        font = ImageFont.truetype(str(SANS_BOLD), round(unit * 3.2))
        d.text((x0 + unit * 3, y0 + unit * 1.5), "ĐÃ KÝ", font=font, fill=ink)
    if "signature" in kinds:
        x0, y0 = w * rng.uniform(0.55, 0.65), h * rng.uniform(0.6, 0.85)
        if at is not None:
            x0, y0 = w * (at[0] - 0.1), h * at[1]
        xs = np.linspace(x0, x0 + unit * 25, 80)
        ys = y0 + unit * 2 * np.sin((xs - x0) / unit * rng.uniform(0.6, 1.2)) * np.linspace(
            1, 0.3, 80
        )
        d.line(
            list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=25, width=max(2, round(unit / 4))
        )
        d.line(
            (x0, y0 + unit * 3, x0 + unit * 20, y0 - unit), fill=25, width=max(2, round(unit / 4))
        )
    if "logo" in kinds:
        r = unit * 5
        cx, cy = w * 0.1, h * 0.05
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=ink)
        d.polygon(
            [(cx, cy - 0.7 * r), (cx + 0.6 * r, cy + 0.5 * r), (cx - 0.6 * r, cy + 0.5 * r)],
            fill=250,
        )
    if "rule" in kinds:
        for y in (h * 0.14, h * 0.95):
            d.line((w * 0.08, y, w * 0.92, y), fill=0, width=max(2, round(unit / 5)))
    return ImageChops.darker(grey, marks)


def handwriting_page(dpi: int = 200, seed: int = 0) -> Image.Image:
    """An A5 page of pure cursive handwriting (joined loops on ruled lines, no print)."""
    rng = np.random.default_rng(seed)
    w, h = round(5.83 * dpi), round(8.27 * dpi)
    page = Image.new("L", (w, h), 245)
    d = ImageDraw.Draw(page)
    step = dpi // 3
    for y in range(dpi // 2, h - dpi // 2, step):
        x = dpi // 2 + int(rng.integers(0, dpi // 4))
        while x < w - dpi // 2:
            n = int(rng.integers(20, 60))
            xs = x + np.cumsum(rng.uniform(1, 4, n)) * dpi / 100
            ys = y + np.sin(np.linspace(0, rng.uniform(4, 12), n)) * step * 0.25
            ys += rng.normal(0, step * 0.06, n)
            d.line(
                list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=40, width=max(2, dpi // 90)
            )
            x = int(xs[-1]) + int(rng.integers(dpi // 12, dpi // 5))
    return page


def wall_photo(width: int = 1600, height: int = 1200, seed: int = 0) -> Image.Image:
    """A photo of a brick wall: mortar lines, brick texture, light falling off."""
    rng = np.random.default_rng(seed)
    a = rng.normal(150, 25, (height, width)).astype(np.float32)
    brick_h, brick_w = 60, 150
    for row, y in enumerate(range(0, height, brick_h)):
        a[y : y + 8] = 215
        offset = (row % 2) * brick_w // 2
        for x in range(offset, width, brick_w):
            a[y : y + brick_h, x : x + 8] = 215
    a *= np.linspace(1.0, 0.7, width)[None, :]
    image = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "L")
    return image.filter(ImageFilter.GaussianBlur(1.2))


def annotated_page(seed: int = 1) -> Image.Image:
    """A short printed 300-dpi page (four lines, big type, read in seconds) with a line of
    cursive handwriting under the print, a round seal and a boxed stamp: the reading skips the
    seal and reads the handwriting at low confidence (the staff page's overlays)."""
    page = Image.new("L", (1240, 1400), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(SANS), 44)
    for i, line in enumerate(ANNOTATED_LINES):
        draw.text((90, 90 + i * 110), line, fill=0, font=font)
    note = handwriting_page(dpi=300, seed=seed).crop((150, 140, 1100, 340))
    page.paste(note, (90, 540))
    return add_marks(page, 7, kinds=("stamp", "seal"))


ANNOTATED_LINES = (
    "QUYẾT ĐỊNH",
    "Về việc công nhận di tích",
    "Đình làng Đông Ngạc",
    "thuộc phường Đông Ngạc",
)


def two_column_page(
    seed: int = 0, *, dpi: int = 200, gutter_in: float = 0.3, size: str = "A4"
) -> tuple[Image.Image, list[str], list[str]]:
    """A page printed in two columns, as registers and gazettes are: the national header and a
    title centred across the page, then body paragraphs wrapped to the left column, then the
    right one, `gutter_in` inches apart. Returns (mode L image, the left column's lines, the
    right column's lines), lines as drawn."""
    rng = random.Random(seed)
    w_in, h_in = SIZES_IN[size]
    width, height = round(w_in * dpi), round(h_in * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    pt = dpi / 72
    margin, y = round(0.8 * dpi), round(0.7 * dpi)
    bold = ImageFont.truetype(str(SANS_BOLD), round(12 * pt))
    for line in [*HEADER, TITLES[seed % len(TITLES)]]:
        draw.text(((width - draw.textlength(line, font=bold)) / 2, y), line, font=bold, fill=0)
        y += round(bold.size * 1.6)
    top = y + round(8 * pt)
    font = ImageFont.truetype(str(SERIF), round(11 * pt))
    column = (width - 2 * margin - round(gutter_in * dpi)) // 2
    paragraphs = rng.sample(PARAGRAPHS, k=len(PARAGRAPHS))
    columns: list[list[str]] = [[], []]
    for side, chosen in enumerate((paragraphs[:3], paragraphs[3:])):
        x, y = margin + side * (column + round(gutter_in * dpi)), top
        for paragraph in chosen:
            for piece in _wrap(draw, paragraph, font, column):
                draw.text((x, y), piece, font=font, fill=0)
                columns[side].append(piece)
                y += round(font.size * 1.45)
            y += round(5 * pt)
    return page, columns[0], columns[1]


# --- administrative documents with a two-column header and footer (issue 19) ---------------------

ISSUERS = [
    ("ỦY BAN NHÂN DÂN", "QUẬN CẦU GIẤY", "UBND", "Cầu Giấy"),
    ("ỦY BAN NHÂN DÂN", "HUYỆN ĐÔNG ANH", "UBND", "Đông Anh"),
    ("SỞ XÂY DỰNG", "THÀNH PHỐ HÀ NỘI", "SXD", "Hà Nội"),
    ("BAN QUẢN LÝ DI TÍCH", "THÀNH PHỐ HÀ NỘI", "BQLDT", "Hà Nội"),
    ("ỦY BAN NHÂN DÂN", "PHƯỜNG THỤY KHUÊ", "UBND", "Thụy Khuê"),
    ("VĂN PHÒNG ĐĂNG KÝ", "ĐẤT ĐAI HÀ NỘI", "VPĐK", "Hà Nội"),
]
SUBJECTS = [
    "Về việc cấp giấy chứng nhận quyền sử dụng đất",
    "Về việc tu bổ di tích đình làng",
    "Về việc thu hồi đất để mở rộng đường giao thông",
    "Về việc chỉnh lý biến động hồ sơ địa chính",
]
RECIPIENTS = [
    "- Như Điều 3;",
    "- Thường trực Thành ủy;",
    "- Chủ tịch, các Phó Chủ tịch;",
    "- Sở Tài nguyên và Môi trường;",
    "- Phòng Quản lý đô thị;",
    "- Cổng thông tin điện tử;",
    "- Trung tâm Lưu trữ lịch sử;",
    "- Lưu: VT, TNMT.",
]
SIGNERS = [
    ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
    ("GIÁM ĐỐC",),
    ("KT. TRƯỞNG BAN", "PHÓ TRƯỞNG BAN"),
]
NAMES = ["Nguyễn Văn Hùng", "Trần Thị Minh Ngọc", "Lê Quang Vinh", "Phạm Thu Hằng"]


def admin_page(seed: int = 0, *, dpi: int = 300, signed: bool = True) -> tuple[Image.Image, str]:
    """An A4 administrative document laid out as Vietnamese decisions are (our own wording):
    a two-column header (the issuer and the number on the left, the national motto and the
    place and date on the right, each block centred in its column), a centred title and
    subject, body paragraphs across the page, and a two-column footer (the "Nơi nhận:" list on
    the left, the signer's titles and name on the right, `signed`: a seal and a signature over
    them). Returns (mode L image, the text in reading order: header left, header right, title,
    body, footer left, footer right; lines as drawn, blocks separated by newlines)."""
    rng = random.Random(seed)
    w_in, h_in = SIZES_IN["A4"]
    width, height = round(w_in * dpi), round(h_in * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    pt = dpi / 72
    margin = round(0.8 * dpi)

    def font(path: Path, size: float) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(path), round(size * pt))

    issuer, unit, code, place = ISSUERS[seed % len(ISSUERS)]
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    left = [(issuer, font(SERIF, 12.5)), (unit, font(SERIF_BOLD, 12.5))]
    left_after = [(f"Số: {rng.randint(10, 4999)}/QĐ-{code}", font(SERIF, 12.5))]
    right = [
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font(SERIF_BOLD, 12)),
        ("Độc lập - Tự do - Hạnh phúc", font(SERIF_BOLD, 12.5)),
    ]
    right_after = [(f"{place}, ngày {day} tháng {month} năm 2025", font(SERIF, 12.5))]
    split = margin + round(0.38 * (width - 2 * margin))
    top = round(0.6 * dpi)
    _centred_block(draw, left, left_after, (margin, split), top, pt)
    _centred_block(draw, right, right_after, (split, width - margin), top, pt)
    y = top + round(95 * pt)
    title = [
        ("QUYẾT ĐỊNH", font(SERIF_BOLD, 14)),
        (SUBJECTS[seed % len(SUBJECTS)], font(SERIF_BOLD, 13)),
    ]
    y = _centred_block(draw, title, [], (margin, width - margin), y, pt) + round(10 * pt)
    body_font = font(SERIF, 13)
    body: list[str] = []
    for paragraph in rng.sample(PARAGRAPHS, k=rng.randint(2, 4)):
        for piece in _wrap(draw, paragraph, body_font, width - 2 * margin):
            draw.text((margin, y), piece, font=body_font, fill=0)
            body.append(piece)
            y += round(body_font.size * 1.45)
        y += round(4 * pt)
    y += round(10 * pt)
    recipients = ["Nơi nhận:", *rng.sample(RECIPIENTS[:-1], k=rng.randint(3, 6)), RECIPIENTS[-1]]
    small = font(SERIF, 10.5)
    for n, line in enumerate(recipients):
        draw.text((margin, y + n * round(small.size * 1.4)), line, font=small, fill=0)
    signer = SIGNERS[seed % len(SIGNERS)]
    name = NAMES[seed % len(NAMES)]
    titles = [(t, font(SERIF_BOLD, 12.5)) for t in signer]
    gap = round(70 * pt)
    bottom = _centred_block(draw, titles, [], (split, width - margin), y, pt)
    _centred_block(
        draw, [(name, font(SERIF_BOLD, 12.5))], [], (split, width - margin), bottom + gap, pt
    )
    if signed:
        page = add_marks(
            page,
            seed,
            kinds=("seal", "signature"),
            at=((split + width - margin) / 2 / width, (bottom + gap / 2) / height),
        )
    blocks = [
        [t for t, _ in left + left_after],
        [t for t, _ in right + right_after],
        [t for t, _ in title],
        body,
        recipients,
        [*signer, name],
    ]
    return page, "\n".join("\n".join(b) for b in blocks)


def _centred_block(
    draw: ImageDraw.ImageDraw,
    lines: list[tuple[str, ImageFont.FreeTypeFont]],
    after_rule: list[tuple[str, ImageFont.FreeTypeFont]],
    span: tuple[int, int],
    y: int,
    pt: float,
) -> int:
    """Draw `lines` centred in the horizontal `span` from `y`, then (when `after_rule` is
    given) a short rule under them and `after_rule` below it. Returns the y below the block."""
    middle = (span[0] + span[1]) / 2
    widest = 0.0
    for text, f in lines:
        length = draw.textlength(text, font=f)
        widest = max(widest, length)
        draw.text((middle - length / 2, y), text, font=f, fill=0)
        y += round(f.size * 1.35)
    if after_rule:
        rule = widest * 0.35
        draw.line(
            (middle - rule / 2, y + 2 * pt, middle + rule / 2, y + 2 * pt),
            fill=0,
            width=max(1, round(pt * 0.7)),
        )
        y += round(12 * pt)
        for text, f in after_rule:
            draw.text((middle - draw.textlength(text, font=f) / 2, y), text, font=f, fill=0)
            y += round(f.size * 1.35)
    return y
