"""Legacy 8-bit Vietnamese encodings (TCVN3/ABC and VNI) read as Latin-1/CP1252 text.

Older cadastral databases, shapefiles and Word files store Vietnamese in font encodings. Read
as Latin-1 or CP1252 they become mojibake: TCVN3 "NguyÔn V¨n A", VNI "Nguyeãn Vaên A".
`is_vietnamese_legacy` says which encoding a string is in (or None), `to_unicode` converts it,
`to_legacy` produces the mojibake from Unicode (for tests and fixtures).

Detection is conservative. A string is never converted when it is ASCII, when it contains a
character neither encoding can produce (any real Unicode Vietnamese with ă, đ, ơ, ư or most
toned letters), or when its non-ASCII words already are Vietnamese syllables ("Hà Tây",
"hoà"). Otherwise a conversion must change at least `min_units` legacy code units and turn
(nearly) every changed word into a Vietnamese syllable. One short value ("Th«n") carries
little evidence: to decide for a whole column, pass its values joined with newlines.

Where the tables come from (both are written out below from the encodings' documented
layouts, not copied from any implementation):

- TCVN3 = TCVN 5712:1993. The lower-case letters (VN3, the "ABC" fonts) sit in 0xA1-0xFE; the
  full VN1 repertoire adds the toned capitals in 0x80-0x9F, a few 0xA0-0xFF holes and twelve
  C0 control slots (never TAB, LF or CR), and 0xB0-0xB4 are combining tone marks. The table
  was checked byte for byte against glibc's iconv "TCVN5712-1" converter (the test suite
  repeats the check when iconv is installed). ABC fonts have no toned capitals, so TCVN3 data
  typed with them spells "Ấm" with the lower-case code and converts to "ấm".
- VNI (VNI-Windows fonts): an ASCII base letter, then one byte for the vowel quality and tone
  together (a + "ù" = á, a + "â" = â, a + "á" = ấ, a + "ê" = ă, a + "é" = ắ); "ô"/"ö" are
  ơ/ư, "ñ" is đ, and the i-vowels and ỵ are single bytes (í ì æ ó ò, î). Capitals use the
  upper-case Latin-1 bytes. Cross-checked against the layout in lamdao/xvnkb's vni.h (GPL;
  consulted, not copied).
"""

from __future__ import annotations

import re
import unicodedata

from models.language.text import is_vietnamese_syllable

__all__ = ["TCVN3", "VNI", "is_vietnamese_legacy", "to_legacy", "to_unicode"]

TCVN3 = "tcvn3"
VNI = "vni"

# --- TCVN3 (TCVN 5712:1993 VN1) ------------------------------------------------------------
# Byte -> Unicode for every byte that is not itself (ASCII and 0xA0 map to themselves).
_TCVN3_CONTROL = {
    0x01: "Ú", 0x02: "Ụ", 0x04: "Ừ", 0x05: "Ử", 0x06: "Ữ",
    0x11: "Ứ", 0x12: "Ự", 0x13: "Ỳ", 0x14: "Ỷ", 0x15: "Ỹ", 0x16: "Ý", 0x17: "Ỵ",
}  # fmt: skip
_TCVN3_HIGH = (
    # 0x80-0x9F: toned capitals (VN1 only).
    "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨ"
    "ÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ"
    # 0xA0-0xAF: NBSP, the seven base letters with quality marks, capital then small; Ằ.
    "\u00a0ĂÂÊÔƠƯĐăâêôơưđẰ"
    # 0xB0-0xBF: five combining tones, then à ả ã á ạ, Ẳ ằ ẳ ẵ ắ Ẵ.
    "\u0300\u0309\u0303\u0301\u0323àảãáạẲằẳẵắẴ"
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"  # 0xC0-0xCF
    "éẹềểễếệìỉỄẾỒĩíịò"  # 0xD0-0xDF
    "Ổỏõóọồổỗốộờởỡớợù"  # 0xE0-0xEF
    "ỖủũúụừửữứựỳỷỹýỵỐ"  # 0xF0-0xFF
)
assert len(_TCVN3_HIGH) == 128
_TCVN3_DECODE: dict[int, str] = {**_TCVN3_CONTROL}
_TCVN3_DECODE.update({0x80 + i: ch for i, ch in enumerate(_TCVN3_HIGH)})
# Unicode (NFC letter or combining tone) -> byte.
_TCVN3_ENCODE = {ch: b for b, ch in _TCVN3_DECODE.items()}


