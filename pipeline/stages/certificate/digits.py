"""How sure Tesseract is of the digits of a date (a second look at the words that hold one).

    doubt_dates(text, image) -> PageText     (date words' confidence lowered when doubtful)

A word's confidence from a page reading is that of the word as a whole: a blurred "2015" read
"2013" can come out at 93. The date is the one field nothing else on the page can check, so
each word that holds a date's digits is read again alone (its crop, one line, `--psm 7`) with
Tesseract's per-character alternatives (`lstm_choice_mode=2`). A reading that gives other
digits than the page's is a wrong date or a doubtful one: the words' confidence becomes 0. One
that bears them out (a lone short word's reading may drop a digit: the rest must agree) with a
digit whose runner-up digit comes nearly as close (a margin under SURE_MARGIN) gives the words
that margin as confidence; otherwise the page's reading stands. The field check
(`validate.py`, below REVIEW_BELOW) then sends a doubtful date to a person with the reason
"read with low confidence".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import replace

from PIL import Image

from models.language.text import fold
from pipeline.stages.certificate.layout import union
from pipeline.stages.pages.pagetext import Box, PageText, Word

_DATE_WORD = re.compile(r"\d{1,2}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?\d{2,4}|(?<!\d)(?:19|20)\d\d(?!\d)")
"""A date or a year standing alone (not four digits inside a registry number, "CH02012")."""
_DATE_LABELS = frozenset({"ngay", "thang", "nam"})
_TIMEOUT_S = 20.0


def doubt_dates(text: PageText, image: Image.Image) -> PageText:
    """`text` with each doubtful date's digit words at most as confident as its second reading
    (see the module docstring); the number of dates found doubtful recorded in
    params["date_doubts"], each date's signals in params["date_checks"]."""
    words = list(text.words)
    doubts = 0
    checks = []
    for group in _date_groups(words):
        digit_words = [i for i in group if any(c.isdigit() for c in words[i].text)]
        expected = "".join(words[i].text for i in digit_words)
        look = second_look(image, union(words[i].box for i in group))
        sure = date_sureness(expected, look)
        checks.append({"read": expected, "page_conf": min(words[i].conf for i in digit_words),
                       "second": look and look[0], "margin": look and look[1]})  # fmt: skip
        if sure is None or all(words[i].conf <= sure for i in digit_words):
            continue
        doubts += 1
        for i in digit_words:
            words[i] = replace(words[i], conf=min(words[i].conf, sure))
    if not checks:
        return text
    params = {**text.params, "date_checks": checks, **({"date_doubts": doubts} if doubts else {})}
    return replace(text, words=words, params=params)


SURE_MARGIN = 40.0
"""A second reading that bears the page's digits out with every digit at least this far ahead
of its runner-up leaves the date as the page read it; below, the date's words get the margin
as their confidence (under REVIEW_BELOW: a person looks). Chosen on generated photos
(bench/bench_certificate_dates.py, seeds 4000–4009, 100 photos): the one wrong date whose
second reading agreed had a margin of 36; of 52 right dates whose second reading agreed, 48
had margins of 45–93 and 4 of 18–38. The margin alone (the rule before) sent 27 of 57 right
dates to review, this rule 16; both flag the 2 wrong dates, and of 442 one-digit slips of the
right dates the second reading flags 442 before, 435 now (a reading that drops the slipped
digit agrees)."""


def date_sureness(expected: str, look: tuple[str, float] | None) -> float | None:
    """0–100, how far a second reading (`second_look`) bears out a date read as `expected`:
    0 when it reads other digits (a digit changed, added, or in another order); its least
    margin when that is under SURE_MARGIN; 100 (nothing to doubt) above; None without a second
    reading. A second reading that drops digits and reads the rest alike ("1072018" for
    "11072018", a lone short word being its weak point) agrees on what it read."""
    if look is None:
        return None
    digits, margin = look
    if not _within(digits, re.sub(r"\D", "", expected)):
        return 0.0
    return 100.0 if margin >= SURE_MARGIN else margin


def _within(part: str, whole: str) -> bool:
    """`part`'s digits are `whole`'s in order, some left out."""
    rest = iter(whole)
    return all(c in rest for c in part)


