"""A phone photo of a land certificate made into a flat page fit for OCR (pure array functions).

    prepare_photo(rgb) -> Prepared(image=grey, found={...})
    find_gutter(line_boxes, width, height) -> x | None      (two pages side by side)

The steps, in order, each recorded in `found` with what it saw:

1. **The page** (`find_page`): the largest bright region of a reduced copy (paper against a
   darker ground), its convex hull fitted by four corners. When the corners lie at the
   frame's corners (a flat scan, or a photo filling the frame) or no four-cornered region is
   big enough, nothing is cut and nothing is warped: a clean scan goes on as it came.
2. **Perspective** (`warp_page`): the four corners mapped to a rectangle whose sides are the
   quadrilateral's longer opposite sides.
3. **Colour** (`suppress_colour`): certificate text is black (typed) or blue (handwritten),
   the security background is pink or pale colour, the seal red. Each pixel's luma is
   raised by its red excess (red minus the larger of green and blue): black and blue stay
   dark, red and pink go pale; pale patterns of other colours are left to the OCR stage's
   division by the paper's brightness. Red *lines of text* (the red title "GIẤY CHỨNG NHẬN", a
   heading) are kept at their luma: a red component much wider than tall is text, a
   roundish one is a seal or the emblem.
4. **Scale** (`to_reading_scale`): a photographed page is resized so its long side is about
   READING_LONG_SIDE pixels (300 dpi on the 272 mm booklet page), at most ×MAX_UPSCALE.
5. **Two pages side by side** (`find_gutter`, after OCR): on a landscape image, a column
   near the middle that (almost) no line of text crosses, with lines on both sides.

Light is evened out afterwards by the OCR stage's own cleaning (division by the paper's
brightness), upside-down and quarter-turned pages by its orientation check (Tesseract OSD).
Mild page curvature is not modelled: the warp is a plane's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

Box = tuple[int, int, int, int]

ANALYSIS_SIDE = 800
"""Long side of the reduced copy the page and the gutter are looked for on."""
MIN_PAGE_SHARE = 0.2
"""A page region smaller than this share of the photo is not taken for the page."""
FULL_FRAME = 0.03
"""Corners within this share of the frame's size of its corners: the page fills the frame."""
READING_LONG_SIDE = 3200
"""A photographed page's long side, in pixels, once scaled (300 dpi on the booklet's 272 mm)."""
MAX_UPSCALE = 3.0
"""No photo is enlarged more than this: past it, enlarging adds no detail, only time."""
SPREAD_ASPECT = (1.15, 2.1)
"""Width/height of a photo that may hold two portrait pages side by side."""
SPREAD_CROSSING = 0.1
"""At most this share of a spread's lines of text cross its gutter (a fold, a stray mark)."""
MIN_SIDE_LINES = 3
RED_EXCESS = 50
"""Red minus the larger of green and blue, above which a pixel is red ink."""
PALE_GAIN = 4.0
NEUTRAL_EXCESS = 10
"""A pixel's luma is raised by PALE_GAIN times its red excess beyond NEUTRAL_EXCESS: a
photographed seal's washed-out red (150, 110, 125) and the pink paper go pale, black print
(25, 20, 20) and blue ink are left as they are. Pixels darker than DARK_RED in the red channel
are raised less and less (not at all at DARK_RED): the edges of black letters on pink paper
keep their shape."""
DARK_RED = 80
RED_INK_LUMA = 160
"""Red *ink* (a title, a seal) is darker than this; the pale pink security pattern is not, and
left in it would join every red mark on the page into one."""
TEXT_LINE_ASPECT = 3.0
"""A red component this many times wider than tall is a line of text, not a seal."""


@dataclass
class Prepared:
    """The page (or spread) found in one photo, grey uint8, and what was done to it."""

    image: np.ndarray
    found: dict[str, Any] = field(default_factory=dict)


def prepare_photo(rgb: np.ndarray) -> Prepared:
    """The flat page (or two-page spread) of a photo or scan of a certificate, grey, with
    what was done to it (see the module docstring)."""
    found: dict[str, Any] = {}
    quad = find_page(rgb)
    photographed = quad is not None
    if photographed:
        rgb = warp_page(rgb, quad)
        found["page_corners"] = [[round(float(x)), round(float(y))] for x, y in quad]
    grey, seals = suppress_colour(rgb)
    found["seals_suppressed"] = seals
    if photographed:
        grey = to_reading_scale(grey)
        found["scaled_to"] = list(grey.shape[::-1])
    found["photo"] = photographed
    return Prepared(grey, found)


# --- 1–2. the page and its perspective ---------------------------------------------------------


def find_page(rgb: np.ndarray) -> np.ndarray | None:
    """The page's four corners (top-left, top-right, bottom-right, bottom-left; pixels of
    `rgb`), or None when the page fills the frame or no page-like region is found."""
    h, w = rgb.shape[:2]
    scale = ANALYSIS_SIDE / max(h, w)
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (7, 7), 0)
    _, bright = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    biggest = max(contours, key=cv2.contourArea)
    sh, sw = grey.shape
    if cv2.contourArea(biggest) < MIN_PAGE_SHARE * sh * sw:
        return None
    quad = _four_corners(cv2.convexHull(biggest).reshape(-1, 2).astype(np.float32))
    if quad is None or _fills_frame(quad, sw, sh):
        return None
    return quad / scale


