"""IIIF Presentation 3 manifests and a level-0 Image API service for public page images.

Level 0 means fixed renditions only: `full/max/0/default.jpg` (capped at MAX_SIDE pixels) and
the thumbnail size listed in `sizes`. Page images are rendered from the stored original on
request; a cache or pre-cut tiles can come later without changing the URLs.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from models.capture import Capture
from storage.base import BlobStore

MAX_SIDE = 3000
CONTEXT_PRESENTATION = "http://iiif.io/api/presentation/3/context.json"
CONTEXT_IMAGE = "http://iiif.io/api/image/3/context.json"


def page_size(capture: Capture) -> tuple[int, int]:
    """The full rendition's size (the original capped at MAX_SIDE)."""
    width = int(capture.inspection.get("width") or MAX_SIDE)
    height = int(capture.inspection.get("height") or MAX_SIDE)
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def manifest(base: str, capture: Capture, label: str, pages: int, texts: list[str] | None) -> dict:
    width, height = page_size(capture)
    mid = f"{base}/iiif/{capture.id}"
    items = []
    for page in range(1, pages + 1):
        service = f"{mid}/{page}"
        canvas: dict[str, Any] = {
            "id": f"{mid}/canvas/{page}",
            "type": "Canvas",
            "label": {"none": [f"{page}"]},
            "width": width,
            "height": height,
            "items": [
                {
                    "id": f"{mid}/canvas/{page}/page",
                    "type": "AnnotationPage",
                    "items": [
                        {
                            "id": f"{mid}/canvas/{page}/image",
                            "type": "Annotation",
                            "motivation": "painting",
                            "target": f"{mid}/canvas/{page}",
                            "body": {
                                "id": f"{service}/full/max/0/default.jpg",
                                "type": "Image",
                                "format": "image/jpeg",
                                "width": width,
                                "height": height,
                                "service": [
                                    {"id": service, "type": "ImageService3", "profile": "level0"}
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        if texts and page <= len(texts) and texts[page - 1]:
            canvas["annotations"] = [_text_annotations(mid, page, texts[page - 1])]
        items.append(canvas)
    return {
        "@context": CONTEXT_PRESENTATION,
        "id": f"{mid}/manifest.json",
        "type": "Manifest",
        "label": {"vi": [label]},
        "thumbnail": [
            {
                "id": f"{base}/iiif/{capture.id}/thumbnail.jpg",
                "type": "Image",
                "format": "image/jpeg",
            }
        ],
        "items": items,
    }


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


def image_info(base: str, capture: Capture, page: int) -> dict:
    width, height = page_size(capture)
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
