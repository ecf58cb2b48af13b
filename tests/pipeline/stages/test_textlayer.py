"""Text layers of PDFs: read with positions, kept when good, rejected with a reason when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.language.text import fold
from pipeline.errors import InputRejectedError
from pipeline.stages.ocr.recognise import OcrParams, read_page
from pipeline.stages.pages.pagetext import PageText, Word
from pipeline.stages.pages.textlayer import TextLayerError, layer_verdict, text_layer
from tests.factories.degrade import DEV_PDF, PARAGRAPHS, write_text_pdf
from tests.factories.samples import LIMITS, make_encrypted_pdf, make_pdf

TEXT = "\n".join(["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", *PARAGRAPHS])


def _page(text: str) -> PageText:
    words = [Word(t, (10 * i, 0, 10 * i + 8, 10), 100.0) for i, t in enumerate(text.split())]
    return PageText(0, text, words, 1000, 100, 300, 100.0, "text_layer", "test", "")


def test_a_good_vietnamese_layer_is_read_with_pixel_boxes_and_accepted(tmp_path: Path):
    pdf = write_text_pdf(tmp_path / "good.pdf", TEXT, font_size=10)
    layer = text_layer(pdf, 0, dpi=300)
    assert layer is not None and layer.source == "text_layer"
    assert layer.engine.startswith("pdfplumber ")
    assert layer.text.splitlines()[0] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    first = layer.words[0]
    assert first.text == "CỘNG" and first.line == 0
    # Drawn at x = 72 pt, baseline 82 pt (10 pt text): at 300 dpi, x ≈ 300 px, y ≈ 300–355.
    assert abs(first.box[0] - 300) <= 3
    assert 290 <= first.box[1] < first.box[3] <= 360
    assert (layer.width, layer.height) == (2480, 3508)
    ok, reason = layer_verdict(layer)
    assert ok, reason


def test_the_real_certificate_layer_without_diacritics_is_rejected(shared_data: Path):
    demo = shared_data / "land/certificates/vpbank-smartscan_DEMO1.pdf"
    for index in range(4):
        layer = text_layer(demo, index, dpi=300)
        assert layer is not None
        ok, reason = layer_verdict(layer)
        assert not ok
        assert "digits inside words" in reason or "without diacritics" in reason
        assert "Nguy" not in reason  # the reason never quotes the layer (personal data)


def test_a_layer_that_lost_its_diacritics_is_rejected(tmp_path: Path):
    pdf = write_text_pdf(tmp_path / "flat.pdf", fold(TEXT))
    layer = text_layer(pdf, 0, dpi=300)
    assert layer is not None
    ok, reason = layer_verdict(layer)
    assert not ok and "Vietnamese text without diacritics" in reason


def test_the_real_born_digital_government_pdf_is_accepted(shared_data: Path):
    pdf = shared_data / "ocr-vie/born_digital" / DEV_PDF  # development data, never gov_docs
    layer = text_layer(pdf, 0, dpi=200)
    assert layer is not None
    assert layer_verdict(layer)[0]
    assert "NGHỊ ĐỊNH" in layer.text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Thửa đất số", "too few words"),
        ("\ue001\ue002\ue003 \ue004\ue005 \ue006\ue007 \ue008 \ue009 \ue00a", "unknown glyphs"),
        ("(cid:12)(cid:13) (cid:14) (cid:15)(cid:16) (cid:17) (cid:18) x", "unknown glyphs"),
        ("Gi6y ch1rng nh4n quy6n sir dung d6t cua 6ng bd", "digits inside words"),
    ],
)
def test_bad_layers_are_rejected_with_the_reason(text: str, reason: str):
    ok, why = layer_verdict(_page(text))
    assert not ok and reason in why


def test_codes_and_english_are_not_mistaken_for_bad_layers():
    codes = "Số 1373/QĐ-BKHĐT ngày 16/6/2025, thửa CT5C, serial BV999451, diện tích 86,5 m2"
    assert layer_verdict(_page(codes))[0]
    english = "The certificate was issued by the People's Committee of Hanoi in the year"
    assert layer_verdict(_page(english))[0]


def test_an_image_only_pdf_has_no_layer_and_an_encrypted_one_is_rejected(tmp_path: Path):
    assert text_layer(make_pdf(tmp_path / "scan.pdf", 1), 0, dpi=300) is None
    with pytest.raises(InputRejectedError):
        text_layer(make_encrypted_pdf(tmp_path / "locked.pdf"), 0, dpi=300)


def _pdf_with_a_looping_xref(path: Path) -> Path:
    """A one-page PDF whose trailer's /Prev points at its own xref section: PDFium repairs it,
    pdfminer follows the loop until Python's recursion limit."""
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 200] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>"
    )
    content = b"BT /F1 28 Tf 30 100 Td (Ban do dia chinh so 12) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        page,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\n" % (len(objects) + 1, xref)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def test_a_layer_that_cannot_be_extracted_raises_its_own_error(tmp_path: Path):
    pdf = _pdf_with_a_looping_xref(tmp_path / "loop.pdf")
    with pytest.raises(TextLayerError, match=r"page 1's text layer cannot be extracted: .*loop"):
        text_layer(pdf, 0, dpi=300)


def test_a_page_whose_layer_cannot_be_extracted_is_ocred_instead(tmp_path: Path):
    pdf = _pdf_with_a_looping_xref(tmp_path / "loop.pdf")
    page = read_page(pdf, "application/pdf", 0, OcrParams(dpi=200), LIMITS)
    assert page.source == "ocr"
    verdict = page.params["text_layer"]
    assert verdict["accepted"] is False and "cannot be extracted" in verdict["reason"]
    assert "chinh so 12" in fold(page.text)


def test_an_image_only_page_is_known_to_have_no_layer_without_parsing_the_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """PDFium, which drew the page, says it holds no text object: pdfminer is not run."""
    import pdfplumber

    scan = make_pdf(tmp_path / "scan.pdf", 1)
    born_digital = write_text_pdf(tmp_path / "born-digital.pdf", TEXT)

    def fails(*args, **kwargs):
        raise AssertionError("pdfminer parsed the file")

    with monkeypatch.context() as patched:
        patched.setattr(pdfplumber, "open", fails)
        assert text_layer(scan, 0, dpi=300) is None
        with pytest.raises(AssertionError, match="pdfminer parsed"):
            text_layer(born_digital, 0, dpi=300)
    layer = text_layer(born_digital, 0, dpi=300)
    assert layer is not None and "Căn cứ" in layer.text
