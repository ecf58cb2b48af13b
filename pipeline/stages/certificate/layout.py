"""The layout side of land-certificate reading: rows of words, OCR-tolerant labels, and which
section of a certificate (DOMAIN.md §1.2–1.3) a page holds.

Rows. Tesseract splits a printed line into several "lines" when a label and its value stand
far apart ("c) Diện tích:        16484,0m²") or sit in different table columns; `page_rows`
joins such pieces back into one row, left to right, comparing the *adjacent* ends of two
pieces so a page scanned a degree or two askew still joins correctly.

Labels. A label is matched on the folded text (lower case, no diacritics, đ→d), so
"Thửa đât số", "Thua dat so" and "Thửa đất số" are one label; up to one edit per eight
characters is forgiven for letters OCR misread ("Nguôn gộc" → "nguon goc" is exact after
folding, "Dien tlch" is one edit). Folding here keeps the string's length, so a match on the
folded text gives the character offsets, and so the words and boxes, of the original.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from models.language.text import fold
from pipeline.stages.pages.pagetext import Box, PageText, Word

SECTIONS = ("I", "II", "III", "IV")
OTHER = "other"


@functools.lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    f = fold(c)
    return f if len(f) == 1 else c.lower()[:1] or c


def fold_keep_length(text: str) -> str:
    """`models.language.text.fold`, one character for one: offsets in the result are offsets in
    `text`."""
    return "".join(_fold_char(c) for c in text)


@dataclass(frozen=True)
class Row:
    """One printed line of a page: its words left to right, their text joined by spaces."""

    page: int
    words: tuple[Word, ...]
    text: str
    folded: str
    starts: tuple[int, ...]

    @classmethod
    def of(cls, page: int, words: Sequence[Word]) -> Row:
        starts, parts, at = [], [], 0
        for w in words:
            starts.append(at)
            parts.append(w.text)
            at += len(w.text) + 1
        text = " ".join(parts)
        return cls(page, tuple(words), text, fold_keep_length(text), tuple(starts))

    @property
    def box(self) -> Box:
        return union(w.box for w in self.words)

    @property
    def height(self) -> float:
        return statistics.median(w.box[3] - w.box[1] for w in self.words)

    def span_words(self, start: int, end: int) -> list[Word]:
        """The words that overlap characters [start, end) of `text`."""
        return [
            w
            for w, s in zip(self.words, self.starts, strict=True)
            if s < end and s + len(w.text) > start
        ]

    def span_box(self, start: int, end: int) -> Box:
        words = self.span_words(start, end) or list(self.words)
        return union(w.box for w in words)

    def span_conf(self, start: int, end: int) -> float:
        """Mean OCR confidence (0–1) of the words under [start, end)."""
        words = self.span_words(start, end) or list(self.words)
        return sum(min(max(w.conf, 0.0), 100.0) for w in words) / (100.0 * len(words))


def union(boxes: Iterable[Box]) -> Box:
    bs = list(boxes)
    return (
        min(b[0] for b in bs),
        min(b[1] for b in bs),
        max(b[2] for b in bs),
        max(b[3] for b in bs),
    )


def page_rows(page: PageText) -> list[Row]:
    """The page's printed lines, top to bottom, with OCR line fragments of one row joined."""
    pieces = [sorted(ws, key=lambda w: w.box[0]) for ws in page.lines() if ws]
    pieces = [[w for w in ws if w.text.strip()] for ws in pieces]
    pieces = sorted((p for p in pieces if p), key=lambda ws: (_top(ws), ws[0].box[0]))
    rows: list[list[Word]] = []
    for piece in pieces:
        target = next((r for r in reversed(rows[-8:]) if _continues(r, piece)), None)
        if target is None:
            rows.append(list(piece))
        else:
            target.extend(piece)
    rows.sort(key=lambda ws: (_top(ws), ws[0].box[0]))
    return [Row.of(page.page, ws) for ws in rows]


def _top(words: Sequence[Word]) -> float:
    return statistics.median(w.box[1] for w in words)


