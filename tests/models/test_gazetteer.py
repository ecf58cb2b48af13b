"""The gazetteer on the real admin-unit files (../shared/data/heritage/admin_units_vn)."""

from __future__ import annotations

from collections import Counter

import pytest

from models.places.gazetteer import Gazetteer
from models.places.units import GazetteerDataError, Unit
from tests.conftest import SHARED_DATA, need

FOLDER = SHARED_DATA / "heritage" / "admin_units_vn"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    need(FOLDER.is_dir(), f"admin-unit data folder {FOLDER} is absent")
    return Gazetteer.load(FOLDER)


def old(gaz: Gazetteer, code: str) -> Unit:
    return gaz.by_code(code, "pre2025")


def new(gaz: Gazetteer, code: str) -> Unit:
    return gaz.by_code(code, "2025")


def codes(units) -> set[tuple[str, str]]:
    return {(u.era, u.code) for u in units}


# DOMAIN.md §3, "Verified examples": old ward (code), its old district, new ward (code), link.
VERIFIED = [
    ("00061", "Phường Hàng Bạc", "Quận Hoàn Kiếm", "00070", "Phường Hoàn Kiếm"),
    ("00088", "Phường Hàng Bài", "Quận Hoàn Kiếm", "00082", "Phường Cửa Nam"),
    ("00067", "Phường Chương Dương", "Quận Hoàn Kiếm", "00097", "Phường Hồng Hà"),
    ("00004", "Phường Trúc Bạch", "Quận Ba Đình", "00004", "Phường Ba Đình"),
    ("00031", "Phường Giảng Võ", "Quận Ba Đình", "00025", "Phường Giảng Võ"),
    ("00235", "Phường Thịnh Quang", "Quận Đống Đa", "00235", "Phường Đống Đa"),
    ("00160", "Phường Nghĩa Tân", "Quận Cầu Giấy", "00160", "Phường Nghĩa Đô"),
]


@pytest.mark.parametrize(("old_code", "old_name", "district", "new_code", "new_name"), VERIFIED)
def test_verified_examples_go_whole_into_one_new_ward(
    gaz, old_code, old_name, district, new_code, new_name
):
    # Given the old ward by its pre-2025 code
    ward = old(gaz, old_code)
    assert (ward.name, ward.district_name, ward.province_code) == (old_name, district, "01")
    # When its successors are asked for
    successors = gaz.successors(ward)
    # Then it went whole into the one new ward named in the resolution
    assert [(u.era, u.code, u.name, link) for u, link in successors] == [
        ("2025", new_code, new_name, "whole")
    ]
    assert (ward, "whole") in gaz.predecessors(successors[0][0])


def test_cong_vi_was_split_between_ngoc_ha_and_giang_vo(gaz):
    # Given old Phường Cống Vị (00007), Quận Ba Đình
    cong_vi = old(gaz, "00007")
    assert cong_vi.name == "Phường Cống Vị"
    # When / Then it is linked partially to Ngọc Hà (00008) and Giảng Võ (00025)
    assert [(u.code, u.name, link) for u, link in gaz.successors(cong_vi)] == [
        ("00008", "Phường Ngọc Hà", "partial"),
        ("00025", "Phường Giảng Võ", "partial"),
    ]
    # And each of those lists it among its predecessors, still partial
    for code in ("00008", "00025"):
        assert (cong_vi, "partial") in gaz.predecessors(new(gaz, code))


def test_codes_are_versioned_by_era(gaz):
    # Given codes the 2025 reform reused, Then each era reads its own unit
    assert old(gaz, "00004").name == "Phường Trúc Bạch"
    assert new(gaz, "00004").name == "Phường Ba Đình"
    assert old(gaz, "00031").name == new(gaz, "00025").name == "Phường Giảng Võ"
    assert old(gaz, "00025").name == "Phường Ngọc Khánh"
    assert old(gaz, "00004") != new(gaz, "00004")
    assert new(gaz, "00025").key == "2025:00025"
    assert gaz.by_code(25, "2025") == new(gaz, "00025")
    with pytest.raises(KeyError):
        gaz.by_code("99999", "2025")
    with pytest.raises(ValueError):
        gaz.by_code("00025", "2026")  # type: ignore[arg-type]


