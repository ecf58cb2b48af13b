"""Vietnamese correction of OCR text: restore dropped or confused diacritics where confident.

Tesseract `vie` drops the marks of bold capitals ("THONG TU" for "THÔNG TƯ"), confuses marks
("Thành phô", "QUYÉT ĐỊNH", "bồ sung") and slips digits into words ("Nguy6n"). Each of those
errors keeps the word's *folded* form (no diacritics, đ -> d), so the candidates for a word
are the attested syllables that fold like it. A syllable-bigram language model (built by
`pipeline.stages.vietnamese.lexicon.build` from text the project may ship) picks the likeliest
sequence,
and a noisy-channel cost says how plausible each OCR slip is.

Confidence: for every word the max-marginal score of each candidate (the best whole-sequence
score that uses it) is computed with a forward-backward pass. A word is changed only when
its best candidate beats the raw word by `KEEP_MARGIN` and every other candidate by
`ALT_MARGIN` (natural-log units). Numbers, codes ("15/QĐ-UBND", "TTr"), e-mail and URLs and
words that are not Vietnamese syllables are never touched. Before that, `_unglue` undoes
OCR's glue where it is unambiguous ("ngày15" -> "ngày 15").

Output is NFC. A word the correction does not change keeps the spelling the page prints,
old-style tone placement included ("HÒA", "Thủy": a cited text must read as printed); the
model and the candidates use new-style placement (`models.language.text.canonical_tones`), so a word
the correction does change comes out in new style. Search folding and the metrics treat
both styles alike.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise, takewhile

from models.language.text import canonical_tones, fold, is_vietnamese_syllable, nfc
from pipeline.stages.pages.pagetext import PageText
from pipeline.stages.vietnamese.model import (
    BOS,
    OOV,
    Model,
    _static_key,
    _Token,
    _tokens,
    load_model,
)

__all__ = [
    "correct_page",
    "correct_text",
    "correct_words",
]


# Channel costs (natural-log units) of OCR slips. They were first set on pages of a document
# whose page 1 is an evaluation page (issue 19); bench/bench_ocr.py --set dev now measures them
# on the development set only (born-digital pages rendered and degraded, generated pages).
COST_STRIP_RUN = 0.5  # all marks missing, in a run of unmarked words (bold capitals)
COST_STRIP_WORD = 3.0  # all marks missing on one word among marked ones
COST_TONE = 3.5  # a tone read as another tone (ỏ/ò/õ, ấ/ầ); 2.5 turned mời→mới, tại→tài (dev)
COST_TONE_LOST = 2.0  # a tone dropped
COST_TONE_ADDED = 3.0  # a tone read where there is none
COST_QUALITY = 2.5  # breve/circumflex/horn/stroke confused or lost (ă/â, ơ/ô, ư/u, đ/d)
COST_DIGIT = 1.0  # a digit read for a letter inside a word
COST_HAT_TILDE = 1.0  # ô/â/ê read as õ/ã/ẽ (small bold capitals)
NAME_BONUS = 3.0  # extra score of keeping a proper name as read
KEEP_MARGIN = 2.5
ALT_MARGIN = 0.5
MAX_CANDIDATES = 12  # per word, the likeliest by unigram and channel
STRIP_WINDOW = 4  # neighbours on each side looked at to decide "run of unmarked words"
STRIP_SHARE = 0.75

# Glue and splits of OCR (see `_unglue`).
_WORD_THEN_NUMBER = re.compile(r"(?<![^\W_])([^\W\d_]{3,})(\d+)(?![^\W_])")  # "ngày23"
_NUMBER_THEN_WORD = re.compile(r"(?<![^\W_])(\d+)([^\W\d_]{3,})(?![^\W_])")  # "23tháng"
_LETTER_RUN = re.compile(r"(?<![^\W_])[^\W\d_]{4,}(?![^\W_])")  # "TrầnVăn"
GLUE_MIN_COUNT = 20
"""A word is split off a number, or a capitalised word off the syllable before it, only
when it is a syllable the model has seen at least this often ("m2", "km2", codes stay)."""
_BREVE, _CIRCUMFLEX, _HORN, _TILDE = "\u0306", "\u0302", "\u031b", "\u0303"
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_QUALITIES = frozenset((_BREVE, _CIRCUMFLEX, _HORN))
_LETTERS = "abcdefghijklmnopqrstuvwxyzđ"
_CHUNKS = re.compile(r"\S+")
_NO_DIGITS = str.maketrans("", "", "0123456789")
_SPACE = re.compile(r"\s")


# --------------------------------------------------------------------------------------------
# Channel model


@lru_cache(maxsize=65536)
def _marks(syllable: str) -> list[tuple[str, str, str]]:
    """Per letter: (base, quality mark, tone mark); đ is base d with quality "đ"."""
    out = []
    for ch in syllable:
        if ch == "đ":
            out.append(("d", "đ", ""))
            continue
        parts = unicodedata.normalize("NFD", ch)
        quality = "".join(c for c in parts[1:] if c in _QUALITIES)
        tone = "".join(c for c in parts[1:] if c in _TONES)
        out.append((parts[0], quality, tone))
    return out


def _is_plain(word: str) -> bool:
    return word.isascii()


@lru_cache(maxsize=65536)
def _channel_cost(raw: str, cand: str, strip_run: bool) -> float:
    """How unlikely it is that OCR read `raw` (lower case) where the page says `cand`.

    Remembered: a page's common words come back with the same candidates (issue 15)."""
    if raw == cand:
        return 0.0
    digits = sum(c.isdigit() for c in raw)
    if _is_plain(raw.translate(_NO_DIGITS)) and digits == 0:
        return COST_STRIP_RUN if strip_run else COST_STRIP_WORD
    cost = COST_DIGIT * digits
    for r, c in zip(_marks(raw), _marks(cand), strict=True):
        if r[0].isdigit():
            continue
        if r[1:] == ("", _TILDE) and c[1:] == (_CIRCUMFLEX, ""):
            cost += COST_HAT_TILDE  # a small circumflex read as a tilde: THÕNG, PHẼ
            continue
        if r[1] != c[1]:
            cost += COST_QUALITY
        if r[2] != c[2]:
            cost += COST_TONE_LOST if not r[2] else COST_TONE_ADDED if not c[2] else COST_TONE
    return cost


