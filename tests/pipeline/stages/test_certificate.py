"""Land certificates: which section each page holds, and the fields read from it.

Generated certificates of both forms (tests/factories/certificates.py, known fictitious values) go
through the real OCR stage (Tesseract `-l vie`) and Vietnamese correction, clean and
degraded; a page of legal prose must come out as "other" with nothing invented. The OCR
habits (no diacritics, "m?", decimal comma, O/0 and l/1) are checked on hand-built page text.
Pages are OCR'd once per module, two at a time.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from pipeline.stages.certificate.sections import (
    RESTRICTED_FIELDS,
    classify_page,
    extract_certificate,
)
from pipeline.stages.pages.pagetext import PageText, Word
from tests.factories.certificates import (
    degrade,
    make_certificate,
    make_decree_page,
    ocr_page,
    score,
)

pytestmark = pytest.mark.slow

CLEAN_2009 = ("2009-2024", 1000, False, (0, 1, 2, 3))
DEGRADED_2009 = ("2009-2024", 1002, True, (0, 1, 2))
CLEAN_2025 = ("2025", 1001, False, (0, 1))


def _read(job):
    image, page = job
    return ocr_page(image, page)


@pytest.fixture(scope="module")
def read() -> dict[str, tuple[list[PageText], dict]]:
    """Every page the tests need, OCR'd once: three certificates and a page of prose."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    jobs, owners, expected = [], [], {}
    for name, (form, seed, degraded, pages) in {
        "clean_2009": CLEAN_2009,
        "degraded_2009": DEGRADED_2009,
        "clean_2025": CLEAN_2025,
    }.items():
        images, expected[name] = make_certificate(form, seed=seed)
        for i in pages:
            im = degrade(images[i], seed=(seed - 1000) * 10 + i) if degraded else images[i]
            jobs.append((im, i))
            owners.append(name)
    jobs.append((make_decree_page(0), 0))
    owners.append("decree")
    with ProcessPoolExecutor(2) as pool:
        texts = list(pool.map(_read, jobs))
    out: dict[str, tuple[list[PageText], dict]] = {}
    for name, text in zip(owners, texts, strict=True):
        out.setdefault(name, ([], expected.get(name, {})))[0].append(text)
    return out


# --- through Tesseract -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["clean_2009", "clean_2025", "degraded_2009"])
def test_every_field_of_a_generated_certificate_is_read_right(read, name):
    # Given the OCR'd pages of a certificate whose values are known
    pages, expected = read[name]
    # When its fields are extracted
    got = extract_certificate(pages).to_json()
    # Then it is a certificate of the right form, and every value is the printed one
    assert got["kind"] == "land_certificate"
    assert got["form"] == expected["form"]
    wrong = {k: got["fields"].get(k) for k, ok in score(got, expected).items() if not ok}
    assert wrong == {}, f"expected {expected['fields']}"
    assert isinstance(got["fields"]["area_m2"], float)
    # and the corner polygon's area agrees with the stated area
    check = got["area_check"]
    assert check["ok"] is True
    assert check["polygon_m2"] == pytest.approx(expected["fields"]["area_m2"], rel=0.005)


def test_each_page_of_both_forms_is_classified_as_its_section(read):
    for name in ("clean_2009", "clean_2025"):
        pages, expected = read[name]
        assert [classify_page(p) for p in pages] == expected["pages"]
    assert read["clean_2009"][1]["pages"] == ["I", "II", "III", "IV"]


def test_a_page_of_legal_prose_about_parcels_is_other_with_nothing_invented(read):
    # Given a decision that names a parcel number, map sheet, area and purpose in sentences
    pages, _ = read["decree"]
    assert any("thửa đất" in p.text for p in pages)  # the words are there
    # Then it is not a certificate, and no field, owner, corner or change is made up
    assert classify_page(pages[0]) == "other"
    got = extract_certificate(pages).to_json()
    assert got["kind"] == "other"
    assert got["fields"] == {} and got["provenance"] == {}
    assert got["owners"] == [] and got["corners"] == [] and got["changes"] == []


