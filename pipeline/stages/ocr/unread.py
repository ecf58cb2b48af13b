"""Text-like ink a page reading left out: regions Tesseract's page segmentation dropped.

`pipeline.stages.ocr.secondpass.read_unread` reads them again as one block (psm 6).
"""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[int, int, int, int]
UNREAD_TEXT_PX = 16
MAX_REGION_SHARE = 0.2
"""An unread region larger than this share of the page is a picture, not missed text."""


def unread_regions(grey: np.ndarray, read: list[Box], text_height: int) -> list[Box]:
    """Boxes (x0, y0, x1, y1) of text-like ink that no box in `read` covers, largest first.

    Tesseract's page segmentation drops blocks it takes for pictures: a signature block under
    a seal, a line crossed by a stamp. The ink left once the words read (padded by a third of
    the text height) are whitened is cleared of specks, smeared into word-sized blobs and
    kept where a blob is at least one text line high and two wide. The search runs on a copy
    reduced to about UNREAD_TEXT_PX of text height (boxes are given back at full size).
    """
    if text_height < 4:
        return []
    factor = max(1.0, text_height / UNREAD_TEXT_PX)
    if factor > 1.25:
        h, w = grey.shape
        size = (max(1, round(w / factor)), max(1, round(h / factor)))
        small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        boxes = [tuple(round(v / factor) for v in box) for box in read]
        found = _unread_regions(small, boxes, round(text_height / factor))  # type: ignore[arg-type]
        return [tuple(round(v * factor) for v in box) for box in found]  # type: ignore[misc]
    return _unread_regions(grey, read, text_height)


def _unread_regions(grey: np.ndarray, read: list[Box], text_height: int) -> list[Box]:
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    pad = text_height // 3
    for x0, y0, x1, y1 in read:
        ink[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad] = 0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    specks = (stats[:, cv2.CC_STAT_HEIGHT] < 0.3 * text_height) | (
        stats[:, cv2.CC_STAT_AREA] < text_height
    )
    specks[0] = True
    ink[specks[labels]] = 0
    if not ink.any():
        return []
    kernel = cv2.getStructuringElement(
        cv2.MORPH_RECT, ((2 * text_height) | 1, max(3, text_height // 2) | 1)
    )
    _, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(ink, kernel), connectivity=8)
    limit = MAX_REGION_SHARE * grey.shape[0] * grey.shape[1]
    found = []
    for x, y, w, h, _area in stats[1:]:
        if h >= text_height and w >= 2 * text_height and w * h <= limit:
            found.append((int(x), int(y), int(x + w), int(y + h)))
    return sorted(found, key=lambda b: (b[0] - b[2]) * (b[3] - b[1]))
