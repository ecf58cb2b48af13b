"""A PDF page's own text layer (born-digital PDFs, or a scanner's OCR) and whether to trust it.

`text_layer` reads words and positions with pdfplumber; `layer_verdict` decides whether the
layer is good enough to keep instead of OCR. Scanner software often adds a poor invisible
layer: the real Hà Nội certificate in the sample data carries "GIAY CHUNG NHAN … Nguy6n Anh
Quin", Vietnamese without its diacritics and with digits for letters. Such a layer is
rejected with a reason, and the page is OCRed. So is a page whose layer cannot be extracted at
all (`TextLayerError`: a broken or looping cross-reference chain, a malformed content
stream) when the page itself can still be drawn.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zlib
from pathlib import Path

from models.language.text import fold, nfc
from pipeline.errors import InputRejectedError
from pipeline.stages.pages.pagetext import PageText, Word

MIN_WORDS = 5
MAX_UNKNOWN_GLYPHS = 0.05
MAX_DIGIT_LETTER_WORDS = 0.03
VIETNAMESE_SHARE = 0.12
"""Text is taken for Vietnamese when this share of its words are common Vietnamese syllables."""
MIN_MARKED_SHARE = 0.25
"""Vietnamese prose has marks (tones, breves, circumflexes, horns, đ) on about 60–80 % of its
syllables; a layer below this share has lost them."""

# Frequent syllables of administrative Vietnamese, folded (no marks): how Vietnamese text
# without its diacritics still shows itself.
_COMMON = frozenset(
    """va cua nguoi dat so nha o thanh pho ngay thang nam quyen su dung chung nhan cong hoa
    xa hoi chu nghia viet doc lap tu do hanh phuc theo cac cho duoc trong khong co la tai ve
    nhung nay mot voi da dieu luat ban dan uy quan phuong huyen tinh thua to dien tich muc
    dich thoi han huu gan lien san khac giay sinh dia chi cap tren ho gia dinh cu kinh te
    quyet dinh can nghi van phong bo truong chinh phu""".split()  # noqa: SIM905
)
_TOKEN = re.compile(r"[^\W_]+")
_DIGIT_IN_WORD = re.compile(r"[^\W\d_]*\d+[^\W\d_]+")
_CID = re.compile(r"\(cid:\d+\)")


class TextLayerError(InputRejectedError):
    """A PDF page's text layer cannot be extracted; the page may still be drawn and OCRed."""


_EXTRACTION_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    RecursionError,  # a /Prev loop in the cross-reference chain, deeply nested objects
    OSError,
    struct.error,
    zlib.error,
)


def text_layer(path: Path, index: int, *, dpi: int = 300) -> PageText | None:
    """The text layer of PDF page `index` as a PageText (boxes in pixels at `dpi`), or None
    when the page has no text at all (an image-only scan).

    Raises InputRejectedError for an encrypted PDF or a page past the end, and TextLayerError
    when pdfminer fails on the file (the caller can OCR the rendered page instead).
    """
    if not _has_text_objects(path, index):
        return None
    import pdfplumber
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import PdfminerException

    scale = dpi / 72
    try:
        with pdfplumber.open(path) as pdf:
            if index >= len(pdf.pages):
                raise InputRejectedError(f"PDF has {len(pdf.pages)} pages, no page {index + 1}")
            page = pdf.pages[index]
            raw = page.extract_words(keep_blank_chars=False, use_text_flow=False)
            width, height = round(float(page.width) * scale), round(float(page.height) * scale)
    except (PdfminerException, PSException, *_EXTRACTION_ERRORS) as e:
        if "Password" in repr(e) or "Encrypt" in repr(e):
            raise InputRejectedError("encrypted PDF (password protected)") from e
        cause = e.__cause__ or (e.args[0] if isinstance(e, PdfminerException) and e.args else e)
        raise TextLayerError(
            f"PDF page {index + 1}'s text layer cannot be extracted: {_describe(cause)}"
        ) from e
    if not raw:
        return None
    words = _words(raw, scale)
    return PageText(
        page=index,
        text=_text(words),
        words=words,
        width=width,
        height=height,
        dpi=dpi,
        mean_conf=100.0,
        source="text_layer",
        engine=f"pdfplumber {pdfplumber.__version__}",
        lang="",
        params={"dpi": dpi},
    )


