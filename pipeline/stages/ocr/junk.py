"""Marks that are not text: seals, stamps, signatures, logos and rules produce no words.

Tesseract reads a seal's ring, a signature's strokes and a table's rules as letters and
symbols ("=", "] 19?", "TTÿT"): junk that lowers word precision and that a reader of the
portal takes for text. `find_marks` finds the large ink shapes of a page that no letter makes
(a connected component of ink far taller and wider than the page's text, or a long thin rule)
and names their kind by shape; `suppress` drops the words that sit on a mark and do not look
like confident text, and the words anywhere on the page that are nothing but symbols read at
low confidence. Every region whose words were dropped is recorded (kind, box, words) in
`params["suppressed"]`, so staff can see what was skipped.

Words under a seal that read well (the signer's name a seal overlaps) are kept: a word on a
mark goes only when it is read below `MARK_CONF` or is not a plausible token. A printed line a
seal or signature covers whole ("KT. CHỦ TỊCH", the signer's name) stays when two of its words
read well (`PRINT_UNDER`); a stamp's own lettering ("ĐÃ KÝ") never does, and a stamp's thin
frame, as sparse as a signature, is told from one by running along all four sides of its box.

Tuned on generated pages with synthetic seals, stamps, signatures and rules
(tests/degrade.py `stamp`, `add_marks`); bench/bench_ocr.py --split reports word precision
on the development set.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from models.language.text import is_vietnamese_syllable
from pipeline.stages.pages.pagetext import Box, PageText, Word

MARK_SIZE = 3.0
"""A mark is ink connected over at least this many text heights both ways (a letter, even
with stacked diacritics, spans under 2; two lines of blurred text that touch, under 3)."""
ROUND_SIZE = 4.0
"""A seal or logo spans at least this many text heights (a real seal is about 9)."""
RULE_LENGTH = 12.0
"""...or a run this many text heights long and at most RULE_THICKNESS thick: a rule."""
RULE_THICKNESS = 0.35
MARK_CONF = 75.0
"""A word on a mark is kept only when read at least this confidently and plausible."""
SYMBOL_CONF = 50.0
"""A word with no letter or digit, read below this anywhere, is junk."""
LINE_OUTSIDE = 2
"""A word on a mark belongs to a printed line when at least this many words of its line lie
off every mark."""
FRAME_SIDES = 0.9
"""A shape inked along this share of each side of its box is a frame (a stamp)."""
PRINT_UNDER = ("seal", "signature")
"""Marks laid over printed lines: a line they cover whole ("KT. CHỦ TỊCH", the signer's name)
stays when LINE_OUTSIDE of its words read well on the mark. A stamp's or a logo's own lettering
("ĐÃ KÝ") reads well too, so a line on those must go on beyond the mark."""
FRAME_WORDS = 8
"""A shape holding more well-read words than this is a table or a frame, not a mark."""
SEAL_ROUND = (0.75, 1.33)
SEAL_FILL = 0.30
"""A round mark whose ink covers less of its box than this is a seal's ring; more, a logo."""


@dataclass(frozen=True)
class Mark:
    kind: str
    """"seal", "stamp", "signature", "logo" or "rule"."""
    box: Box


COARSE_TEXT_PX = 8
"""`find_marks` first looks at a copy reduced to about this text height (`_candidates`)."""


def find_marks(grey: np.ndarray, text_height: int) -> list[Mark]:
    """The large non-letter ink shapes of a page (boxes in the image's pixels).

    Shapes are labelled at full size only inside the boxes where a reduced copy shows a shape
    that can be a mark (`_candidates`): most pages hold none, or a rule or two, and letters are
    then never labelled one by one."""
    if text_height < 4:
        return []
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Close small gaps so a seal's ring or a signature's broken stroke is one shape.
    gap = max(1, text_height // 6)
    h_img, w_img = grey.shape
    regions = _candidates(ink, text_height, gap)
    found: dict[Box, Mark] = {}
    for x0, y0, x1, y1 in [(0, 0, w_img, h_img)] if regions is None else regions:
        crop = cv2.morphologyEx(ink[y0:y1, x0:x1], cv2.MORPH_CLOSE, np.ones((gap, gap), np.uint8))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=8)
        for label, (x, y, w, h, area) in enumerate(stats[1:n], start=1):
            # a shape cut by the crop's edge belongs to another region (or is no mark)
            if (x == 0 < x0) or (y == 0 < y0) or (x + w == crop.shape[1] and x1 < w_img):
                continue
            if y + h == crop.shape[0] and y1 < h_img:
                continue
            if w >= 0.9 * w_img and h >= 0.9 * h_img:
                continue  # a frame round the page
            box = (int(x + x0), int(y + y0), int(x + x0 + w), int(y + y0 + h))
            mark = _mark(box, w, h, int(area), text_height)
            sparse = mark is not None and mark.kind == "signature"
            if sparse and _is_frame(labels[y : y + h, x : x + w] == label):
                mark = Mark("stamp", box)  # a thin frame is as sparse as a signature
            if mark is not None:
                found[box] = mark
    return sorted(found.values(), key=lambda m: (m.box[1], m.box[0]))


def _mark(box: Box, w: int, h: int, area: int, text_height: int) -> Mark | None:
    long, short = max(w, h), min(w, h)
    if long >= RULE_LENGTH * text_height and short <= RULE_THICKNESS * text_height:
        return Mark("rule", box)
    if short >= MARK_SIZE * text_height:
        kind = _kind(w, h, area)
        if kind not in ("seal", "logo") or short >= ROUND_SIZE * text_height:
            return Mark(kind, box)
    return None


def _is_frame(shape: np.ndarray) -> bool:
    """Does the shape (a boolean mask, its box) run along all four sides of its box, as a
    stamp's frame does and a signature's strokes do not?"""
    edge = max(1, round(0.15 * min(shape.shape)))
    sides = (
        shape[:edge].any(axis=0),
        shape[-edge:].any(axis=0),
        shape[:, :edge].any(axis=1),
        shape[:, -edge:].any(axis=1),
    )
    return min(float(side.mean()) for side in sides) >= FRAME_SIDES


def _candidates(ink: np.ndarray, text_height: int, gap: int) -> list[Box] | None:
    """Boxes (full size) holding every shape of the page that can be a mark, judged on a copy
    reduced to about COARSE_TEXT_PX of text height; None: look at the whole page (text too
    small to reduce). The reduced copy keeps a pixel where any ink was (max pooling) and is
    closed at least as widely, so a shape only grows or merges there: whatever is a mark at
    full size is at least as long and as wide there, and lies inside its box."""
    factor = min(text_height / COARSE_TEXT_PX, 8.0)  # within 8, a lone ink pixel stays > 0
    if factor < 2:
        return None
    h, w = ink.shape
    size = (max(1, int(w / factor)), max(1, int(h / factor)))
    small = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
    small = (small > 0).astype(np.uint8)
    reach = int(np.ceil(gap / factor)) + 1
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((reach, reach), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(small, connectivity=8)
    sx, sy = w / size[0], h / size[1]
    pad = gap + 2 * max(sx, sy)
    boxes = []
    for x, y, bw, bh, _area in stats[1:]:
        long, short = max(bw * sx, bh * sy), min(bw * sx, bh * sy)
        if short >= MARK_SIZE * text_height - 2 * max(sx, sy) or (
            long >= RULE_LENGTH * text_height - 2 * max(sx, sy)
        ):
            boxes.append(
                (
                    max(0, int(x * sx - pad)),
                    max(0, int(y * sy - pad)),
                    min(w, int(np.ceil((x + bw) * sx + pad))),
                    min(h, int(np.ceil((y + bh) * sy + pad))),
                )
            )
    return boxes


def _kind(w: int, h: int, area: int) -> str:
    fill = area / (w * h)
    if SEAL_ROUND[0] <= w / h <= SEAL_ROUND[1]:
        return "seal" if fill < SEAL_FILL else "logo"
    if fill < 0.12 and w / h > 1.5:
        return "signature"
    return "stamp"


def _plausible(text: str) -> bool:
    """A word a page prints: a syllable, a number or code, an abbreviation in capitals."""
    core = text.strip(".,;:!?()[]\"'“”-–/")
    if not core:
        return False
    if core.isalpha():
        return is_vietnamese_syllable(core) or (core.isupper() and len(core) <= 6)
    alnum = sum(c.isalnum() for c in core)
    return alnum >= 2 and any(c.isdigit() for c in core) and alnum >= 0.6 * len(core)


def _read_well(word: Word) -> bool:
    return word.conf >= MARK_CONF and _plausible(word.text)


def _symbols(text: str) -> bool:
    """No letter or digit at all ("=", "—", "|"): a list number "1." is text."""
    return not any(c.isalnum() for c in text)


def _overlap(a: Box, b: Box) -> float:
    """Share of `a`'s area inside `b`."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    area = max(1, (a[2] - a[0]) * (a[3] - a[1]))
    return max(0, w) * max(0, h) / area


def suppress(page: PageText, grey: np.ndarray) -> PageText:
    """`page` without the words read from marks and the low-confidence symbols; the regions
    they came from in params["suppressed"] ([{kind, box, words}])."""
    confident = [w for w in page.words if w.conf >= 60]
    if not confident:
        return page
    height = int(np.median([w.box[3] - w.box[1] for w in confident]))
    marks = find_marks(grey, height)
    on_mark = [
        next((i for i, m in enumerate(marks) if _overlap(w.box, m.box) >= 0.5), None)
        for w in page.words
    ]
    marks = _not_frames(marks, page.words, on_mark)
    lines_outside: dict[tuple[int, int], int] = {}
    for word, on in zip(page.words, on_mark, strict=True):
        mark = None if on is None else marks[on]
        if mark is None or (mark.kind in PRINT_UNDER and _read_well(word)):
            key = (word.block, word.line)
            lines_outside[key] = lines_outside.get(key, 0) + 1
    kept: list[Word] = []
    dropped: dict[int, list[Word]] = {}
    for word, on in zip(page.words, on_mark, strict=True):
        mark = None if on is None else marks[on]
        # A word on a seal, stamp, logo or signature stays only when it reads well and its
        # line goes on beyond the mark (a printed line the seal overlaps), never the mark's
        # own lettering ("ĐÃ KÝ", a seal's ring).
        sure = _read_well(word) and lines_outside.get((word.block, word.line), 0) >= LINE_OUTSIDE
        if mark is not None and mark.kind != "rule" and not sure:
            dropped.setdefault(on, []).append(word)
        elif _symbols(word.text) and word.conf < SYMBOL_CONF:
            dropped.setdefault(-1, []).append(word)
        elif mark is not None and mark.kind == "rule" and not _plausible(word.text):
            dropped.setdefault(on, []).append(word)
        else:
            kept.append(word)
    if not dropped:
        page.params["suppressed"] = []
        return page
    regions = []
    for i, words in dropped.items():
        mark = marks[i] if i >= 0 else None
        kind, box = ("symbols", _union(words)) if mark is None else (mark.kind, mark.box)
        regions.append({"kind": kind, "box": list(box), "words": len(words)})
    from pipeline.stages.ocr.hocr import mean_conf, words_to_hocr, words_to_text

    page.params["suppressed"] = regions
    return replace(
        page,
        words=kept,
        text=words_to_text(kept),
        mean_conf=mean_conf(kept),
        hocr=words_to_hocr(kept, page.width, page.height),
    )


def _not_frames(
    marks: list[Mark], words: list[Word], on_mark: list[int | None]
) -> list[Mark | None]:
    """`marks` with None for the shapes that hold many well-read words: a table's grid or a
    frame round a block of text, not a stamp."""
    sure: dict[int, int] = {}
    for word, on in zip(words, on_mark, strict=True):
        if on is not None and word.conf >= MARK_CONF and _plausible(word.text):
            sure[on] = sure.get(on, 0) + 1
    return [None if sure.get(i, 0) > FRAME_WORDS else m for i, m in enumerate(marks)]


def _union(words: list[Word]) -> Box:
    return (
        min(w.box[0] for w in words),
        min(w.box[1] for w in words),
        max(w.box[2] for w in words),
        max(w.box[3] for w in words),
    )
