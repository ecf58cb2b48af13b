"""A capture's pages as the web shows them: the page image its OCR boxes refer to, the page's
text beside it, and for the public both with personal data blacked out.

A page comes from the capture's text run when it has one (`image_key` is the upright, cleaned
page the word boxes refer to); before that, from the original (image formats) or the
thumbnail. Pages are numbered from 1 here, as in URLs and IIIF canvases; the pipeline counts
them from 0.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from models.capture import Capture
from models.language.text import fold
from models.record import Record
from pipeline.bootstrap import Services
from pipeline.jobs.text import page_text
from pipeline.redaction import (
    Box,
    certificate_restrictions,
    owner_names,
    page_redactions,
    public_page_text,
    redact_image,
)
from pipeline.stages.pages.pagetext import PageText
from web.portal import iiif

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff", "image/jp2"})


@dataclass
class Page:
    n: int
    """1-based."""
    status: str
    """"done", "failed" or "pending" (no outcome in the text run yet; "done" without a run)."""
    image_key: str | None = None
    text: PageText | None = None
    outcome: dict[str, Any] = field(default_factory=dict)

    @property
    def index(self) -> int:
        return self.n - 1


@dataclass
class Restrictions:
    """What must not be shown publicly of a capture: names to find, boxes by 0-based page."""

    names: list[str] = field(default_factory=list)
    areas: dict[int, list[Box]] = field(default_factory=dict)

    def any(self) -> bool:
        return bool(self.names or self.areas)


def text_run(capture: Capture) -> int:
    """The run whose pages the web shows: the latest once one of its pages is read, else the
    one whose text was assembled last."""
    latest = len(capture.text_runs)
    if latest and any(o["status"] == "done" for o in capture.page_outcomes(latest).values()):
        return latest
    return capture.text["run"] if capture.text else latest


def pages(svc: Services, capture: Capture, with_text: bool = True) -> list[Page]:
    """Every page of the capture in order (an empty list when there is no image at all)."""
    total = int(capture.inspection.get("pages") or 0)
    run = text_run(capture)
    if run:
        outcomes = capture.page_outcomes(run)
        out = []
        for i in range(total):
            o = outcomes.get(i, {})
            status = o.get("status", "pending")
            text = page_text(svc, o) if with_text and status == "done" else None
            out.append(Page(i + 1, status, o.get("image_key"), text, o))
        return out
    if capture.media_type in IMAGE_TYPES:
        return [Page(i + 1, "done") for i in range(max(total, 1))]
    if capture.thumbnail_key:
        return [Page(1, "done")]
    return []


def page_of(svc: Services, capture: Capture, n: int, with_text: bool = True) -> Page | None:
    found = [p for p in pages(svc, capture, with_text=False) if p.n == n]
    if not found:
        return None
    page = found[0]
    if with_text and page.status == "done" and page.outcome.get("text_key"):
        page.text = page_text(svc, page.outcome)
    return page


def has_image(capture: Capture, page: Page) -> bool:
    return bool(
        page.image_key
        or capture.media_type in IMAGE_TYPES
        or (page.n == 1 and capture.thumbnail_key)
    )


def restrictions(capture: Capture, records: Sequence[Record]) -> Restrictions:
    """Owner names of the linked records, and the certificate fields' owners, ID numbers,
    changes and numbers with their boxes."""
    names = [n for r in records for n in owner_names(r.attributes)]
    result = (capture.fields or {}).get("result")
    more, areas = certificate_restrictions(result)
    return Restrictions(names + more, areas)


def is_restricted(capture: Capture, records: Sequence[Record]) -> bool:
    """Whether the capture's pages show personal data (reading them is an audited read)."""
    return (
        capture.kind == "land-certificate"
        or bool(((capture.fields or {}).get("result") or {}).get("owners"))
        or any(r.kind == "parcel" for r in records)
    )


def public_text(page: Page, limits: Restrictions) -> str | None:
    if page.text is None:
        return None
    return public_page_text(page.text, limits.names, limits.areas.get(page.index, []))


def staff_text(page: Page) -> str | None:
    return None if page.text is None else page.text.text


def size(svc: Services, capture: Capture, page: Page) -> tuple[int, int]:
    """The size of the page's full rendition (at most iiif.MAX_SIDE on its longest side)."""
    if page.text is not None and page.image_key:
        return iiif.fit(page.text.width, page.text.height)
    if page.image_key or (capture.media_type not in IMAGE_TYPES and capture.thumbnail_key):
        key = page.image_key or capture.thumbnail_key
        with Image.open(io.BytesIO(svc.blobs.read_bytes(key))) as im:
            return iiif.fit(*im.size)
    return iiif.page_size(capture)


def image(svc: Services, capture: Capture, page: Page, boxes: Sequence[Box] = ()) -> bytes | None:
    """The page as JPEG (longest side at most iiif.MAX_SIDE), `boxes` blacked out."""
    if page.image_key:
        key = (page.image_key, tuple(boxes))
        cached = _CACHE.get(key)
        if cached is None:
            data = svc.blobs.read_bytes(page.image_key)
            if boxes:
                data = redact_image(data, boxes)
            cached = _CACHE.put(key, iiif.fit_jpeg(data))
        return cached
    if boxes:
        return None  # never show a page whose redaction boxes refer to an image we lack
    if capture.media_type in IMAGE_TYPES:
        return iiif.render_page(svc.blobs, capture, page.n)
    if page.n == 1 and capture.thumbnail_key:
        return svc.blobs.read_bytes(capture.thumbnail_key)
    return None


def public_boxes(page: Page, limits: Restrictions) -> list[Box]:
    areas = limits.areas.get(page.index, [])
    if page.text is None:
        return list(areas)
    return page_redactions(page.text, limits.names, areas)


def thumbnail(data: bytes, side: int) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        im.thumbnail((side, side))
        out = im.convert("RGB")
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def crop(data: bytes, box: Sequence[int], margin: int = 24, side: int = 900) -> bytes:
    """The part of a page image around `box` (pixels of the page the boxes refer to)."""
    with Image.open(io.BytesIO(data)) as im:
        left, top, right, bottom = (int(v) for v in box)
        area = (
            max(0, left - margin),
            max(0, top - margin),
            min(im.width, right + margin),
            min(im.height, bottom + margin),
        )
        out = im.crop(area)
        out.thumbnail((side, side))
        out = out.convert("RGB")
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def marks(page: Page, query: str, hidden: Sequence[Box] = ()) -> list[dict[str, float]]:
    """Where the words of `query` are on the page image, as percentages of its size (for
    highlight boxes over the image); never where something was blacked out."""
    wanted = {w for w in fold(query).split() if len(w) > 1}
    if not wanted or page.text is None or not page.text.width or not page.text.height:
        return []
    width, height = page.text.width, page.text.height
    out = []
    for w in page.text.words:
        if fold(w.text).strip(".,;:()\"'") in wanted and not _covered(w.box, hidden):
            left, top, right, bottom = w.box
            out.append(
                {
                    "left": round(100 * left / width, 2),
                    "top": round(100 * top / height, 2),
                    "width": round(100 * (right - left) / width, 2),
                    "height": round(100 * (bottom - top) / height, 2),
                }
            )
    return out


def _covered(box: Sequence[int], hidden: Sequence[Box]) -> bool:
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(h[0] <= x <= h[2] and h[1] <= y <= h[3] for h in hidden)


class _Lru:
    """Redacted, resized page images by (image key, boxes): blobs are content-addressed, so an
    entry never goes stale."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Any, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> bytes | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: Any, value: bytes) -> bytes:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


_CACHE = _Lru(32)