def test_non_certificate_pages_among_certificate_pages_are_ignored(read):
    pages = [read["decree"][0][0], *read["clean_2025"][0]]
    got = extract_certificate(pages).to_json()
    assert got["pages"] == ["other", "I", "III"]
    assert score(got, read["clean_2025"][1])["area_m2"]


def test_every_field_carries_its_page_box_and_confidence(read):
    pages, expected = read["clean_2009"]
    got = extract_certificate(pages).to_json()
    found = [k for k, v in got["fields"].items() if v is not None]
    assert set(found) <= set(got["provenance"])
    for name in found:
        where = got["provenance"][name]
        page = pages[where["page"]]
        x0, y0, x1, y1 = where["box"]
        assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
        assert 0 < where["confidence"] <= 1
    # the area's box is on the section II page and holds the printed number
    area = got["provenance"]["area_m2"]
    assert area["page"] == 1
    printed = f"{expected['fields']['area_m2']:.1f}".replace(".", ",")
    inside = [w.text for w in pages[1].words if _within(w.box, area["box"])]
    assert any(printed in t for t in inside), inside
    assert got["provenance"]["serial"]["page"] == 0
    assert got["provenance"]["corners"]["page"] == 2
    assert all(c["page"] == 2 and c["box"] for c in got["changes"])


def test_public_json_leaves_out_the_personal_data(read):
    pages, expected = read["clean_2009"]
    result = extract_certificate(pages)
    assert result.to_json()["owners"]
    public = result.public_json()
    assert "owners" not in public and "changes" not in public
    assert "serial" not in public["fields"] and "serial" not in public["provenance"]
    text = str(public)
    for owner in expected["owners"]:
        assert owner["name"] not in text and owner["id_number"] not in text
    assert public["fields"]["area_m2"] == pytest.approx(expected["fields"]["area_m2"])
    assert {"owners", "changes", "serial", "registry_number"} <= RESTRICTED_FIELDS


def _within(inner, outer) -> bool:
    return inner[0] >= outer[0] - 2 and inner[2] <= outer[2] + 2 and inner[1] >= outer[1] - 2


# --- hand-built page text: the OCR habits ----------------------------------------------------


def page_of(lines: list[str], page: int = 0, x: int = 200) -> PageText:
    """A PageText as OCR would give it: one word per token, 70 px per line, 300 dpi."""
    words = []
    for n, line in enumerate(lines):
        left = x
        for token in line.split():
            width = 24 * len(token)
            words.append(Word(token, (left, 100 + 70 * n, left + width, 145 + 70 * n), 90.0, 0, n))
            left += width + 20
    return PageText(
        page=page,
        text="\n".join(lines),
        words=words,
        width=2480,
        height=3508,
        dpi=300,
        mean_conf=90.0,
        source="ocr",
        engine="hand-built",
        lang="vie",
    )


SECTION_II_PLAIN = [
    "II. Thua dat, nha o va tai san khac gan lien voi dat",
    "1. Thua dat:",
    "a) Thua dat so: l2O, to ban do so: O5",
    "b) Dia chi: phuong Dich Vong, quan Cau Giay, thanh pho Ha Noi",
    "c) Dien tich: 1.234,5 m?, (bang chu: mot nghin hai tram ba muoi bon phay nam met vuong)",
    "d) Hinh thuc su dung: Su dung rieng",
    "d) Muc dich su dung: Dat o tai do thi",
    "e) Thoi han su dung: Lau dai",
    "g) Nguon goc su dung: Nha nuoc giao dat co thu tien su dung dat",
    "Ha Noi, ngay 12 thang 3 nam 2O14",
    "TM. UY BAN NHAN DAN",
    "QUAN CAU GIAY",
    "CHU TICH",
    "So vao so cap GCN: CH 0l234",
]


