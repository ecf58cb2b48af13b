"""Seals, stamps, signatures, logos and rules produce no words; what was skipped is recorded."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from bench.textmetrics import word_precision, word_recall
from pipeline.stages.ocr.junk import find_marks, suppress
from pipeline.stages.ocr.recognise import OcrParams, ocr_image
from pipeline.stages.pages.pagetext import PageText, Word
from tests.factories.degrade import add_marks, page_text, render_page

PARAMS = OcrParams(dpi=200)


def _page(words: list[Word]) -> PageText:
    text = " ".join(w.text for w in words)
    return PageText(0, text, words, 1000, 1000, 200, 80.0, "ocr", "tesseract 5.3.0", "vie")


def test_the_kinds_of_marks_are_told_apart_by_shape():
    grey = np.full((1000, 1000), 255, np.uint8)
    image = Image.fromarray(grey)
    d = ImageDraw.Draw(image)
    d.ellipse((600, 600, 800, 800), outline=0, width=6)  # a seal's ring
    d.ellipse((50, 50, 150, 150), fill=0)  # a logo
    d.rectangle((100, 700, 400, 790), outline=0, width=5)  # a stamp's frame
    d.line((50, 400, 950, 400), fill=0, width=3)  # a rule
    kinds = sorted(m.kind for m in find_marks(np.asarray(image), text_height=20))
    assert kinds == ["logo", "rule", "seal", "stamp"]


def test_words_on_a_seal_go_unless_a_printed_line_runs_through_it():
    grey = np.full((1000, 1000), 255, np.uint8)
    image = Image.fromarray(grey)
    ImageDraw.Draw(image).ellipse((600, 600, 800, 800), outline=0, width=6)
    words = [
        Word("Giám", (100, 700, 160, 720), 95.0, 0, 0),
        Word("đốc", (170, 700, 220, 720), 95.0, 0, 0),
        Word("Nguyễn", (620, 700, 700, 720), 93.0, 0, 0),  # the signer's line, under the seal
        Word("TTÿT", (650, 610, 720, 630), 41.0, 1, 1),  # the ring read as letters
        Word("=", (700, 780, 710, 790), 20.0, 1, 2),
    ]
    out = suppress(_page(words), np.asarray(image))
    assert [w.text for w in out.words] == ["Giám", "đốc", "Nguyễn"]
    assert [(r["kind"], r["words"]) for r in out.params["suppressed"]] == [("seal", 2)]


def test_a_generated_signed_page_loses_its_junk_and_keeps_its_words():
    image = add_marks(render_page(dpi=200, seed=2), seed=2)
    kept, _ = ocr_image(image, PARAMS)
    raw, _ = ocr_image(image, OcrParams(dpi=200, suppress_marks=False))
    truth = page_text(2)
    assert word_precision(kept.text, truth) >= word_precision(raw.text, truth)
    assert word_precision(kept.text, truth) >= 0.98
    assert word_recall(kept.text, truth) >= word_recall(raw.text, truth) - 0.005
    assert {r["kind"] for r in kept.params["suppressed"]} <= {
        "seal",
        "stamp",
        "signature",
        "logo",
        "rule",
        "symbols",
    }


def test_a_signers_line_a_seal_covers_whole_stays_when_it_reads_well():
    # "KT. CHỦ TỊCH" and the signer's name sit under the seal from end to end: no word of
    # their lines lies off the mark, but two or more of them read well.
    grey = np.full((1000, 1000), 255, np.uint8)
    image = Image.fromarray(grey)
    ImageDraw.Draw(image).ellipse((500, 500, 900, 900), outline=0, width=6)
    words = [
        Word("Trần", (560, 700, 640, 720), 95.0, 0, 0),
        Word("Văn", (650, 700, 710, 720), 94.0, 0, 0),
        Word("Nam", (720, 700, 790, 720), 93.0, 0, 0),
        Word("TTÿT", (650, 510, 720, 530), 41.0, 1, 1),  # the ring read as letters
        Word("NHÂN", (560, 800, 640, 820), 90.0, 2, 2),  # one ring word read well, alone
    ]
    out = suppress(_page(words), np.asarray(image))
    assert [w.text for w in out.words] == ["Trần", "Văn", "Nam"]


def test_a_stamps_own_lettering_goes_however_well_it_reads():
    grey = np.full((1000, 1000), 255, np.uint8)
    image = Image.fromarray(grey)
    ImageDraw.Draw(image).rectangle((100, 600, 500, 760), outline=0, width=5)  # thin: sparse
    words = [
        Word("ĐÃ", (150, 640, 250, 680), 95.0, 0, 0),
        Word("KÝ", (270, 640, 350, 680), 95.0, 0, 0),
    ]
    out = suppress(_page(words), np.asarray(image))
    assert out.words == []
    assert [(r["kind"], r["words"]) for r in out.params["suppressed"]] == [("stamp", 2)]
