"""Two-column pages (registers, gazettes) are read column by column: the left column's lines in
order, then the right column's, never a left line joined to a right one; a single-column page is
left as Tesseract ordered it. Generated pages, real Tesseract."""

from __future__ import annotations

import pytest

from models.language.text import fold
from pipeline.stages.ocr.recognise import OcrParams, ocr_image
from tests.factories.degrade import render_page, two_column_page


def positions(text: str, lines: list[str]) -> list[int]:
    """Where each printed line starts in the text read (folded), -1 when it was not found
    whole (read wrong or joined to another)."""
    haystack = fold(" ".join(text.split()))
    return [haystack.find(fold(line)) for line in lines]


@pytest.mark.parametrize("gutter_in", [0.06, 0.3])
def test_a_two_column_page_is_read_left_column_then_right(gutter_in):
    image, left, right = two_column_page(seed=0, dpi=200, gutter_in=gutter_in)
    page, _ = ocr_image(image, OcrParams(), dpi=200)
    read = positions(page.text, left + right)
    found = [p for p in read if p >= 0]
    assert len(found) >= 0.8 * len(read), page.text  # most lines read whole…
    assert found == sorted(found), page.text  # …and in column order
    last_left = max(p for p in read[: len(left)])
    first_right = min(p for p in read[len(left) :] if p >= 0)
    assert last_left < first_right
    if gutter_in < 0.1:  # Tesseract alone joins lines across a gutter this narrow
        assert page.params["columns"]["top"] < page.params["columns"]["bottom"]


def test_a_single_column_page_has_no_columns():
    page, _ = ocr_image(render_page(dpi=200, seed=3), OcrParams(), dpi=200)
    assert "columns" not in page.params
    assert "Độc lập - Tự do - Hạnh phúc" in page.text.split("\n")[1]
