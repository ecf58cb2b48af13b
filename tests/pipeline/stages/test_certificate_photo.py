"""Certificate photos made fit for reading: the page found and flattened, the seal and the
pink background paled, a clean scan left as it is, a two-page spread told apart.

Array-level tests on generated certificates (tests/factories/certificates.py) photographed by
tests/factories/certificate_photos.py; no OCR here (see test_certificate_photo_reading.py).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from pipeline.stages.certificate.photo import (
    find_gutter,
    find_page,
    prepare_photo,
    suppress_colour,
)
from pipeline.stages.certificate.photoread import split_spreads
from pipeline.stages.pages.pagetext import PageText, Word
from tests.factories.certificate_photos import photograph, spread, stamp_seal
from tests.factories.certificates import make_certificate


@pytest.fixture(scope="module")
def pages():
    images, _ = make_certificate("2009-2024", seed=1003)
    return images


def _small(im, factor=3):
    return im.resize((im.width // factor, im.height // factor))


def test_a_clean_flat_scan_is_neither_cut_nor_warped_nor_scaled(pages):
    rgb = np.asarray(pages[1].convert("RGB"))
    prepared = prepare_photo(rgb)
    assert prepared.found["photo"] is False
    assert "page_corners" not in prepared.found
    assert prepared.image.shape == rgb.shape[:2]
    luma = np.asarray(pages[1].convert("L"))
    text = luma < 80  # black print stays exactly as dark as it was
    assert np.array_equal(prepared.image[text], np.maximum(luma[text], prepared.image[text]))
    assert np.abs(prepared.image[text].astype(int) - luma[text]).mean() < 12


def test_a_photographed_page_is_found_and_flattened_to_its_own_shape(pages):
    page = _small(pages[1], 2)
    photo = photograph(page, seed=4, tilt=0.07)
    corners = find_page(np.asarray(photo.convert("RGB")))
    assert corners is not None
    prepared = prepare_photo(np.asarray(photo.convert("RGB")))
    h, w = prepared.image.shape
    assert prepared.found["photo"] is True
    # A plane's warp without the camera's focal length gets the proportions roughly right.
    assert w / h == pytest.approx(page.width / page.height, rel=0.15)
    assert max(w, h) >= 3000  # scaled up to be read at about 300 dpi
    edge = max(4, w // 100)
    border = np.concatenate(
        [prepared.image[:edge].ravel(), prepared.image[-edge:].ravel(),
         prepared.image[:, :edge].ravel(), prepared.image[:, -edge:].ravel()]
    )  # fmt: skip
    assert np.median(border) > 150  # paper up to the edge: none of the dark desk is left


def test_a_page_at_45_degrees_comes_out_upright(pages):
    page = _small(pages[1])
    photo = photograph(page, seed=5, angle_deg=45, tilt=0.01)
    prepared = prepare_photo(np.asarray(photo.convert("RGB")))
    h, w = prepared.image.shape
    ratio = page.width / page.height
    assert prepared.found["photo"] is True
    assert min(w / h, h / w) == pytest.approx(ratio, rel=0.1)


def test_the_red_seal_and_pink_background_pale_while_black_print_under_them_stays(pages):
    page = pages[1]
    sealed = stamp_seal(page, random.Random(1), at=(0.5, 0.6))
    grey, seals = suppress_colour(np.asarray(sealed.convert("RGB")))
    rgb = np.asarray(sealed.convert("RGB")).astype(int)
    seal_only = (rgb[..., 0] - np.maximum(rgb[..., 1], rgb[..., 2]) > 80) & (rgb[..., 0] > 150)
    black = rgb.max(axis=2) < 70
    assert seals >= 1
    assert seal_only.sum() > 1000
    assert grey[seal_only].mean() > 230  # paled to the paper's brightness
    assert grey[black].mean() < 80  # text, inside the seal or not, stays dark
    paper = np.asarray(page.convert("L"))
    assert grey[paper > 200].mean() > np.asarray(page.convert("L"))[paper > 200].mean()


def test_the_red_title_is_kept_as_text_while_the_round_emblem_pales(pages):
    rgb = np.asarray(pages[0].convert("RGB"))
    grey, _ = suppress_colour(rgb)
    red = (rgb[..., 0].astype(int) - np.maximum(rgb[..., 1], rgb[..., 2]) > 120) & (
        rgb[..., 0] > 150
    )
    kept = red & (grey < 150)
    paled = red & (grey > 200)
    assert kept.sum() > 2000 and paled.sum() > 2000
    kept_rows = np.flatnonzero(kept.any(axis=1))
    kept_cols = np.flatnonzero(kept.any(axis=0))
    assert np.ptp(kept_cols) > 4 * np.ptp(kept_rows) / 3  # wide lines of letters, not a disc


def _line(x0: int, x1: int, y: int, word: int = 120, gap: int = 30) -> list[tuple]:
    return [(x, y, min(x + word, x1), y + 40) for x in range(x0, x1, word + gap)]


def test_a_gutter_is_found_between_two_pages_of_text_and_not_in_a_landscape_page():
    width, height = 4000, 2800
    spread_lines = [_line(200, 1800, y) for y in range(200, 2600, 120)]
    spread_lines += [_line(2200, 3800, y) for y in range(300, 2000, 120)]
    spread_lines.append(_line(200, 3800, 100))  # one heading read across the fold
    x = find_gutter(spread_lines, width, height)
    assert x is not None and 1800 < x < 2200
    landscape = [_line(200, 3800, y) for y in range(200, 2600, 120)]
    assert find_gutter(landscape, width, height) is None
    assert find_gutter(spread_lines, 2800, 4000) is None  # portrait: one page


def test_a_spread_is_split_into_its_two_pages_with_the_boxes_of_the_stored_image():
    words = [
        Word("Trái", (100, 100, 300, 140), 90.0, 1, 1),
        Word("Phải", (2300, 100, 2500, 140), 90.0, 2, 1),
    ]
    page = PageText(3, "Trái\n\nPhải", words, 4000, 2800, 300, 90.0, "ocr", "t", "vie")
    page.params["photo"] = {"parts": [[0, 2000], [2000, 4000]]}
    left, right = split_spreads([page])
    assert [w.text for w in left.words] == ["Trái"]
    assert [w.text for w in right.words] == ["Phải"]
    assert right.words[0].box == (2300, 100, 2500, 140)
    assert left.page == right.page == 3
    plain = PageText(0, "x", [], 10, 10, 300, 0.0, "ocr", "t", "vie")
    assert split_spreads([plain]) == [plain]


def test_a_photographed_spread_keeps_both_pages_in_one_flat_image(pages):
    photo = photograph(spread(_small(pages[1]), _small(pages[2])), seed=2)
    prepared = prepare_photo(np.asarray(photo.convert("RGB")))
    h, w = prepared.image.shape
    assert prepared.found["photo"] is True
    assert w / h == pytest.approx(2 * pages[1].width / pages[1].height, rel=0.15)
