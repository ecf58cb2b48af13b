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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from models.language.text import fold, tokens
from pipeline.stages.pages.pagetext import Box, Word

MAX_QUERY_CHARS = 200
"""Longer queries are refused (400): nobody searches a page for a paragraph."""
PAGE_SIZE = 100
"""Hits per answer, in page order; the answer says how many there are and links the next."""
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
    found = list(folded_tokens(q))
    if not found:
        raise QueryRejectedError("the query has no letters or digits to find")
    return found


@lru_cache(maxsize=1 << 16)
def folded_tokens(text: str) -> tuple[str, ...]:
    """The word tokens of `text`, folded (a register repeats its words: remembered)."""
    return tuple(tokens(fold(text)))


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
                for token in folded_tokens(word.text):
                    self.postings.setdefault(token, []).append((p, len(folded)))
                    folded.append(token)
                    owner.append(i)
            self.streams.append((folded, owner))

    def find(
        self, query: Sequence[str], start: int = 0, limit: int = PAGE_SIZE
    ) -> tuple[list[Hit], int]:
        """Hits `start` to `start + limit` of the phrase `query` (folded words) in page order,
        and how many there are in all."""
        hits: list[Hit] = []
        total = 0
        wanted = list(query)
        for p, at in self.postings.get(query[0], ()):
            folded, owner = self.streams[p]
            if folded[at : at + len(wanted)] != wanted:
                continue
            if start <= total < start + limit:
                words = range(owner[at], owner[at + len(wanted) - 1] + 1)
                hits.append(self._hit(self.pages[p], words))
            total += 1
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


@dataclass(frozen=True)
class Answer:
    """One page of hits and where it stands: `url(n)` is the URL of answer page n (1-based)."""

    hits: Sequence[Hit]
    total: int
    page: int
    url: Callable[[int], str]
    canvas: Callable[[int], str]
    """The canvas id of a page number."""

    @property
    def last(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def start(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def target(self, hit: Hit, box: Box) -> str:
        return f"{self.canvas(hit.page)}#xywh={_xywh(box)}"


def annotation_page(answer: Answer) -> dict:
    """Content Search 2.0: hits as `highlighting` annotations on `canvas#xywh=…`, one
    `contextualizing` annotation per hit quoting the words around it, and paging."""
    here = answer.url(answer.page)
    items, context = [], []
    for k, hit in enumerate(answer.hits, start=answer.start + 1):
        ids = [f"{here}#hit-{k}-{j}" for j in range(1, len(hit.boxes) + 1)]
        items += [
            {
                "id": ident,
                "type": "Annotation",
                "motivation": "highlighting",
                "body": {"type": "TextualBody", "value": hit.exact, "format": "text/plain"},
                "target": answer.target(hit, box),
            }
            for ident, box in zip(ids, hit.boxes, strict=True)
        ]
        quote = {"type": "TextQuoteSelector", "prefix": hit.before, "exact": hit.exact}
        context.append(
            {
                "id": f"{here}#context-{k}",
                "type": "Annotation",
                "motivation": "contextualizing",
                "target": [
                    {
                        "type": "SpecificResource",
                        "source": {"id": ident, "type": "Annotation"},
                        "selector": [{**quote, "suffix": hit.after}],
                    }
                    for ident in ids
                ],
            }
        )
    body: dict = {"@context": CONTEXT_2, "id": here, "type": "AnnotationPage", "items": items}
    if context:
        body["annotations"] = [{"type": "AnnotationPage", "items": context}]
    body["partOf"] = {
        "id": answer.url(0),
        "type": "AnnotationCollection",
        "total": answer.total,
        "first": {"id": answer.url(1), "type": "AnnotationPage"},
        "last": {"id": answer.url(answer.last), "type": "AnnotationPage"},
    }
    body["startIndex"] = answer.start
    if answer.page < answer.last:
        body["next"] = {"id": answer.url(answer.page + 1), "type": "AnnotationPage"}
    if answer.page > 1:
        body["prev"] = {"id": answer.url(answer.page - 1), "type": "AnnotationPage"}
    return body


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


def annotation_list(answer: Answer) -> dict:
    """Content Search 1.0, as Mirador (through 4.0) reads it: `resources`, `hits`, paging."""
    here = answer.url(answer.page)
    resources, found = [], []
    for k, hit in enumerate(answer.hits, start=answer.start + 1):
        ids = [f"{here}#hit-{k}-{j}" for j in range(1, len(hit.boxes) + 1)]
        resources += [
            {
                "@id": ident,
                "@type": "oa:Annotation",
                "motivation": "sc:painting",
                "resource": {"@type": "cnt:ContentAsText", "chars": hit.exact},
                "on": answer.target(hit, box),
            }
            for ident, box in zip(ids, hit.boxes, strict=True)
        ]
        found.append(
            {
                "@type": "search:Hit",
                "annotations": ids,
                "match": hit.exact,
                "before": hit.before,
                "after": hit.after,
            }
        )
    body: dict = {
        "@context": ["http://iiif.io/api/presentation/2/context.json", CONTEXT_1],
        "@id": here,
        "@type": "sc:AnnotationList",
        "within": {
            "@type": "sc:Layer",
            "total": answer.total,
            "first": answer.url(1),
            "last": answer.url(answer.last),
        },
        "startIndex": answer.start,
        "resources": resources,
        "hits": found,
    }
    if answer.page < answer.last:
        body["next"] = answer.url(answer.page + 1)
    if answer.page > 1:
        body["prev"] = answer.url(answer.page - 1)
    return body


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