def test_hanoi_counts_before_and_after_the_reform(gaz):
    # Given the units of Hà Nội (province code 01 in both eras)
    after = [u for u in gaz.all("2025", "commune") if u.province_code == "01"]
    before = [u for u in gaz.all("pre2025", "commune") if u.province_code == "01"]
    districts = [u for u in gaz.all("pre2025", "district") if u.province_code == "01"]
    # Then the counts are Resolution 1656's: 126 = 51 phường + 75 xã, from 526 in 30 districts
    assert Counter(u.kind for u in after) == {"Phường": 51, "Xã": 75}
    assert Counter(u.kind for u in before) == {"Xã": 345, "Phường": 160, "Thị trấn": 21}
    assert len(before) == 526
    assert len(districts) == 30
    # And every old Hà Nội unit has a successor; 327 have exactly one (DOMAIN.md: 326 in dvhcvn)
    assert all(gaz.successors(u) for u in before)
    assert sum(len(gaz.successors(u)) == 1 for u in before) == 327


def test_country_counts(gaz):
    assert len(gaz.all("2025", "province")) == 34
    assert len(gaz.all("2025", "commune")) == 3321
    assert gaz.all("2025", "district") == []
    assert len(gaz.all("pre2025", "province")) == 63
    assert len(gaz.all("pre2025", "district")) == 696
    # 10,051 communes of the 2025-01-04 list plus 10 created later that the table names
    assert len(gaz.all("pre2025", "commune")) == 10061


def test_provinces_are_linked_whole(gaz):
    # Given old Hà Nội, Then it is new Hà Nội, whole, with the same code
    hanoi = gaz.successors(old(gaz, "01"))
    assert [(u.code, u.name, link) for u, link in hanoi] == [("01", "Thành phố Hà Nội", "whole")]
    # And codes were reused at province level too: old 44 is Quảng Bình, new 44 Quảng Trị
    assert old(gaz, "44").name == "Tỉnh Quảng Bình"
    assert new(gaz, "44").name == "Tỉnh Quảng Trị"
    assert {u.name for u, _ in gaz.predecessors(new(gaz, "44"))} == {
        "Tỉnh Quảng Bình",
        "Tỉnh Quảng Trị",
    }


@pytest.mark.parametrize(
    "query",
    ["Phường Giảng Võ", "Giảng Võ", "giang vo", "P. Giảng Võ", "P.Giảng Võ", "phuong giang vo"],
)
def test_find_by_name_with_or_without_prefix_or_accents(gaz, query):
    # When a name is looked up in any of its usual spellings
    found = gaz.find(query, province="Hà Nội")
    # Then both eras' Phường Giảng Võ come back
    assert codes(found) == {("pre2025", "00031"), ("2025", "00025")}


def test_find_filters(gaz):
    assert codes(gaz.find("giang vo", era="2025")) == {("2025", "00025")}
    assert codes(gaz.find("Giảng Võ", province="01", era="pre2025")) == {("pre2025", "00031")}
    # a district (old era) keeps the new wards that took over part of it
    assert codes(gaz.find("Giảng Võ", district="Quận Ba Đình")) == {
        ("pre2025", "00031"),
        ("2025", "00025"),
    }
    assert gaz.find("Giảng Võ", district="Quận Hoàn Kiếm") == []
    assert gaz.find("Giảng Võ", province="Tỉnh Cao Bằng") == []


def test_exact_accented_match_ranks_first(gaz):
    # Given two Hà Nội names that fold alike: Xuân Đỉnh (Bắc Từ Liêm) and Xuân Đình (Phúc Thọ)
    dinh_hoi = gaz.find("Xuân Đỉnh", province="Hà Nội")
    dinh_huyen = gaz.find("Xuân Đình", province="Hà Nội")
    # Then each accented query ranks its own spelling first, the other one after
    assert [u.name for u in dinh_hoi] == ["Phường Xuân Đỉnh", "Phường Xuân Đỉnh", "Xã Xuân Đình"]
    assert dinh_huyen[0].name == "Xã Xuân Đình"
    assert set(dinh_hoi) == set(dinh_huyen) == set(gaz.find("xuan dinh", province="Hà Nội"))
    # And tone placement does not count as a different accent (hoà = hòa)
    assert gaz.find("Phường Yên Hoà")[0].code == "00172"


