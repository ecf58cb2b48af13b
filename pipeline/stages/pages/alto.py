"""ALTO v4 XML of one page's text: blocks, lines and words with their boxes and confidences.

A pure conversion of a `PageText` (the words OCR or a text layer gave, or the public copy of
them with personal data masked), written beside hOCR so that library tools that read ALTO
(viewers' text overlays, newspaper platforms, METS packages) can use our pages. Coordinates are
pixels of the page image the word boxes refer to (`MeasurementUnit` pixel; the `Page` element
gives that image's size), as hOCR has them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from pipeline.stages.pages.pagetext import Box, PageText, Word

NS = "http://www.loc.gov/standards/alto/ns-v4#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"


def page_alto(text: PageText, image: str = "", page_number: int | None = None) -> bytes:
    """The ALTO document (UTF-8 bytes) of `text`; `image` names the page image it describes,
    `page_number` is its 1-based physical number (the PageText's index + 1 by default)."""
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    n = text.page + 1 if page_number is None else page_number
    root = ET.Element(_q("alto"), {f"{{{XSI}}}schemaLocation": f"{NS} {SCHEMA}"})
    _description(root, text, image)
    layout = ET.SubElement(root, _q("Layout"))
    page = ET.SubElement(
        layout,
        _q("Page"),
        {
            "ID": f"p{n}",
            "PHYSICAL_IMG_NR": str(n),
            "WIDTH": str(text.width),
            "HEIGHT": str(text.height),
        },
    )
    space = ET.SubElement(page, _q("PrintSpace"), _position((0, 0, text.width, text.height)))
    blocks: dict[int, list[list[Word]]] = {}
    for line in text.lines():
        blocks.setdefault(line[0].block, []).append(line)
    word_n = 0
    for b, lines in enumerate(blocks.values(), start=1):
        every = [w for line in lines for w in line]
        block = ET.SubElement(
            space, _q("TextBlock"), {"ID": f"p{n}_b{b}", **_position(_union(every))}
        )
        for li, line in enumerate(lines, start=1):
            attrs = {"ID": f"p{n}_b{b}_l{li}", **_position(_union(line))}
            element = ET.SubElement(block, _q("TextLine"), attrs)
            for i, word in enumerate(line):
                if i:
                    ET.SubElement(element, _q("SP"))
                word_n += 1
                ET.SubElement(element, _q("String"), _string(word, f"p{n}_w{word_n}"))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _description(root: ET.Element, text: PageText, image: str) -> None:
    description = ET.SubElement(root, _q("Description"))
    ET.SubElement(description, _q("MeasurementUnit")).text = "pixel"
    if image:
        info = ET.SubElement(description, _q("sourceImageInformation"))
        ET.SubElement(info, _q("fileName")).text = image
    processing = ET.SubElement(description, _q("Processing"), {"ID": "proc1"})
    software = ET.SubElement(processing, _q("processingSoftware"))
    name, _, version = (text.engine or "unknown").partition(" ")
    ET.SubElement(software, _q("softwareName")).text = name
    if version:
        ET.SubElement(software, _q("softwareVersion")).text = version


def _string(word: Word, ident: str) -> dict[str, str]:
    return {
        "ID": ident,
        "CONTENT": word.text,
        **_position(word.box),
        "WC": f"{max(0.0, min(100.0, word.conf)) / 100:.2f}",
    }


def _position(box: Sequence[int]) -> dict[str, str]:
    left, top, right, bottom = (int(v) for v in box)
    return {
        "HPOS": str(left),
        "VPOS": str(top),
        "WIDTH": str(max(0, right - left)),
        "HEIGHT": str(max(0, bottom - top)),
    }


def _union(words: Sequence[Word]) -> Box:
    return (
        min(w.box[0] for w in words),
        min(w.box[1] for w in words),
        max(w.box[2] for w in words),
        max(w.box[3] for w in words),
    )


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"
