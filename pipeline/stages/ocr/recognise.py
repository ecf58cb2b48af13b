"""OCR one page with Tesseract: words with boxes and confidences, hOCR and text in one pass.

`recognise` runs one `tesseract` process per page (OMP_THREAD_LIMIT=1: parallelism comes from
running pages in parallel processes, which is 2.7× faster here than Tesseract's own threads).
The page goes in on stdin as an uncompressed PGM (no PNG encoding, no temporary file) and the
hOCR comes back on stdout; words, boxes, confidences, lines and the page text are all parsed
from that hOCR, so Tesseract runs once per page. (pytesseract would encode a PNG and write temp
files for the same call, so the CLI is called directly, with the same arguments.)

`read_page` is the whole per-page stage: a PDF's text layer when it is good, otherwise
load → preprocess → recognise, with an orientation check only when the first reading is poor,
then a second pass (`read_unread`) on crops where the page reading is known to fail: large
lines read poorly, and inked regions it left out (a signature block under a seal); a page
read whole costs one connected-components pass and no more Tesseract runs. The second pass was
first chosen on evaluation pages (issue 19); on the development set (`bench/bench_ocr.py
--split --dev-only`, 16 born-digital pages drawn and damaged) it is neutral (recall, precision
0.983, CER 0.007 with and without): those pages carry no wet seal. Marks that are not text
are then dropped (`pipeline.stages.ocr.junk`) and poorly read lines listed for dimming.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from models.language.text import is_vietnamese_syllable
from pipeline.errors import InputRejectedError
from pipeline.media.limits import Limits
from pipeline.stages.ocr.hocr import mean_conf, parse_hocr, words_to_hocr, words_to_text
from pipeline.stages.ocr.preprocess import (
    PreprocessParams,
    clean,
    ink_fraction,
    rotate_right_angle,
    to_grey,
)
from pipeline.stages.ocr.unread import unread_regions
from pipeline.stages.pages.images import load_page, reject_tiny
from pipeline.stages.pages.pagetext import PageText, Word
from pipeline.stages.tools.tesseract import detect_orientation, run_tesseract, tesseract_version

LANGUAGES = ("vie", "vie+eng", "vie+fra", "chi_tra")
MODELS = ("vie_best_int", "Vietnamese", "vie+Vietnamese", "vie_best_int+Vietnamese")
"""Other Vietnamese models `OcrParams` accepts (not offered to users until one wins):
`vie_best_int`, Tesseract's 4.0.0_best_int model (npm @tesseract.js-data/vie, in a
`tessdata` folder); `Vietnamese`, Debian's script model (tesseract-ocr-script-viet).
`vie` is Debian's fast model. bench/bench_ocr.py --split compares them."""
PSMS = (1, 3, 4, 6, 7, 11, 12)

BLANK_INK = 0.0005
"""Below this share of ink pixels a page is blank (a few specks of dust are not text)."""
POOR_CONF = 60.0
"""A first reading below this mean confidence triggers the orientation check."""
NOT_TEXT_CONF = 40.0
"""A page read at a mean confidence below this, with next to no confident words, is no
document (a photo of a building, a drawing): it is rejected rather than filled with junk."""
_NOT_TEXT_WORDS = 5
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
DIM_LINE_CONF = 60.0
"""A line read at a mean confidence below this is listed in params["dim_lines"] ([block,
line] pairs) so the portal can show it dimmed."""
WIDE_SKEW_DEG = 45.0
"""A poorly read page is tried at its skew measured over ±45° (a page photographed at any
angle: with the 90° turns of OSD, every angle is covered)."""


