"""Snippets for the embedded backend's hits: a window of the original text around the first
word whose folded form matches the query, matches in `<mark>`, everything else HTML-escaped.

Matching is done on words as written (any diacritics, any case), comparing folded forms, so
"dong da" marks "Đống Đa"; a typo or the prefix being typed marks too, as the index matched it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache

from models.language.text import fold
from search.tantivy.query import ParsedText, fuzzy_distance

SNIPPET_CHARS = 200
MAX_SCAN_CHARS = 200_000
WIGGLE = 20
"""How far a window's edge may move to fall between words."""
WORD = re.compile(r"\w+")
SPACE = re.compile(r"\s+")


def highlight(
    sources: Sequence[str],
    parsed: ParsedText,
    width: int = SNIPPET_CHARS,
    match: Matcher | None = None,
) -> str:
    """A window of the first source with a match, matches in <mark>, everything escaped.

    The window opens at the first exact match if there is one, else at the first typo or
    prefix match (so "si" as a prefix does not pull the window to an early "sit"). Typo
    distances are computed only for the words inside the window, unless no word matches
    exactly: a long OCR text costs a set lookup per word. Pass one `match` for all the hits
    of a page: it remembers each word it has judged, and hits share most of their words.
    """
    match = match or Matcher(parsed)
    for source in sources if match.any else ():  # no words (a filter or place only): no marks
        words = list(WORD.finditer(source[:MAX_SCAN_CHARS]))
        anchor = _anchor(words, match)
        if anchor is not None:
            low, high = anchor - width // 4 - WIGGLE, anchor + width + WIGGLE  # widest window
            spans = [m.span() for m in words if low <= m.start() <= high and match(m.group())]
            return _window(source, spans, anchor, width)
    first = next((s for s in sources if s), "")
    return _window(first, [], 0, width)


def _anchor(words: list[re.Match[str]], match: Matcher) -> int | None:
    """Where the first exact match starts, else the first typo or prefix match."""
    exact = next((m.start() for m in words if match.exact(m.group())), None)
    if exact is not None:
        return exact
    return next((m.start() for m in words if match(m.group())), None)


class Matcher:
    """How well a word of the text matches the query: 2 exactly, 1 by typo or prefix, 0 not."""

    def __init__(self, parsed: ParsedText) -> None:
        words = parsed.all_words()
        self._exact = {w.folded for w in words}
        self._prefixes = tuple(w.folded for w in words if w.prefix and len(w.folded) >= 2)
        self._fuzzy = [(w.folded, d) for w in words if w.fuzzy and (d := fuzzy_distance(w.folded))]
        self._seen: dict[str, int] = {}
        self.any = bool(self._exact)

    def exact(self, word: str) -> bool:
        return _folded(word) in self._exact

    def __call__(self, word: str) -> int:
        if word not in self._seen:
            f = _folded(word)
            if f in self._exact:
                self._seen[word] = 2
            else:
                near = any(edit_distance(f, t, d) <= d for t, d in self._fuzzy)
                self._seen[word] = int(
                    near or (bool(self._prefixes) and f.startswith(self._prefixes))
                )
        return self._seen[word]


@lru_cache(maxsize=1 << 16)
def _folded(word: str) -> str:
    return fold(word)


def _window(source: str, spans: list[tuple[int, int]], anchor: int, width: int) -> str:
    start = max(0, anchor - width // 4)
    if start:
        space = source.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < WIGGLE else start
    end = min(len(source), start + width)
    if end < len(source):
        space = source.find(" ", end)
        end = space if 0 <= space - end < WIGGLE else end
    parts = ["…" if start else ""]
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        parts += [_escape(source[pos:s]), "<mark>", _escape(source[s:e]), "</mark>"]
        pos = e
    parts.append(_escape(source[pos:end]))
    parts.append("…" if end < len(source) else "")
    return "".join(parts).strip()


def _escape(text: str) -> str:
    return html.escape(SPACE.sub(" ", text), quote=False)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap costs 1, like tantivy), or limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if limit <= 1:  # the usual case (words of 4 to 7 letters), without the table
        return 0 if a == b else 1 if limit == 1 and _one_edit(a, b) else limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            row.append(cost)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return prev[-1]


def _one_edit(a: str, b: str) -> bool:
    """Whether two different strings are one substitution, insertion, deletion or swap apart."""
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        swapped = a[i + 1 : i + 2] == b[i : i + 1] and a[i : i + 1] == b[i + 1 : i + 2]
        return a[i + 1 :] == b[i + 1 :] or (swapped and a[i + 2 :] == b[i + 2 :])
    return a[i + 1 :] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1 :]
