"""OCR with real Tesseract: words, boxes, hOCR, text layers, orientation, and bad pages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PIL import Image

from bench.textmetrics import cer, word_recall
from pipeline.errors import InputRejectedError
from pipeline.stages.ocr.hocr import parse_hocr, words_to_hocr
from pipeline.stages.ocr.recognise import (
    LANGUAGES,
    OcrParams,
    ocr_image,
    read_page,
    read_page_image,
    recognise,
)
from pipeline.stages.ocr.secondpass import read_unread
from pipeline.stages.pages.pagetext import Word
from pipeline.stages.tools.tesseract import OcrTimeoutError
from tests.factories.degrade import (
    DEV_PDF,
    degrade,
    page_text,
    pdf_page_text,
    render_page,
    render_pdf_page,
    write_text_pdf,
)
from tests.factories.samples import LIMITS, make_encrypted_pdf

PARAMS = OcrParams(dpi=200)


def test_recognise_gives_words_boxes_confidences_and_hocr_in_one_pass():
    image = render_page(dpi=200, size="A5", seed=5)
    page = recognise(image, PARAMS, page=4)
    assert page.page == 4 and page.source == "ocr"
    assert page.engine.startswith("tesseract 5.")
    assert page.lang == "vie" and page.params["psm"] == 3
    assert "CỘNG HÒA XÃ HỘI" in page.text and "Độc lập - Tự do - Hạnh phúc" in page.text
    assert cer(page.text, page_text(5)) < 0.03
    assert page.mean_conf > 85
    assert b"ocrx_word" in page.hocr and "Hạnh".encode() in page.hocr
    for w in page.words:
        assert 0 <= w.box[0] < w.box[2] <= image.width and 0 <= w.box[1] < w.box[3] <= image.height
    cong = next(w for w in page.words if w.text == "CỘNG")
    hanh = next(w for w in page.words if w.text == "Hạnh")
    assert cong.line < hanh.line and cong.box[3] <= hanh.box[1]  # the header's lines in order


def test_a_real_government_page_is_read_well(shared_data: Path, tmp_path: Path):
    pdf = shared_data / "ocr-vie/born_digital" / DEV_PDF  # development data, never gov_docs
    png = tmp_path / "page.png"
    render_pdf_page(pdf, 0, dpi=200).save(png)
    page = read_page(png, "image/png", 0, OcrParams(), LIMITS)
    truth = pdf_page_text(pdf, 0)
    assert word_recall(page.text, truth) >= 0.9
    assert cer(page.text, truth) <= 0.15
    assert page.params["loaded"] == "raster" and page.params["preprocess"]["rotation"] == 0


def test_an_upside_down_page_is_turned_and_read():
    image = degrade(render_page(dpi=200, size="A5", seed=6), "rotate180")
    page, upright = ocr_image(image, PARAMS)
    assert page.params["preprocess"]["rotation"] == 180
    assert cer(page.text, page_text(6)) < 0.05
    assert upright.size == image.size


def test_a_blank_page_is_not_an_error():
    page, _ = ocr_image(Image.new("L", (1240, 1754), 248), PARAMS)
    assert page.text == "" and page.words == [] and page.params["blank"] is True


def test_the_bad_certificate_text_layer_is_replaced_by_ocr(shared_data: Path):
    demo = shared_data / "land/certificates/vpbank-smartscan_DEMO1.pdf"
    page = read_page(demo, "application/pdf", 0, OcrParams(), LIMITS)
    assert page.source == "ocr"
    assert page.params["text_layer"]["accepted"] is False
    assert "CHỨNG NHẬN" in page.text and "QUYỀN SỬ DỤNG" in page.text


def test_a_good_text_layer_is_kept_with_the_page_image(tmp_path: Path):
    text = page_text(8)
    pdf = write_text_pdf(tmp_path / "born-digital.pdf", text)
    page, image = read_page_image(pdf, "application/pdf", 0, PARAMS, LIMITS)
    assert page.source == "text_layer" and page.params["text_layer"]["accepted"] is True
    assert cer(page.text, text) == 0.0
    assert image.size == (page.width, page.height)


def test_a_photo_that_is_not_a_document_is_rejected(shared_data: Path):
    photo = shared_data / "photogrammetry/sceaux_castle/100_7100.JPG"
    with pytest.raises(InputRejectedError, match="does not look like a document"):
        read_page(photo, "image/jpeg", 0, OcrParams(), LIMITS)


def test_a_page_over_the_time_limit_fails_naming_page_and_limit():
    image = render_page(dpi=200, size="A5", seed=1)
    with pytest.raises(OcrTimeoutError, match=r"page 3: .* within 0\.05 s"):
        recognise(image, OcrParams(timeout_s=0.05), page=2)


def test_bad_requests_are_rejected_with_reasons(tmp_path: Path):
    with pytest.raises(InputRejectedError, match="too small"):
        recognise(Image.new("L", (1, 1), 0), PARAMS)
    with pytest.raises(InputRejectedError, match=r"'klingon'.*vie, vie\+eng, vie\+fra, chi_tra"):
        OcrParams(lang="klingon")
    with pytest.raises(InputRejectedError, match="encrypted"):
        read_page(make_encrypted_pdf(tmp_path / "locked.pdf"), "application/pdf", 0, PARAMS, LIMITS)
    assert set(LANGUAGES) == {"vie", "vie+eng", "vie+fra", "chi_tra"}


def test_parameters_are_recorded_and_serialisable():
    params = OcrParams(lang="vie+fra", psm=6)
    as_json = params.to_json()
    assert as_json["lang"] == "vie+fra" and as_json["preprocess"]["deskew"] is True


def test_a_block_the_page_reading_left_out_is_read_in_a_second_pass():
    image = render_page(dpi=200, size="A5", seed=5)
    first = recognise(image, PARAMS)
    cut = image.height * 0.6
    kept = [w for w in first.words if w.box[1] < cut]
    lost = " ".join(w.text for w in first.words if w.box[1] >= cut)
    assert len(lost.split()) >= 10
    missed = dataclasses.replace(first, words=kept, params={})
    # When the words of the lower part of a page are missing from the first reading
    again = read_unread(image, missed, PARAMS)
    # Then the second pass finds that ink and reads it, as blocks of their own, after the rest
    assert again.params["second_pass"]["regions"] >= 1
    new = again.words[len(kept) :]
    assert word_recall(" ".join(w.text for w in new), lost) >= 0.9
    assert word_recall(lost, " ".join(w.text for w in new)) >= 0.9  # nothing read twice
    assert all(w.block > max(k.block for k in kept) for w in new)
    assert [w.text for w in parse_hocr(again.hocr)] == [w.text for w in again.words]


def test_a_page_read_whole_needs_no_second_pass():
    image = render_page(dpi=200, size="A5", seed=6)
    page, _ = ocr_image(image, PARAMS)
    assert page.params["second_pass"] == {"lines": 0, "regions": 0, "words": 0}


def test_words_to_hocr_round_trips_words_boxes_and_confidences():
    words = [
        Word("Thửa", (10, 10, 60, 30), 91.0, 0, 0),
        Word("đất", (70, 10, 110, 30), 88.5, 0, 0),
        Word("<ST>", (10, 50, 80, 70), 60.0, 1, 1),
    ]
    back = parse_hocr(words_to_hocr(words, 200, 100))
    assert back == words


def test_text_under_a_seal_that_the_page_reading_drops_is_read_again(tmp_path: Path):
    path = tmp_path / "sealed.png"
    degrade(render_page(dpi=300, seed=100), "stamp", 0).save(path, dpi=(300, 300))
    page = read_page(path, "image/png", 0, OcrParams(), LIMITS)
    assert page.params["second_pass"]["words"] > 0
    assert word_recall(page.text, page_text(100)) >= 0.92
    without = read_page(path, "image/png", 0, OcrParams(second_pass=False), LIMITS)
    assert cer(page.text, page_text(100)) <= cer(without.text, page_text(100))