def _has_text_objects(path: Path, index: int) -> bool:
    """Whether PDFium finds a text object on the page, in its form XObjects too. An image-only
    scan has none, and then pdfminer, which parses the file again in Python (11 ms a page of
    a 16-page scan, more for a longer file), is not needed to say that it has no text. True
    when PDFium cannot tell: pdfminer decides."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    from pipeline.media.pdf import open_pdf

    with open_pdf(path) as pdf:  # an encrypted or unreadable file is rejected here
        if index >= len(pdf):
            return True
        try:
            page = pdf[index]
        except pdfium.PdfiumError:
            return True
        try:
            texts = page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_TEXT,))
            return next(texts, None) is not None
        except pdfium.PdfiumError:
            return True
        finally:
            page.close()


def _describe(error: object) -> str:
    if isinstance(error, RecursionError):
        return "its object references loop (recursion limit reached)"
    text = str(error).strip() if isinstance(error, BaseException) else str(error)
    name = type(error).__name__ if isinstance(error, BaseException) else "error"
    return f"{name}: {text[:200]}" if text else name


def _words(raw: list[dict], scale: float) -> list[Word]:
    """pdfplumber words (points, top-left origin) → Words in pixels, grouped into lines."""
    ordered = sorted(raw, key=lambda w: (float(w["top"]), float(w["x0"])))
    lines: list[list[dict]] = []
    for w in ordered:
        line = lines[-1] if lines else None
        if line and abs(float(w["top"]) - float(line[0]["top"])) <= 0.5 * _height(line[0]):
            line.append(w)
        else:
            lines.append([w])
    out: list[Word] = []
    for number, line in enumerate(lines):
        for w in sorted(line, key=lambda w: float(w["x0"])):
            box = tuple(round(float(w[k]) * scale) for k in ("x0", "top", "x1", "bottom"))
            out.append(Word(nfc(w["text"]), box, 100.0, 0, number))  # type: ignore[arg-type]
    return out


def _height(w: dict) -> float:
    return max(1.0, float(w["bottom"]) - float(w["top"]))


def _text(words: list[Word]) -> str:
    lines: dict[int, list[str]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w.text)
    return "\n".join(" ".join(ws) for ws in lines.values())


def layer_verdict(page_text: PageText) -> tuple[bool, str]:
    """(accept?, reason): keep a text layer only when it reads like real text.

    Rejected: too few words; mostly unknown glyphs (no Unicode mapping, private-use or
    replacement characters); digits inside words ("Nguy6n", "d6t"); Vietnamese text without
    its diacritics ("GIAY CHUNG NHAN").
    """
    text = page_text.text
    if len(page_text.words) < MIN_WORDS:
        return False, f"too few words ({len(page_text.words)}, fewer than {MIN_WORDS})"
    unknown = _unknown_glyph_share(text)
    if unknown > MAX_UNKNOWN_GLYPHS:
        return False, f"mostly unknown glyphs ({unknown:.0%} of characters have no mapping)"
    tokens = [t for t in _TOKEN.findall(_CID.sub(" ", text)) if not t.isdigit()]
    if not tokens:
        return False, "no words, only numbers and symbols"
    mixed = [t for t in tokens if _DIGIT_IN_WORD.fullmatch(t) and not t.isupper()]
    if len(mixed) / len(tokens) > MAX_DIGIT_LETTER_WORDS:
        # No examples in the reason: a land record's words may be a person's name.
        return False, f"digits inside words ({len(mixed)} of {len(tokens)} words)"
    vietnamese = sum(fold(t).lower() in _COMMON for t in tokens) / len(tokens)
    marked = sum(_has_mark(t) for t in tokens) / len(tokens)
    if vietnamese >= VIETNAMESE_SHARE and marked < MIN_MARKED_SHARE:
        return False, (
            f"Vietnamese text without diacritics (only {marked:.0%} of words carry a mark; "
            f"{vietnamese:.0%} are common Vietnamese syllables)"
        )
    return True, f"good text layer ({len(page_text.words)} words, {marked:.0%} with marks)"


def _unknown_glyph_share(text: str) -> float:
    cids = len(_CID.findall(text))
    chars = [c for c in _CID.sub("", text) if not c.isspace()]
    bad = sum(1 for c in chars if c == "\ufffd" or unicodedata.category(c) in ("Co", "Cc", "Cn"))
    total = len(chars) + cids
    return (bad + cids) / total if total else 1.0


def _has_mark(token: str) -> bool:
    return any(ord(c) > 127 and c.isalpha() for c in token)
