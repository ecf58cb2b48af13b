"""OCR quality metrics on Vietnamese text: character error rate and bag-of-words recall.

Both sides are normalised first: NFC, one tone-placement style (`canonical_tones`: "hòa" and
"hoà" are the same reading), and runs of whitespace as one space, so neither a ground truth's
spelling convention nor a reader's line breaks count as errors. Word recall also ignores case
and punctuation; CER keeps both (a lost capital or comma is a character the reader got wrong).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from models.language.text import canonical_tones, nfc

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """NFC, canonical tone placement, whitespace collapsed to single spaces."""
    return _SPACE.sub(" ", canonical_tones(nfc(text))).strip()


def words(text: str) -> list[str]:
    """Lower-case words (letters and digits) of normalised text, punctuation dropped."""
    return _WORD.findall(normalise(text).lower())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one numpy row at a time (O(len(a)·len(b)) but vectorised)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    bs = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1, dtype=np.int64)
    row = steps.copy()
    for i, ch in enumerate(a, start=1):
        cost = (bs != ord(ch)).astype(np.int64)
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[1:] + 1, row[:-1] + cost)
        # Insertions along the row: cur[j] = min over k ≤ j of best[k] + (j - k).
        row = np.minimum.accumulate(best - steps) + steps
    return int(row[-1])


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate: edits to turn the reading into the truth ÷ truth length."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(hyp, ref) / len(ref)


def word_recall(hypothesis: str, reference: str) -> float:
    """Share of the truth's words the reading contains (bag of words, with multiplicity)."""
    ref, hyp = Counter(words(reference)), Counter(words(hypothesis))
    total = sum(ref.values())
    if not total:
        return 1.0
    return sum(min(n, hyp[w]) for w, n in ref.items()) / total


def word_precision(hypothesis: str, reference: str) -> float:
    """Share of the reading's words that are in the truth (bag of words, with multiplicity):
    junk read from seals, stamps and rules lowers it."""
    ref, hyp = Counter(words(reference)), Counter(words(hypothesis))
    total = sum(hyp.values())
    if not total:
        return 1.0
    return sum(min(n, ref[w]) for w, n in hyp.items()) / total


def folded_cer(hypothesis: str, reference: str) -> float:
    """CER with every diacritic removed on both sides (đ -> d): the errors that are not
    diacritics. CER minus this is the share of diacritic errors."""
    from models.language.text import fold

    ref, hyp = fold(normalise(reference)), fold(normalise(hypothesis))
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(hyp, ref) / len(ref)


def corrections(raw: str, fixed: str, reference: str) -> tuple[int, int, int]:
    """(wrong→right, right→wrong, changed) words of a correction: raw and corrected words
    aligned one to one (difflib); a word is right when the truth holds it (bag of words)."""
    import difflib

    truth = Counter(words(reference))
    a, b = words(raw), words(fixed)
    good = bad = changed = 0
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace" or i2 - i1 != j2 - j1:
            changed += max(i2 - i1, j2 - j1) if tag != "equal" else 0
            continue
        for old, new in zip(a[i1:i2], b[j1:j2], strict=True):
            changed += 1
            good += new in truth and old not in truth
            bad += old in truth and new not in truth
    return good, bad, changed
