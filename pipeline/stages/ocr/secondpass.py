"""The second pass of a page reading: Tesseract run again on crops where the page reading is
known to fail (large lines read poorly, regions left out); see `read_unread`.

`pipeline.stages.ocr.recognise.ocr_image` runs it when `OcrParams.second_pass` is set.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from models.language.text import is_vietnamese_syllable
from pipeline.stages.ocr.hocr import mean_conf, parse_hocr, words_to_hocr, words_to_text
from pipeline.stages.ocr.preprocess import to_grey
from pipeline.stages.ocr.unread import unread_regions
from pipeline.stages.pages.pagetext import PageText, Word
from pipeline.stages.tools.tesseract import run_tesseract

if TYPE_CHECKING:
    from pipeline.stages.ocr.recognise import OcrParams

POOR_CONF = 60.0
"""A first reading below this mean confidence triggers the orientation check."""
SECOND_PASS_PSM = 6
"""Unread regions are read as one uniform block: the page-level layout analysis is what
dropped them."""
SECOND_PASS_CONF = 60.0
"""A word of the second pass is kept at this confidence or above (a seal's ring and a
signature's strokes come out as symbols and letters read at low confidence)."""
SECOND_PASS_SYLLABLE_CONF = 30.0
"""...or at this confidence when it is a Vietnamese syllable on a line with a word kept."""
MAX_SECOND_PASS_REGIONS = 6
JOIN_GAP = 3.0
LARGE_LINE = 1.25
"""A line this many times taller than the page's usual word is large text (a serial number,
a title): Tesseract misreads big glyphs ("ST" as "SLI") that it reads right at usual size."""
MIN_GAIN = 5.0
"""A line read again replaces the first reading when its mean confidence is this much better."""
_MIN_TEXT_WORDS = 5


def read_unread(image: Image.Image, first: PageText, params: OcrParams) -> PageText:
    """`first` improved where the page reading is known to fail, Tesseract run on crops:

    1. Large lines read poorly (a word below SECOND_PASS_CONF, text LARGE_LINE times the
       page's usual height: a serial number, a heading) are read again scaled to the usual
       height, as one line (psm 7); the new reading replaces the line when its mean
       confidence is better by MIN_GAIN.
    2. Regions the page reading left out (`unread_regions`) are read as one block (psm 6)
       with the words already read whitened; words below SECOND_PASS_CONF or without two
       letters or digits are dropped. A line of them that continues a line of the page
       joins it (`_join_line`); the others come after the page's words, a block per region.

    When anything changed the hOCR is rewritten from the words. params["second_pass"]
    records the lines re-read and the regions read and words kept.
    """
    confident = [w for w in first.words if w.conf >= POOR_CONF]
    if len(confident) < _MIN_TEXT_WORDS:
        return first
    height = int(np.median([w.box[3] - w.box[1] for w in confident]))
    grey = to_grey(image)
    words, relined = _reread_large_lines(grey, first, height, params)
    regions = unread_regions(grey, [w.box for w in words], height)
    regions = regions[:MAX_SECOND_PASS_REGIONS]
    crop_params = replace(params, psm=SECOND_PASS_PSM)
    block = max((w.block for w in words), default=-1) + 1
    line = max((w.line for w in words), default=-1) + 1
    added = 0
    for region in regions:
        found = _read_region(grey, region, words, height, crop_params, first)
        if not found:
            continue
        added += len(found)
        pieces: dict[int, list[Word]] = {}
        for w in found:
            pieces.setdefault(w.line, []).append(w)
        alone = []
        for piece in pieces.values():
            joined = _join_line(words, piece, height)
            if joined is None:
                alone.append(piece)
            else:
                words = joined
        for n, piece in enumerate(alone):
            words += [replace(w, block=block, line=line + n) for w in piece]
        block, line = block + 1, line + len(alone)
    first.params["second_pass"] = {"lines": relined, "regions": len(regions), "words": added}
    if not relined and not added:
        return first
    return replace(
        first,
        words=words,
        text=words_to_text(words),
        mean_conf=mean_conf(words),
        hocr=words_to_hocr(words, first.width, first.height),
    )


def _join_line(words: list[Word], piece: list[Word], height: int) -> list[Word] | None:
    """`words` with `piece` (words of one line of the second pass) put into the page line it
    continues, in left-to-right order: the line it overlaps vertically by half its height,
    within JOIN_GAP text heights sideways (a line crossed by a seal and read in part). None
    when it continues no line (a signature block in its own column)."""
    top, bottom = min(w.box[1] for w in piece), max(w.box[3] for w in piece)
    left, right = min(w.box[0] for w in piece), max(w.box[2] for w in piece)
    best: tuple[float, tuple[int, int]] | None = None
    lines: dict[tuple[int, int], list[Word]] = {}
    for w in words:
        lines.setdefault((w.block, w.line), []).append(w)
    for key, ws in lines.items():
        l_top, l_bottom = min(w.box[1] for w in ws), max(w.box[3] for w in ws)
        overlap = min(bottom, l_bottom) - max(top, l_top)
        if overlap < 0.5 * min(bottom - top, l_bottom - l_top):
            continue
        gap = max(left - max(w.box[2] for w in ws), min(w.box[0] for w in ws) - right, 0)
        if gap <= JOIN_GAP * height and (best is None or gap < best[0]):
            best = (gap, key)
    if best is None:
        return None
    key = best[1]
    moved = [replace(w, block=key[0], line=key[1]) for w in piece]
    merged = sorted([*lines[key], *moved], key=lambda w: w.box[0])
    out: list[Word] = []
    for k, ws in lines.items():
        out += merged if k == key else ws
    return out


def _reread_large_lines(
    grey: np.ndarray, first: PageText, height: int, params: OcrParams
) -> tuple[list[Word], int]:
    """(the page's words with poorly read large lines read again, how many lines changed)."""
    line_params = replace(params, psm=7)
    words: list[Word] = []
    changed = 0
    for line in first.lines():
        line_h = float(np.median([w.box[3] - w.box[1] for w in line]))
        if min(w.conf for w in line) >= SECOND_PASS_CONF or line_h < LARGE_LINE * height:
            words += line
            continue
        again = _read_scaled(grey, line, height / line_h, line_params, first)
        if again and mean_conf(again) >= mean_conf(line) + MIN_GAIN:
            words += [replace(w, block=line[0].block, line=line[0].line) for w in again]
            changed += 1
        else:
            words += line
    return words, changed


def _read_scaled(
    grey: np.ndarray, line: list[Word], scale: float, params: OcrParams, first: PageText
) -> list[Word]:
    """The words of one line's crop read at `scale`, boxes back in page pixels."""
    x0 = min(w.box[0] for w in line)
    y0 = min(w.box[1] for w in line)
    x1 = max(w.box[2] for w in line)
    y1 = max(w.box[3] for w in line)
    margin = (y1 - y0) // 2
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    x1, y1 = min(grey.shape[1], x1 + margin), min(grey.shape[0], y1 + margin)
    crop = Image.fromarray(grey[y0:y1, x0:x1], "L")
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    if min(size) < 16:
        return []
    small = crop.resize(size, Image.Resampling.LANCZOS)
    hocr = run_tesseract(small, params, page=first.page, dpi=first.dpi)
    out = []
    for w in parse_hocr(hocr):
        box = tuple(round(v / scale) for v in w.box)
        out.append(replace(w, box=(box[0] + x0, box[1] + y0, box[2] + x0, box[3] + y0)))
    return out


def _read_region(
    grey: np.ndarray,
    region: tuple[int, int, int, int],
    read: list[Word],
    height: int,
    params: OcrParams,
    first: PageText,
) -> list[Word]:
    margin = height // 2
    x0, y0 = max(0, region[0] - margin), max(0, region[1] - margin)
    x1, y1 = min(grey.shape[1], region[2] + margin), min(grey.shape[0], region[3] + margin)
    crop = grey[y0:y1, x0:x1].copy()
    for w in read:
        bx0, by0, bx1, by1 = w.box
        crop[max(0, by0 - y0) : max(0, by1 - y0), max(0, bx0 - x0) : max(0, bx1 - x0)] = 255
    image = Image.fromarray(crop, "L")
    if min(image.size) < 16:
        return []
    hocr = run_tesseract(image, params, page=first.page, dpi=first.dpi)
    found = [w for w in parse_hocr(hocr) if sum(c.isalnum() for c in w.text) >= 2]
    sure = {w.line for w in found if w.conf >= SECOND_PASS_CONF}
    out = []
    for w in found:
        if w.conf >= SECOND_PASS_CONF or (
            w.line in sure and w.conf >= SECOND_PASS_SYLLABLE_CONF and _syllable(w.text)
        ):
            box = (w.box[0] + x0, w.box[1] + y0, w.box[2] + x0, w.box[3] + y0)
            out.append(replace(w, box=box))
    return out


def _syllable(text: str) -> bool:
    letters = text.strip(".,;:!?()\"'")
    return letters.isalpha() and is_vietnamese_syllable(letters)