def _candidates(word: str, model: Model) -> list[str]:
    """Attested syllables that fold like `word`; a digit stands for any one letter."""
    low = word.lower()
    digit_at = [i for i, c in enumerate(low) if c.isdigit()]
    if not digit_at:
        return list(model.by_fold.get(fold(low), ()))
    if len(digit_at) != 1:
        return []
    i = digit_at[0]
    found: list[str] = []
    for letter in _LETTERS:
        found.extend(model.by_fold.get(fold(low[:i] + letter + low[i + 1 :]), ()))
    return found


# --------------------------------------------------------------------------------------------
# Decoding


@dataclass
class _Slot:
    keys: list[str]
    """LM key of each candidate; index 0 is the raw word."""
    forms: list[str]
    """Lower-case spelling of each candidate (the raw word's own for index 0)."""
    emit: list[float]


def _is_caps(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _strip_runs(tokens: list[_Token]) -> list[bool]:
    """For each token: do most correctable words around it carry no mark at all?

    Capitals are judged among the capitals next to them: Tesseract drops the marks of a bold
    heading ("THONG TU") while reading the text after it on the same line well.
    """
    idx = [i for i, t in enumerate(tokens) if t.kind == "word" and not t.frozen]
    plain = {i: _is_plain(tokens[i].text) for i in idx}
    caps = {i: _is_caps(tokens[i].text) for i in idx}
    out = [False] * len(tokens)
    for n, i in enumerate(idx):
        window = idx[max(0, n - STRIP_WINDOW) : n + STRIP_WINDOW + 1]
        if caps[i]:
            k = window.index(i)
            left = list(takewhile(caps.get, reversed(window[:k])))
            right = list(takewhile(caps.get, window[k + 1 :]))
            window = [*left, i, *right]
        share = sum(plain[j] for j in window) / len(window)
        out[i] = len(window) >= 2 and share >= STRIP_SHARE
    return out


def _names(tokens: list[_Token]) -> list[bool]:
    """Marked Title-case words next to another Title-case word ("Lê Thị Hồng", "Quảng
    Ngãi"): proper names, which the language model knows badly, so changing them needs more."""

    def title(t: _Token) -> bool:
        return t.kind == "word" and len(t.text) > 1 and t.text[0].isupper() and t.text[1:].islower()

    out = []
    for i, t in enumerate(tokens):
        before = i > 0 and not t.break_before and title(tokens[i - 1])
        after = i + 1 < len(tokens) and not tokens[i + 1].break_before and title(tokens[i + 1])
        out.append(title(t) and not _is_plain(t.text) and (before or after))
    return out


def _slot(tok: _Token, strip_run: bool, name: bool, model: Model) -> _Slot:
    raw = canonical_tones(tok.text.lower())
    slot = _Slot([_static_key(tok)], [raw], [NAME_BONUS if name else 0.0])
    if tok.frozen or tok.kind not in ("word", "slip"):
        return slot
    scored = sorted(
        (-_channel_cost(raw, cand, strip_run), cand)
        for cand in _candidates(raw, model)
        if cand != raw
    )
    best = sorted(scored, key=lambda ec: ec[0] + model.log_unigram[ec[1]], reverse=True)
    for emit, cand in best[:MAX_CANDIDATES]:
        slot.keys.append(cand)
        slot.forms.append(cand)
        slot.emit.append(emit)
    if len(slot.keys) > 1 and raw not in model.unigram:
        slot.keys[0] = OOV  # a misspelling of attested syllables, not an abbreviation
    return slot


def _max_marginals(slots: list[_Slot], model: Model) -> list[list[float]]:
    """Forward-backward max-product over one context run: best path score through each cand."""
    steps = [[[model.logp(BOS, k) for k in slots[0].keys]]]
    steps += [[[model.logp(a, b) for b in s.keys] for a in p.keys] for p, s in pairwise(slots)]
    fwd: list[list[float]] = []
    prev = [0.0]
    for s, trans in zip(slots, steps, strict=True):
        prev = [
            e + max(f + t[j] for f, t in zip(prev, trans, strict=True))
            for j, e in enumerate(s.emit)
        ]
        fwd.append(prev)
    bwd: list[list[float]] = [[0.0] * len(slots[-1].keys)]
    for i in range(len(slots) - 1, 0, -1):
        gain = [e + b for e, b in zip(slots[i].emit, bwd[0], strict=True)]
        bwd.insert(0, [max(t + g for t, g in zip(row, gain, strict=True)) for row in steps[i]])
    return [[f + b for f, b in zip(fr, br, strict=True)] for fr, br in zip(fwd, bwd, strict=True)]


def _choose(scores: list[float]) -> int:
    """Index of the candidate to output: 0 (the raw word) unless a change is confident."""
    best = max(range(len(scores)), key=scores.__getitem__)
    if best == 0 or scores[best] - scores[0] < KEEP_MARGIN:
        return 0
    others = [s for j, s in enumerate(scores) if j not in (0, best)]
    if others and scores[best] - max(others) < ALT_MARGIN:
        return 0
    return best


def _apply_case(raw: str, form: str) -> str:
    """Spell `form` with the case pattern of `raw` (same number of letters)."""
    if len(raw) != len(form):
        return form
    letters = [c for c in raw if c.isalpha()]
    upper_word = len(letters) > 1 and all(c.isupper() for c in letters)
    out = []
    for i, (r, f) in enumerate(zip(raw, form, strict=True)):
        upper = r.isupper() if r.isalpha() else (upper_word or (i == 0 and raw[0].isupper()))
        out.append(f.upper() if upper else f)
    return "".join(out)


def _decide(tokens: list[_Token], model: Model) -> list[str]:
    """The output spelling of every token."""
    runs, names = _strip_runs(tokens), _names(tokens)
    slots = [_slot(t, r, n, model) for t, r, n in zip(tokens, runs, names, strict=True)]
    out = [t.text for t in tokens]
    start = 0
    for i in range(1, len(tokens) + 1):
        if i < len(tokens) and not tokens[i].break_before:
            continue
        span = slots[start:i]
        if any(len(s.keys) > 1 for s in span):
            for j, scores in enumerate(_max_marginals(span, model)):
                pick = _choose(scores)
                if pick:
                    out[start + j] = _apply_case(tokens[start + j].text, span[j].forms[pick])
        start = i
    return out


# --------------------------------------------------------------------------------------------
# Glue


def _unglue(text: str, model: Model) -> tuple[str, int]:
    """Undo OCR's glue where both sides are plain: "ngày15" -> "ngày 15", "15tháng" ->
    "15 tháng", "TrầnVăn" -> "Trần Văn" (a capital inside a word is never Vietnamese).
    (text, changes made). A rule for days split by a space ("1 0/4") was dropped in issue 19:
    it had been chosen on an evaluation page."""
    count = 0

    def common(word: str) -> bool:
        key = canonical_tones(word.lower())
        return is_vietnamese_syllable(word) and model.unigram.get(key, 0) >= GLUE_MIN_COUNT

    def word_number(m: re.Match[str]) -> str:
        nonlocal count
        word = m.group(1) if m.group(1)[0].isalpha() else m.group(2)
        if not common(word):
            return m.group()
        count += 1
        return f"{m.group(1)} {m.group(2)}"

    def camel(m: re.Match[str]) -> str:
        nonlocal count
        run = m.group()
        cut = [i for i in range(1, len(run)) if run[i].isupper() and run[i - 1].islower()]
        if len(cut) != 1:
            return run
        left, right = run[: cut[0]], run[cut[0] :]
        if not (right[1:].islower() and is_vietnamese_syllable(left) and common(right)):
            return run
        count += 1
        return f"{left} {right}"

    text = _WORD_THEN_NUMBER.sub(word_number, text)
    text = _NUMBER_THEN_WORD.sub(word_number, text)
    return _LETTER_RUN.sub(camel, text), count


# --------------------------------------------------------------------------------------------
# Public API


def _correct(text: str, model: Model) -> tuple[str, int]:
    text, changed = _unglue(nfc(text), model)
    tokens = _tokens(text)
    spelled = _decide(tokens, model)
    parts: list[str] = []
    pos = 0
    for tok, new in zip(tokens, spelled, strict=True):
        parts.append(text[pos : tok.start])
        parts.append(new)
        changed += new != tok.text
        pos = tok.end
    parts.append(text[pos:])
    return "".join(parts), changed


def correct_text(text: str, model: Model | None = None) -> str:
    """Restore diacritics in OCR text where confident; line breaks, spacing, punctuation and
    case pattern are kept ("THONG TU" -> "THÔNG TƯ"). NFC; unchanged words keep their tone
    placement, changed words get the new style."""
    return _correct(text, model or load_model())[0]


def correct_words(tokens: Sequence[str], model: Model | None = None) -> list[str]:
    """Correct a word list from OCR (reading order gives the context); same length."""
    if not tokens:
        return []
    tokens = [nfc(t) for t in tokens]
    if any("\n" in t for t in tokens):
        return [correct_text(t, model) for t in tokens]
    joined = correct_text("\n".join(tokens), model)
    out = joined.split("\n")
    return out if len(out) == len(tokens) else [correct_text(t, model) for t in tokens]


def correct_page(page: PageText, model: Model | None = None) -> PageText:
    """A new PageText with corrected text and word texts; the original text in `raw_text`.

    `params["correction"]` records the model version and how many words of the text changed;
    `raw_text` is set only when something changed.
    """
    model = model or load_model()
    text, new_texts, changed = _correct_once(page, model) or _correct_twice(page, model)
    words = [
        w if t == w.text else dataclasses.replace(w, text=t)
        for w, t in zip(page.words, new_texts, strict=True)
    ]
    raw = page.raw_text if page.raw_text is not None else page.text
    params = {**page.params, "correction": {"model": model.version, "changed": changed}}
    return dataclasses.replace(
        page,
        text=text,
        words=words,
        params=params,
        raw_text=raw if text != page.text or words != page.words else page.raw_text,
    )


def _correct_twice(page: PageText, model: Model) -> tuple[str, list[str], int]:
    """The text and the word list corrected each on its own (any page)."""
    text, changed = _correct(page.text, model)
    return text, correct_words([w.text for w in page.words], model), changed


def _correct_once(page: PageText, model: Model) -> tuple[str, list[str], int] | None:
    """The text and the word list from one decoding, when the text is the words in order with
    white space between them (as OCR and the column order write it); None otherwise.

    The decoder sees the same tokens either way: white space is no token, and neither the glue
    rules nor the context breaks look at which white space separates two words. So the words
    corrected on their own are spelled as in the corrected text, and the text is the corrected
    words in the page's own spacing (issue 15: the second decoding cost 0.05 s a page).
    """
    words = [nfc(w.text) for w in page.words]
    text = nfc(page.text)
    chunks = list(_CHUNKS.finditer(text))
    if [m.group() for m in chunks] != words or any(_SPACE.search(w) for w in words):
        return None
    joined, changed = _correct("\n".join(words), model)
    fixed = joined.split("\n")
    if len(fixed) != len(words):
        return None
    parts, pos = [], 0
    for m, new in zip(chunks, fixed, strict=True):
        parts += [text[pos : m.start()], new]
        pos = m.end()
    parts.append(text[pos:])
    return "".join(parts), fixed, changed
