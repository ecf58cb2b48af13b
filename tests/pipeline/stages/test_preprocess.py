"""Cleaning page images: skew, light, borders, noise, orientation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pipeline.stages.ocr.preprocess import (
    PreprocessParams,
    estimate_skew,
    ink_fraction,
    noise_level,
    normalise_light,
    preprocess,
    remove_borders,
    remove_rules,
    to_grey,
)
from pipeline.stages.ocr.unread import unread_regions
from tests.factories.degrade import degrade, render_page

NO_OSD = PreprocessParams(osd=False)
NO_RULES = PreprocessParams(osd=False, remove_rules=False)


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return render_page(dpi=150, size="A5", seed=3)


@pytest.mark.parametrize("angle", [-4.0, 2.5])
def test_skew_is_measured_and_undone(page: Image.Image, angle: float):
    # PIL turns counter-clockwise for a positive angle: the lines then rise to the right.
    skewed = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    assert estimate_skew(to_grey(skewed)) == pytest.approx(angle, abs=0.3)
    done = preprocess(skewed, NO_OSD)
    assert done.skew_deg == pytest.approx(angle, abs=0.3)
    assert abs(estimate_skew(to_grey(done.image))) <= 0.3


def test_a_straight_page_is_left_as_it_is(page: Image.Image):
    done = preprocess(page, NO_OSD)
    assert done.skew_deg == 0.0 and done.rotation == 0
    assert done.image.size == page.size


def test_uneven_light_becomes_white_paper(page: Image.Image):
    dim = to_grey(degrade(page, "uneven_light", seed=1))
    flat = normalise_light(dim)
    h, w = dim.shape
    quarters = [(slice(0, h // 2), slice(0, w // 2)), (slice(h // 2, h), slice(w // 2, w))]
    paper_before = [np.percentile(dim[q], 90) for q in quarters]
    paper_after = [np.percentile(flat[q], 90) for q in quarters]
    assert min(paper_before) < 200
    assert min(paper_after) >= 245
    assert np.percentile(flat, 1) < 80  # the text stays dark


def test_dark_scanner_borders_are_whitened(page: Image.Image):
    grey = to_grey(page).copy()
    grey[:, :40] = 20
    grey[-30:, :] = 10
    cleaned, bands = remove_borders(grey)
    top, bottom, left, right = bands
    assert left >= 40 and bottom >= 30 and top == 0 and right == 0
    assert cleaned[:, :40].min() == 255 and cleaned[-30:].min() == 255
    assert cleaned.min() == 0  # the text is still there


def test_noise_is_filtered_only_on_a_noisy_page(page: Image.Image):
    noisy = degrade(page, "noise", seed=2)
    assert noise_level(to_grey(noisy)) > 5 > noise_level(to_grey(page))
    cleaned = preprocess(noisy, NO_OSD)
    assert cleaned.params["denoised"] is True
    assert noise_level(to_grey(cleaned.image)) < noise_level(to_grey(noisy)) / 2
    assert preprocess(page, NO_OSD).params["denoised"] is False


def test_a_blank_page_has_no_ink_and_osd_leaves_it_alone():
    blank = Image.new("L", (1240, 1754), 250)
    assert ink_fraction(to_grey(blank)) == 0.0
    done = preprocess(blank, PreprocessParams())
    assert done.rotation == 0 and done.params["osd"] is None


def test_osd_turns_an_upside_down_page_upright():
    upside_down = degrade(render_page(dpi=200, size="A5", seed=4), "rotate180")
    done = preprocess(upside_down, PreprocessParams())
    assert done.rotation == 180
    assert done.params["rotation"] == 180 and done.params["osd"]["confidence"] >= 2


def test_parameters_are_recorded_as_json():
    params = PreprocessParams(mode="binary", denoise="on")
    assert params.to_json()["mode"] == "binary"
    assert PreprocessParams(**params.to_json()) == params


def _grid_page() -> np.ndarray:
    """A white A5 page at 150 dpi with a frame, a 4×3 ruled table and some text-like ink."""
    grey = np.full((1240, 874), 255, np.uint8)
    grey[20:24, 20:854] = 0  # the frame
    grey[1216:1220, 20:854] = 0
    grey[20:1220, 20:24] = 0
    grey[20:1220, 850:854] = 0
    for y in range(600, 1001, 100):  # the table's rules
        grey[y : y + 3, 100:700] = 0
    for x in (100, 300, 500, 697):
        grey[600:1003, x : x + 3] = 0
    for x in range(130, 680, 22):  # "digits" in the cells: short strokes
        grey[630:660, x : x + 4] = 0
    return grey


def test_rules_of_a_table_are_whitened_and_its_text_and_frame_kept():
    grey = _grid_page()
    cleaned, pixels = remove_rules(grey)
    assert pixels > 0
    assert cleaned[600:603, 100:700].min() == 255 and cleaned[600:1003, 300:303].min() == 255
    assert cleaned[630:660, 130:134].max() == 0  # the text in a cell
    assert cleaned[20:24, 20:854].max() == 0  # the frame around the page


def test_a_page_without_a_table_keeps_its_rules():
    grey = _grid_page()
    grey[560:1010, 90:710] = 255  # no table: the frame and a signature line only
    grey[1100:1103, 500:800] = 0
    cleaned, pixels = remove_rules(grey)
    assert pixels == 0 and (cleaned == grey).all()


def test_rules_are_removed_in_cleaning_and_recorded():
    done = preprocess(Image.fromarray(_grid_page(), "L"), NO_OSD)
    assert done.params["rules_px"] > 0
    assert preprocess(Image.fromarray(_grid_page(), "L"), NO_RULES).params.get("rules_px") is None


def test_unread_regions_are_the_ink_no_word_box_covers():
    grey = np.full((800, 600), 255, np.uint8)
    for y in (100, 140):  # two "lines" of text that were read
        for x in range(50, 500, 30):
            grey[y : y + 20, x : x + 18] = 0
    for y in (500, 530):  # a block that was not
        for x in range(300, 560, 30):
            grey[y : y + 20, x : x + 18] = 0
    grey[700:702, 10:12] = 0  # a speck
    read = [(50, 100, 500, 120), (50, 140, 500, 160)]
    regions = unread_regions(grey, read, text_height=20)
    assert len(regions) == 1
    x0, y0, x1, y1 = regions[0]
    assert x0 <= 300 and y0 <= 500 and x1 >= 558 and y1 >= 550 and y0 > 160
    assert unread_regions(grey, [*read, (300, 500, 560, 550)], text_height=20) == []


def test_thin_pen_ink_survives_the_reduced_copy_the_unread_search_runs_on():
    """Large text is searched on a copy reduced by area averaging: a fine pen's strokes between
    the pixels a plain resampling would pick still count as ink."""
    grey = np.full((1200, 900), 255, np.uint8)
    for y in (100, 190):  # two lines of big print that were read
        for x in range(60, 800, 90):
            grey[y : y + 48, x : x + 60] = 0
    for x0 in range(300, 780, 90):  # a handwritten number in fine hatching, not read
        for x in range(x0, x0 + 60, 3):
            grey[800:848, [x, x + 2]] = 0
    read = [(60, 100, 860, 148), (60, 190, 860, 238)]
    [(x0, y0, x1, y1)] = unread_regions(grey, read, text_height=48)
    assert x0 <= 300 and x1 >= 770 and y0 <= 800 and y1 >= 848


def _rules_labelling_every_page(grey: np.ndarray) -> np.ndarray | None:
    """`_table_rules` as it was before it answered early for pages short of rules: frames
    labelled and taken out on every page, then the rules counted."""
    import cv2

    from pipeline.stages.ocr import preprocess as pp

    short = min(grey.shape)
    length = max(20, round(short * pp.RULE_SHARE))
    otsu, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, ink = cv2.threshold(grey, min(otsu + pp.RULE_LENIENCY, 230), 255, cv2.THRESH_BINARY_INV)
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    frame = pp._frames(cv2.bitwise_or(across, down))
    across[frame] = 0
    down[frame] = 0
    long_side = short * pp.TABLE_RULE_SHARE
    if (
        pp._count_longer(across, cv2.CC_STAT_WIDTH, long_side) < pp.TABLE_RULES
        or pp._count_longer(down, cv2.CC_STAT_HEIGHT, long_side) < pp.TABLE_RULES
    ):
        return None
    return cv2.bitwise_or(across, down)


def test_the_early_answer_for_pages_without_a_table_is_the_full_labellings_answer():
    from pipeline.stages.ocr.preprocess import _table_rules

    grid, no_table, framed_text = _grid_page(), _grid_page(), _grid_page()
    no_table[560:1010, 90:710] = 255
    no_table[1100:1103, 500:800] = 0
    framed_text[560:1010, 90:710] = 255
    framed_text[600:1000:100, 100:700] = 0  # four rules across, none down: no table
    text = to_grey(render_page(dpi=150, size="A5", seed=4))
    for grey in (grid, no_table, framed_text, text, 255 - np.zeros_like(text)):
        early, full = _table_rules(grey), _rules_labelling_every_page(grey)
        assert (early is None) == (full is None)
        assert early is None or (early == full).all()
    assert _table_rules(grid) is not None