def test_prefix_and_english_level_words_choose_the_level(gaz):
    # "Hoàn Kiếm" alone is both the old district and the new ward
    assert codes(gaz.find("hoan kiem")) == {("pre2025", "002"), ("2025", "00070")}
    for query in ("Quận Hoàn Kiếm", "Q. Hoàn Kiếm", "Hoàn Kiếm district", "quan hoan kiem"):
        assert codes(gaz.find(query)) == {("pre2025", "002")}, query
    assert codes(gaz.find("Hoan Kiem ward")) == {("2025", "00070")}
    assert gaz.find("Quận Hoàn Kiếm", era="2025") == []  # no districts after the reform
    for query in ("Hà Nội", "Hanoi", "TP. Hà Nội", "Thành phố Hà Nội"):
        assert codes(gaz.find(query)) == {("pre2025", "01"), ("2025", "01")}, query


def test_old_district_expands_to_the_new_wards_that_took_over_its_communes(gaz):
    for query in ("Quận Hoàn Kiếm", "Hoàn Kiếm district"):
        # When an old district name is expanded
        expanded = gaz.expand(query)
        # Then it gives the district, then the new wards holding its old wards
        assert expanded[0] == old(gaz, "002")
        new_codes = {u.code for u in expanded if u.era == "2025"}
        assert {"00070", "00082", "00097"} <= new_codes
        assert all(u.level == "commune" for u in expanded[1:])
    # And only as far as the old wards went: the district's link to each new ward is partial
    links = dict(gaz.successors(old(gaz, "002")))
    assert links[new(gaz, "00070")] == "partial"


def test_expansion_works_both_ways(gaz):
    # Old name → new unit: a record filed under Phường Ba Đình (2025) is found by "Trúc Bạch"
    assert ("2025", "00004") in codes(gaz.expand("Trúc Bạch", province="Hà Nội"))
    # New name → old units: "Phường Ba Đình" finds records filed under Trúc Bạch, Quán Thánh…
    expanded = codes(gaz.expand("Phường Ba Đình", province="Hà Nội"))
    assert {("pre2025", "00004"), ("pre2025", "00013")} <= expanded
    # A new ward's equivalents are old wards only, not whole old districts
    assert {u.level for u in gaz.equivalents(new(gaz, "00025"))} == {"commune"}
    assert codes(gaz.equivalents(new(gaz, "00025"), partial=False)) == {("pre2025", "00031")}
    assert ("pre2025", "001") in codes(u for u, _ in gaz.predecessors(new(gaz, "00025"), True))
    # "giang vo" finds both eras, and expands to the old wards merged into the new one
    assert {("pre2025", "00031"), ("2025", "00025"), ("pre2025", "00007")} <= codes(
        gaz.expand("giang vo")
    )


def test_unknown_name_gives_suggestions(gaz):
    # Given names that exist nowhere
    assert gaz.find("Giang Voo") == []
    # When suggestions are asked for, Then the closest known names come back
    assert gaz.suggest("Giang Voo")[0] == "Phường Giảng Võ"
    assert "Phường Hàng Bạc" in gaz.suggest("Phường Hàng Bacc", n=3)
    assert gaz.suggest("Quận Hoan Kiemm")[0] == "Quận Hoàn Kiếm"
    assert len(gaz.suggest("Giang Voo", n=2)) == 2
    assert gaz.suggest("Giang Voo", province="Hà Nội")[0] == "Phường Giảng Võ"
    assert gaz.suggest("zzzzqqq") == []


def test_table_code_typos_are_repaired(gaz):
    # The conversion table gives Xã Đặng Xá the code of Xã Cổ Bi (00553); the list says 00556
    dang_xa, co_bi = old(gaz, "00556"), old(gaz, "00553")
    assert (dang_xa.name, co_bi.name) == ("Xã Đặng Xá", "Xã Cổ Bi")
    assert {u.name for u, _ in gaz.successors(dang_xa)} == {"Xã Phù Đổng", "Xã Thuận An"}
    assert "Xã Thuận An" not in {u.name for u, _ in gaz.successors(co_bi)}
    assert any("00553" in p and "00556" in p for p in gaz.problems)


def test_unit_dates(gaz):
    ward = old(gaz, "00031")
    assert (ward.valid_from, str(ward.valid_until)) == (None, "2025-07-01")
    assert str(new(gaz, "00025").valid_from) == "2025-07-01"
    assert new(gaz, "00025").bare_name == "Giảng Võ"
    assert gaz.label(ward) == "Phường Giảng Võ, Quận Ba Đình, Thành phố Hà Nội (00031, pre2025)"


def test_a_folder_without_the_files_is_an_error(tmp_path):
    with pytest.raises(GazetteerDataError, match="lacks"):
        Gazetteer.load(tmp_path)
