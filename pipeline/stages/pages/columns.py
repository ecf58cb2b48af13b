"""Reading order of pages printed in two columns (registers, gazettes): the left column top to
bottom, then the right one, not a line across both.

Tesseract's layout analysis finds columns on its own when the gutter is wide; on a narrow one
it joins a left line and a right line into one ("…hiệu lực kể từ phường kiểm tra…"). The
gutter is found here as whitespace in the binarised page: a vertical band no ink crosses, with
ink on both sides over many text lines. The words above the columns (a centred title) come
first, then each column's lines, then what is below (a signature block across the page).

Administrative documents print two columns in their header (the issuer and its number beside
the national motto and the date) and their footer (the "Nơi nhận:" list beside the signer),
a few rows each, which Tesseract reads row by row. `band_order` finds such bands as a wide gap
between the words read and reads each block whole: the order a person reads, and the order of
the word processor that wrote the born-digital development letters (bench/ocr_sets.py); it
looks at the boxes of the words read, so a seal or a signature (ink, no words) is no block.
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
    grid = _cells(ink[: h * CELL, : w * CELL])
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


MARKS = ("seal", "stamp", "signature", "logo")
"""Kinds of the regions `pipeline.stages.ocr.junk` skipped whose ink is no column: a seal and
a signature beside the "Nơi nhận:" list made a gutter of the space between them, and the body
lines above were cut in two at it (generated signed decisions)."""


def _without_marks(ink: np.ndarray, page: PageText) -> np.ndarray:
    """`ink` with the boxes of the marks recorded in params["suppressed"] cleared."""
    regions = [r for r in page.params.get("suppressed", []) if r["kind"] in MARKS]
    if not regions:
        return ink
    ink = ink.copy()
    for r in regions:
        x0, y0, x1, y1 = r["box"]
        ink[y0:y1, x0:x1] = False
    return ink


def _cells(ink: np.ndarray) -> np.ndarray:
    """Which CELL × CELL cells of `ink` (a whole number of cells each way) hold ink.

    The same as `ink.reshape(h, CELL, w, CELL).any(axis=(1, 3))`, in a tenth of its time: an
    A4 page at 300 dpi took 40 ms a page that way (issue 15)."""
    rows = ink[0::CELL].copy()
    for k in range(1, CELL):
        rows |= ink[k::CELL]
    cells = rows[:, 0::CELL].copy()
    for k in range(1, CELL):
        cells |= rows[:, k::CELL]
    return cells


def _longest_runs(blank: np.ndarray, both: np.ndarray) -> tuple[np.ndarray, ...]:
    """For each column of `blank` (rows × columns): the most rows of `both` within one run of
    blank rows, and that run's first and last row (the first such run; 0, 0, 0 when `both`
    holds in no blank row). `both` implies `blank`.

    Whole-array work instead of a loop over the rows (issue 15: a page's 900 rows took 8 ms)."""
    height, n = blank.shape
    ys = np.arange(height)[:, None]
    starts = blank & ~np.vstack([np.zeros((1, n), bool), blank[:-1]])
    top = np.maximum.accumulate(np.where(starts, ys, 0), axis=0)
    sums = np.vstack([np.zeros((1, n), int), np.cumsum(both, axis=0)])
    count = np.where(blank, sums[1:] - np.take_along_axis(sums, top, axis=0), 0)
    bottom = np.argmax(count, axis=0)
    cols = np.arange(n)
    best = count[bottom, cols].astype(float)
    found = best > 0
    return best, np.where(found, top[bottom, cols], 0), np.where(found, bottom, 0)


def column_order(page: PageText, ink: np.ndarray) -> PageText:
    """`page` with its words in column order when the page has two columns (the gutter in
    params["columns"]); `page` unchanged otherwise."""
    if len(page.words) < 2 * MIN_COLUMN_LINES:
        return page
    height = median(w.box[3] - w.box[1] for w in page.words)
    gutter = find_gutter(_without_marks(ink, page), page.dpi, height)
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


# --- two-column bands: the header and footer of administrative documents -------------------------

WIDE_GUTTER_HEIGHTS = 1.5
"""A header or footer band's gutter is at least this many median word heights wide (about
7 mm at 12 pt): the issuer block beside the national motto, the "Nơi nhận:" list beside the
signer are set well apart, far wider than a word space or a river in justified text."""
MIN_BAND_ROWS = 2
"""Rows with words on both sides of the gutter a band needs (the header has 2–4)."""
BAND_MIDDLE = (0.2, 0.8)
"""Where across the text's width a band's gutter may lie."""
NUMERIC_SHARE = 0.3
"""A band whose words hold digits more often than this is a table (a certificate's corner
coordinates): its rows are read across, as a table is."""
HEADER_SHARE, FOOTER_SHARE = 0.35, 0.45
"""A band is read as two columns only when it starts in the top HEADER_SHARE of the text's
height (the header) or ends in the bottom FOOTER_SHARE (the footer); a form's labels and
values in mid-page are left in rows."""


def band_order(page: PageText) -> PageText:
    """`page` with each two-column header or footer band read as a person reads it: the left
    block, then the right one (the issuer, then the motto; "Nơi nhận:", then the signer).
    Tesseract reads such bands row by row ("ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI…"). The bands
    found are recorded in params["bands"]; `page` is returned unchanged when there is none."""
    if len(page.words) < 2 * MIN_BAND_ROWS:
        return page
    rows = _rows(page.words)
    height = median(w.box[3] - w.box[1] for w in page.words)
    left = min(w.box[0] for w in page.words)
    right = max(w.box[2] for w in page.words)
    top = min(w.box[1] for w in page.words)
    bottom = max(w.box[3] for w in page.words)
    span = (left + BAND_MIDDLE[0] * (right - left), left + BAND_MIDDLE[1] * (right - left))
    bands = []
    for first, last, x in _bands(rows, span, WIDE_GUTTER_HEIGHTS * height):
        y0 = min(w.box[1] for w in rows[first])
        y1 = max(w.box[3] for w in rows[last])
        if y0 <= top + HEADER_SHARE * (bottom - top) or y1 >= bottom - FOOTER_SHARE * (
            bottom - top
        ):
            bands.append((first, last, x))
    if not bands:
        return page
    return _reordered(page, rows, bands)


def _rows(words: list[Word]) -> list[list[Word]]:
    """Words in visual rows, top to bottom: a word whose middle lies within the current row's
    height joins it (the two blocks of a header are set on slightly different lines)."""
    out: list[list[Word]] = []
    row_bottom = -1.0
    for w in sorted(words, key=lambda w: (w.box[1] + w.box[3]) / 2):
        middle = (w.box[1] + w.box[3]) / 2
        if out and middle <= row_bottom:
            out[-1].append(w)
            row_bottom = max(row_bottom, (middle + w.box[3]) / 2)
        else:
            out.append([w])
            row_bottom = (middle + w.box[3]) / 2
    return out


def _free(intervals: list[tuple[float, float]], row: list[Word]) -> list[tuple[float, float]]:
    """`intervals` less the x extent of every word of `row`."""
    out = intervals
    for w in row:
        x0, x1 = w.box[0], w.box[2]
        out = [
            piece
            for a, b in out
            for piece in ((a, min(b, x0)), (max(a, x1), b))
            if piece[1] > piece[0]
        ]
    return out


def _bands(
    rows: list[list[Word]], span: tuple[float, float], gutter: float
) -> list[tuple[int, int, float]]:
    """(first row, last row, gutter x) of every run of rows that a vertical gap at least
    `gutter` wide within `span` crosses, with words on both sides in MIN_BAND_ROWS rows."""
    out = []
    i = 0
    while i < len(rows):
        free = [span]
        j = i
        while j < len(rows):
            narrower = [(a, b) for a, b in _free(free, rows[j]) if b - a >= gutter]
            if not narrower:
                break
            free, j = narrower, j + 1
        if j > i:
            a, b = max(free, key=lambda ab: ab[1] - ab[0])
            x = (a + b) / 2
            sided = [
                n
                for n in range(i, j)
                if any(w.box[2] <= x for w in rows[n]) and any(w.box[0] >= x for w in rows[n])
            ]
            if len(sided) >= MIN_BAND_ROWS:
                if not _numeric([rows[n] for n in sided]):
                    out.append((sided[0], j - 1, x))  # from its first row with both blocks
                i = j  # a table's rows stay as they are read
                continue
        i += 1
    return out


def _numeric(rows: list[list[Word]]) -> bool:
    """Do numbers fill these rows (a table of coordinates, areas), not a header's blocks?"""
    words = [w for row in rows for w in row]
    digits = sum(any(c.isdigit() for c in w.text) for w in words)
    return digits > NUMERIC_SHARE * len(words)


def _reordered(
    page: PageText, rows: list[list[Word]], bands: list[tuple[int, int, float]]
) -> PageText:
    """Tesseract's order, each band's words moved to where its first word was read: its left
    block's rows, then its right block's."""
    band_of: dict[int, int] = {}
    for n, (first, last, _) in enumerate(bands):
        for row in rows[first : last + 1]:
            for w in row:
                band_of[id(w)] = n
    groups: list[tuple[tuple[int, int], list[Word]]] = []
    """(block key, the words of one line): a key per Tesseract block, and per band side."""
    done: set[int] = set()
    current: tuple[int, int] | None = None
    for w in page.words:
        n = band_of.get(id(w))
        if n is None:
            if current != (w.block, w.line):
                groups.append(((0, w.block), []))
                current = (w.block, w.line)
            groups[-1][1].append(w)
            continue
        current = None
        if n in done:
            continue
        done.add(n)
        first, last, x = bands[n]
        for side in (0, 1):
            for row in rows[first : last + 1]:
                part = [v for v in row if ((v.box[0] + v.box[2]) / 2 >= x) == bool(side)]
                if part:
                    groups.append(((1 + n, side), sorted(part, key=lambda v: v.box[0])))
    words: list[Word] = []
    block, last_key = -1, None
    for line, (key, group) in enumerate(groups):
        if key != last_key:
            block, last_key = block + 1, key
        words += [replace(w, block=block, line=line) for w in group]
    from pipeline.stages.ocr.hocr import words_to_hocr, words_to_text

    found = [{"top": min(w.box[1] for w in rows[a]), "x": round(x)} for a, _, x in bands]
    return replace(
        page,
        words=words,
        text=words_to_text(words),
        hocr=words_to_hocr(words, page.width, page.height),
        params={**page.params, "bands": found},
    )