def _cp1252_byte(ch: str) -> int | None:
    """The byte a CP1252 decoder turned into `ch` (U+0080-U+00FF: Latin-1 identity)."""
    o = ord(ch)
    if 0x80 <= o <= 0xFF:
        return o
    try:
        return ch.encode("cp1252")[0] if o > 0xFF else None
    except UnicodeEncodeError:
        return None


def _tcvn3_decode_char(ch: str) -> str:
    o = ord(ch)
    if o < 0x20:
        return _TCVN3_CONTROL.get(o, ch)
    if o < 0x80:
        return ch
    b = _cp1252_byte(ch)
    if b is None:
        return ch
    return _TCVN3_DECODE.get(b, chr(b))


# --- VNI ------------------------------------------------------------------------------------
# Order of tones in the rows below: none, sắc, huyền, hỏi, ngã, nặng.
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
_VNI_ROWS = {
    # Unicode base letter: its six VNI spellings (lower case; capitals use upper-case bytes).
    "a": ("a", "aù", "aø", "aû", "aõ", "aï"),
    "â": ("aâ", "aá", "aà", "aå", "aã", "aä"),
    "ă": ("aê", "aé", "aè", "aú", "aü", "aë"),
    "e": ("e", "eù", "eø", "eû", "eõ", "eï"),
    "ê": ("eâ", "eá", "eà", "eå", "eã", "eä"),
    "i": ("i", "í", "ì", "æ", "ó", "ò"),
    "o": ("o", "où", "oø", "oû", "oõ", "oï"),
    "ô": ("oâ", "oá", "oà", "oå", "oã", "oä"),
    "ơ": ("ô", "ôù", "ôø", "ôû", "ôõ", "ôï"),
    "u": ("u", "uù", "uø", "uû", "uõ", "uï"),
    "ư": ("ö", "öù", "öø", "öû", "öõ", "öï"),
    "y": ("y", "yù", "yø", "yû", "yõ", "î"),
}
_VNI_ENCODE: dict[str, str] = {"đ": "ñ", "Đ": "Ñ"}
for _base, _row in _VNI_ROWS.items():
    for _tone, _code in zip(_TONES, _row, strict=True):
        _letter = unicodedata.normalize("NFC", _base + _tone)
        _VNI_ENCODE[_letter] = _code
        _VNI_ENCODE[_letter.upper()] = _code.upper()
_VNI_DECODE: dict[str, str] = {
    code: letter for letter, code in _VNI_ENCODE.items() if code != letter
}
# Lenient: a capital base followed by a lower-case mark byte (or the reverse) is the capital
# (or small) letter, as text whose case was changed after encoding spells it.
for _code, _letter in list(_VNI_DECODE.items()):
    if len(_code) == 2:
        _VNI_DECODE.setdefault(_code[0] + _code[1].swapcase(), _letter)
del _base, _row, _tone, _code, _letter
_VNI_PAIR_FIRST = frozenset(code[0] for code in _VNI_DECODE if len(code) == 2)


def _vni_decode_chunk(chunk: str) -> tuple[str, int]:
    """VNI mojibake -> (Unicode, number of legacy sequences converted)."""
    out: list[str] = []
    units = 0
    i = 0
    while i < len(chunk):
        if chunk[i] in _VNI_PAIR_FIRST and chunk[i : i + 2] in _VNI_DECODE:
            out.append(_VNI_DECODE[chunk[i : i + 2]])
            units += 1
            i += 2
            continue
        ch = chunk[i]
        if ch in _VNI_DECODE:
            out.append(_VNI_DECODE[ch])
            units += 1
        else:
            out.append(ch)
        i += 1
    return "".join(out), units


def _tcvn3_decode_chunk(chunk: str) -> tuple[str, int]:
    out = [_tcvn3_decode_char(c) for c in chunk]
    units = sum(1 for a, b in zip(chunk, out, strict=True) if a != b)
    return unicodedata.normalize("NFC", "".join(out)), units


_DECODERS = {TCVN3: _tcvn3_decode_chunk, VNI: _vni_decode_chunk}

# Legacy code units are never ASCII punctuation or white space, so words split there. U+0085
# (NEL) counts as white space in Python but is TCVN3 0x85 (Ặ) read as Latin-1.
_SEPARATORS = re.compile(r"((?:[^\S\x85]|[!-/:-@\[-`{-~])+)")
_VIETNAMESE_LETTERS = frozenset(
    "àáâãèéêìíòóôõùúýăđĩũơư" + "".join(chr(c) for c in range(0x1EA0, 0x1EFA))
)