def _date_groups(words: list[Word]) -> list[list[int]]:
    """Per line, the run of words that holds its date: from the label before its first date
    word ("ngày") to its last date word ("ngày 19 tháng 07 năm 2017", "ngày 25/10/2015")."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i in range(len(words)):
        if _is_date_word(words, i):
            groups.setdefault((words[i].block, words[i].line), []).append(i)
    out = []
    for found in groups.values():
        first, last = found[0], found[-1]
        if first > 0 and _is_label(words[first - 1]) and words[first - 1].line == words[first].line:
            first -= 1
        out.append(list(range(first, last + 1)))
    return out


def _is_label(word: Word) -> bool:
    return fold(word.text).strip(" .,:").lower() in _DATE_LABELS


def _is_date_word(words: list[Word], i: int) -> bool:
    """A whole date ("25/10/2015"), a year, or the digits after "ngày", "tháng" or "năm"."""
    w = words[i]
    if _DATE_WORD.search(w.text):
        return True
    if not re.fullmatch(r"\d{1,4}[.,]?", w.text) or i == 0:
        return False
    return words[i - 1].line == w.line and _is_label(words[i - 1])


READ_HEIGHT = 48
"""A crop is enlarged (at most ×3) so its text stands this many pixels high: Tesseract reads a
lone short word poorly at the page's own 20–30 px."""


def digit_certainty(image: Image.Image, box: Box, expected: str) -> float | None:
    """0–100: how sure a reading of the words at `box` alone is of their digits (the lowest
    margin between a digit and its runner-up digit; 0 when the digits read differ from those
    of `expected`, beyond leaving some out); None when the crop reads no digits at all."""
    look = second_look(image, box)
    if look is None:
        return None
    digits, margin = look
    return margin if _within(digits, re.sub(r"\D", "", expected)) else 0.0


def second_look(image: Image.Image, box: Box) -> tuple[str, float] | None:
    """The digits a reading of the words at `box` alone gives and its least margin between a
    digit and its runner-up digit (0–100); None when it reads no digits."""
    x0, y0, x1, y1 = box
    pad = max(4, (y1 - y0) // 2)
    w, h = image.size
    crop = image.crop((max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)))
    scale = min(3.0, max(1.0, READ_HEIGHT / max(1, y1 - y0)))
    if scale > 1.05:
        crop = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.LANCZOS)
    digits = [(c, alts) for c, alts in _char_choices(crop) if c.isdigit()]
    if not digits:
        return None
    return "".join(c for c, _ in digits), max(0.0, min(_margin(c, alts) for c, alts in digits))


def _margin(char: str, choices: list[tuple[str, float]]) -> float:
    """The confidence of `char` less that of its likeliest other digit (100 when Tesseract
    listed no alternatives: nothing to doubt)."""
    if not choices:
        return 100.0
    top = max((p for c, p in choices if c == char), default=0.0)
    other = max((p for c, p in choices if c.isdigit() and c != char), default=0.0)
    return top - other


_CHAR = re.compile(r"title='x_bboxes [^']*'>([^<]*)</span>")
_CHOICE = re.compile(r"title='x_confs ([\d.]+)'>([^<]*)</span>")


def _char_choices(crop: Image.Image) -> list[tuple[str, list[tuple[str, float]]]]:
    """Per character read on `crop` (one line): (the character, [(choice, confidence), ...]),
    the choices being the LSTM's alternatives listed after the character."""
    hocr = _tesseract_choices(crop)
    chars = list(_CHAR.finditer(hocr))
    out = []
    ends = [m.start() for m in chars[1:]] + [len(hocr)]
    for m, end in zip(chars, ends, strict=True):
        tail = hocr[m.end() : end]
        out.append((m.group(1), [(ch, float(p)) for p, ch in _CHOICE.findall(tail) if ch]))
    return out


def _tesseract_choices(crop: Image.Image) -> str:
    """Tesseract's hOCR of one line with the LSTM's alternatives per character ('' on failure:
    no second opinion, the page reading stands)."""
    tesseract = shutil.which("tesseract") or "tesseract"
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        crop.convert("L").save(f, "PNG")
        f.flush()
        cmd = [tesseract, f.name, "stdout", "-l", "vie", "--psm", "7",
               "-c", "hocr_char_boxes=1", "-c", "lstm_choice_mode=2", "hocr"]  # fmt: skip
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=_TIMEOUT_S, env=env)
        except subprocess.TimeoutExpired:
            return ""
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""
