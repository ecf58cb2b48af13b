"""Facts of a PDF and a rendering of its first page."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import InputRejectedError
from pipeline.media.pdf import open_pdf
from pipeline.stages.inspectors.images import _DECODE_ERRORS, _jpeg_bytes

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
