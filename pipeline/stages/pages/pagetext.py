"""The text of one page, as OCR or a PDF text layer gives it: the common currency of the
text stages (OCR, text-layer check, Vietnamese correction, certificate fields).

Boxes are pixel coordinates (x0, y0, x1, y1) on the page image at `PageText.dpi`, origin top
left, so a field's box can be drawn on the page image the portal shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Word:
    text: str
    box: Box
    conf: float
    """0–100, as Tesseract reports it; 100 for a trusted text layer."""
    block: int = 0
    line: int = 0
    """Line number within the page (reading order); words of one line share it."""


@dataclass
class PageText:
    page: int
    """0-based page index within the capture."""
    text: str
    """Reading-order text, lines separated by newlines, NFC."""
    words: list[Word]
    width: int
    height: int
    dpi: int
    mean_conf: float
    source: str
    """"ocr" or "text_layer"."""
    engine: str
    """e.g. "tesseract 5.3.0" or "pdfplumber 0.11.10"."""
    lang: str
    params: dict[str, Any] = field(default_factory=dict)
    """Preprocessing and engine parameters that produced this text (rotation, skew, psm…)."""
    hocr: bytes = b""
    raw_text: str | None = None
    """The text before Vietnamese correction, when correction changed it."""

    def lines(self) -> list[list[Word]]:
        """Words grouped by (block, line) in reading order."""
        grouped: dict[tuple[int, int], list[Word]] = {}
        for w in self.words:
            grouped.setdefault((w.block, w.line), []).append(w)
        return list(grouped.values())

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("hocr")
        d["words"] = [[w.text, list(w.box), round(w.conf, 1), w.block, w.line] for w in self.words]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any], hocr: bytes = b"") -> PageText:
        words = [Word(t, tuple(b), c, bl, ln) for t, b, c, bl, ln in d["words"]]
        fields = {k: v for k, v in d.items() if k != "words"}
        return cls(**fields, words=words, hocr=hocr)