def _continues(row: Sequence[Word], piece: Sequence[Word]) -> bool:
    """Whether `piece` stands to the right of `row` on the same printed line."""
    last, first = row[-1], piece[0]
    if first.box[0] < last.box[2] - 5:
        return False
    height = max(last.box[3] - last.box[1], first.box[3] - first.box[1], 1)
    centre_last = (last.box[1] + last.box[3]) / 2
    centre_first = (first.box[1] + first.box[3]) / 2
    return abs(centre_first - centre_last) < 0.45 * height


# --- labels -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """Where a label matched in a row: folded-text offsets, and how exactly (1.0 = exact)."""

    start: int
    end: int
    quality: float


def find(folded: str, label: str, *, lead: int | None = None) -> Hit | None:
    """`label` (folded, spaces meaning any run of blanks) in `folded`, tolerating OCR slips.

    With `lead`, the label must start within the first `lead` characters (after a list marker
    such as "a)", "đ.", "II."), which is what tells a form's label from the same words in a
    sentence."""
    region = folded if lead is None else folded[: lead + len(label) + 4]
    exact = re.search(r"\s*".join(re.escape(p) for p in label.split()), region)
    if exact and (lead is None or exact.start() <= lead):
        return Hit(exact.start(), exact.end(), 1.0)
    budget = len(label.replace(" ", "")) // 8
    if budget == 0 or not _may_match(region, label, budget):
        return None
    found = _approximate(region, label, budget)
    if found and (lead is None or found[0] <= lead):
        start, end, errors = found
        return Hit(start, end, 1.0 - 0.1 * errors)
    return None


def _may_match(text: str, pattern: str, budget: int) -> bool:
    """Pigeonhole filter: with at most `budget` edits, one of `budget + 1` pieces of the
    pattern occurs exactly, so when none does the costly search can be skipped."""
    size = len(pattern) // (budget + 1)
    return any(pattern[i * size : (i + 1) * size] in text for i in range(budget + 1))


def _approximate(text: str, pattern: str, budget: int) -> tuple[int, int, int] | None:
    """Best substring of `text` within `budget` edits of `pattern` (Sellers' algorithm)."""
    m = len(pattern)
    prev = list(range(m + 1))
    starts = [0] * (m + 1)
    best: tuple[int, int, int] | None = None
    for j, c in enumerate(text, 1):
        cur, cur_starts = [0], [j]
        for i in range(1, m + 1):
            options = (
                (prev[i - 1] + (pattern[i - 1] != c), starts[i - 1]),
                (prev[i] + 1, starts[i]),
                (cur[i - 1] + 1, cur_starts[i - 1]),
            )
            cost, start = min(options)
            cur.append(cost)
            cur_starts.append(start)
        if cur[m] <= budget and (best is None or cur[m] < best[2]):
            best = (cur_starts[m], j, cur[m])
        prev, starts = cur, cur_starts
    return best


_MARKER = re.compile(r"^\W{0,2}(?:[ivx]{1,4}|\d{1,2}|[a-z]{1,2}\W?)?\W{0,3}\s*")


def label_at_start(row: Row, label: str) -> Hit | None:
    """`label` at the start of `row`, after an optional list marker ("a)", "1.", "II.")."""
    marker = _MARKER.match(row.folded)
    lead = max(marker.end() if marker else 0, 1) + 1
    return find(row.folded, label, lead=lead)


def value_after(row: Row, hit: Hit) -> tuple[int, int]:
    """Offsets of what follows a label: after its colon and blanks, to the end of the row."""
    start = hit.end
    while start < len(row.text) and row.text[start] in " :;.,_-–…":
        start += 1
    return start, len(row.text)


# --- page classification ----------------------------------------------------------------------

