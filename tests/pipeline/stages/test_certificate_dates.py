"""How sure a certificate's date is: a second, per-digit reading of the words that hold it
(`pipeline/stages/certificate/digits.py`, real Tesseract), and the issue date's confidence
being that of its least sure digit word (`signing.py`)."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.stages.certificate.digits import (
    SURE_MARGIN,
    date_sureness,
    digit_certainty,
    doubt_dates,
)
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


def test_a_second_reading_that_reads_other_digits_makes_the_date_doubtful():
    assert date_sureness("25/10/2015", ("25102013", 90.0)) == 0.0  # a digit changed
    assert date_sureness("11072018", ("111072018", 90.0)) == 0.0  # a digit added
    assert date_sureness("04052025", ("04502025", 90.0)) == 0.0  # digits in another order


def test_a_second_reading_that_drops_a_digit_and_agrees_on_the_rest_is_no_contradiction():
    """A lone short word is Tesseract's weak point ("11" read "1"): the digits it did read
    agree, so its margin is what counts."""
    assert date_sureness("ngày 11 tháng 07 năm 2018", ("1072018", 85.0)) == 100.0
    assert date_sureness("ngày 11 tháng 07 năm 2018", ("1072018", 20.0)) == 20.0


def test_only_a_narrow_margin_between_a_digit_and_its_runner_up_lowers_the_confidence():
    assert date_sureness("06022015", ("06022015", SURE_MARGIN + 5)) == 100.0
    assert date_sureness("06022015", ("06022015", SURE_MARGIN - 5)) == SURE_MARGIN - 5
    assert date_sureness("06022015", None) is None


def test_a_right_date_on_a_low_resolution_photo_is_not_sent_to_review():
    """Generated page II passed on at 1024 px: its date reads right, the second reading bears
    it out with a margin of ~50 (every digit clearly ahead), so no one is asked to check it
    (the margin as confidence, 0.51, sent it to review)."""
    from pipeline.stages.certificate.photoread import read_certificate_image
    from pipeline.stages.ocr.recognise import OcrParams
    from pipeline.stages.vietnamese.correction import correct_page
    from tests.factories.certificate_photos import low_resolution, photograph
    from tests.factories.certificates import make_certificate

    pages, expected = make_certificate("2009-2024", seed=4000)
    page = pages[1].resize((pages[1].width * 2 // 3, pages[1].height * 2 // 3))
    text, _ = read_certificate_image(low_resolution(photograph(page, 4000)), OcrParams(), dpi=300)
    got = extract_certificate([correct_page(text)]).to_json()
    assert got["fields"]["issue_date"] == expected["fields"]["issue_date"]
    assert got["review"]["issue_date"]["needs_review"] is False, got["review"]["issue_date"]
