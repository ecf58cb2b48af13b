"""The syllable-bigram language model of the Vietnamese correction and the tokens it sees.

`read_model` reads the gzip TSV that `pipeline.stages.vietnamese.lexicon.build` writes
(`MODEL_FILE`, shipped in `lexicon/`); `lm_keys` turns text into model keys the same way for
the build and for `pipeline.stages.vietnamese.correction`.
"""

from __future__ import annotations

import gzip
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from models.language.text import canonical_tones, fold, is_vietnamese_syllable, nfc

__all__ = [
    "MODEL_FILE",
    "Model",
    "lm_keys",
    "load_model",
    "read_model",
]

MODEL_FILE = Path(__file__).parent / "lexicon" / "model.tsv.gz"

BOS, NUM, UNK, OOV = "<s>", "<num>", "<unk>", "<oov>"
DISCOUNT = 0.75  # absolute discount of every bigram count
UNIGRAM_PRIOR = 0.05  # pseudo-count of every syllable (the generated ones have none)
LOGP_MEMO = 100_000  # pairs `Model.logp` remembers (about 15 MB) before it starts afresh
_TOKEN = re.compile(r"[^\W_]+")
_CHUNK = re.compile(r"\S+")
_INNER_JOIN = re.compile(r"[^\W_][/\\\-.&+=#][^\W_]")
_SLIP = re.compile(r"^[^\W\d_]+\d[^\W\d_]+$")  # "Nguy6n"; never "m2", "24h"
_ROMAN = re.compile(r"^[IVXLC]{2,}$")


# --------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Model:
    """Syllable unigram and bigram counts; all keys lower case, NFC, new-style tones."""

    version: str
    unigram: dict[str, int]
    bigram: dict[tuple[str, str], int]
    context: dict[str, int]
    """How often each key is the left side of a bigram."""
    backoff: dict[str, float]
    """Back-off weight of each context: DISCOUNT x distinct followers / context count."""
    log_unigram: dict[str, float]
    by_fold: dict[str, tuple[str, ...]]
    """Folded form -> the syllables that fold to it (the candidates of a word)."""
    log_floor: float
    """log P of a key the model has never seen."""

    _seen: dict[tuple[str, str], float] = field(default_factory=dict, compare=False, repr=False)
    """`logp` already worked out: a page asks for the same pairs again and again (issue 15)."""

    def logp(self, prev: str, key: str) -> float:
        """log P(key | prev): interpolated absolute discounting (Kneser-Ney without the
        continuation counts), so a context seen with many different followers backs off more."""
        seen = self._seen.get((prev, key))
        if seen is None:
            if len(self._seen) >= LOGP_MEMO:
                self._seen.clear()
            seen = self._seen[(prev, key)] = self._logp(prev, key)
        return seen

    def _logp(self, prev: str, key: str) -> float:
        log_uni = self.log_unigram.get(key, self.log_floor)
        seen = self.context.get(prev)
        if seen is None:
            return log_uni
        pair = self.bigram.get((prev, key))
        if pair is None:
            return math.log(self.backoff[prev]) + log_uni
        return math.log((pair - DISCOUNT) / seen + self.backoff[prev] * math.exp(log_uni))


def read_model(path: Path) -> Model:
    """Read the gzip TSV written by the build: a `#model` header, `1` and `2` rows."""
    unigram: dict[str, int] = {}
    bigram: dict[tuple[str, str], int] = {}
    version = "unknown"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            if cols[0] == "#model":
                version = cols[1]
            elif cols[0] == "1":
                unigram[cols[1]] = int(cols[2])
            elif cols[0] == "2":
                bigram[(cols[1], cols[2])] = int(cols[3])
    context: dict[str, int] = {}
    followers: dict[str, int] = {}
    for (a, _), n in bigram.items():
        context[a] = context.get(a, 0) + n
        followers[a] = followers.get(a, 0) + 1
    backoff = {a: DISCOUNT * followers[a] / n for a, n in context.items()}
    denominator = sum(unigram.values()) + UNIGRAM_PRIOR * len(unigram)
    log_unigram = {k: math.log((n + UNIGRAM_PRIOR) / denominator) for k, n in unigram.items()}
    by_fold: dict[str, list[str]] = {}
    for key in unigram:
        if not key.startswith("<"):
            by_fold.setdefault(fold(key), []).append(key)
    folds = {k: tuple(sorted(v)) for k, v in by_fold.items()}
    floor = math.log(UNIGRAM_PRIOR / denominator)
    return Model(version, unigram, bigram, context, backoff, log_unigram, folds, floor)


@lru_cache(maxsize=1)
def load_model() -> Model:
    """The model shipped in `pipeline/stages/vietnamese/lexicon/` (read once per process)."""
    return read_model(MODEL_FILE)


# --------------------------------------------------------------------------------------------
# Tokens


@dataclass
class _Token:
    start: int
    end: int
    text: str
    kind: str  # "word", "slip" (letters with a digit), "num", "other"
    frozen: bool
    break_before: bool


def _case_ok(word: str) -> bool:
    """Lower, UPPER or Title case; "TTr", "iPhone", "ĐTpo" are codes or names: left alone."""
    letters = [c for c in word if c.isalpha()]
    rest = letters[1:]
    return all(c.islower() for c in rest) or all(c.isupper() for c in rest)


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Whitespace-delimited chunks that are codes, e-mail or URLs: never corrected."""
    spans = []
    for m in _CHUNK.finditer(text):
        chunk = m.group()
        low = chunk.lower()
        if "@" in chunk or "://" in chunk or low.startswith("www.") or _INNER_JOIN.search(chunk):
            spans.append(m.span())
    return spans


def _tokens(text: str) -> list[_Token]:
    """Alphanumeric runs of NFC `text` with their kind, frozen flag and context breaks.

    A context break is any separator other than white space (punctuation, hyphens between
    spaces, brackets): the language model does not look across it.
    """
    spans = _code_spans(text)
    out: list[_Token] = []
    prev_end = 0
    for m in _TOKEN.finditer(text):
        word = m.group()
        sep = text[prev_end : m.start()]
        prev_end = m.end()
        in_code = any(a <= m.start() < b for a, b in spans)
        if word.isdigit():
            kind = "num"
        elif any(c.isdigit() for c in word):
            kind = "slip" if _SLIP.match(word) else "other"
        else:
            kind = "word"
        frozen = in_code or kind == "other" or not _case_ok(word)
        if kind == "word" and _ROMAN.match(word):
            frozen = True
        nxt = text[m.end() : m.end() + 1]
        if len(word) == 1 and nxt in (")", "."):  # list items "a)", "b."
            frozen = True
        breaks = not out or bool(sep.strip())
        out.append(_Token(m.start(), m.end(), word, kind, frozen, breaks))
    return out


def lm_keys(text: str) -> list[str]:
    """The language-model keys of a text, with `<s>` at every context break.

    Shared by the build and the corrector so both see text the same way: syllables lower
    case with new-style tones, numbers as `<num>`, anything else as `<unk>`.
    """
    keys: list[str] = []
    for tok in _tokens(canonical_tones(nfc(text))):
        if tok.break_before:
            keys.append(BOS)
        keys.append(_static_key(tok))
    return keys


def _static_key(tok: _Token) -> str:
    if tok.kind == "num":
        return NUM
    if tok.kind == "word" and is_vietnamese_syllable(tok.text):
        return canonical_tones(tok.text.lower())
    return UNK
