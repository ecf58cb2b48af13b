"""Certificate fields are validated before they are stored: garbage becomes None with
`needs_review`, its raw reading and the reason; the issue date is the signature block's; a real
QR code is decoded and every field it contradicts is flagged.

Page text is hand-built (the OCR habits, no Tesseract); the QR code is real (drawn by
zxing-cpp's writer on a generated 2025 certificate page, decoded by zxing-cpp's reader).
"""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.stages.certificate.qr import QrCode, parse_qr, read_qr_codes
from pipeline.stages.certificate.sections import extract_certificate
from tests.factories.certificate_qr import qr_text, with_qr
from tests.factories.certificates import make_certificate
from tests.pipeline.stages.test_certificate import page_of

SECTION_II = [
    "II. Thửa đất, nhà ở và tài sản khác gắn liền với đất",
    "1. Thửa đất:",
    "a) Thửa đất số: 125, tờ bản đồ số: 14",
    "b) Địa chỉ: phường Dịch Vọng, quận Cầu Giấy, thành phố Hà Nội",
    "c) Diện tích: 120,5 m2",
    "d) Hình thức sử dụng: Sử dụng riêng",
    "đ) Mục đích sử dụng: Đất ở tại đô thị",
    "e) Thời hạn sử dụng: Lâu dài",
    "g) Nguồn gốc sử dụng: Nhà nước giao đất có thu tiền sử dụng đất",
    "Hà Nội, ngày 12 tháng 3 năm 2014",
    "TM. ỦY BAN NHÂN DÂN",
    "QUẬN CẦU GIẤY",
    "Số vào sổ cấp GCN: CH 01583",
]


def read(lines: list[str], **kw):
    return extract_certificate([page_of(lines, page=1)], **kw).to_json()


def replaced(line: int, text: str) -> list[str]:
    lines = list(SECTION_II)
    lines[line] = text
    return lines


def test_a_clean_reading_passes_every_check_with_its_confidence():
    got = read(SECTION_II, received=date(2026, 1, 5))
    f, review = got["fields"], got["review"]
    assert (f["parcel_number"], f["map_sheet"], f["registry_number"]) == ("125", "14", "CH 01583")
    assert f["issue_date"] == "2014-03-12" and f["area_m2"] == 120.5
    flagged = {k for k, v in review.items() if v["needs_review"]}
    assert flagged == {"serial"}  # printed on page I, not given here
    assert review["serial"]["reason"] == "not read"
    assert all(0 < review[k]["confidence"] <= 1 for k in f if f[k] is not None)
    assert review["parcel_number"]["raw"].startswith("125")


@pytest.mark.parametrize(
    ("line", "text", "field", "raw"),
    [
        (2, "a) Thửa đất số: 1#5, tờ bản đồ số: 14", "parcel_number", "1#5"),
        (2, "a) Thửa đất số: 125, tờ bản đồ số: K", "map_sheet", "K"),
        (12, "Số vào sổ cấp GCN: CH 01583 ~=", "registry_number", "CH 01583 ~="),
        (12, "Số vào sổ cấp GCN: ZQ 01583", "registry_number", "ZQ 01583"),
        (4, "c) Diện tích: 0,0 m2", "area_m2", "0,0 m2"),
        (6, "đ) Mục đích sử dụng: Đất ở (XYZ)", "purpose_code", "Đất ở (XYZ)"),
        (9, "Hà Nội, ngày 12 tháng 3 năm 2031", "issue_date", "12 tháng 3 năm 2031"),
        (9, "Hà Nội, ngày 12 tháng 3 năm 1988", "issue_date", "12 tháng 3 năm 1988"),
        (10, "TM. ỦY BAN NHÂN DÂN ;§@", "issuer", "ỦY BAN NHÂN DÂN ;§@"),
    ],
)
def test_garbage_is_stored_as_none_with_the_raw_reading_and_why(line, text, field, raw):
    # Given a certificate page where OCR turned one value into garbage (or an impossible value)
    lines = replaced(line, text)
    if field == "issuer":
        lines[11] = "CHỦ TỊCH"
    # When it is read (received in 2026, a 2009–2024 form by its serial)
    got = read([*lines, "BV 999451"], received=date(2026, 1, 5))
    # Then the field holds no value, a person is asked, and the raw reading and reason are kept
    assert got["fields"][field] is None
    review = got["review"][field]
    assert review["needs_review"] is True and review["reason"]
    assert raw in review["raw"]
    assert got["provenance"][field]["box"]  # so the review queue can show its crop


