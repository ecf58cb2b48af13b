"""Facts and thumbnails of raster images: PNG, JPEG, JPEG 2000, TIFF (a page at a time)."""

from __future__ import annotations

import io
import math
import struct
import zlib
from pathlib import Path

from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.media.images import open_image

_JPEG_QUALITY = 80


# Errors third-party decoders raise on corrupt content (never MemoryError or our own bugs'
# NameError and the like, which should surface).
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    KeyError,
    IndexError,
    TypeError,
    EOFError,
    struct.error,
    zlib.error,
)


_BASE_TAGS = {
    271: "Make",
    272: "Model",
    305: "Software",
    306: "DateTime",
    274: "Orientation",
    282: "XResolution",
    283: "YResolution",
    270: "ImageDescription",
    315: "Artist",
    33432: "Copyright",
}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_KIND = {"image/png": "PNG", "image/jpeg": "JPEG", "image/jp2": "JPEG 2000", "image/tiff": "TIFF"}


def _inspect_image(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes]:
    max_reduce = _jp2_levels(path) if media_type == "image/jp2" else 0
    with open_image(path, _KIND[media_type]) as im:
        more = {"pages": 1, **image_facts(im)}
        try:
            thumbnail = image_thumbnail(im, px, max_reduce)
        except _DECODE_ERRORS as e:
            raise InputRejectedError(f"cannot decode page 1: {e}") from e
    return more, thumbnail


def _jp2_levels(path: Path) -> int:
    """Decomposition levels of a JPEG 2000 codestream (COD marker): how far it can be reduced."""
    with path.open("rb") as f:
        head = f.read(64 * 1024)
    pos = head.find(b"\xff\x4f\xff\x51")
    if pos < 0:
        return 0
    pos += 2
    while pos + 10 <= len(head) and head[pos] == 0xFF:
        marker = head[pos + 1]
        if marker == 0x52:  # COD
            return head[pos + 9]
        if marker == 0x90:  # SOT: the main header ended without COD
            return 0
        pos += 2 + struct.unpack_from(">H", head, pos + 2)[0]
    return 0


def _inspect_tiff(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes]:
    """Page 1 gives the facts and thumbnail; later pages that fail to decode are listed."""
    with open_image(path, "TIFF") as im:
        more = image_facts(im)
        if "compression" in im.info:
            more["compression"] = str(im.info["compression"])
        try:
            thumbnail = image_thumbnail(im, px)
        except _DECODE_ERRORS as e:
            raise InputRejectedError(f"cannot decode page 1: {e}") from e
        sizes, unreadable = [[more["width"], more["height"]]], []
        for index in range(1, facts["pages"]):
            try:
                im.seek(index)
                sizes.append(list(im.size))
                im.load()
            except _DECODE_ERRORS:
                unreadable.append(index + 1)
    more["page_sizes"] = sizes
    if unreadable:
        more["unreadable_pages"] = unreadable
    return more, thumbnail


def image_facts(im: Image.Image) -> dict:
    """Format, size, colour mode, dpi and selected tags of an opened image's current frame."""
    facts: dict = {"format": im.format, "width": im.width, "height": im.height, "mode": im.mode}
    dpi = _dpi(im.info.get("dpi"))
    if dpi:
        facts["dpi"] = dpi
    tags = image_tags(im)
    if tags:
        facts["tags"] = tags
    return facts


def _dpi(value: object) -> list[float] | None:
    """[x, y] dots per inch when both are known and positive (TIFF gives IFDRationals)."""
    try:
        x, y = (round(float(v), 2) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return [x, y] if x > 0 and y > 0 and math.isfinite(x + y) else None


def image_tags(im: Image.Image) -> dict:
    """Selected EXIF/TIFF tags as strings, and GPSLatitude/GPSLongitude as floats."""
    try:
        exif = im.getexif()
        tags = {name: exif[tag] for tag, name in _BASE_TAGS.items() if tag in exif}
        original = exif.get_ifd(_EXIF_IFD).get(36867)
        gps = exif.get_ifd(_GPS_IFD)
    except _DECODE_ERRORS:
        return {}  # Broken metadata is not a broken image.
    if original is not None:
        tags["DateTimeOriginal"] = original
    out: dict = {name: _tag_text(value) for name, value in tags.items()}
    out = {name: text for name, text in out.items() if text}
    for name, ref, value in (("GPSLatitude", 1, 2), ("GPSLongitude", 3, 4)):
        degrees = _gps_degrees(gps.get(value), gps.get(ref))
        if degrees is not None:
            out[name] = degrees
    return out


def _tag_text(value: object, limit: int = 200) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, tuple):
        return " ".join(_tag_text(v) for v in value)[:limit]
    if isinstance(value, float) or hasattr(value, "numerator"):
        number = float(value)  # type: ignore[arg-type]
        return str(int(number)) if number.is_integer() else f"{number:g}"
    return str(value).replace("\x00", "").strip()[:limit]


def _gps_degrees(dms: object, ref: object) -> float | None:
    try:
        d, m, s = (float(v) for v in dms)  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    degrees = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", errors="replace")
    if str(ref).strip("\x00 ").upper() in ("S", "W"):
        degrees = -degrees
    return round(degrees, 7) if math.isfinite(degrees) else None


def image_thumbnail(im: Image.Image, px: int, max_reduce: int = 0) -> bytes:
    """A JPEG of the current frame, longest side ≤ px, upright per its EXIF orientation.

    JPEGs decode at 1/2…1/8 scale (draft) and JPEG 2000 at a reduced resolution level (up to
    max_reduce, its decomposition levels), so only other formats decode at full size.
    """
    scale = max(im.size) / px
    if im.format == "JPEG":
        im.draft("RGB", (math.ceil(im.width / scale * 2), math.ceil(im.height / scale * 2)))
    elif im.format == "JPEG2000" and scale >= 4 and max_reduce:
        # Pillow's JPEG 2000 plugin turns `reduce` into a settable decode option.
        im.reduce = min(max_reduce, int(math.log2(scale)) - 1)  # type: ignore[assignment,method-assign]
    im.load()
    small = _displayable_rgb(_shrink(im, px))
    orientation = im.getexif().get(274)
    if orientation in _ORIENTATION:
        small = small.transpose(_ORIENTATION[orientation])
    return _jpeg_bytes(small)


def _shrink(im: Image.Image, px: int) -> Image.Image:
    """A new image with longest side ≤ px (the source frame stays as it is)."""
    if im.mode == "1":
        im = im.convert("L")  # Resizing bilevel would drop thin strokes.
    elif im.mode in ("P", "PA"):
        im = im.convert("RGBA")
    elif im.mode.startswith("I;16"):
        im = im.convert("I")
    if max(im.size) <= px:
        return im.copy()
    ratio = px / max(im.size)
    size = (max(1, round(im.width * ratio)), max(1, round(im.height * ratio)))
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _displayable_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("I", "F"):
        import numpy as np  # here only: the worker's process seldom needs numpy (0.3 s to load)

        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return Image.fromarray(a.astype(np.uint8), "L").convert("RGB")
    if im.mode in ("RGBA", "LA", "RGBa", "La"):
        background = Image.new("RGB", im.size, "white")
        background.paste(im.convert("RGBA"), mask=im.convert("RGBA").getchannel("A"))
        return background
    return im.convert("RGB")


def _jpeg_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    return buf.getvalue()