def test_labels_without_diacritics_and_digit_slips_are_read():
    got = extract_certificate([page_of(SECTION_II_PLAIN, page=1)]).to_json()
    assert got["kind"] == "land_certificate"
    assert got["pages"] == ["II"]
    f = got["fields"]
    assert (f["parcel_number"], f["map_sheet"]) == ("120", "05")
    assert f["area_m2"] == 1234.5
    assert f["purpose"] == "Đất ở tại đô thị" and f["purpose_code"] == "ODT"
    assert f["term"] == "Lâu dài" and f["use_form"] == "Sử dụng riêng"
    assert f["issue_date"] == "2014-03-12"
    assert f["issuer"] == "UY BAN NHAN DAN QUAN CAU GIAY"
    assert f["registry_number"] == "CH 01234"
    assert f["address"] == "phuong Dich Vong, quan Cau Giay, thanh pho Ha Noi"
    assert got["provenance"]["area_m2"]["page"] == 1


@pytest.mark.parametrize(
    ("printed", "area"),
    [
        ("120,5 m2", 120.5),
        ("120,5m²", 120.5),
        ("120,5 m?", 120.5),
        ("16484,0m?,", 16484.0),
        ("120.5 m2", 120.5),
        ("l2O,5 m", 120.5),
        ("9255,7m²", 9255.7),
    ],
)
def test_area_with_decimal_comma_and_any_unit_reading(printed, area):
    lines = ["II. Thửa đất, nhà ở và tài sản khác gắn liền với đất", f"c) Diện tích: {printed}"]
    assert extract_certificate([page_of(lines)]).to_json()["fields"]["area_m2"] == area


def test_floor_area_and_owner_address_are_not_taken_for_the_parcel():
    lines = [
        "II. Thửa đất, nhà ở và tài sản khác gắn liền với đất",
        "Địa chỉ thường trú: Số 5 phố Huế",
        "c) Diện tích sàn: 83,8 m2",
        "c) Diện tích: 16484,0 m2",
        "b) Địa chỉ: Khu đô thị mới Dương Nội",
    ]
    f = extract_certificate([page_of(lines)]).to_json()["fields"]
    assert f["area_m2"] == 16484.0
    assert f["address"] == "Khu đô thị mới Dương Nội"


def test_owners_with_ids_and_birth_years_from_section_one():
    lines = [
        "GIẤY CHỨNG NHẬN",
        "QUYỀN SỬ DỤNG ĐẤT",
        "I. Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất",
        "Ông: Trần Văn Bình",
        "Năm sinh: l968, CMND số: O12345678",
        "Bà: Lê Thị Hoa",
        "Năm sinh: 1970, CCCD số: 001170012345",
        "Hộ chiếu số: B1234567, nơi cấp: Cục QLXNC",
        "Địa chỉ thường trú: Số 5 phố Huế",
        "8V 999451",
    ]
    got = extract_certificate([page_of(lines)]).to_json()
    assert got["pages"] == ["I"]
    assert [
        {k: o[k] for k in ("name", "id_number", "birth_year", "id_kind")} for o in got["owners"]
    ] == [
        {"name": "Trần Văn Bình", "id_number": "012345678", "birth_year": 1968, "id_kind": "CMND"},
        {"name": "Lê Thị Hoa", "id_number": "001170012345", "birth_year": 1970, "id_kind": "CCCD"},
    ]
    assert got["fields"]["serial"] == "BV 999451"
    assert got["form"] == "2009-2024"