def test_confident_misreads_in_text_are_caught_by_the_words_around_them():
    # a letter swapped for another that still makes a syllable, in the law's formula
    got = read(replaced(8, "g) Nguồn gốc sử dụng: Công nhậm quyền sử dụng đất như giao đất"))
    assert got["fields"]["origin"] == "Công nhậm quyền sử dụng đất như giao đất"
    assert got["review"]["origin"]["needs_review"] is True
    assert "nhậm" in got["review"]["origin"]["reason"]
    # a digit read for an accented letter
    got = read(replaced(3, "b) Địa chỉ: 5ố 91 phố Huế, phường Dịch Vọng, quận Cầu Giấy"))
    assert got["fields"]["address"] is None and "5ố" in got["review"]["address"]["reason"]
    assert not read(SECTION_II)["review"]["origin"]["needs_review"]


@pytest.mark.parametrize("printed", ["k1. D9", "ĐLN", "Khoảnh 19"])
def test_unusual_parcel_shapes_real_certificates_print_are_kept_for_a_person(printed):
    got = read(replaced(2, f"a) Thửa đất số: {printed}, tờ bản đồ số: 14"))
    assert got["fields"]["parcel_number"] == printed
    assert got["review"]["parcel_number"]["needs_review"] is True


def test_an_area_on_the_parcel_row_is_not_taken_for_the_map_sheet():
    row = "a. Thửa đất số: 27; tờ bản đồ số: 01; Diện tích: 10.012 m2 (Mười nghìn mét vuông)"
    got = extract_certificate([page_of(["2. Thông tin thửa đất:", row])]).to_json()
    assert (got["fields"]["map_sheet"], got["fields"]["area_m2"]) == ("01", 10012.0)
    assert not got["review"]["map_sheet"]["needs_review"]


def test_a_date_before_the_2009_form_is_kept_for_a_person_to_confirm():
    # the 2003 red book's serial has the 2009 form's shape: an old date may be right
    got = read([*replaced(9, "Hà Nội, ngày 12 tháng 3 năm 2003"), "BV 999451"])
    assert got["fields"]["issue_date"] == "2003-03-12"
    assert got["review"]["issue_date"]["needs_review"] is True
    assert "before the 2009-2024 form existed" in got["review"]["issue_date"]["reason"]


def test_a_date_whose_day_was_read_through_other_marks_is_sent_to_a_person():
    got = read(replaced(9, "Quảng Trị, ngày s2⁄-tháng 02 năm 2022"))
    assert got["fields"]["issue_date"] == "2022-02-02"  # kept: the 2 may well be the day
    assert got["review"]["issue_date"]["needs_review"] is True
    assert "s2⁄-" in got["review"]["issue_date"]["reason"]


def test_a_date_after_the_capture_arrived_is_refused():
    got = read(SECTION_II, received=date(2014, 3, 1))
    assert got["fields"]["issue_date"] is None
    assert "after the capture was received" in got["review"]["issue_date"]["reason"]
    assert got["review"]["issue_date"]["codes"] == ["after_capture"]


def test_the_2025_form_wants_a_date_from_august_2024():
    lines = [
        "1. Người sử dụng đất, chủ sở hữu tài sản gắn liền với đất:",
        "2. Thông tin thửa đất:",
        "a. Thửa đất số 93; tờ bản đồ số 12",
        "b. Diện tích: 383,0 m²",
        "Hà Nội, ngày 12 tháng 3 năm 2014",
        "SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG HÀ NỘI",
        "AA 066549",
        "Thông tin chi tiết được thể hiện tại mã QR",
    ]
    got = extract_certificate([page_of(lines)], received=date(2026, 1, 5)).to_json()
    assert got["form"] == "2025"
    assert got["fields"]["serial"] == "AA 066549"  # six digits, as the official mock-up prints
    assert got["fields"]["issue_date"] is None  # 2014 is before the 2025 form existed
    assert "era" in got["review"]["issue_date"]["reason"]
    assert got["review"]["issue_date"]["codes"] == ["era"]
    lines[4], lines[6] = "Hà Nội, ngày 12 tháng 3 năm 2025", "AA 06654954"
    got = extract_certificate([page_of(lines)], received=date(2026, 1, 5)).to_json()
    assert (got["fields"]["serial"], got["fields"]["issue_date"]) == ("AA 06654954", "2025-03-12")
    assert got["fields"]["issuer"] == "SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG HÀ NỘI"


