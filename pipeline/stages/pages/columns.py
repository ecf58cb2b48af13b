"""Reading order of pages printed in two columns (registers, gazettes): the left column top to
bottom, then the right one, not a line across both.

Tesseract's layout analysis finds columns on its own when the gutter is wide; on a narrow one
it joins a left line and a right line into one ("…hiệu lực kể từ phường kiểm tra…"). The
gutter is found here as whitespace in the binarised page: a vertical band no ink crosses, with
ink on both sides over many text lines. The words above the columns (a centred title) come
first, then each column's lines, then what is below (a signature block across the page).
"""

from __future__ import annotations

from dataclasses import replace
from statistics import median

import numpy as np

from pipeline.stages.pages.pagetext import PageText, Word

CELL = 4
"""Pixels of the page per cell of the ink grid the gutter is looked for in."""
MIN_GUTTER_IN = 0.04
"""The narrowest gutter (about 1 mm, wider than the space between two words)."""
MIN_COLUMN_LINES = 6
"""A gutter must run beside at least this many text lines on each side (rows with ink on both
sides, counted in median word heights): rivers of spaces in justified text run a few lines."""
MIDDLE = (0.3, 0.7)
"""Where across the inked width a gutter of a two-column page lies."""


def find_gutter(ink: np.ndarray, dpi: int, word_height: float) -> dict[str, int] | None:
    """The gutter of a two-column page as {"x", "top", "bottom"} (pixels), or None.

    `ink` is the binarised page (True where inked); `word_height` the median height of the
    words read, in pixels."""
    h, w = ink.shape[0] // CELL, ink.shape[1] // CELL
    if h < 8 or w < 8:
        return None
    grid = ink[: h * CELL, : w * CELL].reshape(h, CELL, w, CELL).any(axis=(1, 3))
    cols = np.flatnonzero(grid.any(axis=0))
    if cols.size == 0:
        return None
    left_edge, right_edge = int(cols[0]), int(cols[-1])
    span = right_edge - left_edge
    half = max(0, int(MIN_GUTTER_IN * dpi / CELL / 2 - 0.5))
    lo, hi = left_edge + round(MIDDLE[0] * span), left_edge + round(MIDDLE[1] * span)
    if hi - lo < 1:
        return None
    sums = np.concatenate([np.zeros((h, 1), int), np.cumsum(grid, axis=1)], axis=1)
    xs = np.arange(lo, hi)
    reach = max(half + 1, span // 4)

    def inked(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.clip(a, 0, w), np.clip(b, 0, w)
        return (sums[:, b] - sums[:, a]) > 0

    blank = ~inked(xs - half, xs + half + 1)
    both = inked(xs - reach, xs - half) & inked(xs + half + 1, xs + reach + 1) & blank
    best = _longest_runs(blank, both)
    i = int(np.argmax(best[0]))
    needed = MIN_COLUMN_LINES * word_height / CELL
    if best[0][i] < needed:
        return None
    bottom = int(best[2][i])
    while bottom + 1 < h and blank[bottom + 1, i]:  # on past the shorter column's end
        bottom += 1
    return {
        "x": int(xs[i]) * CELL + CELL // 2,
        "top": int(best[1][i]) * CELL,
        "bottom": bottom * CELL + CELL,
    }


def _longest_runs(blank: np.ndarray, both: np.ndarray) -> tuple[np.ndarray, ...]:
    """For each column of `blank` (rows × columns): the most rows of `both` within one run of
    blank rows, and that run's first and last row."""
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


def column_order(page: PageText, ink: np.ndarray) -> PageText:
    """`page` with its words in column order when the page has two columns (the gutter in
    params["columns"]); `page` unchanged otherwise."""
    if len(page.words) < 2 * MIN_COLUMN_LINES:
        return page
    height = median(w.box[3] - w.box[1] for w in page.words)
    gutter = find_gutter(ink, page.dpi, height)
    if gutter is None:
        return page
    x, top, bottom = gutter["x"], gutter["top"], gutter["bottom"]

    def part(w: Word) -> int:
        """0 above the columns, 1 left, 2 right, 3 below."""
        y = (w.box[1] + w.box[3]) / 2
        if y < top:
            return 0
        if y > bottom:
            return 3
        return 1 if (w.box[0] + w.box[2]) / 2 < x else 2

    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in page.words:
        lines.setdefault((part(w), w.block, w.line), []).append(w)

    def key(item: tuple[tuple[int, int, int], list[Word]]) -> tuple[int, float]:
        (where, _, _), ws = item
        if where in (0, 3):
            return where, 0.0  # Tesseract's order kept (sorted is stable)
        return where, median((w.box[1] + w.box[3]) / 2 for w in ws)

    ordered = sorted(lines.items(), key=key)
    words: list[Word] = []
    block, last = -1, None
    for n, ((where, old_block, _), ws) in enumerate(ordered):
        if (where, old_block) != last:
            block, last = block + 1, (where, old_block)
        words += [replace(w, block=block, line=n) for w in sorted(ws, key=lambda w: w.box[0])]
    from pipeline.stages.ocr.hocr import words_to_hocr, words_to_text

    params = {**page.params, "columns": gutter}
    return replace(
        page,
        words=words,
        text=words_to_text(words),
        hocr=words_to_hocr(words, page.width, page.height),
        params=params,
    )
