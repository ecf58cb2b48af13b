"""A searchable PDF of a capture: each page image with an invisible text layer on top.

The PDF is written here, object by object (no PDF library: fpdf2 took a third of a CPU-second
to import and ten milliseconds a page to place words). The text layer is drawn the way
Tesseract's and OCRmyPDF's PDF renderers draw theirs: in text render mode 3 (invisible), in a
glyphless font whose character codes are the text's UTF-16 code units, with a ToUnicode map
that gives them back, so copying or extracting gives "Thửa đất", not mojibake, whatever the
script. Each word is placed at its box: the font size is its line's height (one size and
baseline per line, so a comma sits on the line), and its horizontal scaling fits the box's
width, so selecting a word highlights the word on the image.

A page image given as JPEG bytes (what the ocr job stores) goes into the PDF as it is, its
bytes copied (DCTDecode) rather than decoded and compressed again: no second loss of quality,
and no pixel work at all when a document is assembled.
"""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO, TypeAlias

from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.stages.pages.pagetext import PageText

JPEG_QUALITY = 75
_ADVANCE = 0.5
"""Every glyph of the glyphless font is half an em wide (its /DW of 500)."""
_DESCENT = 0.2
"""The font's descent as a share of its size: the baseline sits this far above the box."""
_GLYPHLESS_FONTS = ("/usr/share/tesseract-ocr/*/tessdata/pdf.ttf", "/usr/share/tessdata/pdf.ttf")
"""Tesseract's own glyphless TrueType font (tessdata/pdf.ttf), embedded when installed."""

PageImage: TypeAlias = Image.Image | bytes
"""A page image, or a JPEG file's bytes (embedded without re-encoding)."""

_CMAP = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMapType get pop
end
end
"""


def searchable_pdf(pages: Sequence[tuple[PageImage, PageText]]) -> bytes:
    """The PDF bytes: one page per (image, text), sized by the text's dpi (for a few pages;
    a document's PDF is written to a file with `write_searchable_pdf`)."""
    out = io.BytesIO()
    write_searchable_pdf(pages, out)
    return out.getvalue()


