"""`correct_page` decodes a page once (issue 15) and gives what decoding its text and its word
list apart gave: same text, same words, same count of changes. Real Tesseract output of
generated pages, and hand-made pages with glue, codes, old-style tones and odd spacing."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.stages.ocr.recognise import OcrParams, ocr_image
from pipeline.stages.pages.pagetext import PageText, Word
from pipeline.stages.vietnamese import correction
from pipeline.stages.vietnamese.correction import correct_page, correct_words
from pipeline.stages.vietnamese.model import load_model
from tests.factories.degrade import admin_page, degrade, render_page


def decoded_apart(page: PageText) -> tuple[str, list[str], int]:
    """What correct_page gave before issue 15: the text and the words each decoded alone."""
    text, changed = correction._correct(page.text, load_model())
    return text, correct_words([w.text for w in page.words]), changed


def assert_same_as_apart(page: PageText) -> None:
    text, words, changed = decoded_apart(page)
    out = correct_page(page)
    assert out.text == text
    assert [w.text for w in out.words] == words
    assert out.params["correction"]["changed"] == changed
    assert out.raw_text == (
        page.text if text != page.text or words != [w.text for w in page.words] else None
    )


def _page(text: str, words: list[str] | None = None) -> PageText:
    tokens = text.split() if words is None else words
    boxes = [Word(t, (10 * i, 0, 10 * i + 9, 10), 80.0, 0, i) for i, t in enumerate(tokens)]
    return PageText(0, text, boxes, 1000, 1400, 200, 80.0, "ocr", "tesseract 5.3.0", "vie")


@pytest.fixture(scope="module")
def read_pages() -> list[PageText]:
    images = [render_page(seed=2, dpi=200), degrade(render_page(seed=4, dpi=200), "noise", 4)]
    images.append(admin_page(seed=1, dpi=200)[0])
    return [ocr_image(image, OcrParams(), dpi=200)[0] for image in images]


def test_pages_read_by_tesseract_correct_as_their_text_and_words_did_apart(read_pages):
    assert sum(correct_page(p).params["correction"]["changed"] for p in read_pages) > 0
    for page in read_pages:
        assert_same_as_apart(page)
        assert correction._correct_once(page, load_model()) is not None  # decoded once


@pytest.mark.parametrize(
    "text",
    [
        "THONG TU\nQuy định về hồ sơ địa chính của Thành phô",
        "Quảng Ngãi, ngày15 tháng 01 năm2024\n\n  Ông TrầnVăn Nam  ",
        "Số: 15/QĐ-UBND  (a) b. e-mail: so@hanoi.gov.vn HÒA Thủy Nguy6n Văn",
        "QUYÉT ĐỊNH\tvề việc bồ sung\n\nĐiều 1. Giao cho Phòng Tài nguyên",
        "",
    ],
)
def test_hand_made_pages_correct_as_their_text_and_words_did_apart(text):
    assert_same_as_apart(_page(text))


def test_a_page_whose_text_is_not_its_words_is_still_corrected_both_ways():
    page = _page("THONG TU\nQuy định của Thành phô", ["THONG", "TU", "Thành", "phô"])
    assert_same_as_apart(page)
    assert [w.text for w in correct_page(page).words] == ["THÔNG", "TƯ", "Thành", "phố"]


def test_words_with_spaces_or_empty_words_are_corrected_both_ways():
    assert_same_as_apart(_page("THONG TU", ["THONG TU"]))
    assert_same_as_apart(dataclasses.replace(_page("THONG TU"), words=[]))


def test_the_remembered_bigram_scores_are_the_scores_worked_out(monkeypatch):
    model = dataclasses.replace(load_model(), _seen={})
    monkeypatch.setattr("pipeline.stages.vietnamese.model.LOGP_MEMO", 50)
    keys = ["<s>", "<num>", "<unk>", "quyết", "định", "của", "thành", "phố", "zzz"]
    for _ in range(2):
        for a in keys:
            for b in keys:
                assert model.logp(a, b) == model._logp(a, b)
    assert 0 < len(model._seen) <= 50
