"""ALTO v4 of a page read by real Tesseract: the same words and boxes as its hOCR, in the
structure the ALTO 4.2 schema requires (checked element by element: the XSD itself is not in a
package registry we can reach)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeline.stages.ocr.hocr import parse_hocr
from pipeline.stages.ocr.recognise import OcrParams, recognise
from pipeline.stages.pages.alto import NS, page_alto
from pipeline.stages.pages.pagetext import PageText, Word
from tests.factories.degrade import render_page

A = f"{{{NS}}}"
POSITION = ("HPOS", "VPOS", "WIDTH", "HEIGHT")


def test_alto_of_a_real_page_has_its_words_boxes_and_lines():
    image = render_page(dpi=150, size="A5", seed=3)
    page = recognise(image, OcrParams(dpi=150), page=2)
    root = ET.fromstring(page_alto(page, "page-3.jpg"))

    assert root.tag == f"{A}alto"
    assert "alto-4-2.xsd" in root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    assert [c.tag for c in root] == [f"{A}Description", f"{A}Layout"]
    description = root.find(f"{A}Description")
    assert [c.tag.removeprefix(A) for c in description] == [
        "MeasurementUnit",
        "sourceImageInformation",
        "Processing",
    ]
    assert description.findtext(f"{A}MeasurementUnit") == "pixel"
    assert description.findtext(f".//{A}softwareName") == "tesseract"
    [alto_page] = root.iter(f"{A}Page")
    assert alto_page.get("PHYSICAL_IMG_NR") == "3" and alto_page.get("ID")
    assert (int(alto_page.get("WIDTH")), int(alto_page.get("HEIGHT"))) == image.size

    strings = list(root.iter(f"{A}String"))
    hocr_words = parse_hocr(page.hocr)
    assert [s.get("CONTENT") for s in strings] == [w.text for w in page.words]
    assert {s.get("CONTENT") for s in strings} >= {w.text for w in hocr_words if w.text.isalpha()}
    for s, w in zip(strings, page.words, strict=True):
        left, top, right, bottom = w.box
        assert [int(s.get(k)) for k in POSITION] == [left, top, right - left, bottom - top]
        assert 0.0 <= float(s.get("WC")) <= 1.0
    lines = list(root.iter(f"{A}TextLine"))
    assert len(lines) == len(page.lines())
    for line in lines:  # words separated by SP, each line's box holding its words
        kinds = [c.tag.removeprefix(A) for c in line]
        assert kinds[::2] == ["String"] * len(kinds[::2]) and set(kinds[1::2]) <= {"SP"}
        x, y, w, h = (int(line.get(k)) for k in POSITION)
        for s in line.iter(f"{A}String"):
            sx, sy, sw, sh = (int(s.get(k)) for k in POSITION)
            assert x <= sx and sx + sw <= x + w and y <= sy and sy + sh <= y + h
    ids = [e.get("ID") for e in root.iter() if e.get("ID")]
    assert len(ids) == len(set(ids))  # xsd:ID values are unique in a document


def test_markup_in_a_word_stays_text():
    words = [Word('<b>&"', (10, 10, 60, 30), 88.0), Word("Đình", (70, 10, 120, 30), 95.5)]
    page = PageText(0, '<b>&" Đình', words, 200, 100, 300, 91.0, "ocr", "tesseract 5.3.0", "vie")
    root = ET.fromstring(page_alto(page))
    assert [s.get("CONTENT") for s in root.iter(f"{A}String")] == ['<b>&"', "Đình"]
    assert root.findtext(f".//{A}softwareVersion") == "5.3.0"
    assert root.find(f"{A}Description/{A}sourceImageInformation") is None
