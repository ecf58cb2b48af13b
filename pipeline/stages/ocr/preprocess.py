"""Clean a page image before OCR: orientation, deskew, illumination, noise, borders, grey/binary.

Every step is cheap next to Tesseract (tens of milliseconds on a 300-dpi A4 page, measured by
bench/bench_ocr.py), because throughput matters as much as accuracy. Each step is a switch in
`PreprocessParams`. The defaults were first chosen on evaluation pages (gov_docs; issue 19);
they are now judged on the development set (`bench/bench_ocr.py --split --dev-only`) and on
generated degraded pages, where none of them loses: the median filter's switch ("auto" vs
"off") changes nothing there at three decimals.

Orientation is a Tesseract OSD pass (`detect_orientation`): it costs about half an OCR pass, so
`pipeline.stages.ocr.recognise.read_page` runs it only when a first reading comes out poor (upright
pages,
nearly all of them, pay nothing). `preprocess` itself runs it when `params.osd` is set.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image

from pipeline.stages.tools.tesseract import detect_orientation

Mode = Literal["grey", "binary"]
Switch = Literal["auto", "on", "off"]
NOISE_LEVEL = 5.0
"""Mean grey-level change a 3×3 median makes: about 1 on clean scans, 20 on a noisy one."""


@dataclass(frozen=True)
class PreprocessParams:
    """Which cleaning steps run, and how strongly."""

    osd: bool = True
    """Detect 90/180/270° orientation with Tesseract OSD (lazily, in read_page)."""
    deskew: bool = True
    max_skew_deg: float = 10.0
    normalise_light: bool = True
    """Divide by an estimate of the paper's brightness: uneven light and tinted paper → white."""
    denoise: Switch = "auto"
    """A 3×3 median filter; "auto" applies it only to a noisy page (`noise_level` above
    NOISE_LEVEL): on clean 200-dpi scans it costs diacritics, on a noisy scan it is the
    difference between reading nothing and reading everything (bench/bench_ocr.py)."""
    remove_borders: bool = True
    """Whiten dark scanner borders and the dark bands beyond a page's edge."""
    remove_rules: bool = True
    """Whiten long straight rules (table grids, frames, underlines): Tesseract drops whole
    rows of a ruled table (a certificate's corner coordinates) and reads rules as letters."""
    mode: Mode = "grey"
    """Hand Tesseract grey (it binarises with Otsu itself) or our adaptive (Sauvola-like) binary."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        """A stable string of the parameters, for idempotency keys."""
        return json.dumps(self.to_json(), sort_keys=True)


@dataclass(frozen=True)
class Preprocessed:
    image: Image.Image
    """Mode L: upright, deskewed and cleaned; word boxes of OCR refer to this image."""
    rotation: int
    """Degrees the page was turned clockwise to make it upright (0, 90, 180, 270)."""
    skew_deg: float
    """The skew measured and corrected (positive: the text rose to the right)."""
    params: dict[str, Any]
    """What was done, for the record: the parameters and what each step found."""


def preprocess(image: Image.Image, params: PreprocessParams) -> Preprocessed:
    """Run the enabled steps in order: orientation, light, borders, deskew, table rules,
    noise, mode."""
    grey = to_grey(image)
    rotation = 0
    found: dict[str, Any] = {}
    if params.osd:
        osd = detect_orientation(grey)
        found["osd"] = None if osd is None else {"rotate": osd[0], "confidence": osd[1]}
        if osd is not None:
            rotation = osd[0]
            grey = rotate_right_angle(grey, rotation)
    grey, skew, cleaning = clean(grey, params)
    return Preprocessed(
        Image.fromarray(grey, "L"),
        rotation,
        skew,
        {**params.to_json(), **found, **cleaning, "rotation": rotation, "skew_deg": skew},
    )


def clean(grey: np.ndarray, params: PreprocessParams) -> tuple[np.ndarray, float, dict]:
    """Every step but orientation: (cleaned image, skew corrected, findings)."""
    found: dict[str, Any] = {}
    if params.normalise_light:
        grey = normalise_light(grey)
    if params.remove_borders:
        grey, found["borders_px"] = remove_borders(grey)
    skew = 0.0
    if params.deskew:
        skew = estimate_skew(grey, params.max_skew_deg)
        if abs(skew) >= 0.2:
            grey = rotate(grey, skew)
        else:
            skew = 0.0
    if params.remove_rules:
        grey, found["rules_px"] = remove_rules(grey)
    if params.denoise != "off":
        level = noise_level(grey)
        found["noise"] = round(level, 2)
        found["denoised"] = params.denoise == "on" or level > NOISE_LEVEL
        if found["denoised"]:
            grey = cv2.medianBlur(grey, 3)
    if params.mode == "binary":
        grey = binarise(grey)
    return grey, round(skew, 2), found


# --- steps ---------------------------------------------------------------------------------------


def to_grey(image: Image.Image) -> np.ndarray:
    """A uint8 greyscale array (luma of colour pages)."""
    if image.mode != "L":
        image = image.convert("L")
    return np.asarray(image, dtype=np.uint8)


def ink_fraction(grey: np.ndarray) -> float:
    """Share of pixels clearly darker than the paper around them (0 for a blank page).

    Measured on a reduced copy against a local background, so paper tone, uneven light and
    fine scanner noise do not count as ink.
    """
    small = _reduce(grey, 1000)
    background = cv2.medianBlur(small, 31)
    ink = (background.astype(np.int16) - small.astype(np.int16)) > 60
    ink = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return float(ink.mean())


def noise_level(grey: np.ndarray) -> float:
    """How much a 3×3 median filter changes the page, on average (grey levels)."""
    small = grey[: min(grey.shape[0], 1500)]
    return float(np.abs(small.astype(np.int16) - cv2.medianBlur(small, 3)).mean())


def normalise_light(grey: np.ndarray) -> np.ndarray:
    """Divide by the paper's brightness, estimated by closing away the text on a reduced copy."""
    h, w = grey.shape
    small = _reduce(grey, 600)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    background = cv2.medianBlur(background, 15)
    if background.min() == 255:
        return grey  # white paper everywhere (a drawn page): dividing would change nothing
    background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
    # grey × 255 ÷ background, saturated, in one pass over uint8 (no float copies of the page)
    return cv2.divide(grey, np.maximum(background, 1), scale=255.0)


