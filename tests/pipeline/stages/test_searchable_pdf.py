"""Searchable PDFs: the page image, with invisible Vietnamese text where the words are."""

from __future__ import annotations

import io

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.media.pdf import PDFIUM_LOCK
from pipeline.stages.ocr.recognise import OcrParams, recognise
from pipeline.stages.pages.pagetext import PageText, Word
from pipeline.stages.pages.searchable_pdf import searchable_pdf
from tests.factories.degrade import render_page

WORDS = [
    Word("Thửa", (200, 300, 330, 350), 96.0, 0, 0),
    Word("đất", (350, 300, 440, 350), 95.0, 0, 0),
    Word("số", (460, 300, 520, 350), 97.0, 0, 0),
    Word("Hoàn", (200, 400, 340, 450), 91.0, 0, 1),
    Word("Kiếm", (360, 400, 500, 450), 92.0, 0, 1),
]


def _page(width: int = 1000, height: int = 1400, dpi: int = 200) -> PageText:
    return PageText(0, "", WORDS, width, height, dpi, 94.0, "ocr", "tesseract 5.3.0", "vie")


def test_words_come_back_out_where_they_were_put():
    image = Image.new("L", (1000, 1400), 255)
    pdf = searchable_pdf([(image, _page())])
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[0]
        assert (round(page.width), round(page.height)) == (360, 504)  # 1000 × 1400 px at 200 dpi
        words = page.extract_words()
        assert page.extract_text().splitlines() == ["Thửa đất số", "Hoàn Kiếm"]
    for got, want in zip(words, WORDS, strict=True):
        box = [got[k] * 200 / 72 for k in ("x0", "top", "x1", "bottom")]
        assert got["text"] == want.text
        assert abs(box[0] - want.box[0]) <= 3 and abs(box[2] - want.box[2]) <= 3
        assert abs((box[1] + box[3]) / 2 - (want.box[1] + want.box[3]) / 2) <= 12


def test_the_text_is_invisible_and_the_image_is_a_jpeg():
    image = Image.new("L", (1000, 1400), 255)
    pdf = searchable_pdf([(image, _page())])
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            objects = list(doc[0].get_objects())
            modes = {
                pdfium_c.FPDFTextObj_GetTextRenderMode(o)
                for o in objects
                if o.type == pdfium_c.FPDF_PAGEOBJ_TEXT
            }
            images = [o for o in objects if o.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]
            assert modes == {pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE}
            assert len(images) == 1 and images[0].get_filters() == ["DCTDecode"]
            rendered = doc[0].render(scale=200 / 72).to_pil().convert("L")
        finally:
            doc.close()
    assert rendered.getextrema()[0] >= 250  # a white image with invisible text stays white


def test_an_ocred_page_is_searchable_in_vietnamese():
    image = render_page(dpi=200, size="A5", seed=2)
    text = recognise(image, OcrParams(), dpi=200)
    pdf = searchable_pdf([(image, text), (image, text)])
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) == 2
        extracted = doc.pages[1].extract_text()
    assert " ".join(extracted.split()) == " ".join(text.text.split())
    assert "Độc lập - Tự do - Hạnh phúc" in extracted


def test_a_jpeg_page_goes_in_as_it_is_not_encoded_again():
    buf = io.BytesIO()
    render_page(dpi=200, size="A5", seed=3).convert("L").save(buf, "JPEG", quality=80)
    jpeg = buf.getvalue()
    pdf = searchable_pdf([(jpeg, _page(*Image.open(buf).size))])
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            images = [o for o in doc[0].get_objects() if o.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]
            assert len(images) == 1
            assert bytes(images[0].get_data(decode_simple=False)) == jpeg  # byte for byte
        finally:
            doc.close()
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert doc.pages[0].extract_text().splitlines() == ["Thửa đất số", "Hoàn Kiếm"]


def test_a_page_image_that_is_no_jpeg_is_refused():
    buf = io.BytesIO()
    Image.new("L", (1000, 1400), 255).save(buf, "PNG")
    with pytest.raises(InputRejectedError, match="JPEG"):
        searchable_pdf([(buf.getvalue(), _page())])


def test_no_pages_is_an_error():
    with pytest.raises(InputRejectedError):
        searchable_pdf([])


def test_a_colour_page_keeps_its_colours_and_a_cmyk_jpeg_is_made_rgb():
    red = Image.new("RGB", (400, 300), (200, 30, 30))
    buf = io.BytesIO()
    Image.new("CMYK", (400, 300), (0, 200, 200, 40)).save(buf, "JPEG", quality=90)
    pdf = searchable_pdf([(red, _page(400, 300)), (buf.getvalue(), _page(400, 300))])
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            colours = [doc[i].render(scale=200 / 72).to_pil().convert("RGB") for i in (0, 1)]
        finally:
            doc.close()
    r, g, b = colours[0].getpixel((200, 150))
    assert r > 180 and g < 60 and b < 60
    r, g, b = colours[1].getpixel((200, 150))
    assert r > 150 and g < 90 and b < 90


CHILD = """
import sys
from PIL import Image
from pipeline.stages.pages.searchable_pdf import searchable_pdf
from tests.pipeline.stages.test_searchable_pdf import _page
pdf = searchable_pdf([(Image.new("L", (1000, 1400), 255), _page())])
assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
print(sorted(m for m in sys.modules if m.split(".")[0] in ("fpdf", "fontTools", "reportlab")))
"""


def test_a_pdf_is_written_without_loading_a_pdf_library():
    """fpdf2 cost a third of a CPU-second to import in every process that assembled a PDF."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
