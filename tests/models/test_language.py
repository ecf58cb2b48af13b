"""Vietnamese text handling: NFC, tone placement, folding, tokens, legacy TCVN3/VNI."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata

import pytest

from models.language.legacy_encodings import TCVN3, VNI, is_vietnamese_legacy, to_legacy, to_unicode
from models.language.text import (
    canonical_tones,
    fold,
    is_vietnamese_syllable,
    nfc,
    normalise,
    tokens,
)
from tests.conftest import SHARED_DATA, need

VANDINH = SHARED_DATA / "land" / "cadastral_vandinh_hanoi" / "vandinh_sample_parcels.geojson"

TONE_PAIRS = [  # (old style, new style)
    ("hòa", "hoà"),
    ("Hòa", "Hoà"),
    ("HÒA", "HOÀ"),
    ("khỏe", "khoẻ"),
    ("KHỎE", "KHOẺ"),
    ("thủy", "thuỷ"),
    ("Thủy", "Thuỷ"),
    ("thúy", "thuý"),
    ("lũy", "luỹ"),
    ("hóa", "hoá"),
    ("xõa", "xoã"),
    ("họa", "hoạ"),
    ("tòe", "toè"),
    ("xóe", "xoé"),
    ("khõe", "khoẽ"),
    ("lòe", "loè"),
    ("lọe", "loẹ"),
    ("hủy", "huỷ"),
    ("tùy", "tuỳ"),
    ("thụy", "thuỵ"),
]

UNCHANGED = [
    "hoàn", "toán", "hoạch", "khoét", "quyết", "khuya", "huỳnh", "quỳnh", "tuyết", "nguyễn",
    "quý", "quí", "gì", "gí", "già", "giữa", "người", "thuở", "mùa", "múa", "mía", "quá",
    "ngoái", "khoáy", "khuỷu", "ngoẹo", "rượu", "yêu", "Việt", "HOÀNG", "hoa", "Hà Nội",
    "OK", "café", "Müller", "x̂ỳ",
]  # fmt: skip


# --- nfc / canonical_tones / normalise / fold ------------------------------------------------


def test_fold_dong_da() -> None:
    assert fold("Đống Đa") == "dong da"
    assert fold("ĐỐNG ĐA") == "dong da"
    assert fold("Nguyễn") == "nguyen"
    assert fold("Thủy") == "thuy"
    assert fold("Thửa đất số 12, tờ bản đồ 27") == "thua dat so 12, to ban do 27"


@pytest.mark.parametrize(("old", "new"), TONE_PAIRS)
def test_both_styles_match(old: str, new: str) -> None:
    assert old != new
    assert canonical_tones(old) == new
    assert canonical_tones(new) == new
    assert normalise(old) == normalise(new) == new.lower()
    assert fold(old) == fold(new)
    assert fold(old).isascii()


def test_ground_truth_hoa_equals_page_hoa() -> None:
    assert normalise("HOÀ") == normalise("HÒA") == normalise("Hoà") == normalise("hòa") == "hoà"
    assert fold("HOÀ") == fold("HÒA") == "hoa"


@pytest.mark.parametrize("word", UNCHANGED)
def test_other_syllables_untouched(word: str) -> None:
    assert canonical_tones(word) == nfc(word)


def test_misplaced_tones_repaired() -> None:
    assert canonical_tones("hòan") == "hoàn"
    assert canonical_tones("qúy") == "quý"
    assert canonical_tones("QÚA") == "QUÁ"


def test_per_syllable_with_punctuation() -> None:
    text = "Xã Hòa Bình (thủy lợi), khỏe-mạnh; HÒA/hoàn 12 quý."
    assert canonical_tones(text) == "Xã Hoà Bình (thuỷ lợi), khoẻ-mạnh; HOÀ/hoàn 12 quý."


def test_canonical_tones_idempotent() -> None:
    texts = [old for old, _ in TONE_PAIRS] + UNCHANGED + ["Xã Hòa Bình, huyện Ứng Hòa"]
    for text in texts:
        once = canonical_tones(text)
        assert canonical_tones(once) == once


def test_nfd_input_gives_nfc_output() -> None:
    for text in ["hòa", "Thửa đất", "Đống Đa", "Nguyễn Văn Thủy", "khỏe"]:
        decomposed = unicodedata.normalize("NFD", text)
        assert decomposed != text
        assert nfc(decomposed) == text
        assert canonical_tones(decomposed) == canonical_tones(text)
        assert unicodedata.is_normalized("NFC", canonical_tones(decomposed))
        assert normalise(decomposed) == normalise(text)
        assert fold(decomposed) == fold(text)
        assert tokens(decomposed) == tokens(text)


def test_tokens() -> None:
    assert tokens("Thửa 12/3, Đống Đa.") == ["Thửa", "12", "3", "Đống", "Đa"]
    assert tokens("«Hoà»—khoẻ!!  (GCN: AB-123)") == ["Hoà", "khoẻ", "GCN", "AB", "123"]
    assert tokens("a_b") == ["a", "b"]
    assert tokens("  ...  ") == []


def test_syllable_shapes() -> None:
    for word in ["nghiêng", "Quốc", "khuyết", "gìn", "xoong", "oanh", "Đức", "ấm", "ý"]:
        assert is_vietnamese_syllable(word), word
    for word in ["Ho¹ch", "Vaên", "cafe", "hoàà", "bac", "anhh", "Müller", "", "12"]:
        assert not is_vietnamese_syllable(word), word


# --- legacy encodings -------------------------------------------------------------------------

TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
ALL_LETTERS = " ".join(
    unicodedata.normalize("NFC", base + tone) for base in "aăâeêioôơuưy" for tone in TONES
)
SENTENCES = [
    ALL_LETTERS,
    ALL_LETTERS.upper(),
    "đ Đ dđ ĐĐ",
    "Ủy ban nhân dân phường Đống Đa, thành phố Hà Nội.",
    "ỦY BAN NHÂN DÂN XÃ ỨNG HÒA CẤP GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT",
    "Thửa đất số 12, tờ bản đồ số 27; diện tích 158,5 m2.",
    "Người sử dụng đất: Trần Thị Hồng Nhung và Lê Văn Khoẻ.",
    "Mười tám tháng Chạp năm Ất Dậu, ở xóm Ngõ Huyện, bãi sông Hồng.",
    "Ông Đỗ Quý Thuỷ mua lô đất khuyết góc ở ngõ 5 Yên Phụ - Tây Hồ.",
    "Khuya rồi, gió lạnh; Vũ Thị Ỷ, Phạm Ỳ, Lã Ỹ, Đặng Ỵ, Ý Yên.",
]
NATURAL = SENTENCES[3:]


@pytest.mark.parametrize("encoding", [TCVN3, VNI])
@pytest.mark.parametrize("sentence", SENTENCES)
def test_round_trip(encoding: str, sentence: str) -> None:
    legacy = to_legacy(sentence, encoding)
    assert legacy != sentence
    assert to_unicode(legacy, encoding) == sentence
    if encoding == TCVN3:
        assert to_unicode(to_legacy(sentence, TCVN3, cp1252=True), TCVN3) == sentence


@pytest.mark.parametrize("encoding", [TCVN3, VNI])
@pytest.mark.parametrize("sentence", NATURAL)
def test_detect_and_convert(encoding: str, sentence: str) -> None:
    legacy = to_legacy(sentence, encoding)
    assert is_vietnamese_legacy(legacy) == encoding
    assert to_unicode(legacy) == sentence
    if encoding == TCVN3:
        assert to_unicode(to_legacy(sentence, TCVN3, cp1252=True)) == sentence


def test_known_mojibake() -> None:
    assert to_unicode("NguyÔn V¨n A") == "Nguyễn Văn A"
    assert to_unicode("Nguyeãn Vaên A") == "Nguyễn Văn A"
    assert to_unicode("THAØNH PHOÁ HAØ NOÄI") == "THÀNH PHỐ HÀ NỘI"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Dong Da, Ha Noi",
        "UBND HTX 12/3",
        *NATURAL,
        *(s.upper() for s in NATURAL),
        "Hà Tây",
        "hoà",  # also VNI for "hồ": ambiguous, so left alone
        "Cà Mau",
        "Tôi là Müller",
        "Café crème à la française",
        "Señor Muñoz, Straße 5",
        "ÀB ÉC",
        "Phạm Minh Khoa",
    ],
)
def test_not_legacy(text: str) -> None:
    assert is_vietnamese_legacy(text) is None
    assert to_unicode(text) == text


def test_needs_several_legacy_units() -> None:
    assert is_vietnamese_legacy("Th«n") is None  # one unit: too little evidence
    assert is_vietnamese_legacy("Th«n", min_units=1) == TCVN3
    assert to_unicode("Th«n", TCVN3) == "Thôn"


def test_tcvn3_table_matches_iconv() -> None:
    if shutil.which("iconv") is None:
        pytest.skip("iconv is not installed")
    raw = bytes(b for b in range(1, 256) if b not in (0x0A, 0x0D))
    proc = subprocess.run(
        ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=raw, capture_output=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip("iconv has no TCVN5712-1 converter")
    expected = "".join(
        subprocess.run(
            ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=bytes([b]), capture_output=True
        ).stdout.decode()
        for b in raw
    )
    assert to_unicode(raw.decode("latin-1"), TCVN3) == unicodedata.normalize("NFC", expected)


# --- the Vân Đình sample (TCVN3 read as Latin-1) ----------------------------------------------

VANDINH_PLACES = {
    "§ång Quan Tiªn": "Đồng Quan Tiên",
    "§ång Sau Chïa": "Đồng Sau Chùa",
    "§ång Dung H¹": "Đồng Dung Hạ",
    "Th«n Thanh Êm": "Thôn Thanh ấm",  # ABC fonts have no toned capitals
    "Th«n Ngä X¸": "Thôn Ngọ Xá",
}


def _vandinh() -> list[dict]:
    need(VANDINH.is_file(), f"sample data {VANDINH} is absent")
    return [f["properties"] for f in json.loads(VANDINH.read_text(encoding="utf-8"))["features"]]


def test_vandinh_place_names() -> None:
    props = _vandinh()
    places = {p[k] for p in props for k in ("xu_dong", "dia_chi") if p[k]}
    assert places <= set(VANDINH_PLACES)
    for legacy, expected in VANDINH_PLACES.items():
        assert is_vietnamese_legacy(legacy) == TCVN3
        assert to_unicode(legacy) == expected
    assert to_unicode("N§", TCVN3) == "NĐ"  # land class code


def test_vandinh_owner_column_is_tcvn3() -> None:
    """Detect on the whole column; check the result's shape without naming anyone."""
    owners = [p["ten_chu"] for p in _vandinh()]
    assert is_vietnamese_legacy("\n".join(owners)) == TCVN3
    for owner in owners:
        converted = to_unicode(owner, TCVN3)
        assert is_vietnamese_legacy(converted) is None
        for word in tokens(converted):
            assert word.isascii() or is_vietnamese_syllable(word), word