@dataclass(frozen=True)
class OcrParams:
    """How a capture is read (recorded with every result)."""

    lang: str = "vie"
    dpi: int = 300
    psm: int = 3
    timeout_s: float = 180.0
    preprocess: PreprocessParams = field(default_factory=PreprocessParams)
    use_text_layer: bool = True
    """Keep a PDF page's text layer when `layer_verdict` accepts it."""
    second_pass: bool = True
    """Read again, as single blocks, the inked regions the page reading left out (signature
    blocks under a seal, lines crossed by a stamp); see `read_unread`."""
    tessdata: str | None = None
    """Folder given to Tesseract as --tessdata-dir (it must hold every model of `lang`);
    None: the system's models."""
    suppress_marks: bool = True
    """Drop the words read from seals, stamps, signatures, logos and rules, and symbols read
    at low confidence; each region skipped is recorded in params["suppressed"]
    (`pipeline.stages.ocr.junk`)."""
    estimate_resolution: bool = True
    """Let Tesseract estimate the resolution from the text's x-height rather than telling it
    the scan's dpi: its size thresholds then fit the text, not the paper, and it keeps more
    diacritics (development set, bench_ocr --split --dev-only: CER 0.007 estimated, 0.008
    with the scan's dpi; recall and precision equal)."""

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES + MODELS:
            raise InputRejectedError(
                f"OCR language {self.lang!r} is not offered; choose one of: {', '.join(LANGUAGES)}"
            )
        if self.psm not in PSMS:
            raise InputRejectedError(f"page segmentation mode {self.psm} is not one of {PSMS}")
        if not 50 <= self.dpi <= 1200:
            raise InputRejectedError(f"OCR resolution {self.dpi} dpi is outside 50–1200")
        if not self.timeout_s > 0:
            raise InputRejectedError(f"OCR timeout {self.timeout_s} s must be positive")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- one page image -> PageText ------------------------------------------------------------------


def recognise(
    image: Image.Image, params: OcrParams, *, page: int = 0, dpi: int | None = None
) -> PageText:
    """Read one page image (any mode) with one Tesseract run.

    `dpi` is the image's resolution (default `params.dpi`); boxes are pixels of `image`.
    Raises OcrTimeoutError past `params.timeout_s`, InputRejectedError for a tiny image.
    """
    reject_tiny(image, f"page {page + 1}")
    dpi = dpi or params.dpi
    hocr = run_tesseract(image, params, page=page, dpi=dpi)
    words = parse_hocr(hocr)
    return PageText(
        page=page,
        text=words_to_text(words),
        words=words,
        width=image.width,
        height=image.height,
        dpi=dpi,
        mean_conf=mean_conf(words),
        source="ocr",
        engine=tesseract_version(),
        lang=params.lang,
        params={
            "psm": params.psm,
            "oem": 1,
            "lang": params.lang,
            "dpi": dpi,
            "estimate_resolution": params.estimate_resolution,
        },
        hocr=hocr,
    )


# --- the per-page stage --------------------------------------------------------------------------


def read_page(
    path: Path, media_type: str, index: int, params: OcrParams, limits: Limits
) -> PageText:
    """The text of one page of a capture (see `read_page_image`, which also gives the image)."""
    return read_page_image(path, media_type, index, params, limits)[0]


def read_page_image(
    path: Path, media_type: str, index: int, params: OcrParams, limits: Limits
) -> tuple[PageText, Image.Image]:
    """(PageText, the page image its boxes refer to, fit for the searchable PDF).

    The page is loaded first (a PDF's embedded scan, or a rendering at params.dpi). For a PDF
    the text layer is then tried, its verdict recorded in params["text_layer"], and a good
    layer returned as it is, boxes at the loaded image's dpi; a layer that cannot be
    extracted at all is recorded as rejected and the page is OCRed. Otherwise the image is cleaned
    and read; a blank page gives empty text and params["blank"] = True.
    """
    loaded = load_page(path, media_type, index, dpi=params.dpi, limits=limits)
    verdict: dict[str, Any] | None = None
    if media_type == "application/pdf" and params.use_text_layer:
        from pipeline.stages.pages.textlayer import TextLayerError, layer_verdict, text_layer

        # Boxes at the loaded image's dpi (an embedded scan keeps its own resolution).
        try:
            layer = text_layer(path, index, dpi=loaded.dpi)
        except TextLayerError as e:  # the page was drawn: read it instead
            layer, verdict = None, {"accepted": False, "reason": str(e), "words": 0}
        if layer is not None:
            ok, reason = layer_verdict(layer)
            verdict = {"accepted": ok, "reason": reason, "words": len(layer.words)}
            if ok:
                layer.params.update({"text_layer": verdict, "loaded": loaded.how})
                return layer, loaded.image
    text, image = ocr_image(loaded.image, params, page=index, dpi=loaded.dpi)
    text.params.update({"loaded": loaded.how, "source_dpi": loaded.source_dpi})
    if verdict is not None:
        text.params["text_layer"] = verdict
    return text, image


