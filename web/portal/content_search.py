"""IIIF Content Search inside one document: which words of its public pages a query names, and
where they are on each canvas.

Matching is the portal search's folding (`models.language.text.fold`): "Văn Miếu", "van mieu"
and "VĂN MIÊU" find the same words. A query of several words finds them in order, as a phrase
(on one line or across lines of a page). Only the public words are searched: a word masked on
the public page (a person's name, an ID number, a certificate's restricted field) is a row of
blocks here too, so it is never found and never located.

Answers are Content Search 2.0 (an AnnotationPage of `highlighting` annotations whose targets
are `canvas#xywh=…` boxes, with `contextualizing` annotations quoting the words around each hit)
and, for viewers that only read 1.0 (Mirador up to 4.0), the same hits as a 1.0 AnnotationList.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.language.text import fold, tokens
from pipeline.stages.pages.pagetext import Box, Word

MAX_QUERY_CHARS = 200
"""Longer queries are refused (400): nobody searches a page for a paragraph."""
MAX_HITS = 1000
"""At most this many hits are returned, in page order (the answer says how many there were)."""
CONTEXT_WORDS = 6
CONTEXT_2 = "http://iiif.io/api/search/2/context.json"
CONTEXT_1 = "http://iiif.io/api/search/1/context.json"
PROFILE_1 = "http://iiif.io/api/search/1/search"


class QueryRejectedError(ValueError):
    """A Content Search query nobody could mean: empty, only punctuation, or too long."""


def terms(q: str | None) -> list[str]:
    """The folded words of a query, or QueryRejectedError saying why there are none."""
    q = (q or "").strip()
    if not q:
        raise QueryRejectedError("empty query: give the words to find as q=")
    if len(q) > MAX_QUERY_CHARS:
        raise QueryRejectedError(f"query of {len(q)} characters; at most {MAX_QUERY_CHARS}")
    found = [fold(t) for t in tokens(q)]
    if not found:
        raise QueryRejectedError("the query has no letters or digits to find")
    return found


@dataclass(frozen=True)
class Page:
    """One canvas's public words; `scale` turns their boxes (page image pixels) into canvas
    pixels."""

    n: int
    words: Sequence[Word]
    scale: float = 1.0


@dataclass(frozen=True)
class Hit:
    page: int
    boxes: tuple[Box, ...]
    """Canvas pixels, one box per line the hit covers."""
    exact: str
    before: str
    after: str


class DocumentWords:
    """A document's public words, indexed by folded token for phrase look-ups.

    Built once per document version (the caller caches it); a look-up costs the postings of the
    query's first word, not a scan of every page."""

    def __init__(self, pages: Sequence[Page]) -> None:
        self.pages = list(pages)
        self.streams: list[tuple[list[str], list[int]]] = []
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for p, page in enumerate(self.pages):
            folded: list[str] = []
            owner: list[int] = []
            for i, word in enumerate(page.words):
                for token in tokens(word.text):
                    self.postings.setdefault(fold(token), []).append((p, len(folded)))
                    folded.append(fold(token))
                    owner.append(i)
            self.streams.append((folded, owner))

    def find(self, query: Sequence[str], limit: int = MAX_HITS) -> tuple[list[Hit], int]:
        """Hits of the phrase `query` (folded words) in page order, at most `limit`, and how
        many there are in all."""
        hits: list[Hit] = []
        total = 0
        for p, at in self.postings.get(query[0], ()):
            folded, owner = self.streams[p]
            if folded[at : at + len(query)] != list(query):
                continue
            total += 1
            if len(hits) < limit:
                words = range(owner[at], owner[at + len(query) - 1] + 1)
                hits.append(self._hit(self.pages[p], words))
        return hits, total

    @staticmethod
    def _hit(page: Page, covered: range) -> Hit:
        words = page.words
        lines: dict[tuple[int, int], list[Box]] = {}
        for i in covered:
            lines.setdefault((words[i].block, words[i].line), []).append(words[i].box)
        boxes = tuple(_scaled(_union(b), page.scale) for b in lines.values())
        before = words[max(0, covered.start - CONTEXT_WORDS) : covered.start]
        after = words[covered.stop : covered.stop + CONTEXT_WORDS]
        return Hit(
            page.n,
            boxes,
            " ".join(words[i].text for i in covered),
            " ".join(w.text for w in before),
            " ".join(w.text for w in after),
        )


