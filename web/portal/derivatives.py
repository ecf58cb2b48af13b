"""The public derivatives of a published document's pages: its words as the public may see
them, and from those the page's ALTO, hOCR and text, the document's text and searchable PDF,
and the Content Search index.

A public word is the OCR's word, unless it lies where the public page image is blacked out
(`web.pages.public_boxes`: owners' names, ID numbers, a certificate's restricted fields): then
its text is a row of blocks, as the public text has it. So every derivative here says no more
than the redacted page image and the masked text already do.
"""

from __future__ import annotations

import io
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

from PIL import Image

from models.capture import Capture
from models.record import Record
from pipeline.bootstrap import Services
from pipeline.jobs.text import PAGE_SEPARATOR
from pipeline.redaction import MASK, Box
from pipeline.stages.ocr.hocr import words_to_hocr
from pipeline.stages.pages.pagetext import PageText, Word
from pipeline.stages.pages.searchable_pdf import searchable_pdf
from web import pages as web_pages
from web.portal import content_search, iiif
from web.portal.records import public_capture


def public_document(svc: Services, ident: UUID) -> tuple[Capture, list[Record]]:
    """`records.public_capture` (404 unless public), remembered while the store records nothing
    else: a capture and its records cannot have changed while no event was recorded, and
    loading a 500-page capture replays 500 events. An unpublished record or a new page is an
    event, so it is seen on the next request."""
    mark = svc.store.max_notification_id()
    cache = _DOCUMENTS.setdefault(svc.store, _Lru(64))
    found = cache.get(ident)
    if found is not None and found[0] == mark:
        return found[1]
    document = public_capture(svc, ident)
    cache.put(ident, (mark, document))
    return document


def public_words(page: web_pages.Page, limits: web_pages.Restrictions) -> list[Word]:
    """The page's words with every word under a blacked-out box masked."""
    if page.text is None:
        return []
    hidden = web_pages.public_boxes(page, limits)
    return [_masked(w) if _under(w.box, hidden) else w for w in page.text.words]


def public_page_text(page: web_pages.Page, limits: web_pages.Restrictions) -> PageText | None:
    """The page's PageText as the public may see it: masked words and text, no raw OCR text,
    no engine parameters, no stored hOCR (it would hold the unmasked words)."""
    if page.text is None:
        return None
    return replace(
        page.text,
        words=public_words(page, limits),
        text=web_pages.public_text(page, limits) or "",
        raw_text=None,
        params={},
        hocr=b"",
    )


def hocr(text: PageText) -> bytes:
    return words_to_hocr(text.words, text.width, text.height)


def document_text(svc: Services, capture: Capture, records: Sequence[Record]) -> str | None:
    """Every read page's public text, pages separated by a form feed; None before any page is
    read."""
    limits = web_pages.restrictions(capture, records)
    texts = [web_pages.public_text(p, limits) for p in web_pages.pages(svc, capture)]
    found = [t for t in texts if t is not None]
    return PAGE_SEPARATOR.join(found) if found else None


def document_pdf(svc: Services, capture: Capture, records: Sequence[Record]) -> bytes | None:
    """A searchable PDF of the read pages: each redacted page image under its public words."""
    limits = web_pages.restrictions(capture, records)
    pages = []
    for page in web_pages.pages(svc, capture):
        text = public_page_text(page, limits)
        if text is None or not page.image_key:
            continue
        data = web_pages.image(svc, capture, page, web_pages.public_boxes(page, limits))
        if data is None:
            continue
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            pages.append((im.copy(), text))
    return searchable_pdf(pages) if pages else None


def search_index(
    svc: Services, capture: Capture, records: Sequence[Record]
) -> content_search.DocumentWords:
    """The document's Content Search index, kept in memory once built. Its key is what it is
    made of: each read page's text blob (content-addressed) and what is masked."""
    limits = web_pages.restrictions(capture, records)
    read = web_pages.pages(svc, capture, with_text=False)
    key = (
        tuple((p.n, p.outcome.get("text_key"), p.image_key) for p in read),
        tuple(sorted(limits.names)),
        tuple(sorted((k, tuple(map(tuple, v))) for k, v in limits.areas.items())),
    )
    found = _INDEXES.get(key)
    if found is None:
        found = _INDEXES.put(key, content_search.DocumentWords(_search_pages(svc, capture, limits)))
    return found


def _search_pages(
    svc: Services, capture: Capture, limits: web_pages.Restrictions
) -> list[content_search.Page]:
    out = []
    for page in web_pages.pages(svc, capture):
        if page.text is None or not page.image_key or not page.text.width:
            continue
        canvas_width, _ = iiif.fit(page.text.width, page.text.height)
        scale = canvas_width / page.text.width
        out.append(content_search.Page(page.n, public_words(page, limits), scale))
    return out


def _masked(word: Word) -> Word:
    return replace(word, text="".join(c if c.isspace() else MASK for c in word.text))


def _under(box: Sequence[int], hidden: Sequence[Box]) -> bool:
    """Whether the word's centre is under a blacked-out box (as redaction decides)."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return any(h[0] <= x <= h[2] and h[1] <= y <= h[3] for h in hidden)


class _Lru:
    """The last few entries, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: Any, value: Any) -> Any:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


_INDEXES = _Lru(16)
"""Content Search indexes by what they are made of."""
_DOCUMENTS: weakref.WeakKeyDictionary[Any, _Lru] = weakref.WeakKeyDictionary()
"""Per store: public documents by capture id, with the store's last event id when loaded."""