def ocr_image(
    image: Image.Image, params: OcrParams, *, page: int = 0, dpi: int | None = None
) -> tuple[PageText, Image.Image]:
    """Clean and read a page image: blank check, first reading, orientation only if poor,
    second pass (`params.second_pass`)."""
    reject_tiny(image, f"page {page + 1}")
    dpi = dpi or params.dpi
    pp = params.preprocess
    grey = to_grey(image)
    ink = ink_fraction(grey)
    if ink < BLANK_INK:
        cleaned = Image.fromarray(grey, "L")
        return _blank(cleaned, params, page, dpi, {"ink": round(ink, 5)}), cleaned
    cleaned_a, skew, found = clean(grey, pp)
    cleaned = Image.fromarray(cleaned_a, "L")
    result = recognise(cleaned, params, page=page, dpi=dpi)
    rotation = 0
    if pp.deskew and _poor(result):
        result, cleaned, skew, found = _try_wide_skew(
            grey, result, cleaned, skew, found, params, page, dpi
        )
        if found.get("wide_skew"):
            grey = to_grey(cleaned)
    if pp.osd and _poor(result):
        osd = detect_orientation(grey, dpi)
        found["osd"] = None if osd is None else {"rotate": osd[0], "confidence": osd[1]}
        if osd is not None and osd[0] != 0:
            turned_a, skew2, found2 = clean(rotate_right_angle(grey, osd[0]), pp)
            turned = Image.fromarray(turned_a, "L")
            second = recognise(turned, params, page=page, dpi=dpi)
            if _score(second) > _score(result):
                result, cleaned, rotation, skew = second, turned, osd[0], skew2
                found.update(found2)
    pre = {**pp.to_json(), **found, "rotation": rotation, "skew_deg": skew, "ink": round(ink, 4)}
    result.params["preprocess"] = pre
    _reject_non_document(result, page)
    if params.second_pass:
        result = read_unread(cleaned, result, params)
    if params.suppress_marks:
        from pipeline.stages.ocr.junk import suppress

        result = suppress(result, to_grey(cleaned))
    result.params["dim_lines"] = dim_lines(result)
    if not result.words:
        result.params["blank"] = True
    return result, cleaned


def dim_lines(text: PageText) -> list[list[int]]:
    """[block, line] of every line read at a mean confidence below DIM_LINE_CONF."""
    return [
        [ws[0].block, ws[0].line]
        for ws in text.lines()
        if sum(w.conf for w in ws) / len(ws) < DIM_LINE_CONF
    ]


def _try_wide_skew(grey, result, cleaned, skew, found, params, page, dpi):
    """The page turned by its skew measured over ±WIDE_SKEW_DEG, read again, kept when it
    reads better (a phone photo at 30°); the arguments unchanged otherwise."""
    from pipeline.stages.ocr.preprocess import estimate_skew, rotate

    wide = estimate_skew(grey, WIDE_SKEW_DEG)
    if abs(wide) <= params.preprocess.max_skew_deg:
        return result, cleaned, skew, found
    turned_a, skew2, found2 = clean(rotate(grey, wide), params.preprocess)
    turned = Image.fromarray(turned_a, "L")
    again = recognise(turned, params, page=page, dpi=dpi)
    if _score(again) <= _score(result):
        return result, cleaned, skew, found
    return again, turned, round(wide + skew2, 2), {**found, **found2, "wide_skew": wide}


# --- second pass over what the page reading left out ----------------------------------------


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


def _poor(text: PageText) -> bool:
    return text.mean_conf < POOR_CONF or len(text.words) < 3


def _score(text: PageText) -> float:
    """Confident words: what a reading is worth (more text read well is better)."""
    return sum(w.conf for w in text.words if w.conf >= 50)


def _reject_non_document(text: PageText, page: int) -> None:
    confident = sum(1 for w in text.words if w.conf >= 80 and len(w.text) > 1)
    if text.words and text.mean_conf < NOT_TEXT_CONF and confident < _NOT_TEXT_WORDS:
        raise InputRejectedError(
            f"page {page + 1} does not look like a document: Tesseract found no readable text "
            f"({len(text.words)} fragments at a mean confidence of {text.mean_conf:.0f})"
        )


def _blank(image: Image.Image, params: OcrParams, page: int, dpi: int, found: dict) -> PageText:
    return PageText(
        page=page,
        text="",
        words=[],
        width=image.width,
        height=image.height,
        dpi=dpi,
        mean_conf=0.0,
        source="ocr",
        engine=tesseract_version(),
        lang=params.lang,
        params={"blank": True, "preprocess": {**params.preprocess.to_json(), **found}},
    )


__all__ = [
    "LANGUAGES",
    "OcrParams",
    "ocr_image",
    "read_page",
    "read_page_image",
    "recognise",
]
