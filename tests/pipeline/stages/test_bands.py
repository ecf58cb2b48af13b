"""Two-column headers and footers of administrative documents are read block by block: the
issuer and its number, then the national motto and the date; the "Nơi nhận:" list, then the
signer. Tesseract reads them row by row ("ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI…"). Word boxes laid
out as such a page (unit tests of `band_order`), then a generated page read by real Tesseract."""

from __future__ import annotations

import pytest

from bench.textmetrics import cer
from pipeline.stages.ocr.hocr import words_to_text
from pipeline.stages.ocr.recognise import OcrParams, ocr_image
from pipeline.stages.pages.columns import band_order
from pipeline.stages.pages.pagetext import PageText, Word
from tests.factories.degrade import admin_page

H = 40  # word height, pixels


def row(y: int, *spans: tuple[int, str]) -> list[Word]:
    """Words of one printed row: each span is (x where it starts, its words)."""
    out = []
    for x, text in spans:
        for word in text.split():
            out.append(Word(word, (x, y, x + 30 * len(word), y + H), 90.0))
            x += 30 * len(word) + 20
    return out


def page_of(rows: list[list[Word]]) -> PageText:
    """A PageText whose words come row by row, each row one Tesseract line (its order)."""
    words = [Word(w.text, w.box, w.conf, block=0, line=n) for n, r in enumerate(rows) for w in r]
    return PageText(0, words_to_text(words), words, 2480, 3508, 300, 90.0, "ocr", "t", "vie")


BODY = "a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh"


def header_page(left_x: int = 200, right_x: int = 1100) -> PageText:
    return page_of(
        [
            row(100, (left_x, "ỦY BAN NHÂN DÂN"), (right_x, "CỘNG HÒA XÃ HỘI")),
            row(160, (left_x + 40, "QUẬN BA ĐÌNH"), (right_x + 60, "Độc lập Tự do")),
            row(240, (left_x, "Số: 12/QĐ"), (right_x, "Hà Nội, ngày 5")),
            *[row(400 + 60 * n, (200, BODY)) for n in range(20)],
        ]
    )


def test_a_two_column_header_is_read_left_block_then_right_block():
    page = band_order(header_page())
    first = page.text.split("\n\n")
    assert first[0].split("\n") == ["ỦY BAN NHÂN DÂN", "QUẬN BA ĐÌNH", "Số: 12/QĐ"]
    assert first[1].split("\n") == ["CỘNG HÒA XÃ HỘI", "Độc lập Tự do", "Hà Nội, ngày 5"]
    assert page.text.endswith(BODY)
    assert len(page.params["bands"]) == 1
    assert sorted(w.text for w in page.words) == sorted(w.text for w in header_page().words)


def test_a_footer_is_read_recipients_then_signer():
    body = [row(100 + 60 * n, (200, BODY)) for n in range(20)]
    footer = [
        row(1400, (200, "Nơi nhận:"), (1300, "TM. ỦY BAN")),
        row(1450, (200, "- Như trên;"), (1350, "CHỦ TỊCH")),
        row(1500, (200, "- Lưu: VT.")),
        row(1700, (1300, "Trần Văn Nam")),
    ]
    text = band_order(page_of(body + footer)).text
    assert text.endswith("Nơi nhận:\n- Như trên;\n- Lưu: VT.\n\nTM. ỦY BAN\nCHỦ TỊCH\nTrần Văn Nam")


def test_rows_whose_gap_is_a_few_spaces_are_left_as_read():
    # Two rows with a gap of about a word height: a loose justified line, not a gutter.
    page = header_page(right_x=200 + 30 * 15 + 60 + 20)
    assert band_order(page) is page


def test_a_two_column_table_in_mid_page_is_left_in_rows():
    body = [row(100 + 60 * n, (200, BODY)) for n in range(12)]
    table = [row(900 + 60 * n, (200, "Diện tích:"), (1300, f"{n}0 m2")) for n in range(3)]
    rest = [row(1200 + 60 * n, (200, BODY)) for n in range(20)]
    page = page_of(body + table + rest)
    assert band_order(page) is page


@pytest.mark.parametrize("seed", [0, 3])
def test_a_generated_signed_decision_reads_in_the_order_a_person_reads_it(seed):
    image, truth = admin_page(seed, dpi=300)
    read, _ = ocr_image(image, OcrParams(), dpi=300)
    rows, _ = ocr_image(image, OcrParams(columns=False), dpi=300)
    assert read.params.get("bands")
    assert cer(read.text, truth) < cer(rows.text, truth) - 0.03
    header = truth.split("\n")[:6]
    text = " ".join(read.text.split())
    assert text.index(header[2].split()[0]) < text.index(header[3].split()[0])  # Số before CỘNG


def test_a_table_of_numbers_at_the_foot_is_left_in_rows():
    # A certificate's corner coordinates: point, X and Y, far apart, at the foot of the page.
    body = [row(100 + 60 * n, (200, BODY)) for n in range(20)]
    table = [row(1400, (200, "Điểm X (m)"), (1300, "Y (m)"))]
    table += [
        row(1460 + 60 * n, (200, f"{n} 23336{n}8,67"), (1300, f"58915{n},62")) for n in range(6)
    ]
    page = page_of(body + table)
    assert band_order(page) is page