# (section, folded text, weight, at line start?) — a heading weighs 3, a filled-in label 1.
_CLUES: tuple[tuple[str, str, int, bool], ...] = (
    ("I", "nguoi su dung dat, chu so huu", 3, True),
    ("I", "giay chung nhan", 2, True),
    ("II", "thua dat, nha o va tai san", 3, True),
    ("II", "thong tin thua dat", 3, True),
    ("II", "thua dat so", 1, True),
    ("II", "dien tich:", 1, True),
    ("II", "hinh thuc su dung", 1, True),
    ("II", "muc dich su dung", 1, True),
    ("II", "thoi han su dung", 1, True),
    ("II", "nguon goc su dung", 1, True),
    ("II", "loai dat:", 1, True),
    ("III", "so do thua dat", 3, True),
    ("III", "bang ke toa do", 3, False),
    ("IV", "nhung thay doi sau khi cap", 3, True),
    ("IV", "noi dung thay doi va co so phap ly", 3, False),
    ("IV", "nguoi duoc cap giay chung nhan khong duoc", 3, False),
)
_OWNER = re.compile(r"^\W{0,3}(?:ho\s+)?(?:ong|ba|va\s+vo|va\s+chong)\s*[:;]")
_TITLE_ONLY = re.compile(r"^\W*giay\s*chung\s*nhan\W*$")
_STRONG = 2


def section_scores(rows: Sequence[Row]) -> dict[str, tuple[int, int]]:
    """For each section: (score, index of the first row with strong evidence, or a big number)."""
    scores = {s: [0, 10**9] for s in SECTIONS}
    owners = 0
    for i, row in enumerate(rows):
        for section, label, weight, at_start in _CLUES:
            if label == "giay chung nhan":
                hit = _TITLE_ONLY.match(row.folded)
            elif at_start:
                hit = label_at_start(row, label)
                if hit and weight == 1 and not _filled(row, hit):
                    hit = None
            else:
                hit = find(row.folded, label)
            if hit:
                scores[section][0] += weight
                if weight >= _STRONG:
                    scores[section][1] = min(scores[section][1], i)
        if owners < 2 and _OWNER.match(row.folded):
            owners += 1
            scores["I"][0] += 1
    return {s: (v[0], v[1]) for s, v in scores.items()}


def _filled(row: Row, hit: Hit) -> bool:
    """A form label is followed by a colon or a value, not by more sentence."""
    rest = row.folded[hit.end :].lstrip()
    return bool(rest) and (rest[0] in ":;" or row.folded[hit.end - 1] == ":" or rest[0].isdigit())


def classify_rows(rows: Sequence[Row]) -> str:
    """The certificate section a page holds ("I"–"IV"), or "other".

    A page that holds several sections (the 2025 form's page 1 has the owners and the parcel;
    page 2 the drawing and the changes) is named by the first one printed on it. A page needs
    a heading, or several filled-in labels, to count: prose that mentions parcels is "other".
    """
    scores = section_scores(rows)
    strong = [(first, s) for s, (score, first) in scores.items() if score >= 3]
    if not strong:
        return OTHER
    return min(strong)[1]


# --- form generation --------------------------------------------------------------------------

_FORM_CLUES: tuple[tuple[str, str], ...] = (
    ("2009-2024", "nha o va tai san khac gan lien voi dat"),
    ("2009-2024", "thua dat, nha o va tai san"),
    ("2009-2024", "so vao so cap gcn"),
    ("2025", "quyen so huu tai san gan lien voi dat"),
    ("2025", "chu so huu tai san gan lien voi dat"),
    ("2025", "thong tin thua dat"),
    ("2025", "thong tin chi tiet duoc the hien tai ma qr"),
    ("2025", "so do thua dat, tai san gan lien"),
)


def detect_form(rows: Sequence[Row], serial: str | None) -> str | None:
    """ "2009-2024" or "2025" from the title, headings and serial length; None if no clue."""
    votes = {"2009-2024": 0, "2025": 0}
    for row in rows:
        for form, clue in _FORM_CLUES:
            if find(row.folded, clue):
                votes[form] += 1
    if serial:
        votes["2025" if len(serial.replace(" ", "")) == 10 else "2009-2024"] += 2
    if votes["2009-2024"] == votes["2025"]:
        return None
    return max(votes, key=lambda f: votes[f])
