"""Text keys for unit names: folding, accent keys, type prefixes, and readings of a query."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

try:  # the search package's Vietnamese folding, when it exists
    from models.language.text import fold as _shared_fold
except ImportError:  # pragma: no cover - depends on the checkout
    _shared_fold = None

if TYPE_CHECKING:
    from models.places.units import Level

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})
_NON_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=1 << 16)
def _local_fold(text: str) -> str:
    """NFC, lower case, every diacritic removed including đ → d (NFD does not split đ)."""
    text = unicodedata.normalize("NFC", text).lower().replace("đ", "d")
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)
    )
    return unicodedata.normalize("NFC", stripped)


_fold = _shared_fold or _local_fold


@lru_cache(maxsize=1 << 16)
def _key(text: str) -> str:
    """Folded lookup key: no diacritics, lower case, punctuation as single spaces."""
    return " ".join(_NON_WORD.sub(" ", _fold(text.translate(_APOSTROPHES)).lower()).split())


@lru_cache(maxsize=1 << 16)
def _accent_key(text: str) -> str:
    """Accented lookup key; tone-mark placement is ignored (hoà = hòa, thuỷ = thủy)."""
    text = _NON_WORD.sub(" ", unicodedata.normalize("NFC", text.translate(_APOSTROPHES)).lower())
    words = []
    for word in unicodedata.normalize("NFD", text).split():
        tones = "".join(c for c in word if c in _TONE_MARKS)
        words.append("".join(c for c in word if c not in _TONE_MARKS) + tones)
    return " ".join(words)


# Type prefixes by folded token sequence; longest first so "thi xa" wins over "xa".
_KINDS: dict[tuple[str, ...], str] = {
    ("thanh", "pho"): "Thành phố",
    ("thi", "tran"): "Thị trấn",
    ("thi", "xa"): "Thị xã",
    ("dac", "khu"): "Đặc khu",
    ("phuong",): "Phường",
    ("huyen",): "Huyện",
    ("quan",): "Quận",
    ("tinh",): "Tỉnh",
    ("xa",): "Xã",
}
_ABBREVIATIONS: dict[str, str] = {
    "tp": "Thành phố",
    "tt": "Thị trấn",
    "tx": "Thị xã",
    "p": "Phường",
    "q": "Quận",
    "h": "Huyện",
    "x": "Xã",
    "t": "Tỉnh",
}
_KIND_LEVELS: dict[str, tuple[Level, ...]] = {
    "Thành phố": ("province", "district"),
    "Tỉnh": ("province",),
    "Quận": ("district",),
    "Huyện": ("district",),
    "Thị xã": ("district",),
    "Phường": ("commune",),
    "Xã": ("commune",),
    "Thị trấn": ("commune",),
    "Đặc khu": ("commune",),
}
_ENGLISH_LEVELS: dict[str, tuple[Level, ...]] = {
    "province": ("province",),
    "city": ("province", "district"),
    "district": ("district",),
    "ward": ("commune",),
    "commune": ("commune",),
    "town": ("commune", "district"),
}


@lru_cache(maxsize=1 << 16)
def _split_kind(name: str) -> tuple[str | None, str]:
    """("Phường", "Giảng Võ") from "Phường Giảng Võ"; (None, name) when there is no prefix."""
    words = name.split()
    folded = [_key(w) for w in words[:2]]
    for prefix, kind in _KINDS.items():
        n = len(prefix)
        if len(words) > n and tuple(folded[:n]) == prefix:
            return kind, " ".join(words[n:])
    return None, name


def _tidy(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class _Reading:
    """One way to read a query: the name part, and the type it named, if any."""

    key: str
    accent_key: str
    kinds: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()


def _readings(query: str) -> list[_Reading]:
    """The query as typed, and, if it starts with a type prefix, the name after it."""
    text = _tidy(unicodedata.normalize("NFC", query.translate(_APOSTROPHES)).replace(".", ". "))
    words = text.split()
    levels: frozenset[str] = frozenset()
    if len(words) > 1 and _key(words[-1]) in _ENGLISH_LEVELS:
        levels = frozenset(_ENGLISH_LEVELS[_key(words[-1])])
        words = words[:-1]
    readings = [_Reading(_key(" ".join(words)), _accent_key(" ".join(words)), levels=levels)]
    folded = [_key(w) for w in words]
    kind, rest = None, words
    for prefix, candidate in _KINDS.items():
        n = len(prefix)
        if len(words) > n and tuple(folded[:n]) == prefix:
            kind, rest = candidate, words[n:]
            break
    else:
        if len(words) > 1 and folded[0] in _ABBREVIATIONS:
            kind, rest = _ABBREVIATIONS[folded[0]], words[1:]
    if kind is not None:
        name = " ".join(rest)
        readings.append(_Reading(_key(name), _accent_key(name), frozenset({kind}), levels))
    return [r for r in readings if r.key]