def annotation_page(request_id: str, canvas_of, hits: Sequence[Hit], total: int) -> dict:
    """Content Search 2.0: hits as `highlighting` annotations on `canvas#xywh=…`, and one
    `contextualizing` annotation per hit quoting the words around it."""
    items, context = [], []
    for k, hit in enumerate(hits, start=1):
        ids = []
        for j, box in enumerate(hit.boxes, start=1):
            ident = f"{request_id}#hit-{k}-{j}"
            ids.append(ident)
            items.append(
                {
                    "id": ident,
                    "type": "Annotation",
                    "motivation": "highlighting",
                    "body": {"type": "TextualBody", "value": hit.exact, "format": "text/plain"},
                    "target": f"{canvas_of(hit.page)}#xywh={_xywh(box)}",
                }
            )
        context.append(
            {
                "id": f"{request_id}#context-{k}",
                "type": "Annotation",
                "motivation": "contextualizing",
                "target": [
                    {
                        "type": "SpecificResource",
                        "source": {"id": ident, "type": "Annotation"},
                        "selector": [
                            {
                                "type": "TextQuoteSelector",
                                "prefix": hit.before,
                                "exact": hit.exact,
                                "suffix": hit.after,
                            }
                        ],
                    }
                    for ident in ids
                ],
            }
        )
    page = {"@context": CONTEXT_2, "id": request_id, "type": "AnnotationPage", "items": items}
    if context:
        page["annotations"] = [{"type": "AnnotationPage", "items": context}]
    page["partOf"] = {"id": request_id, "type": "AnnotationCollection", "total": total}
    return page


def empty_page(request_id: str, reason: str) -> dict:
    """What a refused query gets (with a 400): an AnnotationPage with no items, and why."""
    return {
        "@context": CONTEXT_2,
        "id": request_id,
        "type": "AnnotationPage",
        "label": {"en": [reason]},
        "items": [],
        "detail": reason,
    }


def annotation_list(request_id: str, canvas_of, hits: Sequence[Hit], total: int) -> dict:
    """Content Search 1.0, as Mirador (through 4.0) reads it: `resources` and `hits`."""
    resources, found = [], []
    for k, hit in enumerate(hits, start=1):
        ids = []
        for j, box in enumerate(hit.boxes, start=1):
            ident = f"{request_id}#hit-{k}-{j}"
            ids.append(ident)
            resources.append(
                {
                    "@id": ident,
                    "@type": "oa:Annotation",
                    "motivation": "sc:painting",
                    "resource": {"@type": "cnt:ContentAsText", "chars": hit.exact},
                    "on": f"{canvas_of(hit.page)}#xywh={_xywh(box)}",
                }
            )
        found.append(
            {
                "@type": "search:Hit",
                "annotations": ids,
                "match": hit.exact,
                "before": hit.before,
                "after": hit.after,
            }
        )
    return {
        "@context": ["http://iiif.io/api/presentation/2/context.json", CONTEXT_1],
        "@id": request_id,
        "@type": "sc:AnnotationList",
        "within": {"@type": "sc:Layer", "total": total},
        "resources": resources,
        "hits": found,
    }


def _union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _scaled(box: Box, scale: float) -> Box:
    left, top, right, bottom = box
    return (
        round(left * scale),
        round(top * scale),
        round(right * scale),
        round(bottom * scale),
    )


def _xywh(box: Box) -> str:
    left, top, right, bottom = box
    return f"{left},{top},{max(1, right - left)},{max(1, bottom - top)}"
