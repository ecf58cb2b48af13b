"""hOCR in and out: words with boxes and confidences."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as xml_escape

import numpy as np

from models.language.text import nfc
from pipeline.stages.pages.pagetext import Word
from pipeline.stages.tools.libtesseract import HOCR_HEAD
from pipeline.stages.tools.tesseract import tesseract_version

# --- hOCR ----------------------------------------------------------------------------------------

_BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_WCONF = re.compile(r"x_wconf (-?[0-9.]+)")


def parse_hocr(hocr: bytes) -> list[Word]:
    """Words of a Tesseract hOCR page in reading order; block = paragraph, line = line number."""
    root = ET.fromstring(hocr)
    words: list[Word] = []
    block = line = -1
    for el in root.iter():
        kind = el.get("class")
        if kind == "ocr_par":
            block += 1
        elif kind in ("ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"):
            line += 1
        elif kind == "ocrx_word":
            text = nfc("".join(el.itertext())).strip()
            box, conf = _BBOX.search(el.get("title", "")), _WCONF.search(el.get("title", ""))
            if text and box:
                x0, y0, x1, y1 = (int(v) for v in box.groups())
                c = float(conf.group(1)) if conf else 0.0
                words.append(Word(text, (x0, y0, x1, y1), c, max(block, 0), max(line, 0)))
    return words


def words_to_text(words: list[Word]) -> str:
    """Words joined by spaces, lines by newlines, paragraphs by a blank line."""
    out: list[str] = []
    last: tuple[int, int] | None = None
    for w in words:
        if last is None:
            out.append(w.text)
        elif (w.block, w.line) == last:
            out.append(" " + w.text)
        else:
            out.append(("\n\n" if w.block != last[0] else "\n") + w.text)
        last = (w.block, w.line)
    return nfc("".join(out))


def mean_conf(words: list[Word]) -> float:
    return round(float(np.mean([w.conf for w in words])), 2) if words else 0.0


def words_to_hocr(words: list[Word], width: int, height: int) -> bytes:
    """An hOCR page of `words`: a block (ocr_carea with one ocr_par) per block, a line per
    line, boxes and confidences as `parse_hocr` reads them back."""

    def bbox(ws: list[Word]) -> str:
        x0, y0 = min(w.box[0] for w in ws), min(w.box[1] for w in ws)
        x1, y1 = max(w.box[2] for w in ws), max(w.box[3] for w in ws)
        return f"bbox {x0} {y0} {x1} {y1}"

    blocks: dict[int, dict[int, list[Word]]] = {}
    for w in words:
        blocks.setdefault(w.block, {}).setdefault(w.line, []).append(w)
    out = [HOCR_HEAD.format(system=f"{tesseract_version()} (sohoa second pass)")]
    out.append(f"  <div class='ocr_page' id='page_1' title='bbox 0 0 {width} {height}'>")
    n = 0
    for b, lines in blocks.items():
        every = [w for ws in lines.values() for w in ws]
        out.append(f"   <div class='ocr_carea' id='block_1_{b + 1}' title='{bbox(every)}'>")
        out.append(f"    <p class='ocr_par' id='par_1_{b + 1}' title='{bbox(every)}'>")
        for li, ws in lines.items():
            out.append(f"     <span class='ocr_line' id='line_1_{li + 1}' title='{bbox(ws)}'>")
            for w in ws:
                n += 1
                title = f"{bbox([w])}; x_wconf {w.conf:g}"
                out.append(
                    f"      <span class='ocrx_word' id='word_1_{n}' title='{title}'>"
                    f"{xml_escape(w.text)}</span>"
                )
            out.append("     </span>")
        out.append("    </p>\n   </div>")
    out.append("  </div>\n </body>\n</html>\n")
    return "\n".join(out).encode("utf-8")
