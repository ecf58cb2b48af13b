"""The column finder's fast ink grid and run search give what the plain numpy forms gave
(issue 15: they cost 40 ms of a page's CPU): same cells, same runs, same gutter on generated
pages, one and two columns."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.stages.pages import columns
from tests.factories.degrade import render_page, two_column_page


def reference_runs(blank: np.ndarray, both: np.ndarray) -> tuple[np.ndarray, ...]:
    """The row-by-row loop `_longest_runs` was before issue 15."""
    n = blank.shape[1]
    best, best_top, best_bottom = np.zeros(n), np.zeros(n, int), np.zeros(n, int)
    count, top, in_run = np.zeros(n), np.zeros(n, int), np.zeros(n, bool)
    for y in range(blank.shape[0]):
        row = blank[y]
        top = np.where(row & ~in_run, y, top)
        in_run = row
        count = np.where(row, count + both[y], 0)
        better = count > best
        best = np.where(better, count, best)
        best_top = np.where(better, top, best_top)
        best_bottom = np.where(better, y, best_bottom)
    return best, best_top, best_bottom


def page_inks() -> list[np.ndarray]:
    images = [render_page(seed=1), render_page(seed=5, dpi=200)]
    images += [two_column_page(seed=0, dpi=200, gutter_in=g)[0] for g in (0.06, 0.3)]
    return [np.asarray(image.convert("L")) < 128 for image in images]


@pytest.fixture(scope="module")
def inks() -> list[np.ndarray]:
    return page_inks()


def test_the_ink_grid_is_the_cells_any_pixel_of_which_is_inked(inks):
    rng = np.random.default_rng(0)
    for ink in [*inks, rng.random((40, 64)) < 0.01, np.zeros((8, 8), bool)]:
        h, w = ink.shape[0] // columns.CELL, ink.shape[1] // columns.CELL
        cut = ink[: h * columns.CELL, : w * columns.CELL]
        expected = cut.reshape(h, columns.CELL, w, columns.CELL).any(axis=(1, 3))
        assert np.array_equal(columns._cells(cut), expected)


@pytest.mark.parametrize("density", [0.0, 0.05, 0.5, 0.95, 1.0])
def test_the_run_search_finds_what_the_row_loop_found(density):
    rng = np.random.default_rng(int(density * 100))
    for shape in [(1, 1), (1, 7), (30, 1), (200, 50)]:
        blank = rng.random(shape) < density
        both = blank & (rng.random(shape) < 0.7)
        got, expected = columns._longest_runs(blank, both), reference_runs(blank, both)
        for g, e in zip(got, expected, strict=True):
            assert np.array_equal(g, e)


def test_the_run_search_agrees_on_the_gutters_of_generated_pages(inks):
    for ink in inks:
        grid = columns._cells(ink[: ink.shape[0] // 4 * 4, : ink.shape[1] // 4 * 4])
        blank = ~grid[:, grid.shape[1] // 3 : grid.shape[1] * 2 // 3]
        both = blank & np.roll(~blank, 1, axis=1)
        for g, e in zip(
            columns._longest_runs(blank, both), reference_runs(blank, both), strict=True
        ):
            assert np.array_equal(g, e)
