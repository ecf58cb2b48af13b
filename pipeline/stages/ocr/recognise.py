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

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.media.limits import Limits
from pipeline.stages.ocr.hocr import mean_conf, parse_hocr, words_to_text
from pipeline.stages.ocr.preprocess import (
    PreprocessParams,
    clean,
    ink_fraction,
    rotate_right_angle,
    to_grey,
)
from pipeline.stages.ocr.secondpass import POOR_CONF, read_unread
from pipeline.stages.pages.images import load_page, reject_tiny
from pipeline.stages.pages.pagetext import PageText
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
NOT_TEXT_CONF = 40.0
"""A page read at a mean confidence below this, with next to no confident words, is no
document (a photo of a building, a drawing): it is rejected rather than filled with junk."""
_NOT_TEXT_WORDS = 5
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
    columns: bool = True
    """Read a page printed in two columns column by column, and a two-column header or footer
    (the issuer beside the motto, "Nơi nhận:" beside the signer) block by block, the gutters
    found between the words read (`pipeline.stages.pages.columns`); recorded in
    params["columns"] and params["bands"]."""
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
    if params.columns:
        from pipeline.stages.pages.columns import band_order, column_order

        result = column_order(band_order(result), to_grey(cleaned) < 128)
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
