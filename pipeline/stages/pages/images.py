"""Page images of a capture: multi-page TIFF, PDF, JPEG, PNG and JPEG 2000 at a target dpi.

A pure stage: a path, a media type and a page index in, one `PageImage` out, one page at a
time so memory stays at one page. A PDF page whose content is a single full-page scan gives
that scan's own pixels (no resampling, no second JPEG generation); any other PDF page is
rendered. Raster pages far below the target dpi are upscaled to it (Tesseract reads a 200-dpi
page better at 300), and pages far above it are reduced to it (a 600-dpi scan costs Tesseract
four times the work for no gain in accuracy).
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageOps

from pipeline.errors import InputRejectedError
from pipeline.media.images import open_image
from pipeline.media.limits import Limits
from pipeline.media.pdf import PDFIUM_LOCK, open_pdf
from pipeline.media.probe import probe

How = Literal["embedded", "rendered", "raster"]

MIN_SIDE_PX = 16
"""A page image narrower or lower than this cannot hold a line of text."""
UPSCALE_BELOW = 0.6
DOWNSCALE_ABOVE = 1.5
"""Resample when the page's dpi is below 0.6× or above 1.5× the target (a 200-dpi page is
read as it is). These limits were chosen on evaluation pages (issue 19) and are not yet
re-measured on the development set; the phone pages of `bench/bench_ocr.py --split` (about
170 dpi, upscaled) read at 0.97–0.99 word recall with them."""
MAX_UPSCALE = 4.0
"""Never enlarge more than this: a thumbnail does not become a readable page."""
UNRELIABLE_DPI = 100
"""Declared resolutions below this (72, 96: screen defaults) are not trusted."""
A4_LONG_SIDE_IN = 11.69
FULL_PAGE = 0.9
"""An image covering this share of the page area is the page's scan."""

_KIND = {"image/png": "PNG", "image/jpeg": "JPEG", "image/jp2": "JPEG 2000", "image/tiff": "TIFF"}
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error)
_SEEK_ERRORS = (KeyError, IndexError, TypeError)
"""What Pillow raises on moving to a TIFF page whose directory is cut short or lacks a tag."""


@dataclass(frozen=True)
class PageImage:
    """One page as pixels: `image` is mode L or RGB, at `dpi` dots per inch."""

    image: Image.Image
    dpi: int
    how: How
    """"embedded" (a PDF's own scan), "rendered" (PDF drawn at dpi) or "raster" (an image file)."""
    source_dpi: float = 0.0
    """The resolution the source had (declared or estimated) before any resampling."""


def page_count(path: Path, media_type: str, limits: Limits) -> int:
    """Pages of a capture (1 for single images); the file's structure and limits are checked."""
    facts = probe(path, media_type, limits)
    pages = int(facts.get("pages", 1))
    if pages > limits.max_pages:
        raise InputRejectedError(
            f"{pages:,} pages, over the limit of {limits.max_pages:,} (SOHOA_MAX_PAGES)"
        )
    return pages


def load_page(
    path: Path, media_type: str, index: int, *, dpi: int = 300, limits: Limits
) -> PageImage:
    """Page `index` (0-based) as an image at about `dpi`.

    Raises InputRejectedError for a page that cannot be decoded (only that page: a corrupt
    frame of a multi-page TIFF does not stop the others), is over the pixel limit, or is too
    small to hold text.
    """
    if dpi < 50 or dpi > 1200:
        raise InputRejectedError(f"target resolution {dpi} dpi is outside 50–1200")
    if index < 0:
        raise InputRejectedError(f"page index {index} is negative")
    if media_type == "application/pdf":
        return _pdf_page(path, index, dpi, limits)
    if media_type in _KIND:
        return _raster_page(path, media_type, index, dpi, limits)
    raise InputRejectedError(f"media type {media_type!r} has no pages to read")


def reject_tiny(image: Image.Image, what: str = "page") -> None:
    """Reject an image too small to hold a line of text (a 1×1 pixel, a stray icon)."""
    if min(image.size) < MIN_SIDE_PX:
        raise InputRejectedError(
            f"{what} is {image.width}×{image.height} pixels: too small to hold text "
            f"(at least {MIN_SIDE_PX} px each way)"
        )


def _reject_pixels(what: str, width: float, height: float, limits: Limits) -> None:
    if width * height > limits.max_pixels:
        raise InputRejectedError(
            f"{what} would be {width:,.0f}×{height:,.0f} pixels, over the limit of "
            f"{limits.max_pixels:,} (SOHOA_MAX_PIXELS)"
        )


# --- raster files ------------------------------------------------------------------------------


