"""IIIF Presentation 3 manifests and a level-0 Image API service for public page images.

A manifest declares the document's Content Search (2.0, and 1.0 for viewers that read only
that), its downloads (`rendering`: searchable PDF, text) and, per read page, the page's ALTO
and hOCR (`seeAlso`) and text; all of them public derivatives (`web.portal.derivatives`).

Level 0 means fixed renditions only: `full/max/0/default.jpg` (capped at MAX_SIDE pixels).
One canvas per page, in order, each with its own image service and size: a page read by the
text run shows its upright, cleaned page image (the one its word boxes refer to), blacked out
where it holds personal data (`web.pages`); other pages are rendered from the original.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image

from models.capture import Capture
from storage.base import BlobStore

MAX_SIDE = 3000
CONTEXT_PRESENTATION = "http://iiif.io/api/presentation/3/context.json"
CONTEXT_IMAGE = "http://iiif.io/api/image/3/context.json"
ALTO_PROFILE = "http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"
HOCR_PROFILE = "http://kba.github.io/hocr-spec/1.2/"
SEARCH_1 = "http://iiif.io/api/search/1/search"


def fit(width: int, height: int) -> tuple[int, int]:
    """A size capped at MAX_SIDE on its longest side, as the full rendition has it."""
    scale = min(1.0, MAX_SIDE / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def page_size(capture: Capture) -> tuple[int, int]:
    """The full rendition's size of a page rendered from the original (capped at MAX_SIDE)."""
    width = int(capture.inspection.get("width") or MAX_SIDE)
    height = int(capture.inspection.get("height") or MAX_SIDE)
    return fit(width, height)


@dataclass(frozen=True)
class Canvas:
    page: int
    """1-based page number (also the image service's path segment)."""
    width: int
    height: int
    text: str | None = None
    """The page's (already redacted) text, given as a supplementing annotation."""


def manifest(
    base: str, capture: Capture, label: str, canvases: list[Canvas], homepage: str | None = None
) -> dict:
    mid = f"{base}/iiif/{capture.id}"
    body: dict[str, Any] = {
        "@context": CONTEXT_PRESENTATION,
        "id": f"{mid}/manifest.json",
        "type": "Manifest",
        "label": {"vi": [label]},
        "thumbnail": [{"id": f"{mid}/thumbnail.jpg", "type": "Image", "format": "image/jpeg"}],
        "items": [_canvas(mid, c) for c in canvases],
    }
    if homepage:
        body["homepage"] = [
            {"id": homepage, "type": "Text", "label": {"vi": [label]}, "format": "text/html"}
        ]
    if any(c.text is not None for c in canvases):
        body["service"] = search_services(mid)
        body["rendering"] = [
            _link(f"{mid}/document.pdf", "Text", "application/pdf", PDF_LABEL),
            _link(f"{mid}/text.txt", "Text", "text/plain", TEXT_LABEL),
        ]
    return body


def search_services(mid: str) -> list[dict[str, Any]]:
    """Content Search 2.0, and the same hits as 1.0 for viewers that read only that."""
    return [
        {"id": f"{mid}/search", "type": "SearchService2"},
        {"@id": f"{mid}/search1", "@type": "SearchService1", "profile": SEARCH_1},
    ]


PDF_LABEL = {"vi": ["PDF tìm kiếm được"], "en": ["Searchable PDF"]}
TEXT_LABEL = {"vi": ["Văn bản"], "en": ["Text"]}


def _link(
    ident: str, kind: str, fmt: str, label: dict[str, list[str]], profile: str = ""
) -> dict[str, Any]:
    link: dict[str, Any] = {"id": ident, "type": kind, "format": fmt, "label": label}
    if profile:
        link["profile"] = profile
    return link


def _canvas(mid: str, c: Canvas) -> dict[str, Any]:
    service = f"{mid}/{c.page}"
    canvas: dict[str, Any] = {
        "id": f"{mid}/canvas/{c.page}",
        "type": "Canvas",
        "label": {"none": [f"{c.page}"]},
        "width": c.width,
        "height": c.height,
        "items": [
            {
                "id": f"{mid}/canvas/{c.page}/page",
                "type": "AnnotationPage",
                "items": [
                    {
                        "id": f"{mid}/canvas/{c.page}/image",
                        "type": "Annotation",
                        "motivation": "painting",
                        "target": f"{mid}/canvas/{c.page}",
                        "body": {
                            "id": f"{service}/full/max/0/default.jpg",
                            "type": "Image",
                            "format": "image/jpeg",
                            "width": c.width,
                            "height": c.height,
                            "service": [
                                {"id": service, "type": "ImageService3", "profile": "level0"}
                            ],
                        },
                    }
                ],
            }
        ],
    }
    if c.text:
        canvas["annotations"] = [_text_annotations(mid, c.page, c.text)]
    if c.text is not None:
        canvas["seeAlso"] = [
            _link(
                f"{service}/alto.xml",
                "Dataset",
                "application/xml",
                {"none": ["ALTO"]},
                ALTO_PROFILE,
            ),
            _link(
                f"{service}/hocr.html",
                "Text",
                "text/vnd.hocr+html",
                {"none": ["hOCR"]},
                HOCR_PROFILE,
            ),
        ]
        canvas["rendering"] = [
            _link(f"{service}/text.txt", "Text", "text/plain", _page_text_label(c.page))
        ]
    return canvas


def _text_annotations(mid: str, page: int, text: str) -> dict:
    """The page's (already redacted) text as a supplementing annotation."""
    return {
        "id": f"{mid}/canvas/{page}/text",
        "type": "AnnotationPage",
        "items": [
            {
                "id": f"{mid}/canvas/{page}/text/1",
                "type": "Annotation",
                "motivation": "supplementing",
                "target": f"{mid}/canvas/{page}",
                "body": {
                    "type": "TextualBody",
                    "value": text,
                    "format": "text/plain",
                    "language": "vi",
                },
            }
        ],
    }


def image_info(base: str, capture: Capture, page: int, width: int, height: int) -> dict:
    return {
        "@context": CONTEXT_IMAGE,
        "id": f"{base}/iiif/{capture.id}/{page}",
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": width,
        "height": height,
        "sizes": [{"width": width, "height": height}],
    }


def render_page(blobs: BlobStore, capture: Capture, page: int) -> bytes:
    """Page `page` (1-based) of an image capture as JPEG, longest side at most MAX_SIDE."""
    with blobs.local_path(capture.blob_key) as path, Image.open(path) as im:
        im.seek(page - 1)
        im.thumbnail((MAX_SIDE, MAX_SIDE))
        out = im.convert("RGB")
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def fit_jpeg(data: bytes) -> bytes:
    """`data` (a JPEG) as is when within MAX_SIDE, else scaled down and re-encoded."""
    with Image.open(io.BytesIO(data)) as im:
        if max(im.size) <= MAX_SIDE and im.format == "JPEG":
            return data
        out = im.convert("RGB").resize(fit(*im.size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def _page_text_label(page: int) -> dict[str, list[str]]:
    return {"vi": [f"Văn bản trang {page}"], "en": [f"Text of page {page}"]}
