"""Inspect a capture: facts (pages, size, dpi, colour mode, tags, points, bounds) and a thumbnail.

A pure stage: a path and a media type in, an `Inspection` out. It runs `probe` first, so every
limit holds before anything is decoded, and keeps memory bounded: JPEGs are decoded at reduced
scale, one TIFF page is decoded at a time, point clouds are read in chunks and sampled.
"""

from __future__ import annotations

import io
import itertools
import math
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.errors import InputRejectedError
from pipeline.media.images import open_image
from pipeline.media.limits import Limits
from pipeline.media.models3d import PcdHeader, read_las_header, read_pcd_header
from pipeline.media.pdf import open_pdf
from pipeline.media.probe import probe
from pipeline.media.sniff import FORMAT_NAMES

SPLAT_POINTS = 200_000
_CHUNK_POINTS = 1_000_000
_CHUNK_LINES = 200_000  # text lines held as Python strings at once
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


@dataclass(frozen=True)
class Inspection:
    """What inspecting a capture learnt: JSON-serialisable facts and a small JPEG (or None)."""

    facts: dict
    thumbnail: bytes | None


def inspect(path: Path, media_type: str, *, thumbnail_px: int = 256, limits: Limits) -> Inspection:
    """Facts and a thumbnail (longest side ≤ thumbnail_px) of one file.

    Raises InputRejectedError for input that breaks a limit or cannot be decoded.
    """
    facts = probe(path, media_type, limits)
    inspector = _INSPECTORS.get(media_type, _inspect_nothing)
    more, thumbnail = inspector(path, media_type, facts, thumbnail_px)
    return Inspection(facts={**facts, **more}, thumbnail=thumbnail)


def inspect_set(
    members: list[tuple[str, Path, str]], *, thumbnail_px: int = 256, limits: Limits
) -> Inspection:
    """A photo set or scan set given as (name, path, media type): counts, and the first member.

    Members that fail their checks are listed in facts["rejected_members"] with the reason;
    the set is rejected only when no member is usable.
    """
    if not members:
        raise InputRejectedError("empty set: it has no members")
    first: Inspection | None = None
    rejected = []
    for name, path, media_type in members:
        try:
            if first is None:
                first = inspect(path, media_type, thumbnail_px=thumbnail_px, limits=limits)
            else:
                probe(path, media_type, limits)
        except InputRejectedError as e:
            rejected.append({"name": name, "reason": str(e)})
    if first is None:
        raise InputRejectedError(f"no usable member in the set (first: {rejected[0]['reason']})")
    facts = {
        "members": len(members),
        "media_types": dict(Counter(media_type for _, _, media_type in members)),
        "total_bytes": sum(path.stat().st_size for _, path, _ in members),
        "first": first.facts,
    }
    if rejected:
        facts["rejected_members"] = rejected
    return Inspection(facts=facts, thumbnail=first.thumbnail)


Inspector = Callable[[Path, str, dict, int], tuple[dict, bytes | None]]


def _inspect_nothing(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, None]:
    return {"format": FORMAT_NAMES.get(media_type, media_type)}, None


# --- images --------------------------------------------------------------------------------------

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


# --- PDF -----------------------------------------------------------------------------------------

_PDF_TAGS = ("Creator", "Producer", "CreationDate", "ModDate")


def _inspect_pdf(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes]:
    """Page sizes in points, producer metadata and a rendering of page 1."""
    with open_pdf(path) as pdf:
        sizes = [[round(v, 1) for v in pdf.get_page_size(i)] for i in range(len(pdf))]
        meta = pdf.get_metadata_dict(skip_empty=True)
        version = pdf.get_version()
        thumbnail = _render_pdf_page(pdf, 0, px)
    more: dict = {"format": "PDF", "page_sizes": sizes}
    if version:
        more["pdf_version"] = f"{version // 10}.{version % 10}"
    tags = {k: str(meta[k])[:200] for k in _PDF_TAGS if meta.get(k)}
    if tags:
        more["tags"] = tags
    return more, thumbnail


def _render_pdf_page(pdf, index: int, px: int) -> bytes:
    """Render one page (the caller holds PDFIUM_LOCK through open_pdf)."""
    import pypdfium2 as pdfium

    try:
        page = pdf[index]
        try:
            width, height = page.get_size()
            bitmap = page.render(scale=px / max(width, height, 1.0))
            image = bitmap.to_pil().convert("RGB")
        finally:
            page.close()
    except (pdfium.PdfiumError, *_DECODE_ERRORS) as e:
        raise InputRejectedError(f"cannot decode page {index + 1}: {e}") from e
    image.thumbnail((px, px))  # rounding may overshoot by a pixel
    return _jpeg_bytes(image)