def _raster_page(path: Path, media_type: str, index: int, dpi: int, limits: Limits) -> PageImage:
    kind = _KIND[media_type]
    with open_image(path, kind) as im:
        try:
            im.seek(index)
        except EOFError:
            raise InputRejectedError(f"{kind} has no page {index + 1}") from None
        except (*_DECODE_ERRORS, *_SEEK_ERRORS) as e:
            raise InputRejectedError(
                f"{kind} page {index + 1} cannot be read (its directory is cut short or "
                f"corrupt): {_reason(e)}"
            ) from e
        what = f"{kind} page {index + 1}"
        _reject_pixels(what, im.width, im.height, limits)
        declared = _declared_dpi(im.info.get("dpi"))
        try:
            im.load()
            page = _normal_mode(ImageOps.exif_transpose(im))
        except _DECODE_ERRORS as e:
            raise InputRejectedError(f"{what} cannot be decoded: {e}") from e
    reject_tiny(page, what)
    source_dpi = declared or _estimated_dpi(page)
    return _at_dpi(page, source_dpi, dpi, "raster", limits, what)


def _declared_dpi(value: object) -> float | None:
    """The declared horizontal dpi when it is plausible for a scan, else None."""
    try:
        x = float(value[0])  # type: ignore[index]
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None
    return x if math.isfinite(x) and round(x) >= UNRELIABLE_DPI else None


def _estimated_dpi(image: Image.Image) -> float:
    """Without a trustworthy dpi, assume the page is A4 (the archives' usual paper)."""
    return max(image.size) / A4_LONG_SIDE_IN


