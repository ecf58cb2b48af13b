"""OCR one page with Tesseract: words with boxes and confidences, hOCR and text in one pass.

`recognise` runs one `tesseract` process per page (OMP_THREAD_LIMIT=1: parallelism comes from
running pages in parallel processes, which is 2.7× faster here than Tesseract's own threads).
The page goes in on stdin as an uncompressed PGM (no PNG encoding, no temporary file) and the
hOCR comes back on stdout; words, boxes, confidences, lines and the page text are all parsed
from that hOCR, so Tesseract runs once per page. (pytesseract would encode a PNG and write temp
files for the same call, so the CLI is called directly, with the same arguments.)

`read_page` is the whole per-page stage: a PDF's text layer when it is good, otherwise
load → preprocess → recognise, with an orientation check only when the first reading is poor.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.media import Limits
from pipeline.stages.pages import load_page, reject_tiny
from pipeline.stages.pagetext import PageText, Word
from pipeline.stages.preprocess import (
    PreprocessParams,
    clean,
    detect_orientation,
    ink_fraction,
    rotate_right_angle,
    to_grey,
)
from search.text import nfc

LANGUAGES = ("vie", "vie+eng", "vie+fra", "chi_tra")
PSMS = (1, 3, 4, 6, 11, 12)

BLANK_INK = 0.0005
"""Below this share of ink pixels a page is blank (a few specks of dust are not text)."""
POOR_CONF = 60.0
"""A first reading below this mean confidence triggers the orientation check."""
NOT_TEXT_CONF = 40.0
"""A page read at a mean confidence below this, with next to no confident words, is no
document (a photo of a building, a drawing): it is rejected rather than filled with junk."""
_NOT_TEXT_WORDS = 5


class OcrTimeoutError(InputRejectedError):
    """Tesseract took longer than the per-page limit on a page (permanent for that page)."""


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
    estimate_resolution: bool = True
    """Let Tesseract estimate the resolution from the text's x-height rather than telling it
    the scan's dpi: its size thresholds then fit the text, not the paper, and it keeps more
    diacritics (gov_docs pages: CER 0.157 with --dpi 200, 0.140 estimated; see bench)."""

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
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


@functools.cache
def tesseract_version() -> str:
    """e.g. "tesseract 5.3.0" (the first line of `tesseract --version`)."""
    done = subprocess.run(
        [_tesseract(), "--version"], capture_output=True, text=True, timeout=30, check=True
    )
    return (done.stdout or done.stderr).splitlines()[0].strip()


def _tesseract() -> str:
    return shutil.which("tesseract") or "tesseract"


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


def run_tesseract(image: Image.Image, params: OcrParams, *, page: int, dpi: int) -> bytes:
    """Tesseract's hOCR of an image, the image piped in as PGM/PPM."""
    cmd = [_tesseract(), "stdin", "stdout", "-l", params.lang, "--psm", str(params.psm)]
    if not params.estimate_resolution:
        cmd += ["--dpi", str(dpi)]
    cmd.append("hocr")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            cmd, input=_pnm(image), capture_output=True, timeout=params.timeout_s, env=env
        )
    except subprocess.TimeoutExpired:
        raise OcrTimeoutError(
            f"page {page + 1}: Tesseract did not finish within {params.timeout_s:g} s "
            "(the per-page OCR time limit)"
        ) from None
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputRejectedError(
            f"page {page + 1}: Tesseract failed (exit {done.returncode}): "
            f"{detail[-1] if detail else 'no output'}"
        )
    return done.stdout


def _pnm(image: Image.Image) -> bytes:
    """Binary PGM (grey) or PPM (colour): what Leptonica reads fastest."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB" if image.mode in ("RGBA", "P", "CMYK") else "L")
    magic = b"P5" if image.mode == "L" else b"P6"
    return b"%s\n%d %d\n255\n" % (magic, image.width, image.height) + image.tobytes()


# --- hOCR ----------------------------------------------------------------------------------------

_BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_WCONF = re.compile(r"x_wconf (-?[0-9.]+)")


def parse_hocr(hocr: bytes) -> list[Word]:
    """Words of a Tesseract hOCR page in reading order; block = paragraph, line = line number."""
    root = ET.fromstring(hocr)
    words: list[Word] = []
    block = line = -1
    for el in root.iter():
        kind = el.get("class")
        if kind == "ocr_par":
            block += 1
        elif kind in ("ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"):
            line += 1
        elif kind == "ocrx_word":
            text = nfc("".join(el.itertext())).strip()
            box, conf = _BBOX.search(el.get("title", "")), _WCONF.search(el.get("title", ""))
            if text and box:
                x0, y0, x1, y1 = (int(v) for v in box.groups())
                c = float(conf.group(1)) if conf else 0.0
                words.append(Word(text, (x0, y0, x1, y1), c, max(block, 0), max(line, 0)))
    return words


def words_to_text(words: list[Word]) -> str:
    """Words joined by spaces, lines by newlines, paragraphs by a blank line."""
    out: list[str] = []
    last: tuple[int, int] | None = None
    for w in words:
        if last is None:
            out.append(w.text)
        elif (w.block, w.line) == last:
            out.append(" " + w.text)
        else:
            out.append(("\n\n" if w.block != last[0] else "\n") + w.text)
        last = (w.block, w.line)
    return nfc("".join(out))


def mean_conf(words: list[Word]) -> float:
    return round(float(np.mean([w.conf for w in words])), 2) if words else 0.0


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
    layer returned as it is, boxes at the loaded image's dpi. Otherwise the image is cleaned
    and read; a blank page gives empty text and params["blank"] = True.
    """
    loaded = load_page(path, media_type, index, dpi=params.dpi, limits=limits)
    verdict: dict[str, Any] | None = None
    if media_type == "application/pdf" and params.use_text_layer:
        from pipeline.stages.textlayer import layer_verdict, text_layer

        # Boxes at the loaded image's dpi (an embedded scan keeps its own resolution).
        layer = text_layer(path, index, dpi=loaded.dpi)
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
    """Clean and read a page image: blank check, first reading, orientation only if poor."""
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
    if not result.words:
        result.params["blank"] = True
    return result, cleaned


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
    "OcrTimeoutError",
    "mean_conf",
    "ocr_image",
    "parse_hocr",
    "read_page",
    "read_page_image",
    "recognise",
    "tesseract_version",
]