def test_an_area_the_corner_polygon_contradicts_is_kept_but_flagged():
    table = [
        "III. Sơ đồ thửa đất, nhà ở và tài sản khác gắn liền với đất",
        "BẢNG KÊ TỌA ĐỘ",
        "| 1 | 2330000,00 | 585000,00 |",
        "| 2 | 2330000,00 | 585010,00 |",
        "| 3 | 2330012,00 | 585010,00 |",
        "| 4 | 2330012,00 | 585000,00 |",
    ]
    pages = [page_of(replaced(4, "c) Diện tích: 180,0 m2"), page=1), page_of(table, page=2)]
    got = extract_certificate(pages).to_json()
    assert got["fields"]["area_m2"] == 180.0
    assert got["review"]["area_m2"]["needs_review"] is True
    assert "120.0 m²" in got["review"]["area_m2"]["reason"]
    # the reason's code and the number it names, for pages to say it in Vietnamese
    assert got["review"]["area_m2"]["codes"] == ["area_polygon"]
    assert got["review"]["area_m2"]["args"] == {"m2": 120.0}
    pages[0] = page_of(replaced(4, "c) Diện tích: 120,0 m2"), page=1)
    assert extract_certificate(pages).to_json()["review"]["area_m2"]["needs_review"] is False


def test_the_area_in_words_confirms_or_contradicts_the_digits():
    words = "(bằng chữ: một trăm hai mươi phẩy năm mét vuông)"
    got = read(replaced(4, f"c) Diện tích: 120,5 m², {words}"))
    assert got["fields"]["area_m2"] == 120.5 and not got["review"]["area_m2"]["needs_review"]
    got = read(replaced(4, f"c) Diện tích: 170,5 m², {words}"))  # a 2 read as 7
    assert got["fields"]["area_m2"] == 170.5
    assert got["review"]["area_m2"]["reason"] == "the area in words is 120.5 m²"


def test_a_value_read_with_little_confidence_is_kept_and_sent_to_a_person():
    page = page_of(SECTION_II, page=1)
    words = [w if w.text != "125," else type(w)(w.text, w.box, 31.0, 0, w.line) for w in page.words]
    got = extract_certificate([type(page)(**{**page.__dict__, "words": words})]).to_json()
    assert got["fields"]["parcel_number"] == "125"
    assert got["review"]["parcel_number"]["needs_review"] is True
    assert got["review"]["parcel_number"]["reason"] == "read with low confidence"


# --- anchored dates -------------------------------------------------------------------------


def test_the_issue_date_is_the_signature_blocks_not_a_legal_basis_or_a_change():
    lines = [
        *SECTION_II[:9],
        "Căn cứ Nghị định số 43/2014/NĐ-CP ngày 15 tháng 5 năm 2014 của Chính phủ",
        "6. Ghi chú: Thế chấp theo hợp đồng số 12/HĐ ngày 03/01/2015",
        "Ngày 20/02/2016 CHI NHÁNH VĂN PHÒNG ĐĂNG KÝ ĐẤT ĐAI",
        *SECTION_II[9:],
    ]
    got = read(lines)
    assert got["fields"]["issue_date"] == "2014-03-12"
    assert got["fields"]["issuer"] == "ỦY BAN NHÂN DÂN QUẬN CẦU GIẤY"


def test_no_signature_block_means_no_issue_date_whatever_dates_the_page_holds():
    lines = [*SECTION_II[:9], "Căn cứ Nghị định số 43/2014/NĐ-CP ngày 15 tháng 5 năm 2014"]
    got = read(lines)
    assert got["fields"]["issue_date"] is None
    assert got["review"]["issue_date"] == {
        "raw": None, "confidence": 0.0, "needs_review": True, "reason": "not read",
        "codes": ["not_read"],
    }  # fmt: skip