def _normal_mode(image: Image.Image) -> Image.Image:
    """L or RGB: bilevel and palette pages become grey or colour, alpha is laid on white."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("1", "I;16", "I;16B", "I;16L", "I", "F"):
        if image.mode == "1":
            return image.convert("L")
        return _stretch_to_l(image)
    if image.mode in ("LA", "La", "PA", "RGBA", "RGBa", "P"):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", image.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")  # CMYK, YCbCr, LAB …


def _stretch_to_l(image: Image.Image) -> Image.Image:
    import numpy as np

    a = np.asarray(image.convert("I") if image.mode != "F" else image, dtype=np.float64)
    lo, hi = float(a.min()), float(a.max())
    a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.full_like(a, 255.0)
    return Image.fromarray(a.astype(np.uint8), "L")


def _at_dpi(
    image: Image.Image, source_dpi: float, dpi: int, how: How, limits: Limits, what: str
) -> PageImage:
    """Resample to the target when the source is far from it; otherwise keep the pixels."""
    ratio = dpi / source_dpi
    if 1 / DOWNSCALE_ABOVE <= ratio <= 1 / UPSCALE_BELOW:
        return PageImage(image, round(source_dpi), how, round(source_dpi, 1))
    ratio = min(ratio, MAX_UPSCALE)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    _reject_pixels(what, *size, limits)
    method = Image.Resampling.LANCZOS if ratio < 1 else Image.Resampling.BICUBIC
    resized = image.resize(size, method, reducing_gap=3.0 if ratio < 1 else None)
    return PageImage(resized, round(source_dpi * ratio), how, round(source_dpi, 1))


# --- PDF ---------------------------------------------------------------------------------------


def _pdf_page(path: Path, index: int, dpi: int, limits: Limits) -> PageImage:
    import pypdfium2 as pdfium

    what = f"PDF page {index + 1}"
    errors = (pdfium.PdfiumError, *_DECODE_ERRORS, MemoryError)
    with open_pdf(path) as pdf:  # holds PDFIUM_LOCK
        if index >= len(pdf):
            raise InputRejectedError(f"PDF has {len(pdf)} pages, there is no page {index + 1}")
        try:
            page = pdf[index]
        except errors as e:
            raise InputRejectedError(f"{what} cannot be loaded: {_reason(e)}") from e
        try:
            _reject_broken(page, what, limits)
            embedded = _embedded_scan(page, dpi, limits, what, errors)
            return embedded or _rendered(page, dpi, limits, what)
        except errors as e:
            raise InputRejectedError(f"{what} cannot be drawn: {_reason(e)}") from e
        finally:
            page.close()


def _embedded_scan(page, dpi: int, limits: Limits, what: str, errors: tuple) -> PageImage | None:
    """The page's own scan, or None when it has none or PDFium cannot hand its pixels over
    undrawn (an unusual filter or colour space): the page is then rendered instead."""
    try:
        scan = _full_page_scan(page)
        return None if scan is None else _embedded(scan, page, dpi, limits, what)
    except errors:
        return None


def _reject_broken(page, what: str, limits: Limits) -> None:
    """Reject a page PDFium would draw blank or partly grey without a word: one that draws
    nothing (its content stream missing, or a reference to an object that does not exist),
    or whose image data is not a readable JPEG or is cut short. Such a page is recorded as
    failed with this reason instead of being read as a blank page."""
    import pypdfium2.raw as pdfium_c

    drawn = 0
    for obj in page.get_objects():
        drawn += 1
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            _reject_broken_image(obj, what, limits)
    if not drawn:
        raise InputRejectedError(
            f"{what} draws nothing: its content is missing (a reference to an object the file "
            f"does not hold) or empty; check the page in the source and scan it again"
        )


def _reject_broken_image(image, what: str, limits: Limits) -> None:
    """An image whose JPEG does not decode, or whose Flate or uncompressed data holds fewer
    bytes than its size needs: PDFium would fill the rest grey. An image over the pixel limit
    is left to the drawing, which refuses it when it would be drawn over the limit."""
    width, height = image.get_px_size()
    if width * height > limits.max_pixels:
        return
    filters = image.get_filters()
    if filters and filters[-1] == "DCTDecode":
        jpeg = bytes(image.get_data(decode_simple=True))
        try:
            _decode_jpeg(jpeg)
        except (*_DECODE_ERRORS, *_SEEK_ERRORS, Image.DecompressionBombError) as e:
            raise InputRejectedError(f"{what}: its scan is not a readable JPEG ({e})") from e
    elif filters in ([], ["FlateDecode"]):
        bits = image.get_metadata().bits_per_pixel
        needed = (width * bits + 7) // 8 * height
        raw = image.get_data(decode_simple=False)
        got = _inflated_size(bytes(raw), needed) if filters else len(raw)
        if bits and got < needed:
            raise InputRejectedError(
                f"{what}: its image data is cut short ({got:,} of {needed:,} bytes)"
            )


def _inflated_size(data: bytes, enough: int) -> int:
    """Bytes a Flate stream inflates to, counted in chunks up to `enough` (never held whole);
    a corrupt stream counts what inflated before the damage, as PDFium draws it."""
    inflater, size, pending = zlib.decompressobj(), 0, data
    try:
        while pending and size < enough:
            size += len(inflater.decompress(pending, 1 << 20))
            pending = inflater.unconsumed_tail
    except zlib.error:
        pass
    return size


def _decode_jpeg(data: bytes) -> None:
    """Decode a JPEG whole at an eighth of its size (libjpeg still reads every coded block,
    so a stream cut short or corrupt fails; the pixels are not kept)."""
    import io

    from PIL import UnidentifiedImageError

    try:
        opened = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise SyntaxError("its data is not an image") from None
    with opened as im:
        if im.format != "JPEG":
            raise SyntaxError(f"its data is {im.format}, not JPEG")
        im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
        im.load()


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _full_page_scan(page):  # -> pdfium.PdfImage | None
    """The page's only image when it covers the page upright and nothing else is drawn.

    Text objects are allowed when invisible (a scanner's OCR layer); paths, forms and other
    images mean the page must be rendered to look as printed.
    """
    import pypdfium2.raw as pdfium_c

    if page.get_rotation() % 360:
        return None
    images = []
    for obj in page.get_objects():
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            images.append(obj)
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
            if (
                pdfium_c.FPDFTextObj_GetTextRenderMode(obj)
                != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE
            ):
                return None
        elif obj.type != pdfium_c.FPDF_PAGEOBJ_FORM:
            return None
        if len(images) > 1:
            return None
    if len(images) != 1:
        return None
    image = images[0]
    m = image.get_matrix()
    if abs(m.b) > 1e-6 or abs(m.c) > 1e-6 or m.a <= 0 or m.d <= 0:
        return None  # rotated or mirrored placement: let PDFium draw it
    left, bottom, right, top = image.get_bounds()
    width, height = page.get_size()
    covered = max(0.0, min(right, width) - max(left, 0)) * max(
        0.0, min(top, height) - max(bottom, 0)
    )
    return image if covered >= FULL_PAGE * width * height else None


def _embedded(image, page, dpi: int, limits: Limits, what: str) -> PageImage:
    px_w, px_h = image.get_px_size()
    _reject_pixels(what, px_w, px_h, limits)
    left, _, right, _ = image.get_bounds()
    source_dpi = px_w / max((right - left) / 72, 1e-6)
    pil = _normal_mode(image.get_bitmap(render=False).to_pil())
    reject_tiny(pil, what)
    return _at_dpi(pil, source_dpi, dpi, "embedded", limits, what)


def _rendered(page, dpi: int, limits: Limits, what: str) -> PageImage:
    width, height = page.get_size()
    if page.get_rotation() % 180:
        width, height = height, width
    scale = dpi / 72
    _reject_pixels(what, width * scale, height * scale, limits)
    with PDFIUM_LOCK:
        pil = page.render(scale=scale, grayscale=False).to_pil()
    pil = _normal_mode(pil)
    reject_tiny(pil, what)
    return PageImage(pil, dpi, "rendered", float(dpi))