def write_searchable_pdf(pages: Iterable[tuple[PageImage, PageText]], out: BinaryIO) -> int:
    """Write the PDF to `out` page by page; returns the number of pages.

    Each page's objects are written as soon as the page is drawn and only their offsets kept,
    so memory holds one page whatever the page count (a 2,000-page register), as long as
    `pages` is a generator that reads them one at a time. Word boxes are pixels of the image
    (PageText's convention); an image whose size differs from the PageText's width/height has
    its boxes scaled to it.
    """
    pdf = _Writer(out)
    catalog, tree, font = pdf.reserve(), pdf.reserve(), _font(pdf)
    kids = [_page(pdf, tree, font, image, text) for image, text in pages]
    if not kids:
        raise InputRejectedError("a searchable PDF needs at least one page")
    refs = " ".join(f"{k} 0 R" for k in kids)
    pdf.put(tree, f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>".encode())
    pdf.put(catalog, f"<< /Type /Catalog /Pages {tree} 0 R >>".encode())
    info = pdf.add(b"<< /Creator (sohoa) /Producer (sohoa) >>")
    pdf.finish(catalog, info)
    return len(kids)


def _page(pdf: _Writer, tree: int, font: int, image: PageImage, text: PageText) -> int:
    jpeg, (width, height), colour = _jpeg(image)
    dpi = text.dpi or 300
    w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
    space = "/DeviceRGB" if colour else "/DeviceGray"
    picture = pdf.add_stream(
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace "
        f"{space} /BitsPerComponent 8 /Filter /DCTDecode".encode(),
        jpeg,
    )
    ops = [f"q {w_pt:.3f} 0 0 {h_pt:.3f} 0 0 cm /Im0 Do Q\nBT 3 Tr"]
    sx, sy = w_pt / (text.width or width), h_pt / (text.height or height)
    for line in text.lines():
        top = min(w.box[1] for w in line) * sy
        bottom = max(w.box[3] for w in line) * sy
        size = bottom - top
        if size <= 0:
            continue
        ops.append(f"/F0 {size:.2f} Tf")
        baseline = h_pt - bottom + _DESCENT * size
        for word in line:
            codes = word.text.strip().encode("utf-16-be")
            x0, x1 = word.box[0] * sx, word.box[2] * sx
            if not codes or x1 <= x0:
                continue
            stretch = 100 * (x1 - x0) / (len(codes) // 2 * _ADVANCE * size)
            ops.append(f"{stretch:.2f} Tz 1 0 0 1 {x0:.2f} {baseline:.2f} Tm <{codes.hex()}> Tj")
    ops.append("ET\n")
    content = pdf.add_stream(b"<< /Filter /FlateDecode", zlib.compress("\n".join(ops).encode()))
    return pdf.add(
        f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {w_pt:.3f} {h_pt:.3f}] "
        f"/Resources << /XObject << /Im0 {picture} 0 R >> /Font << /F0 {font} 0 R >> >> "
        f"/Contents {content} 0 R >>".encode()
    )


def _font(pdf: _Writer) -> int:
    """The glyphless Type 0 font: Identity-H codes (UTF-16 code units) all drawn by glyph 1."""
    descriptor = (
        b"<< /Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 "
        b"/FontBBox [0 -200 500 800] /ItalicAngle 0 /Ascent 800 /Descent -200 "
        b"/CapHeight 800 /StemV 80"
    )
    program = _glyphless_program()
    if program is not None:
        file = pdf.add_stream(f"<< /Length1 {len(program)}".encode(), program)
        descriptor += f" /FontFile2 {file} 0 R".encode()
    described = pdf.add(descriptor + b" >>")
    to_gid = pdf.add_stream(b"<< /Filter /FlateDecode", _cid_to_gid())
    cid_font = pdf.add(
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont "
        f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        f"/FontDescriptor {described} 0 R /DW {round(_ADVANCE * 1000)} "
        f"/CIDToGIDMap {to_gid} 0 R >>".encode()
    )
    unicode_map = pdf.add_stream(b"<<", _CMAP)
    return pdf.add(
        f"<< /Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H "
        f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {unicode_map} 0 R >>".encode()
    )


@functools.cache
def _cid_to_gid() -> bytes:
    return zlib.compress(b"\x00\x01" * 65536)


@functools.cache
def _glyphless_program() -> bytes | None:
    for pattern in _GLYPHLESS_FONTS:
        for path in sorted(Path("/").glob(pattern.lstrip("/")), reverse=True):
            return path.read_bytes()
    return None


class _Writer:
    """PDF objects written to a stream as they are added (a reserved one when it is put), in
    any order; only their offsets are kept, for the cross-reference table that finds them."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._start = out.tell()
        self._offsets: dict[int, int] = {}
        self._next = 1
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def reserve(self) -> int:
        number, self._next = self._next, self._next + 1
        return number

    def put(self, number: int, body: bytes) -> None:
        self._offsets[number] = self._out.tell() - self._start
        self._out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    def add(self, body: bytes) -> int:
        number = self.reserve()
        self.put(number, body)
        return number

    def add_stream(self, head: bytes, data: bytes) -> int:
        """A stream object; `head` is its dictionary without the closing >> or /Length."""
        number = self.reserve()
        self._offsets[number] = self._out.tell() - self._start
        self._out.write(b"%d 0 obj\n" % number + head + b" /Length %d >>\nstream\n" % len(data))
        self._out.write(data)  # a page's JPEG is not copied into a second buffer
        self._out.write(b"\nendstream\nendobj\n")
        return number

    def finish(self, root: int, info: int) -> None:
        out = self._out
        xref = out.tell() - self._start
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % self._next)
        out.write(b"".join(b"%010d 00000 n \n" % self._offsets[n] for n in range(1, self._next)))
        out.write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (self._next, root, info, xref)
        )


def _jpeg(image: PageImage) -> tuple[bytes, tuple[int, int], bool]:
    """(JPEG bytes of the page, its size in pixels, colour?): JPEG bytes as they are (a CMYK
    one made RGB), an image encoded (grey stays grey: a third of the size of colour)."""
    if isinstance(image, bytes):
        with Image.open(io.BytesIO(image)) as im:  # reads the header only
            if im.format != "JPEG":
                raise InputRejectedError(f"a page image must be a JPEG, not {im.format}")
            if im.mode in ("L", "RGB"):
                return image, im.size, im.mode == "RGB"
            im.load()
            image = im.convert("RGB")
    if image.mode not in ("L", "RGB"):
        image = image.convert("L" if image.mode in ("1", "LA", "I", "F") else "RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue(), image.size, image.mode == "RGB"