# --- the QR code ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate_with_qr():
    """Page 1 of a generated 2025 certificate with a real QR code naming its values."""
    pages, expected = make_certificate("2025", seed=7)
    image, box = with_qr(pages[0], qr_text(expected["fields"]))
    return image, box, expected["fields"]


def test_the_qr_code_at_the_top_right_is_decoded_with_its_box(certificate_with_qr):
    image, box, fields = certificate_with_qr
    [code] = read_qr_codes(image, page=0)
    assert code.text.startswith(f"SỐ PHÁT HÀNH: {fields['serial']};")
    assert code.page == 0
    assert abs(code.box[0] - box[0]) < 30 and abs(code.box[3] - box[3]) < 30
    assert code.box[0] > image.width * 0.7 and code.box[1] < image.height * 0.2
    assert parse_qr(code.text) == {
        "serial": fields["serial"],
        "parcel_number": fields["parcel_number"],
        "map_sheet": fields["map_sheet"],
        "area_m2": pytest.approx(fields["area_m2"]),
    }


def test_a_field_the_qr_code_contradicts_is_flagged_qr_says(certificate_with_qr):
    image, _, fields = certificate_with_qr
    [code] = read_qr_codes(image, page=0)
    # Given the print read with another parcel number than the code's, the same sheet
    lines = [
        "2. Thông tin thửa đất:",
        f"a. Thửa đất số: {int(fields['parcel_number']) + 1}; tờ bản đồ số: {fields['map_sheet']}",
        "b. Diện tích: 50,0 m²",
    ]
    got = extract_certificate([page_of(lines)], qr=[code]).to_json()
    review = got["review"]
    assert review["parcel_number"]["needs_review"] is True
    assert review["parcel_number"]["reason"] == f"QR says {fields['parcel_number']}"
    assert review["map_sheet"]["needs_review"] is False
    assert review["area_m2"]["reason"].startswith("QR says")
    assert "QR says" in review["serial"]["reason"]  # the print's serial was not read
    assert review["parcel_number"]["codes"] == ["qr_disagrees"]
    assert review["parcel_number"]["args"] == {"qr": fields["parcel_number"]}
    assert review["serial"]["codes"] == ["qr_disagrees"], "'not read' gives way to the QR's"
    assert got["qr"]["codes"][0]["text"] == code.text
    assert got["qr"]["fields"]["parcel_number"] == fields["parcel_number"]


def test_qr_content_is_restricted_and_an_unknown_format_is_kept_raw():
    code = QrCode("https://dichvucong.example/gcn?id=8f3a", 0, (10, 10, 60, 60))
    result = extract_certificate([page_of(SECTION_II)], qr=[code])
    assert result.to_json()["qr"] == {"codes": [code.to_json()], "fields": {}}
    public = result.public_json()
    assert "qr" not in public and "qr" not in public["provenance"]
    assert parse_qr("SERIAL=AA 06654954|SO TO=7") == {"serial": "AA 06654954", "map_sheet": "7"}
    assert parse_qr('{"soThuTuThua": "93", "soHieuToBanDo": "12"}') == {
        "parcel_number": "93",
        "map_sheet": "12",
    }


def test_a_page_without_a_qr_code_gives_none_and_a_non_certificate_no_fields():
    pages, _ = make_certificate("2009-2024", seed=3)
    assert read_qr_codes(pages[1], page=1) == []
    prose = ["Điều 1. Giao cho Ủy ban nhân dân phường kiểm tra hiện trạng thửa đất số 125"]
    code = QrCode("SỐ PHÁT HÀNH: AA 06654954", 0, (10, 10, 60, 60))
    got = extract_certificate([page_of(prose)], qr=[code]).to_json()
    assert got["kind"] == "other" and got["fields"] == {} and got["review"] == {}


def test_the_qr_codes_box_is_blacked_out_in_public_derivatives():
    from pipeline.redaction import certificate_restrictions

    code = QrCode("SỐ PHÁT HÀNH: AA 06654954", 0, (1900, 170, 2136, 406))
    result = extract_certificate([page_of(SECTION_II, page=0)], qr=[code]).to_json()
    _, areas = certificate_restrictions(result)
    assert code.box in areas[0]
