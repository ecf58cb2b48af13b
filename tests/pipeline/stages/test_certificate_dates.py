"""How sure a certificate's date is: a second, per-digit reading of the words that hold it
(`pipeline/stages/certificate/digits.py`, real Tesseract), and the issue date's confidence
being that of its least sure digit word (`signing.py`)."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.stages.certificate.digits import digit_certainty, doubt_dates
from pipeline.stages.certificate.sections import extract_certificate
from pipeline.stages.pages.pagetext import PageText, Word
from tests.factories.certificates import FONTS
from tests.pipeline.stages.test_certificate import page_of
from tests.pipeline.stages.test_certificate_review import SECTION_II

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def _line(text: str, blur: float = 0.0) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """`text` printed at ~300 dpi on a white strip, and its box."""
    font = ImageFont.truetype(FONTS + "DejaVuSerif.ttf", 42)
    im = Image.new("L", (900, 120), 255)
    d = ImageDraw.Draw(im)
    d.text((40, 30), text, fill=0, font=font)
    box = d.textbbox((40, 30), text, font=font)
    if blur:
        im = im.filter(ImageFilter.GaussianBlur(blur))
    return im, tuple(int(v) for v in box)


def test_a_clearly_printed_date_is_sure_and_other_digits_than_printed_are_not():
    im, box = _line("ngày 25/10/2015")
    assert digit_certainty(im, box, "25/10/2015") > 70
    assert digit_certainty(im, box, "25/10/2013") == 0.0  # the page reading said 2013


def test_a_crop_without_digits_says_nothing():
    im, box = _line("Thửa đất số")
    assert digit_certainty(im, box, "2015") is None


def _page(words: list[Word], size: tuple[int, int]) -> PageText:
    return PageText(0, " ".join(w.text for w in words), words, *size, 300, 90.0, "ocr", "t", "vie")


def test_a_date_the_image_does_not_bear_out_loses_its_confidence_and_a_right_one_keeps_it():
    im, (x0, y0, x1, y1) = _line("ngày 25/10/2015")
    split = x0 + (x1 - x0) * 5 // 15  # "ngày " is 5 of the 15 characters
    label = Word("ngày", (x0, y0, split - 10, y1), 95.0, 0, 0)
    for read, kept in (("25/10/2015", True), ("25/10/2013", False)):
        date_word = Word(read, (split, y0, x1, y1), 93.0, 0, 0)
        got = doubt_dates(_page([label, date_word], im.size), im)
        conf = got.words[1].conf
        assert (conf > 70) is kept, (read, conf)
        assert got.words[0].conf == 95.0  # the label's own confidence is not the date's
        assert ("date_doubts" in got.params) is not kept


def test_the_issue_date_is_as_sure_as_its_least_sure_digit_word():
    page = page_of(SECTION_II, page=1)  # "Hà Nội, ngày 12 tháng 3 năm 2014", every word at 90
    words = [Word(w.text, w.box, 30.0, w.block, w.line) if w.text == "2014" else w
             for w in page.words]  # fmt: skip
    got = extract_certificate([PageText(**{**page.__dict__, "words": words})]).to_json()
    assert got["fields"]["issue_date"] == "2014-03-12"
    review = got["review"]["issue_date"]
    assert review["confidence"] <= 0.3  # the mean of the span's six words would be 0.8
    assert review["needs_review"] is True
    assert review["codes"] == ["low_confidence"]


def test_pages_other_than_a_photo_keep_their_words_as_read():
    """No date on the image: nothing to doubt, the reading is returned as it is."""
    im = Image.fromarray(np.full((100, 400), 255, np.uint8))
    page = _page([Word("Lâu", (10, 10, 80, 50), 91.0, 0, 0)], im.size)
    assert doubt_dates(page, im) is page


def test_a_crop_tesseract_reads_nothing_on_says_nothing():
    im = Image.fromarray(np.full((60, 300), 255, np.uint8))
    assert digit_certainty(im, (10, 10, 290, 50), "25/10/2015") is None


def test_the_dates_words_are_found_and_a_registry_numbers_digits_are_not():
    from pipeline.stages.certificate.digits import _date_groups

    texts = ["CH02012", "Hà", "Nội,", "ngày", "12", "tháng", "3", "năm", "2014"]
    words = [Word(t, (40 * i, 0, 40 * i + 30, 30), 90.0, 0, 0) for i, t in enumerate(texts)]
    assert _date_groups(words) == [[3, 4, 5, 6, 7, 8]]
