"""A searchable PDF of a capture: each page image with an invisible text layer on top.

Each word is written in text render mode 3 (invisible) at its box, in DejaVu Sans (it has every
Vietnamese glyph, and fpdf2 embeds it with a ToUnicode map, so copying or extracting gives
"Thửa đất", not mojibake), with its font size fitted to the box height and its horizontal
scaling to the box width, so selecting a word highlights the word on the image.

A page image given as JPEG bytes (what the ocr job stores) goes into the PDF as it is, its
bytes copied (DCTDecode) rather than decoded and compressed again: no second loss of quality,
and no pixel work at all when a document is assembled.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TypeAlias

from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.stages.pages.pagetext import PageText

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
JPEG_QUALITY = 75
_FONT_BOX = 1.16
"""DejaVu Sans ascent + descent as a share of the font size: a box that tall is one em."""
_DESCENT = 0.24
"""DejaVu Sans descent as a share of the font size (the baseline sits this far above the box)."""

PageImage: TypeAlias = Image.Image | bytes
"""A page image, or a JPEG file's bytes (embedded without re-encoding)."""


def searchable_pdf(pages: Sequence[tuple[PageImage, PageText]]) -> bytes:
    """The PDF bytes: one page per (image, text), sized by the text's dpi.

    Word boxes are pixels of the image (PageText's convention); an image whose size differs
    from the PageText's width/height has its boxes scaled to it.
    """
    from fpdf import FPDF
    from fpdf.enums import TextMode

    if not pages:
        raise InputRejectedError("a searchable PDF needs at least one page")
    if not FONT.is_file():
        raise FileNotFoundError(f"{FONT} is missing: install fonts-dejavu-core")
    pdf = FPDF(unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.set_creator("sohoa")
    for image, text in pages:
        jpeg, (width, height) = _jpeg(image)
        dpi = text.dpi or 300
        w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
        pdf.add_page(format=(w_pt, h_pt))
        pdf.image(jpeg, x=0, y=0, w=w_pt, h=h_pt)
        sx = w_pt / (text.width or width)
        sy = h_pt / (text.height or height)
        with pdf.local_context(text_mode=TextMode.INVISIBLE):
            for line in text.lines():
                top = min(w.box[1] for w in line) * sy
                bottom = max(w.box[3] for w in line) * sy
                for word in line:
                    _place(pdf, word.text, word.box[0] * sx, word.box[2] * sx, top, bottom)
    return bytes(pdf.output())


def _place(pdf, text: str, x0: float, x1: float, top: float, bottom: float) -> None:
    """One word between x0 and x1, on the line from top to bottom (one size and baseline per
    line, so a hyphen or a comma sits on the line rather than floating at its own height)."""
    if x1 <= x0 or bottom <= top or not text.strip():
        return
    size = max(1.0, (bottom - top) / _FONT_BOX)
    pdf.set_font("DejaVu", size=size)
    natural = pdf.get_string_width(text)
    if natural <= 0:
        return
    pdf.set_stretching(100 * (x1 - x0) / natural)
    pdf.text(x0, bottom - _DESCENT * size, text)
    pdf.set_stretching(100)


def _jpeg(image: PageImage) -> tuple[io.BytesIO, tuple[int, int]]:
    """(JPEG bytes of the page, its size in pixels): JPEG bytes as they are, an image encoded
    (grey stays grey: a third of the size of colour)."""
    if isinstance(image, bytes):
        with Image.open(io.BytesIO(image)) as im:  # reads the header only
            if im.format != "JPEG":
                raise InputRejectedError(f"a page image must be a JPEG, not {im.format}")
            return io.BytesIO(image), im.size
    if image.mode not in ("L", "RGB"):
        image = image.convert("L" if image.mode in ("1", "LA", "I", "F") else "RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    buf.seek(0)
    return buf, image.size