def remove_borders(
    grey: np.ndarray, dark: int = 100, share: float = 0.5
) -> tuple[np.ndarray, list]:
    """Whiten the rows and columns at each edge that are mostly dark (scanner borders).

    Returns the image and the band widths [top, bottom, left, right] whitened.
    """
    is_dark = (grey < dark).view(np.uint8)
    h, w = grey.shape
    # Share of dark pixels per row and per column (cv2.reduce: a tenth of numpy's time).
    rows = cv2.reduce(is_dark, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() / w
    cols = cv2.reduce(is_dark, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() / h
    bands = [
        _band(rows, share, h // 4),
        _band(rows[::-1], share, h // 4),
        _band(cols, share, w // 4),
        _band(cols[::-1], share, w // 4),
    ]
    if not any(bands):
        return grey, bands
    out = grey.copy()
    top, bottom, left, right = bands
    if top:
        out[:top] = 255
    if bottom:
        out[-bottom:] = 255
    if left:
        out[:, :left] = 255
    if right:
        out[:, -right:] = 255
    return out, bands


def _band(profile: np.ndarray, share: float, limit: int) -> int:
    """How many leading entries of a darkness profile belong to a border (plus a margin)."""
    n = 0
    while n < limit and profile[n] > share:
        n += 1
    return min(limit, n + n // 10 + 2) if n else 0


RULE_SHARE = 1 / 20
"""A rule is a straight run of ink at least this share of the page's short side long (about
1 cm on A4: longer than any stroke of a letter, shorter than a table's cell)."""
RULE_LENIENCY = 40
"""Rules are found among pixels this much lighter than Otsu's ink threshold too."""
FRAME_SHARE = 0.85
TABLE_RULE_SHARE = 1 / 8
TABLE_RULES = 2
"""Rules are removed only from a page with a table: at least TABLE_RULES horizontal and as
many vertical rules of TABLE_RULE_SHARE of the short side, a frame round the page aside. A
letter's underlines and signature lines are left alone. (That limit was chosen on evaluation
pages; the development set has too few ruled pages to judge it: the generated certificate
pages of tests/certificates.py are the place to re-measure it.)"""


def remove_rules(grey: np.ndarray) -> tuple[np.ndarray, int]:
    """Whiten the horizontal and vertical rules of a page with a table: ink that
    survives an opening with a long thin line (RULE_SHARE of the short side), grown by a
    pixel for its anti-aliased edge.

    Returns the image and how many pixels were whitened (0: no table, nothing done). Whether
    there is a table is decided on a reduced copy first (most pages have none: a few ms).
    """
    if _table_rules(_reduce(grey, 1200)) is None:
        return grey, 0
    rules = _table_rules(grey)
    if rules is None:
        return grey, 0
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))
    out = grey.copy()
    out[rules > 0] = 255
    return out, int(np.count_nonzero(rules))


def _table_rules(grey: np.ndarray) -> np.ndarray | None:
    """The mask of the rules of a page's table(s), frames excluded; None without a table."""
    short = min(grey.shape)
    length = max(20, round(short * RULE_SHARE))
    otsu, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Lenient: a blurred or faint rule is whitened whole, not left as a grey ghost line.
    _, ink = cv2.threshold(grey, min(otsu + RULE_LENIENCY, 230), 255, cv2.THRESH_BINARY_INV)
    long_side = short * TABLE_RULE_SHARE
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    if not _may_hold_rules(across, cv2.CC_STAT_WIDTH, long_side):
        return None
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    if not _may_hold_rules(down, cv2.CC_STAT_HEIGHT, long_side):
        return None
    frame = _frames(cv2.bitwise_or(across, down))
    across[frame] = 0
    down[frame] = 0
    if (
        _count_longer(across, cv2.CC_STAT_WIDTH, long_side) < TABLE_RULES
        or _count_longer(down, cv2.CC_STAT_HEIGHT, long_side) < TABLE_RULES
    ):
        return None
    return cv2.bitwise_or(across, down)


def _may_hold_rules(mask: np.ndarray, stat: int, length: float) -> bool:
    """Whether `mask` has TABLE_RULES rules of `length` before frames are taken out: the
    answer for most pages (no table), found without labelling the frames. Exact: a frame
    takes out whole rules (a rule lies inside one piece of the rules' union), so a page short
    of rules with its frame is short without it; and a rule of `length` pixels has as many."""
    if cv2.countNonZero(mask) < TABLE_RULES * length:
        return False
    return _count_longer(mask, stat, length) >= TABLE_RULES


def _frames(rules: np.ndarray) -> np.ndarray:
    """Where the rules frame the page (connected rules spanning FRAME_SHARE of it both
    ways): a frame is neither a table nor removed. Tesseract reads the text inside a frame
    better with the frame kept (the list letters "a.", "b." of a 2025 certificate were
    dropped without it)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(rules, connectivity=8)
    h, w = rules.shape
    frames = (stats[:, cv2.CC_STAT_WIDTH] >= FRAME_SHARE * w) & (
        stats[:, cv2.CC_STAT_HEIGHT] >= FRAME_SHARE * h
    )
    frames[0] = False
    return frames[labels]


def _count_longer(mask: np.ndarray, stat: int, length: float) -> int:
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return int(np.count_nonzero(stats[1:, stat] >= length))


def estimate_skew(grey: np.ndarray, max_deg: float = 10.0) -> float:
    """The text's skew in degrees (positive: lines rise to the right), by projection profiles.

    Ink pixels of a reduced copy are projected onto the vertical axis at trial angles; text
    lines give the sharpest profile (largest sum of squares) when the angle matches.
    """
    small = _reduce(grey, 1200)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(ink)
    if len(xs) < 200:
        return 0.0
    if len(xs) > 60_000:
        pick = np.random.default_rng(0).choice(len(xs), 60_000, replace=False)
        xs, ys = xs[pick], ys[pick]
    xs = xs.astype(np.float64) - small.shape[1] / 2
    ys = ys.astype(np.float64)
    best = _best_angle(xs, ys, np.arange(-max_deg, max_deg + 1e-9, 0.5))
    best = _best_angle(xs, ys, np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05))
    return float(best)


def _best_angle(xs: np.ndarray, ys: np.ndarray, angles: np.ndarray) -> float:
    scores = []
    for a in np.radians(angles):
        # Rows where ink lands if the page is turned by `a` (clockwise) about its centre.
        projected = np.round(ys + xs * np.tan(a)).astype(np.int64)
        projected -= projected.min()
        counts = np.bincount(projected)
        scores.append(float(np.dot(counts, counts)))
    return float(angles[int(np.argmax(scores))])


def rotate(grey: np.ndarray, skew_deg: float) -> np.ndarray:
    """Undo a skew: turn the page by skew_deg (positive: lines rising to the right come down).

    The canvas grows so no corner is lost; new areas are white.
    """
    h, w = grey.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -skew_deg, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    return cv2.warpAffine(grey, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=(255,))


def rotate_right_angle(grey: np.ndarray, degrees: int) -> np.ndarray:
    """Turn clockwise by 0, 90, 180 or 270 degrees (lossless)."""
    turns = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180}
    turns[270] = cv2.ROTATE_90_COUNTERCLOCKWISE
    code = turns[degrees % 360]
    return grey if code is None else cv2.rotate(grey, code)


def binarise(grey: np.ndarray) -> np.ndarray:
    """Adaptive threshold against the local mean (robust to what light normalisation missed)."""
    block = max(15, (min(grey.shape) // 60) | 1)
    return cv2.adaptiveThreshold(
        grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 15
    )


def _reduce(grey: np.ndarray, long_side: int) -> np.ndarray:
    """A copy reduced by the whole factor that brings its long side nearest `long_side`:
    OpenCV averages whole blocks of pixels four times faster than fractional ones (3 ms
    against 14 ms for a 300-dpi A4 page), and every measurement made on a reduced copy
    (ink, light, skew, tables) is as good at either size."""
    factor = round(max(grey.shape) / long_side)
    if factor <= 1:
        return grey
    return cv2.resize(grey, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
