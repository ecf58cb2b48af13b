"""PDF pages PDFium would draw blank or half grey without a word are rejected with a reason,
page by page: the other pages of the file read as before."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.errors import InputRejectedError
from pipeline.stages.pages.images import load_page, page_count
from tests.factories.broken_pdf import write_scan_pdf
from tests.factories.degrade import render_page
from tests.factories.samples import LIMITS

SIZE = (400, 520)


def write_book(path: Path, pages: list[str]) -> Path:
    return write_scan_pdf(path, pages, render_page(dpi=50, size="A5").resize(SIZE))


BROKEN = [
    ("not a JPEG", r"PDF page 2: its scan is not a readable JPEG \(its data is not an image\)"),
    ("cut short", r"PDF page 2: its scan is not a readable JPEG \(image file is truncated"),
    ("missing object", r"PDF page 2 draws nothing: its content is missing"),
    ("flate cut short", r"PDF page 2: its image data is cut short \(104,000 of 208,000 bytes\)"),
]


@pytest.mark.parametrize(("how", "reason"), BROKEN, ids=[h for h, _ in BROKEN])
def test_a_broken_pdf_page_is_rejected_with_its_reason_and_its_neighbours_read(
    tmp_path: Path, how: str, reason: str
):
    pdf = write_book(tmp_path / "book.pdf", ["good", how, "good"])
    assert page_count(pdf, "application/pdf", LIMITS) == 3
    with pytest.raises(InputRejectedError, match=reason):
        load_page(pdf, "application/pdf", 1, dpi=300, limits=LIMITS)
    for index in (0, 2):
        page = load_page(pdf, "application/pdf", index, dpi=300, limits=LIMITS)
        assert page.how == "embedded" and page.image.size == SIZE
        assert page.image.getextrema()[0] < 100  # the scan's dark marks, not a blank page


def test_a_whole_flate_compressed_scan_is_read(tmp_path: Path):
    pdf = write_book(tmp_path / "flate.pdf", ["flate"])
    page = load_page(pdf, "application/pdf", 0, dpi=300, limits=LIMITS)
    assert page.image.size == SIZE and page.image.getextrema()[0] < 100


def test_a_scan_over_the_pixel_limit_is_not_decoded_to_be_checked(tmp_path: Path):
    pdf = write_book(tmp_path / "big.pdf", ["cut short"])
    few_pixels = dataclasses.replace(LIMITS, max_pixels=SIZE[0] * SIZE[1] - 1)
    with pytest.raises(InputRejectedError, match="SOHOA_MAX_PIXELS"):
        load_page(pdf, "application/pdf", 0, dpi=300, limits=few_pixels)