def _four_corners(hull: np.ndarray) -> np.ndarray | None:
    """The hull simplified to four corners, ordered clockwise from the top-left one."""
    perimeter = cv2.arcLength(hull, True)
    for share in (0.01, 0.02, 0.03, 0.05, 0.08, 0.12):
        approx = cv2.approxPolyDP(hull, share * perimeter, True).reshape(-1, 2)
        if len(approx) == 4:
            return _clockwise(approx.astype(np.float32))
        if len(approx) < 4:
            break
    return None


def _clockwise(points: np.ndarray) -> np.ndarray:
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ordered = points[np.argsort(angles)]  # clockwise in image coordinates (y down)
    first = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -first, axis=0)


def _fills_frame(quad: np.ndarray, w: int, h: int) -> bool:
    frame = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    off = np.abs(quad - frame) / np.array([w, h], np.float32)
    return bool((off <= FULL_FRAME).all())


def warp_page(rgb: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The quadrilateral `quad` (clockwise from top-left) mapped onto an upright rectangle."""
    tl, tr, br, bl = quad
    width = round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target.astype(np.float32))
    return cv2.warpPerspective(
        rgb, matrix, (width, height), flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255)
    )


# --- 3. seal and security background ---------------------------------------------------------


def suppress_colour(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """(grey page with red and pink paled away, red text lines kept; how many red
    non-text components, seals or the emblem, were paled)."""
    if rgb.ndim == 2:
        return rgb, 0
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    red_channel = rgb[..., 0]
    excess = red_channel.astype(np.int16) - np.maximum(rgb[..., 1], rgb[..., 2])
    raise_by = PALE_GAIN * np.maximum(excess - NEUTRAL_EXCESS, 0)
    raise_by *= np.clip((red_channel.astype(np.float32) - DARK_RED) / 60, 0, 1)
    out = np.clip(luma + raise_by, 0, 255).astype(np.uint8)
    red = ((excess > RED_EXCESS) & (red_channel > 110) & (luma < RED_INK_LUMA)).astype(np.uint8)
    if not red.any():
        return out, 0
    h, w = red.shape
    rules = cv2.morphologyEx(red, cv2.MORPH_OPEN, np.ones((1, max(3, w // 8)), np.uint8))
    rules |= cv2.morphologyEx(red, cv2.MORPH_OPEN, np.ones((max(3, h // 8), 1), np.uint8))
    red &= 1 - rules  # the printed frame and rules would join every red mark into one
    reach = max(3, round(min(h, w) / 150))
    joined = cv2.dilate(red, np.ones((reach, 4 * reach), np.uint8))  # letters into lines
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    keep = np.zeros(n, bool)
    seals = 0
    for i in range(1, n):
        cw, ch = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT]
        if cw >= TEXT_LINE_ASPECT * ch and ch <= h / 12:
            keep[i] = True
        elif cw * ch >= (reach * 4) ** 2:
            seals += 1
    text = keep[labels] & red.astype(bool)
    out[text] = luma[text]
    return out, seals


# --- 4. two pages side by side ----------------------------------------------------------------


def find_gutter(lines: Sequence[Sequence[Box]], width: int, height: int) -> int | None:
    """The x of the gutter between two pages photographed side by side, or None.

    `lines` are the word boxes of each line of text read on the image (OCR may run one line
    across both pages: what counts is whether a *word* stands in the gutter). A line covers
    its words widened by its height on each side (an ordinary word space). The gutter is the
    widest run of columns in the middle fifth that the fewest lines cover; it counts on a
    landscape image (SPREAD_ASPECT) when at most SPREAD_CROSSING of the lines cover it and
    each side holds MIN_SIDE_LINES lines: a landscape page (a statement, a card) has words
    all through its middle, and a page on its side is turned upright before this."""
    if not SPREAD_ASPECT[0] <= width / max(height, 1) <= SPREAD_ASPECT[1]:
        return None
    lines = [line for line in lines if line]
    if len(lines) < 2 * MIN_SIDE_LINES:
        return None
    covered = np.zeros(width, np.int32)
    for line in lines:
        mask = np.zeros(width, bool)
        for x0, y0, x1, y1 in line:
            mask[max(0, x0 - (y1 - y0)) : max(0, x1 + (y1 - y0))] = True
        covered += mask
    lo, hi = round(0.4 * width), round(0.6 * width)
    band = covered[lo:hi]
    x = lo + _widest_run(band == band.min())
    left = sum(1 for line in lines if max(b[2] for b in line) <= x)
    right = sum(1 for line in lines if min(b[0] for b in line) >= x)
    if covered[x] <= SPREAD_CROSSING * len(lines) and min(left, right) >= MIN_SIDE_LINES:
        return x
    return None


def _widest_run(mask: np.ndarray) -> int:
    """The centre of the longest run of True in `mask` (the middle of the gutter)."""
    best, best_len, start = 0, 0, None
    for i, v in enumerate([*mask.tolist(), False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start > best_len:
                best, best_len = (start + i) // 2, i - start
            start = None
    return best


# --- 5. scale ---------------------------------------------------------------------------------


def to_reading_scale(grey: np.ndarray) -> np.ndarray:
    """`grey` resized so its long side is READING_LONG_SIDE (at most ×MAX_UPSCALE)."""
    h, w = grey.shape
    factor = min(READING_LONG_SIDE / max(h, w), MAX_UPSCALE)
    if abs(factor - 1) < 0.05:
        return grey
    method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(grey, (round(w * factor), round(h * factor)), interpolation=method)
