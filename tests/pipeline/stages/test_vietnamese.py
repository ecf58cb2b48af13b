"""Vietnamese correction of OCR text: diacritics restored where confident, nothing else touched."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from models.language.text import fold
from pipeline.stages.pages.pagetext import PageText, Word
from pipeline.stages.vietnamese.correction import correct_page, correct_text, correct_words
from pipeline.stages.vietnamese.lexicon import build
from pipeline.stages.vietnamese.model import MODEL_FILE, load_model
from tests.conftest import need

BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CONG HOA XA HOI CHU NGHIA VIET NAM", "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        ("THONG TU", "THÔNG TƯ"),
        ("Doc lap - Tu do - Hanh phuc", "Độc lập - Tự do - Hạnh phúc"),
        ("GIAY CHUNG NHAN QUYEN SU DUNG DAT", "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT"),
        ("Muc dich su dung: Dat o tai do thi", "Mục đích sử dụng: Đất ở tại đô thị"),
        ("UY BAN NHAN DAN THANH PHO HA NOI", "UỶ BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI"),
    ],
)
def test_lines_without_any_diacritics_get_them_back(raw: str, expected: str) -> None:
    assert correct_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Slips of the kinds tesseract -l vie makes, on lines of the development set
        # (born-digital PDFs in ../shared/data/ocr-vie/born_digital; issue 19).
        (
            "Ủy ban nhân dân tỉnh và Thành phô trực thuộc",
            "Ủy ban nhân dân tỉnh và Thành phố trực thuộc",
        ),
        ("QUYÉT ĐỊNH:", "QUYẾT ĐỊNH:"),
        (
            "Căn cứ Luật sửa đổi, bồ sung một số điễu của Luật",
            "Căn cứ Luật sửa đổi, bổ sung một số điều của Luật",
        ),
        ("Luật Ban hành văn bản quy phạm pháp luật", "Luật Ban hành văn bản quy phạm pháp luật"),
        ("Thường trực Hội đông nhân dân tỉnh", "Thường trực Hội đồng nhân dân tỉnh"),
        ("THÕNG TƯ QUY ĐỊNH", "THÔNG TƯ QUY ĐỊNH"),  # circumflex read as a tilde
        ("ông Nguy6n Văn Hùng", "ông Nguyễn Văn Hùng"),  # a digit for a letter
    ],
)
def test_confused_marks_and_digit_slips_are_repaired(raw: str, expected: str) -> None:
    assert correct_text(raw) == expected


def test_case_pattern_of_each_word_is_kept() -> None:
    assert correct_text("Thong tu so 12") == "Thông tư số 12"
    assert correct_text("THONG tu") == "THÔNG tư"


@pytest.mark.parametrize(
    "text",
    [
        "Số: 1373/QĐ-BKHĐT",
        "Số: 51/2025/NĐ-CP",
        "Tờ trình số 48/TTr-STNMT ngày 12/9/2024",
        "Liên hệ: vanthu@example.gov.vn hoặc https://vanban.example.vn/default.aspx?id=1373",
        "Thửa đất số: 125, tờ bản đồ số: 7, diện tích 120,5 m²",
        "- CT, PCT UBND tỉnh; Lưu: VT, KGVX (b/c).",
    ],
)
def test_numbers_codes_and_addresses_are_untouched(text: str) -> None:
    assert correct_text(text) == text


def test_code_that_looks_like_syllables_is_untouched() -> None:
    # "TB/TU" would read as "TB/TƯ" if its parts were corrected as words.
    assert correct_text("Thông báo số 57-TB/TU ngày 18/02/2025") == (
        "Thông báo số 57-TB/TU ngày 18/02/2025"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Ủy ban nhân dân tỉnh có ý kiến như sau:\n"
        "Giao Sở Tài chính chủ trì, phối hợp với các cơ quan liên quan.",
        "Ông Nguyễn Phước Bình, Phó Chánh Văn phòng Ủy ban nhân dân tỉnh, đã ký.",
        "Diện tích đất ở tại đô thị là 93,0 m², thời hạn sử dụng lâu dài.",
        "Đình làng thờ Thành hoàng; văn bia tiến sĩ dựng trên lưng rùa đá.",
    ],
)
def test_text_that_is_already_right_is_left_alone(text: str) -> None:
    # Tone placement included: old-style "Ủy" stays as printed.
    assert correct_text(text) == text


def test_line_breaks_spacing_and_punctuation_are_kept() -> None:
    raw = "  THONG TU\n\n\tso   12 ,  ngay 5 thang 6 ;\nDoc lap -- Tu do\n"
    out = correct_text(raw)
    assert out == "  THÔNG TƯ\n\n\tsố   12 ,  ngày 5 tháng 6 ;\nĐộc lập -- Tự do\n"
    assert fold(out) == fold(raw)


def test_output_is_nfc_even_from_decomposed_input() -> None:
    raw = unicodedata.normalize("NFD", "Cộng hòa xã hội, quyên sử dụng đất, Thủy lợi")
    out = correct_text(raw)
    assert out == unicodedata.normalize("NFC", out)
    assert out == "Cộng hòa xã hội, quyền sử dụng đất, Thủy lợi"


@pytest.mark.parametrize(
    "text",
    [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI",
        "Xã Hòa Bình, huyện Thủy Nguyên; sức khỏe",
        "Xã Hoà Bình, huyện Thuỷ Nguyên; sức khoẻ",
    ],
)
def test_words_left_unchanged_keep_the_tone_placement_the_page_prints(text: str) -> None:
    assert correct_text(text) == text
    page = _page(text)
    fixed = correct_page(page)
    assert fixed.text == text
    assert [w.text for w in fixed.words] == text.split()
    assert fixed.raw_text is None


def test_a_corrected_word_takes_new_style_tones_beside_old_style_ones_kept() -> None:
    assert correct_text("CONG HOA XA HOI, Ủy ban") == "CỘNG HOÀ XÃ HỘI, Ủy ban"


@pytest.mark.parametrize(
    "raw",
    [
        "CONG HOA XA HOI CHU NGHIA VIET NAM\nDoc lap - Tu do - Hanh phuc",
        "Căn cứ Luật Tổ chúc Chính phủ ngày 18 tháng 02 năm 2025;\nQUYÉT ĐỊNH:",
        "phô vê quản lý hồ sơ địa chính và tài liệu lưu trữ trên địa bàn Thành phó.",
    ],
)
def test_correcting_twice_changes_nothing_more(raw: str) -> None:
    once = correct_text(raw)
    assert once != raw
    assert correct_text(once) == once


def test_an_isolated_word_is_not_guessed_without_context() -> None:
    # "ma" could be ma/má/mà/mã/mạ/mả: no context, no confident choice.
    assert correct_text("ma") == "ma"


def test_correct_words_keeps_the_list_aligned() -> None:
    tokens = ["THONG", "TU", "số", "12/2024/TT-BTNMT", "ngay", "5/6/2024,", "Thành", "phô."]
    out = correct_words(tokens)
    assert out == ["THÔNG", "TƯ", "số", "12/2024/TT-BTNMT", "ngày", "5/6/2024,", "Thành", "phố."]
    assert correct_words([]) == []


def _page(text: str) -> PageText:
    words = [
        Word(t, (10 * i, 0, 10 * i + 9, 10), 80.0, 0, n)
        for n, line in enumerate(text.split("\n"))
        for i, t in enumerate(line.split())
    ]
    return PageText(0, text, words, 1000, 1400, 200, 80.0, "ocr", "tesseract 5.3.0", "vie")


def test_correct_page_keeps_the_raw_text_and_records_the_model() -> None:
    page = _page("THONG TU\nQuy định về hồ sơ địa chính của Thành phô")
    out = correct_page(page)
    assert out.text == "THÔNG TƯ\nQuy định về hồ sơ địa chính của Thành phố"
    assert out.raw_text == page.text
    assert [w.text for w in out.words][:2] == ["THÔNG", "TƯ"]
    assert out.words[-1].text == "phố" and out.words[-1].box == page.words[-1].box
    assert out.params["correction"] == {"model": load_model().version, "changed": 3}
    assert page.text == "THONG TU\nQuy định về hồ sơ địa chính của Thành phô"  # input intact


def test_correct_page_of_right_text_sets_no_raw_text() -> None:
    out = correct_page(_page("Quyết định này có hiệu lực từ ngày ký."))
    assert out.raw_text is None
    assert out.params["correction"]["changed"] == 0
    assert out.params["correction"]["model"].startswith("sohoa-vi-syllable-bigram/")


def _tesseract(lines: list[str], size: int) -> str:
    """Real raw Tesseract output of `lines` drawn in DejaVu Sans Bold at `size` px."""
    pytesseract = pytest.importorskip("pytesseract")
    need(shutil.which("tesseract") is not None, "tesseract is not installed")
    need("vie" in pytesseract.get_languages(), "tesseract has no vie language data")
    need(BOLD.is_file(), f"{BOLD} is absent")
    font = ImageFont.truetype(str(BOLD), size)
    width = max(font.getbbox(line)[2] for line in lines)
    step = int(size * 1.6)
    image = Image.new("L", (width + 20, step * len(lines) + 20), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((10, 10 + i * step), line, font=font, fill=0)
    return pytesseract.image_to_string(image, lang="vie", config="--psm 6").strip()


def _words(text: str) -> list[str]:
    return correct_text(text).lower().replace(".", " ").replace("'", " ").split()


def test_real_tesseract_output_of_small_bold_capitals_is_repaired() -> None:
    truth = [
        "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "QUYẾT ĐỊNH PHÊ DUYỆT KẾ HOẠCH",
        "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT",
    ]
    raw = _tesseract(truth, size=11)
    want = " ".join(truth).lower().split()
    raw_right = sum(w in want for w in _words_plain(raw))
    fixed = _words(raw)
    assert raw_right < len(want), f"tesseract read it all right, nothing to test: {raw!r}"
    assert fixed == want, f"raw tesseract: {raw!r}"


def _words_plain(text: str) -> list[str]:
    return text.lower().replace(".", " ").replace("'", " ").split()


def test_real_tesseract_output_that_is_right_stays_right() -> None:
    truth = ["Mục đích sử dụng: Đất ở tại đô thị", "Thời hạn sử dụng: Lâu dài"]
    raw = _tesseract(truth, size=24)
    assert correct_text(raw) == correct_text("\n".join(truth)) == "\n".join(truth)


def test_the_shipped_model_is_what_the_build_makes(tmp_path: Path) -> None:
    built = build.build(tmp_path)
    assert built.read_bytes() == MODEL_FILE.read_bytes()
    shipped = MODEL_FILE.parent / "syllables.txt"
    assert (tmp_path / "syllables.txt").read_text() == shipped.read_text()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Quảng Ngãi, ngày15 tháng 01 năm 2022", "Quảng Ngãi, ngày 15 tháng 01 năm 2022"),
        ("ngày 15tháng 01", "ngày 15 tháng 01"),
        ("ngày15/01/2022", "ngày 15/01/2022"),
        ("KT. BỘ TRƯỞNG TrầnQuốc Phương", "KT. BỘ TRƯỞNG Trần Quốc Phương"),
    ],
)
def test_words_glued_to_numbers_or_each_other_are_undone(raw: str, expected: str) -> None:
    assert correct_text(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "diện tích 120 m2, 0,5 km2, ca 24h",
        "thửa CT8, KTTHh5, VPUB2, McDonald, iPhone",
        "ngày 2 21 tháng",  # no rule says which digit is wrong
        "Tờ trình ngày 1 0/4/2024",  # a day split by a space is left as read (issue 19)
        "ông Nguy6n Văn Hùng",  # a digit inside a word is a letter slip, not glue
    ],
)
def test_units_codes_and_names_are_not_unglued(text: str) -> None:
    out = correct_text(text)
    assert out.split() == text.replace("Nguy6n", "Nguyễn").split()


def test_correct_page_counts_unglued_words_and_keeps_words_aligned() -> None:
    page = _page("Quảng Ngãi, ngày15 tháng 01")
    out = correct_page(page)
    assert out.text == "Quảng Ngãi, ngày 15 tháng 01"
    assert [w.text for w in out.words] == ["Quảng", "Ngãi,", "ngày 15", "tháng", "01"]
    assert out.params["correction"]["changed"] == 1 and out.raw_text == page.text
