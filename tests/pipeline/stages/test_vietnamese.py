"""Vietnamese correction of OCR text: diacritics restored where confident, nothing else touched."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from models.language.text import fold
from pipeline.stages.pages.pagetext import PageText, Word
from pipeline.stages.vietnamese.correction import (
    MODEL_FILE,
    correct_page,
    correct_text,
    correct_words,
    load_model,
)
from pipeline.stages.vietnamese.lexicon import build
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
        # Real slips of tesseract -l vie on government pages (not the evaluation pages).
        ("nội thành Thành phô mùa mưa", "nội thành Thành phố mùa mưa"),
        ("QUYÉT ĐỊNH:", "QUYẾT ĐỊNH:"),
        (
            "Luật sửa đổi, bồ sung một số điễu của Luật",
            "Luật sửa đổi, bổ sung một số điều của Luật",
        ),
        ("Luật Tổ chức chính quyên địa phương", "Luật Tổ chức chính quyền địa phương"),
        ("Thường trực Hội đông nhân dân", "Thường trực Hội đồng nhân dân"),
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
        "Số: 2280/QĐ-UBND",
        "Số: 729/QĐ-TTg",
        "Tờ trình số 191/TTr-SXD ngày 10/4/2026",
        "Liên hệ: vanthu@hanoi.gov.vn hoặc https://vanban.chinhphu.vn/default.aspx?id=2280",
        "Thửa đất số: 125, tờ bản đồ số: 7, diện tích 120,5 m²",
        "- VPCP: BTCN, các PCN, TGĐ Cổng TTĐT; Lưu: VT, CN (b/c).",
    ],
)
def test_numbers_codes_and_addresses_are_untouched(text: str) -> None:
    assert correct_text(text) == text


def test_code_that_looks_like_syllables_is_untouched() -> None:
    # "TB/TU" would read as "TB/TƯ" if its parts were corrected as words.
    assert correct_text("Thông báo số 212-TB/TU ngày 23/01/2026") == (
        "Thông báo số 212-TB/TU ngày 23/01/2026"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Phó Thủ tướng Chính phủ có ý kiến chỉ đạo như sau:\n"
        "Giao Bộ Xây dựng chủ trì, phối hợp với các cơ quan liên quan.",
        "Ông Trương Việt Dũng, Phó Chủ tịch Ủy ban nhân dân Thành phố, đã ký.",
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
        "Căn cứ Luật Tổ chúc Chính phủ ngày 19 tháng 02 năm 2025;\nQUYÉT ĐỊNH:",
        "phô vê Quản lý hoạt động thoát nước và xử lý nước thải trên địa bàn Thành phó.",
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
        ("Hà Nội, ngày23 tháng 4 năm 2026", "Hà Nội, ngày 23 tháng 4 năm 2026"),
        ("ngày 23tháng 4", "ngày 23 tháng 4"),
        ("ngày23/4/2026", "ngày 23/4/2026"),
        ("PCN PhạmMạnh Cường", "PCN Phạm Mạnh Cường"),
        ("Tờ trình ngày\n1 0/4/2026 về", "Tờ trình ngày\n10/4/2026 về"),
    ],
)
def test_words_glued_to_numbers_or_each_other_and_split_days_are_undone(
    raw: str, expected: str
) -> None:
    assert correct_text(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "diện tích 120 m2, 0,5 km2, ca 24h",
        "thửa CT8, PTTgTT, VPCP2, McDonald, iPhone",
        "ngày 2 21 tháng",  # no rule says which digit is wrong
        "ông Nguy6n Văn Hùng",  # a digit inside a word is a letter slip, not glue
    ],
)
def test_units_codes_and_names_are_not_unglued(text: str) -> None:
    out = correct_text(text)
    assert out.split() == text.replace("Nguy6n", "Nguyễn").split()


def test_correct_page_counts_unglued_words_and_keeps_words_aligned() -> None:
    page = _page("Hà Nội, ngày23 tháng 4")
    out = correct_page(page)
    assert out.text == "Hà Nội, ngày 23 tháng 4"
    assert [w.text for w in out.words] == ["Hà", "Nội,", "ngày 23", "tháng", "4"]
    assert out.params["correction"]["changed"] == 1 and out.raw_text == page.text
