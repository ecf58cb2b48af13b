"""Vietnamese text for search and OCR: NFC, one tone-placement style, folding and tokens.

Pure functions, no imports of our other packages (DOMAIN.md section 5).

Tone placement. Vietnamese has two spellings for the open syllables whose rhyme is oa, oe or
uy: the *old style* puts the tone on the first vowel ("hòa", "khỏe", "thủy"), the *new style*
on the main vowel ("hoà", "khoẻ", "thuỷ"). They remain different strings after NFC, so a
search for one misses the other. `canonical_tones` rewrites every syllable to the **new
style**, because:

- it is one rule everywhere: the tone goes on the main vowel of the rhyme, which is also where
  both styles already put it in every other syllable ("hoàn", "toán", "quyết", "người"), so
  the canonical form needs no list of exceptions;
- our ground-truth files ("HOÀ") and VnCoreNLP's normaliser ("Hòa" -> "Hoà") already use it,
  so normalised ground truth equals raw ground truth;
- it is the placement the Ministry of Education's spelling rules for textbooks describe.

The original text is always kept; the canonical form is only for matching.

Because the placement is computed from the syllable (initial, vowels, final) rather than by
swapping marks, misplaced tones are repaired as well: "hòan" -> "hoàn", "qúy" -> "quý" (the u
of "qu" belongs to the initial, so it never carries the tone). "quý"/"quí", "lý"/"lí" and
"kỳ"/"kì" are *spelling* variants of i/y, not tone placement: they are left as written (the
tone is already on the only vowel of the rhyme). "gì"/"gí" are untouched: "gi" + "ì".
A word that does not parse as a Vietnamese syllable (foreign words, abbreviations, typos with
two tones) is returned unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "canonical_tones",
    "fold",
    "is_vietnamese_syllable",
    "nfc",
    "normalise",
    "tokens",
]

# Combining tone marks (the five non-level tones) and their names.
GRAVE, ACUTE, TILDE, HOOK, DOT = "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"
TONE_MARKS = frozenset((GRAVE, ACUTE, TILDE, HOOK, DOT))

_INITIALS = (
    "ngh", "ng", "gh", "gi", "kh", "ph", "th", "tr", "ch", "nh", "qu",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
)  # fmt: skip
_VOWELS = frozenset("aăâeêioôơuưy")
_FINALS = frozenset(("", "c", "ch", "m", "n", "ng", "nh", "p", "t"))
_STOP_FINALS = frozenset(("c", "ch", "p", "t"))
_QUALITY = frozenset("ăâêôơư")  # vowels carrying a breve, circumflex or horn

# Vowel clusters of a rhyme (medial + main vowel + glide), toneless, with where they may stand:
# "o" open only (no final consonant), "c" closed only, "b" both.
_CLUSTERS: dict[str, str] = {
    **dict.fromkeys(("a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư"), "b"),
    "y": "o",
    **dict.fromkeys(("ă", "â"), "c"),
    **dict.fromkeys(("oa", "oe", "uy", "uê"), "b"),
    **dict.fromkeys(("iê", "yê", "uô", "ươ", "uyê", "oă", "uâ", "oo"), "c"),
    **dict.fromkeys(
        (
            "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi",
            "ua", "ui", "ưa", "ưi", "ưu", "uơ",
            "iêu", "yêu", "oai", "oay", "oao", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyu",
        ),
        "o",
    ),
}  # fmt: skip
# Only these rhymes take the finals "ch" and "nh" (anh, ênh, inh, oanh, uynh, uênh; quỳnh).
_CH_NH_CLUSTERS = frozenset(("a", "ê", "i", "y", "oa", "uy", "uê"))
# Open two-vowel rhymes whose tone the new style puts on the second vowel.
_NEW_STYLE_SECOND = frozenset(("oa", "oe", "uy"))

CACHED_CHARS = 64
"""Strings up to this long are folded and normalised once and remembered (OCR pages are not)."""

_LETTER_RUN = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")
_TOKEN = re.compile(r"[^\W_]+")

# Letters with a stroke or similar that have no Unicode decomposition.
_FOLD_EXTRA = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ı": "i"})


def nfc(s: str) -> str:
    """NFC-normalise (always done on ingest: legacy and OCR sources yield decomposed text)."""
    return unicodedata.normalize("NFC", s)


def _split_letter(ch: str) -> tuple[str, str | None]:
    """One precomposed letter -> (letter without tone, NFC; tone mark or None)."""
    tone = None
    kept = []
    for c in unicodedata.normalize("NFD", ch):
        if c in TONE_MARKS:
            tone = c if tone is None else tone + c
        else:
            kept.append(c)
    return unicodedata.normalize("NFC", "".join(kept)), tone


def _letters(word: str) -> list[tuple[str, str | None]]:
    """An NFC word -> one (toneless letter, tone) per letter; stray marks stay with their base."""
    return [_split_letter(ch) for ch in _graphemes(word)]


def _graphemes(word: str) -> list[str]:
    out: list[str] = []
    for c in word:
        if out and unicodedata.combining(c):
            out[-1] += c
        else:
            out.append(c)
    return out


def _parse(base: str) -> tuple[str, str, str] | None:
    """A toneless lower-case syllable -> (initial, vowel cluster, final), or None."""
    for initial in _INITIALS:
        if not base.startswith(initial):
            continue
        rest = base[len(initial) :]
        n = 0
        while n < len(rest) and rest[n] in _VOWELS:
            n += 1
        cluster, final = rest[:n], rest[n:]
        where = _CLUSTERS.get(cluster)
        if where is None or final not in _FINALS:
            continue
        if (where == "o" and final) or (where == "c" and not final):
            continue
        if final in ("ch", "nh") and cluster not in _CH_NH_CLUSTERS:
            continue
        return initial, cluster, final
    return None


def _tone_index(cluster: str, final: str) -> int:
    """Where the new style puts the tone inside a vowel cluster."""
    marked = [i for i, v in enumerate(cluster) if v in _QUALITY]
    if marked:
        return marked[-1]  # â ê ô ơ ư ă carry it; in "ươ" the ơ
    if final or len(cluster) == 1:
        return len(cluster) - 1  # hoàn, toán, huỳnh, khoét
    if len(cluster) == 3:
        return 1  # ngoái, khoáy, ngoẹo, khuỷu
    return 1 if cluster in _NEW_STYLE_SECOND else 0  # hoà, khoẻ, thuỷ; mái, múa, mía


def is_vietnamese_syllable(word: str) -> bool:
    """True if `word` has the shape of one Vietnamese syllable (any case, NFC or NFD).

    Checks the initial consonant, the vowel cluster against the rhymes Vietnamese allows, the
    final consonant, at most one tone, and that stop finals (c, ch, p, t) carry sắc or nặng.
    """
    letters = _letters(nfc(word))
    if not letters:
        return False
    tones = [t for _, t in letters if t is not None]
    if len(tones) > 1 or any(len(t) > 1 for t in tones):
        return False
    base = "".join(b for b, _ in letters).lower()
    if not all(c.isalpha() for c in base):
        return False
    parsed = _parse(base)
    if parsed is None:
        return False
    _, _, final = parsed
    return not (final in _STOP_FINALS and (not tones or tones[0] not in (ACUTE, DOT)))


@lru_cache(maxsize=1 << 16)
def _canonical_word(word: str) -> str:
    """(Cached: a language has a few thousand syllables, and indexing meets them all day.)"""
    letters = _letters(word)
    toned = [i for i, (_, t) in enumerate(letters) if t is not None]
    if len(toned) != 1:
        return word
    tone = letters[toned[0]][1]
    if tone is None or len(tone) != 1:
        return word
    base = "".join(b for b, _ in letters)
    if len(base) != len(letters):  # a letter without a precomposed form; leave it alone
        return word
    if len(base.lower()) != len(base):
        return word
    parsed = _parse(base.lower())
    if parsed is None:
        return word
    initial, cluster, final = parsed
    target = len(initial) + _tone_index(cluster, final)
    if target == toned[0]:
        return word
    out = [b for b, _ in letters]
    out[target] = unicodedata.normalize("NFC", out[target] + tone)
    return "".join(out)


def canonical_tones(s: str) -> str:
    """Rewrite tone placement to the new style ("hòa" -> "hoà"), syllable by syllable.

    Case is kept; punctuation, digits and words that are not Vietnamese syllables are
    untouched. Output is NFC. Idempotent.
    """
    return _LETTER_RUN.sub(lambda m: _canonical_word(m.group()), nfc(s))


def fold(s: str) -> str:
    """Lower-case with every diacritic removed, đ -> d included: "Đống Đa" -> "dong da"."""
    if s.isascii():
        return s.lower()  # codes and numbers: nothing to remove
    return _fold_short(s) if len(s) <= CACHED_CHARS else _fold(s)


@lru_cache(maxsize=1 << 16)
def _fold_short(s: str) -> str:
    """(Cached: names, wards and land-use codes repeat in every document that holds them.)"""
    return _fold(s)


def _fold(s: str) -> str:
    lowered = nfc(s).lower().translate(_fold_table())
    if lowered.isascii():
        return lowered  # Vietnamese: every letter had a precomposed entry
    if unicodedata.is_normalized("NFD", lowered) and not _combining().search(lowered):
        return lowered  # other scripts, at C speed: nothing combining is left
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(c)
    )
    return nfc(stripped)


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    """Precomposed Latin, Greek and Cyrillic letters -> their base letters, and `_FOLD_EXTRA`.

    (Built on first use, not at import: every `sohoa` command imports this module.)"""
    table: dict[int, str] = {}
    for code in range(0x00C0, 0x2000):
        decomposed = unicodedata.normalize("NFD", chr(code))
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if base != chr(code):
            table[code] = base
    table.update(_FOLD_EXTRA)
    return table


@lru_cache(maxsize=1)
def _combining() -> re.Pattern[str]:
    marks = (chr(c) for c in range(0x0300, 0x1F000) if unicodedata.combining(chr(c)))
    return re.compile("[" + "".join(re.escape(m) for m in marks) + "]")


def normalise(s: str) -> str:
    """The accented matching form: NFC, new-style tones, lower-case ("HÒA", "hoà" -> "hoà")."""
    if s.isascii():
        return s.lower()  # no tone to place
    return _normalise_short(s) if len(s) <= CACHED_CHARS else _normalise(s)


@lru_cache(maxsize=1 << 16)
def _normalise_short(s: str) -> str:
    return _normalise(s)


def _normalise(s: str) -> str:
    return nfc(canonical_tones(s).lower())


def tokens(s: str) -> list[str]:
    """Word tokens (runs of Unicode letters and digits) of the NFC text, case kept.

    "Thửa 12/3, Đống Đa." -> ["Thửa", "12", "3", "Đống", "Đa"]. Vietnamese words of several
    syllables come out as separate syllables; segmenting them is the analyser's job.
    """
    return _TOKEN.findall(nfc(s))


def certificate_key(value: object) -> str:
    """A certificate serial or registry number as looked up: folded, upper case, letters and
    digits only ("bv 999451", "BV-999451" and "BV 999451" are one key; "Số" is "SO").

    A slash is kept: in a registry number "12345/2015" it separates the number from the year.
    """
    text = fold(str(value)).upper()
    return "".join(c for c in text if c.isalnum() or c == "/")


def certificate_keys(value: object) -> list[str]:
    """Keys of a value that may hold several numbers (a list, or one string)."""
    if value is None or isinstance(value, bool | dict):
        return []
    values = value if isinstance(value, list | tuple | set) else [value]
    return sorted({k for v in values if (k := certificate_key(v))})