# --- 3D ------------------------------------------------------------------------------------------


def _inspect_mesh(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes | None]:
    """PLY, OBJ, STL, GLB through trimesh (the probe bounded the vertex count)."""
    import trimesh

    file_type = FORMAT_NAMES[media_type].lower()
    try:
        loaded = trimesh.load(str(path), file_type=file_type, process=False)
        geometries = loaded.dump() if isinstance(loaded, trimesh.Scene) else [loaded]
        arrays = [np.asarray(g.vertices, dtype=np.float64) for g in geometries]
    except (*_DECODE_ERRORS, AttributeError, NotImplementedError) as e:
        raise InputRejectedError(f"cannot read the 3D model: {e}") from e
    arrays = [a for a in arrays if a.ndim == 2 and a.shape[1] == 3 and len(a)]
    vertices = np.concatenate(arrays) if arrays else np.empty((0, 3))
    more: dict = {"format": FORMAT_NAMES[media_type]}
    if len(vertices):
        more["bbox"] = _bbox(vertices.min(axis=0), vertices.max(axis=0))
    return more, point_splat(_sample(vertices, len(vertices)), px)


def _inspect_las(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes | None]:
    """Header facts; a thumbnail when laspy can read the points (LAZ needs lazrs or laszip)."""
    import laspy

    with path.open("rb") as f:
        header = read_las_header(f)
    more: dict = {
        "format": FORMAT_NAMES[media_type],
        "compressed": header.compressed,
        "bbox": _bbox(header.mins, header.maxs),
    }
    if header.compressed and not laspy.LazBackend.detect_available():
        return more, None  # No decompressor installed: facts only.
    step = max(1, math.ceil(header.points / SPLAT_POINTS))
    samples = []
    try:
        with laspy.open(path) as reader:
            for chunk in reader.chunk_iterator(_CHUNK_POINTS):
                xyz = np.column_stack([chunk.x, chunk.y, chunk.z])
                samples.append(xyz[::step])
    except (laspy.errors.LaspyException, *_DECODE_ERRORS) as e:
        raise InputRejectedError(f"cannot read the LAS points: {e}") from e
    points = np.concatenate(samples) if samples else np.empty((0, 3))
    return more, point_splat(points, px)


def _inspect_xyz(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes | None]:
    with path.open("r", encoding="utf-8", errors="replace") as f:
        return _text_points(f, columns=(0, 1, 2), points=facts["points"], px=px, fmt="XYZ")


def _inspect_pcd(path: Path, media_type: str, facts: dict, px: int) -> tuple[dict, bytes | None]:
    """ASCII and binary PCD; binary_compressed (LZF) gets facts without a thumbnail."""
    with path.open("rb") as f:
        header = read_pcd_header(f)
    more: dict = {"format": "PCD", "fields": list(header.fields)}
    if (
        not {"x", "y", "z"} <= set(header.fields)
        or header.data == "binary_compressed"
        or header.points == 0
    ):
        return more, None
    starts = list(itertools.accumulate(header.counts, initial=0))
    columns = tuple(starts[header.fields.index(axis)] for axis in "xyz")
    if header.data == "ascii":
        with path.open("rb") as raw:
            raw.seek(header.length)
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
            extra, thumbnail = _text_points(text, columns, header.points, px, "PCD")
        return {**more, **extra}, thumbnail
    records = np.memmap(
        path, dtype=_pcd_dtype(header), mode="r", offset=header.length, shape=(header.points,)
    )
    names = [records.dtype.names[header.fields.index(axis)] for axis in "xyz"]
    chunks = (
        np.column_stack([records[n][i : i + _CHUNK_POINTS] for n in names]).astype(np.float64)
        for i in range(0, header.points, _CHUNK_POINTS)
    )
    extra, thumbnail = _summarise_chunks(chunks, header.points, px)
    return {**more, **extra}, thumbnail


def _pcd_dtype(header: PcdHeader) -> np.dtype:
    kinds = {"F": "f", "I": "i", "U": "u"}
    fields = []
    for i, (size, kind, count) in enumerate(
        zip(header.sizes, header.types, header.counts, strict=True)
    ):
        base = f"<{kinds.get(kind, 'u')}{size}"
        fields.append((f"f{i}", base) if count == 1 else (f"f{i}", base, (count,)))
    return np.dtype(fields)