def test_2025_form_identifiers_and_inline_land_type():
    lines = [
        "1. Người sử dụng đất, chủ sở hữu tài sản gắn liền với đất:",
        "Ông: Phạm Văn Cường, CCCD: 001085012345",
        "2. Thông tin thửa đất:",
        "a. Thửa đất số 93; tờ bản đồ số 12",
        "b. Diện tích: 383,0 m²",
        "c. Loại đất: Đất ở tại nông thôn (ONT): 93,0 m²; "
        "Đất trồng cây hằng năm khác (HNK): 290,0 m²",
        "d. Thời hạn sử dụng đất: Đất ở tại nông thôn: Lâu dài; "
        "Đất trồng cây hằng năm khác: Đến ngày 17/12/2065",
        "AA 06654954",
        "Thông tin chi tiết được thể hiện tại mã QR",
    ]
    got = extract_certificate([page_of(lines)]).to_json()
    f = got["fields"]
    assert got["form"] == "2025"
    assert f["serial"] == "AA 06654954"
    assert (f["parcel_number"], f["map_sheet"], f["area_m2"]) == ("93", "12", 383.0)
    assert (f["purpose"], f["purpose_code"], f["term"]) == ("Đất ở tại nông thôn", "ONT", "Lâu dài")
    assert got["owners"][0]["id_number"] == "001085012345"
    assert got["owners"][0]["birth_year"] is None


def test_corner_table_with_grid_rules_and_a_misread_corner_fails_the_area_check():
    table = [
        "III. Sơ đồ thửa đất, nhà ở và tài sản khác gắn liền với đất",
        "BẢNG KÊ TỌA ĐỘ",
        "| Số hiệu điểm | X (m) | Y (m) |",
        "| 1 | 2330000,00 | 585000,00 |",
        "| 2 | 2330000,00 | 585010,00 |",
        "| 3 | 2330012,00 | 585010,00 |",
        "| 4 | 2330012,00 | 585000,00 |",
        "| 1 | 2330000,00 | 585000,00 |",
    ]
    stated = ["II. Thửa đất, nhà ở và tài sản khác gắn liền với đất", "c) Diện tích: 120,0 m2"]
    got = extract_certificate([page_of(stated), page_of(table, page=1)]).to_json()
    assert got["corners"] == [[585000.0, 2330000.0], [585010.0, 2330000.0],
                              [585010.0, 2330012.0], [585000.0, 2330012.0]]  # fmt: skip
    assert got["area_check"] == {"stated_m2": 120.0, "polygon_m2": 120.0, "ok": True}
    table[5] = "| 3 | 2330072,00 | 585010,00 |"  # a 1 read as 7
    got = extract_certificate([page_of(stated), page_of(table, page=1)]).to_json()
    assert got["area_check"]["ok"] is False


def test_changes_are_dated_entries():
    lines = [
        "IV. Những thay đổi sau khi cấp Giấy chứng nhận",
        "Nội dung thay đổi và cơ sở pháp lý",
        "Chuyển nhượng cho bà Ngô Thị Lan theo hồ sơ số 12/CN ngày 5 tháng 6 năm 2018",
    ]
    got = extract_certificate([page_of(lines)]).to_json()
    assert got["pages"] == ["IV"]
    assert [(c["date"], c["text"][:12]) for c in got["changes"]] == [("2018-06-05", "Chuyển nhượn")]


def test_prose_is_other():
    lines = [
        "Điều 1. Giao cho Ủy ban nhân dân phường kiểm tra hiện trạng thửa đất số 125, tờ bản đồ",
        "số 14, diện tích 86,5 mét vuông, mục đích sử dụng là đất ở tại đô thị, thời hạn sử",
        "dụng lâu dài. Giấy chứng nhận quyền sử dụng đất được cấp ngày 12/03/2014.",
    ]
    got = extract_certificate([page_of(lines)]).to_json()
    assert got["kind"] == "other" and got["fields"] == {}


@pytest.mark.parametrize(
    "signing", ["TM. ỦY BAN NHÂN DÂN", "IM . ỦY BAN NHÂN DÂN", "ỦY BAN NHÂN DÂN"]
)
def test_the_issuer_is_the_body_named_whatever_is_read_before_it(signing: str):
    lines = [*SECTION_II_PLAIN[:-5], "Hà Nội, ngày 12 tháng 3 năm 2014", signing, "QUẬN CẦU GIẤY"]
    got = extract_certificate([page_of(lines, page=1)]).to_json()
    assert got["fields"]["issuer"] == "ỦY BAN NHÂN DÂN QUẬN CẦU GIẤY"
