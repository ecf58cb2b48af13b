"""Reading a certificate page that may be a phone photo: the page flattened and its seal and
security background paled (`photo.prepare_photo`), the OCR stage as every page gets it, then
the two pages of a spread told apart.

    read_certificate_image(image, params, page=0, dpi=None) -> (PageText, page image)
    read_certificate_page(path, media_type, index, params, limits) -> (PageText, page image)
    split_spreads(pages) -> [PageText, ...]      (a spread's pages, one PageText each)

A spread stays one capture page (one image; each half is read again on its own once the
gutter is found, Tesseract reading lines across the fold otherwise); what was found is
recorded in `params["photo"]`, with
`parts` = [[x0, x1], [x0, x1]], the column ranges of the two pages on the page image. The
fields job calls `split_spreads` so each part is classified and read as a page of its own;
word boxes stay those of the stored page image, so a field's crop is still right.

A PDF page is read as before (`read_page_image`: its text layer, or its scan): photos come as
images. An image that holds no page to read fails as the OCR stage fails it (a clear
InputRejectedError), never with invented text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.media.limits import Limits
from pipeline.stages.certificate.digits import doubt_dates
from pipeline.stages.certificate.photo import Box, find_gutter, prepare_photo
from pipeline.stages.ocr.hocr import mean_conf, words_to_text
from pipeline.stages.ocr.preprocess import rotate_right_angle
from pipeline.stages.ocr.recognise import OcrParams, ocr_image, read_page_image
from pipeline.stages.pages.images import load_page
from pipeline.stages.pages.pagetext import PageText
from pipeline.stages.tools.tesseract import detect_orientation

READING_DPI = 300
"""The resolution a photographed page is read at once `prepare_photo` has scaled it."""
LINE_CONF = 50.0
"""Only lines of words read at this confidence or better tell where the gutter is (the
security pattern read as letters does not)."""


def read_certificate_page(
    path: Path, media_type: str, index: int, params: OcrParams, limits: Limits
) -> tuple[PageText, Image.Image]:
    """One page of a land-certificate capture: `read_certificate_image` for an image file,
    `read_page_image` (text layer or scan) for a PDF."""
    if media_type == "application/pdf":
        return read_page_image(path, media_type, index, params, limits)
    loaded = load_page(path, media_type, index, dpi=params.dpi, limits=limits)
    text, image = read_certificate_image(loaded.image, params, page=index, dpi=loaded.dpi)
    text.params.update({"loaded": loaded.how, "source_dpi": loaded.source_dpi})
    return text, image


def read_certificate_image(
    image: Image.Image, params: OcrParams, *, page: int = 0, dpi: int | None = None
) -> tuple[PageText, Image.Image]:
    """A certificate page image (scan or photo) read: prepared, OCRed, its spread found."""
    prepared = prepare_photo(np.asarray(image.convert("RGB")))
    found = dict(prepared.found)
    read_dpi = READING_DPI if found["photo"] else (dpi or params.dpi)
    upright = _on_its_side(prepared.image, read_dpi, found)
    text, cleaned = _read_either_way_up(upright, params, page, read_dpi, found)
    gutter = find_gutter(_line_boxes(text), cleaned.width, cleaned.height)
    if gutter is not None:
        found["parts"] = [[0, gutter], [gutter, cleaned.width]]
        text = _read_halves(text, cleaned, gutter, params, page, read_dpi)
    text = doubt_dates(text, cleaned)
    text.params["photo"] = found
    return text, cleaned


def _read_either_way_up(
    grey: np.ndarray, params: OcrParams, page: int, dpi: int, found: dict
) -> tuple[PageText, Image.Image]:
    """The OCR stage's reading of a page; a photo it refuses as holding no readable text is
    read once more upside down before the refusal stands. The stage turns a page over only
    when Tesseract's orientation check is sure, and on a blurred or low-resolution photo it
    is not: such a page upside down reads as no text at all."""
    try:
        return ocr_image(Image.fromarray(grey, "L"), params, page=page, dpi=dpi)
    except InputRejectedError as refused:
        if not found["photo"]:
            raise
        turned = Image.fromarray(rotate_right_angle(grey, 180), "L")
        try:
            text, cleaned = ocr_image(turned, params, page=page, dpi=dpi)
        except InputRejectedError:
            raise refused from None
    found["turned"] = (found.get("turned", 0) + 180) % 360
    return text, cleaned


def _on_its_side(grey: np.ndarray, dpi: int, found: dict) -> np.ndarray:
    """A landscape image turned upright when its text runs vertically (a portrait page
    photographed, or flattened, on its side), by Tesseract OSD. Asked here rather than left
    to the OCR stage (which asks only after a poor reading) because a page on its side is
    landscape like a two-page spread, and the gutter is looked for on upright text."""
    if grey.shape[1] <= grey.shape[0]:
        return grey
    osd = detect_orientation(grey, dpi)
    if osd is not None and osd[0] in (90, 270):
        found["turned"] = osd[0]
        return rotate_right_angle(grey, osd[0])
    return grey


def _read_halves(
    whole: PageText, image: Image.Image, gutter: int, params: OcrParams, page: int, dpi: int
) -> PageText:
    """The two pages of a spread read one at a time (Tesseract reads a page alone better than
    beside another: no lines run across the fold), their words put back at their place on
    the spread's image."""
    halves = [image.crop((0, 0, gutter, image.height)), image.crop((gutter, 0, *image.size))]
    words = []
    for offset, half in zip((0, gutter), halves, strict=True):
        read, _ = ocr_image(half, params, page=page, dpi=dpi)
        base = max((w.block for w in words), default=-1) + 1
        words += [
            replace(w, box=(w.box[0] + offset, w.box[1], w.box[2] + offset, w.box[3]),
                    block=base + w.block)
            for w in read.words
        ]  # fmt: skip
    return replace(
        whole, words=words, text=words_to_text(words), mean_conf=mean_conf(words), hocr=b""
    )


def _line_boxes(text: PageText) -> list[list[Box]]:
    """Per line of text, the boxes of its words read with confidence."""
    lines = []
    for words in text.lines():
        sure = [w.box for w in words if w.conf >= LINE_CONF and len(w.text.strip()) > 1]
        if sure:
            lines.append(sure)
    return lines


def split_spreads(pages: Sequence[PageText]) -> list[PageText]:
    """Each page as it is, except a two-page spread, which becomes its two pages (left, then
    right), each with the words whose centre lies in its column range."""
    out: list[PageText] = []
    for page in pages:
        parts = (page.params.get("photo") or {}).get("parts")
        if not parts:
            out.append(page)
            continue
        for i, (x0, x1) in enumerate(parts):
            words = [w for w in page.words if x0 <= (w.box[0] + w.box[2]) / 2 < x1]
            out.append(
                replace(
                    page,
                    words=words,
                    text=words_to_text(words),
                    mean_conf=mean_conf(words),
                    params={**page.params, "part": i},
                    raw_text=None,
                )
            )
    return out