def _text_points(
    lines: Iterable[str], columns: tuple[int, int, int], points: int, px: int, fmt: str
) -> tuple[dict, bytes | None]:
    """Exact bounds and a sampled splat of a text point list, parsed in batches of lines."""

    def chunks() -> Iterator[np.ndarray]:
        rows = (ln.replace(",", " ") for ln in lines if _is_data_line(ln))
        while batch := list(itertools.islice(rows, _CHUNK_LINES)):
            try:
                yield np.loadtxt(batch, usecols=columns, ndmin=2, dtype=np.float64)
            except ValueError as e:
                raise InputRejectedError(f"cannot read the {fmt} points: {e}") from e

    more, thumbnail = _summarise_chunks(chunks(), points, px)
    return {"format": fmt, **more}, thumbnail


def _is_data_line(line: str) -> bool:
    """Not blank, not a comment ("#", "//"), not a column header ("X Y Z")."""
    start = line.lstrip()[:1]
    return bool(start) and start not in "#/" and not start.isalpha() and start != "_"


def _summarise_chunks(
    chunks: Iterable[np.ndarray], points: int, px: int
) -> tuple[dict, bytes | None]:
    """Bounds over every point, and a splat of an evenly strided sample."""
    step = max(1, math.ceil(points / SPLAT_POINTS))
    lo, hi, samples, seen = None, None, [], 0
    for chunk in chunks:
        if not len(chunk):
            continue
        lo = chunk.min(axis=0) if lo is None else np.minimum(lo, chunk.min(axis=0))
        hi = chunk.max(axis=0) if hi is None else np.maximum(hi, chunk.max(axis=0))
        samples.append(chunk[(-seen) % step :: step])
        seen += len(chunk)
    if lo is None or hi is None:
        return {}, None
    return {"bbox": _bbox(lo, hi)}, point_splat(np.concatenate(samples), px)


def _sample(points: np.ndarray, n: int) -> np.ndarray:
    return points[:: max(1, math.ceil(n / SPLAT_POINTS))]


def _bbox(lo: Iterable[float], hi: Iterable[float]) -> list[list[float]]:
    """[[min x, y, z], [max x, y, z]], rounded to a micrometre in metre units."""
    return [[round(float(v), 6) for v in lo], [round(float(v), 6) for v in hi]]


def point_splat(points: np.ndarray, px: int) -> bytes | None:
    """A top-down view (x right, y up) of points, darker where higher; None without points."""
    points = points[np.isfinite(points).all(axis=1)]
    if not len(points):
        return None
    xy, z = points[:, :2], points[:, 2]
    lo = xy.min(axis=0)
    span = xy.max(axis=0) - lo
    scale = (px - 1) / max(float(span.max()), 1e-12)
    width, height = (int(v) + 1 for v in span * scale)
    cols = ((xy[:, 0] - lo[0]) * scale).astype(np.intp)
    rows = (height - 1) - ((xy[:, 1] - lo[1]) * scale).astype(np.intp)
    top = np.full((height, width), -np.inf)
    np.maximum.at(top, (rows, cols), z)  # keep the highest point per pixel
    if len(points) < width * height // 4:
        top = _dilate(top)  # sparse clouds: draw 3×3 dots
    hit = np.isfinite(top)
    zlo, zhi = float(z.min()), float(z.max())
    level = (top - zlo) / (zhi - zlo) if zhi > zlo else np.zeros_like(top)
    canvas = np.full((height, width), 255, dtype=np.uint8)
    canvas[hit] = (200 - 170 * level[hit]).astype(np.uint8)
    return _jpeg_bytes(Image.fromarray(canvas, "L").convert("RGB"))


def _dilate(top: np.ndarray) -> np.ndarray:
    padded = np.pad(top, 1, constant_values=-np.inf)
    h, w = top.shape
    shifts = [padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    return np.max(shifts, axis=0)


_INSPECTORS: dict[str, Inspector] = {
    "image/png": _inspect_image,
    "image/jpeg": _inspect_image,
    "image/jp2": _inspect_image,
    "image/tiff": _inspect_tiff,
    "application/pdf": _inspect_pdf,
    "model/ply": _inspect_mesh,
    "model/obj": _inspect_mesh,
    "model/stl": _inspect_mesh,
    "model/gltf-binary": _inspect_mesh,
    "application/vnd.las": _inspect_las,
    "application/vnd.laszip": _inspect_las,
    "text/x-xyz": _inspect_xyz,
    "application/x-pcd": _inspect_pcd,
}
