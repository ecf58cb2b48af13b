"""A searchable PDF is written page by page: assembling 200 pages holds no more memory than
assembling 20 (a 2,000-page register must not need its whole PDF in memory)."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

from pipeline.media.pdf import open_pdf
from pipeline.stages.pages.pagetext import PageText, Word
from pipeline.stages.pages.searchable_pdf import write_searchable_pdf

WORDS = [Word(f"chữ{i}", (20 + 40 * i, 30, 55 + 40 * i, 50), 90.0, 0, 0) for i in range(8)]


def _pages(count: int) -> Iterator[tuple[bytes, PageText]]:
    """Pages made one at a time, as the text job reads them from the blob store."""
    for n in range(count):
        image = Image.effect_noise((400, 300), 40 + n % 20).convert("L")  # ~60 kB as JPEG
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        text = PageText(n, "", WORDS, 400, 300, 150, 90.0, "ocr", "tesseract 5.3.0", "vie")
        yield out.getvalue(), text


def _peak_writing(count: int, path: Path) -> tuple[int, int]:
    """(peak traced bytes, size of the PDF) of writing `count` pages to `path`."""
    tracemalloc.start()
    try:
        with path.open("wb") as f:
            write_searchable_pdf(_pages(count), f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, path.stat().st_size


def test_the_peak_memory_of_writing_a_searchable_pdf_does_not_grow_with_its_pages(
    tmp_path: Path,
):
    _peak_writing(2, tmp_path / "warm.pdf")  # imports and caches (the glyphless font)
    few, few_size = _peak_writing(20, tmp_path / "20.pdf")
    many, many_size = _peak_writing(200, tmp_path / "200.pdf")
    assert many_size > 8 * few_size  # ten times the pages really were written
    assert many < few * 1.5 + 256 * 1024, f"20 pages: {few:,} B peak, 200 pages: {many:,} B"
    assert many < many_size / 10  # far below the PDF: never held whole


def test_a_pdf_written_page_by_page_opens_with_every_page_and_its_words(tmp_path: Path):
    path = tmp_path / "book.pdf"
    with path.open("wb") as f:
        assert write_searchable_pdf(_pages(30), f) == 30
    with open_pdf(path) as pdf:
        assert len(pdf) == 30
        page = pdf[29]
        text = page.get_textpage()
        assert "chữ7" in text.get_text_bounded()
        text.close()
        page.close()
    assert isinstance(pdf, pdfium.PdfDocument)