def _chunks(s: str) -> list[str]:
    return _SEPARATORS.split(s)


def _possible_legacy_char(ch: str) -> bool:
    o = ord(ch)
    if o < 0x80:
        return True
    return _cp1252_byte(ch) is not None


def _already_vietnamese(words: list[str]) -> bool:
    """Every non-ASCII word is a Unicode Vietnamese syllable: the text is not mojibake."""
    return all(
        is_vietnamese_syllable(w)
        and all(c.lower() in _VIETNAMESE_LETTERS or c.isascii() for c in w)
        for w in words
    )


def _convert(s: str, encoding: str) -> tuple[str, int, int, int]:
    """-> (converted text, code units changed, changed words that are Vietnamese syllables,
    changed words that are neither syllables nor short codes)."""
    decode = _DECODERS[encoding]
    parts: list[str] = []
    units = valid = invalid = 0
    for i, chunk in enumerate(_chunks(s)):
        if i % 2 or not chunk:  # a separator
            parts.append(chunk)
            continue
        text, n = decode(chunk)
        parts.append(text)
        if n:
            units += n
            if is_vietnamese_syllable(text):
                valid += 1
            elif not _short_code(text):
                invalid += 1
    return unicodedata.normalize("NFC", "".join(parts)), units, valid, invalid


def _short_code(word: str) -> bool:
    """A letter-digit code such as the land class "NĐ": neither evidence for nor against."""
    return word.isalnum() and word.upper() == word and len(word) <= 4


def is_vietnamese_legacy(s: str, *, min_units: int = 2) -> str | None:
    """ "tcvn3" or "vni" if `s` is Vietnamese in that legacy encoding read as Latin-1/CP1252.

    None for ASCII, for real Unicode Vietnamese and for anything the evidence does not settle.
    """
    if s.isascii() or not all(_possible_legacy_char(c) for c in s):
        return None
    words = [w for i, w in enumerate(_chunks(s)) if not i % 2 and w and not w.isascii()]
    if _already_vietnamese(words):
        return None
    best: tuple[int, str] | None = None
    for encoding in (TCVN3, VNI):
        _, units, valid, invalid = _convert(s, encoding)
        if units < min_units or not valid or invalid > valid // 10:
            continue
        score = valid - invalid
        if best is None or score > best[0]:
            best = (score, encoding)
        elif score == best[0]:
            return None  # both encodings read it equally well: do not guess
    return best[1] if best else None


def to_unicode(s: str, encoding: str | None = None) -> str:
    """Convert legacy mojibake to NFC Unicode.

    With `encoding` None, detect it; text that is not detected as legacy comes back unchanged.
    With an explicit "tcvn3" or "vni", convert regardless (for a column already identified).
    """
    if encoding is None:
        encoding = is_vietnamese_legacy(s)
        if encoding is None:
            return s
    if encoding not in _DECODERS:
        raise ValueError(f"unknown legacy encoding {encoding!r}; expected 'tcvn3' or 'vni'")
    return _convert(s, encoding)[0]


def to_legacy(s: str, encoding: str, *, cp1252: bool = False) -> str:
    """Encode Unicode Vietnamese as legacy mojibake (the inverse of `to_unicode`).

    TCVN3 bytes 0x80-0x9F come out as C1 controls (Latin-1 reading) or, with `cp1252`, as the
    characters a CP1252 reader shows (€, ‚, ƒ ...; its five undefined bytes stay C1).
    Characters the encoding cannot represent raise ValueError.
    """
    text = unicodedata.normalize("NFC", s)
    out: list[str] = []
    if encoding == TCVN3:
        for ch in text:
            b = _TCVN3_ENCODE.get(ch)
            if b is None:
                if ch.isascii() or ch == "\u00a0":
                    out.append(ch)
                    continue
                raise ValueError(f"{ch!r} has no TCVN3 code")
            if cp1252 and 0x80 <= b <= 0x9F:
                try:
                    out.append(bytes([b]).decode("cp1252"))
                    continue
                except UnicodeDecodeError:
                    pass
            out.append(chr(b))
    elif encoding == VNI:
        for ch in text:
            code = _VNI_ENCODE.get(ch)
            if code is None:
                if ch.isascii():
                    out.append(ch)
                    continue
                raise ValueError(f"{ch!r} has no VNI code")
            out.append(code)
    else:
        raise ValueError(f"unknown legacy encoding {encoding!r}; expected 'tcvn3' or 'vni'")
    return "".join(out)
