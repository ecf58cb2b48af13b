"""The archivist's walk through the review queue, on certificates read as OCR would give them
(no Tesseract) with the real unit tables: a settled certificate leads to the next, a photo
without the parcel's page is left blank in one go, the page says which parcel the values went
to or why none and what to do, a corrected parcel number moves the values to the parcel it
names, and the queue says what to do when it is empty or done."""

from __future__ import annotations

import re

import pytest

from models.ids import parcel_id
from pipeline.presenters import fields_view
from pipeline.usecases.certificates import (
    PARCEL_PROBLEMS,
    correct_fields,
    join_certificate,
    leave_blank,
    parcel_status,
)
from pipeline.usecases.review import same_certificate
from tests.conftest import SHARED_DATA, need
from tests.helpers import make_services
from tests.web.conftest import csrf_of
from tests.web.test_review_queue import GARBLED, certificate
from web.labels import PARCEL_PROBLEMS as PROBLEM_LABELS

YEN_NGHIA = "09562"  # Phường Yên Nghĩa, quận Hà Đông (before 2025)
SECTION_II = [
    "II. Thửa đất, nhà ở và tài sản khác gắn liền với đất",
    "a) Thửa đất số: 45, tờ bản đồ số: 12",
    "b) Địa chỉ: phường Yên Nghĩa, quận Hà Đông, thành phố Hà Nội",
    *GARBLED[3:7],
    "g) Nguồn gốc sử dụng: Nhà nước giao đất có thu tiền sử dụng đất",
    *GARBLED[7:],
]
SECTION_I = [  # page 1 of a booklet: no parcel fields on it
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "GIẤY CHỨNG NHẬN",
    "QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT",
    "I. Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất",
]


@pytest.fixture
def svc(tmp_path):
    need(SHARED_DATA.is_dir(), f"sample data folder {SHARED_DATA} is absent")
    gazetteer = SHARED_DATA / "heritage" / "admin_units_vn"
    services = make_services(tmp_path, SOHOA_GAZETTEER_DIR=str(gazetteer))
    yield services
    services.close()


def post_field(client, cid, name: str, value: str):
    token = csrf_of(client.get(f"/staff/review/{cid}").text)
    return client.post(
        f"/staff/review/{cid}/fields/{name}",
        data={"value": value, "csrf_token": token},
        follow_redirects=False,
    )


def waiting(svc, cid) -> list[str]:
    status = fields_view(svc.store.capture(cid))["status"]
    return [n for n, f in status.items() if f["needs_review"]]


def test_the_last_field_settled_leads_to_the_next_certificate_saying_which_was_done(
    svc, archivist, tmp_path
):
    first = certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    second = certificate(svc, tmp_path, "gcn-2.png", GARBLED, 65)
    assert waiting(svc, first) == ["serial"]
    answer = post_field(archivist, first, "serial", "BV 999451")
    assert answer.headers["location"] == f"/staff/review/{second}?done={first}"
    page = archivist.get(answer.headers["location"]).text
    done = re.search(r'<p class="done"[^>]*>(.*?)</p>', page, re.S).group(1)
    linked = parcel_id(YEN_NGHIA, "pre2025", "12", "45")
    assert "gcn-1.png" in done and f"/staff/records/{linked}" in done
    assert "thửa 45, tờ 12, Phường Yên Nghĩa" in done  # the ward by name, not its code
    # a field settled while others still wait stays on the certificate
    assert post_field(archivist, second, "area_m2", "120.5").headers["location"] == (
        f"/staff/review/{second}"
    )


def test_the_queue_after_the_last_certificate_says_nothing_is_left(svc, archivist, tmp_path):
    only = certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    answer = post_field(archivist, only, "serial", "BV 999451")
    assert answer.headers["location"] == f"/staff/review?done={only}"
    page = archivist.get(answer.headers["location"]).text
    assert 'id="all-done"' in page and 'id="start"' not in page and 'id="done"' in page


def test_an_empty_queue_says_how_to_bring_certificates_in(archivist):
    page = archivist.get("/staff/review").text
    assert "sohoa ingest" in page.split('id="empty"')[1][:400]
    assert 'id="start"' not in page and 'id="all-done"' not in page


def test_the_queue_starts_at_the_weakest_certificate_with_one_key(svc, archivist, tmp_path):
    certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    weak = certificate(svc, tmp_path, "gcn-2.png", GARBLED, 65)
    page = archivist.get("/staff/review").text
    assert re.search(rf'<a class="button" id="start" href="/staff/review/{weak}" autofocus>', page)


def test_a_photo_without_the_parcel_page_is_left_blank_in_one_go(svc, archivist, tmp_path):
    cid = certificate(svc, tmp_path, "trang-1.png", SECTION_I, 64)
    page = archivist.get(f"/staff/review/{cid}").text
    assert 'data-problem="not_on_pages"' in page and 'id="blank"' in page
    token = csrf_of(page)
    answer = archivist.post(
        f"/staff/review/{cid}/blank", data={"csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/staff/review?done={cid}"
    capture = svc.store.capture(cid)
    view = fields_view(capture)
    left = len(view["status"])
    assert view["review_summary"] | {"weakest": None} == {
        "needs_review": 0, "accepted": 0, "corrected": 0, "left_blank": left, "read": 0,
        "weakest": None,
    }  # fmt: skip
    assert {f["value"] for f in view["status"].values()} == {None}
    assert {(f["status"], f["by"]) for f in view["status"].values()} == {
        ("left_blank", "person:lan")
    }
    assert capture.corrections == {}  # not a correction: a blank is no value
    assert parcel_status(svc, capture)["problem"] == "left_blank"
    page = archivist.get(f"/staff/review/{cid}").text
    assert 'id="blank"' not in page and f'<span id="left-blank">{left}</span>' in page
    queue = archivist.get("/staff/review").text
    assert f'id="fig-left-blank">{left}<' in queue and 'id="fig-corrected">0<' in queue


def test_a_corrected_parcel_number_moves_the_values_to_the_parcel_it_names(svc, tmp_path):
    cid = certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    misread, right = (parcel_id(YEN_NGHIA, "pre2025", "12", n) for n in ("45", "46"))
    assert svc.store.capture(cid).fields["record_id"] == misread
    correct_fields(svc, cid, {"parcel_number": "46", "area_m2": 121.0}, "đọc nhầm", "person:lan")
    parcel = svc.store.record(right)
    assert parcel.attributes["parcel_number"] == "46" and parcel.attributes["area_m2"] == 121.0
    assert parcel.provenance["area_m2"].startswith(f"person:lan via capture:{cid}")
    assert cid in parcel.captures
    assert parcel_status(svc, svc.store.capture(cid))["id"] == str(right)


def test_the_misread_parcel_gives_back_the_certificate_and_its_values(svc, tmp_path):
    cid = certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    misread = parcel_id(YEN_NGHIA, "pre2025", "12", "45")
    svc.store.correct_attributes(misread, {"note": "kept"}, by="minh")  # not the certificate's
    read = set(svc.store.record(misread).capture_values(cid))
    assert {"parcel_number", "area_m2", "address"} <= read
    correct_fields(svc, cid, {"parcel_number": "46"}, "đọc nhầm", "person:lan")
    wrong = svc.store.record(misread)
    assert cid not in wrong.captures and wrong.capture_values(cid) == []
    assert not read & set(wrong.attributes) and wrong.attributes["note"] == "kept"
    [withdrawn] = [e for e in svc.store.history(misread) if e.event.endswith("ValuesWithdrawn")]
    assert withdrawn.data["by"] == "person:lan" and withdrawn.data["unlinked"] is True
    assert set(withdrawn.data["names"]) == read and withdrawn.data["reason"]
    recorded = [e for e in svc.store.history(misread) if e.event.endswith("AttributesRecorded")]
    assert any(e.data["attributes"].get("area_m2") == 120.5 for e in recorded)  # history kept
    # corrected again, to a third parcel: the second gives the certificate back in turn
    correct_fields(svc, cid, {"parcel_number": "47"}, "vẫn nhầm", "person:lan")
    second = svc.store.record(parcel_id(YEN_NGHIA, "pre2025", "12", "46"))
    assert cid not in second.captures and second.capture_values(cid) == []
    third = svc.store.record(parcel_id(YEN_NGHIA, "pre2025", "12", "47"))
    assert cid in third.captures and third.attributes["area_m2"] == 120.5


def test_a_value_emptied_on_the_review_page_is_left_blank_and_leaves_the_parcel(
    svc, archivist, tmp_path
):
    cid = certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    linked = parcel_id(YEN_NGHIA, "pre2025", "12", "45")
    assert "origin" in svc.store.record(linked).attributes
    post_field(archivist, cid, "origin", "")
    status = fields_view(svc.store.capture(cid))["status"]["origin"]
    assert (status["status"], status["value"], status["by"]) == ("left_blank", None, "person:lan")
    parcel = svc.store.record(linked)
    assert "origin" not in parcel.attributes and cid in parcel.captures
    # a later correction wins over the blank, and reaches the parcel
    post_field(archivist, cid, "origin", "Nhà nước giao đất")
    status = fields_view(svc.store.capture(cid))["status"]["origin"]
    assert (status["status"], status["value"]) == ("corrected", "Nhà nước giao đất")
    assert svc.store.record(linked).attributes["origin"] == "Nhà nước giao đất"


def test_the_page_says_why_no_parcel_and_the_correction_that_links_it(svc, archivist, tmp_path):
    lines = [*SECTION_II]
    lines[2] = "b) Địa chỉ: phường Không Có Thật, quận Hà Đông, thành phố Hà Nội"
    cid = certificate(svc, tmp_path, "gcn-1.png", lines, 64)
    page = archivist.get(f"/staff/review/{cid}").text
    assert 'data-problem="unit_unknown"' in page and "“Không Có Thật”" in page
    assert "Kiểm tra chính tả địa chỉ" in page
    address = "phường Yên Nghĩa, quận Hà Đông, thành phố Hà Nội"
    post_field(archivist, cid, "address", address)
    page = archivist.get(f"/staff/review/{cid}").text
    linked = parcel_id(YEN_NGHIA, "pre2025", "12", "45")
    assert f'href="/staff/records/{linked}"' in page.split('id="parcel"')[1][:600]
    assert svc.store.record(linked).attributes["address"] == address


def test_a_ward_named_in_two_provinces_is_found_in_the_one_the_address_names(svc, tmp_path):
    lines = [*SECTION_II]
    lines[2] = "b) Địa chỉ: phường Hà Đông, thành phố Hà Nội"
    lines[lines.index(GARBLED[7])] = "Hà Nội, ngày 12 tháng 9 năm 2025"
    cid = certificate(svc, tmp_path, "gcn-1.png", lines, 64)
    status = parcel_status(svc, svc.store.capture(cid))
    assert status["key"] == {"unit_code": "09556", "era": "2025", "sheet": "12", "number": "45"}


def test_without_the_unit_tables_the_page_says_to_configure_them(tmp_path, archivist):
    bare = make_services(tmp_path / "bare")
    try:
        cid = certificate(bare, tmp_path, "gcn-1.png", SECTION_II, 64)
        assert parcel_status(bare, bare.store.capture(cid))["problem"] == "no_gazetteer"
    finally:
        bare.close()


def test_leaving_blank_touches_only_fields_with_no_value(svc, tmp_path):
    cid = certificate(svc, tmp_path, "gcn-1.png", GARBLED, 64)
    before = fields_view(svc.store.capture(cid))["status"]
    left = leave_blank(svc, cid, "person:lan")
    assert left == sorted(n for n, f in before.items() if f["needs_review"] and f["value"] is None)
    after = fields_view(svc.store.capture(cid))["status"]
    assert all(after[n] == before[n] for n in before if n not in left)


def test_every_parcel_problem_has_a_vietnamese_and_an_english_label():
    codes = {*PARCEL_PROBLEMS, "left_blank", "not_on_pages", "not_recorded"}
    assert codes == set(PROBLEM_LABELS)
    assert all(vi and en and vi != en for vi, en in PROBLEM_LABELS.values())


def test_the_capture_page_names_fields_and_reasons_in_the_readers_language(
    svc, archivist, tmp_path
):
    cid = certificate(svc, tmp_path, "gcn-1.png", GARBLED, 64)
    page = archivist.get(f"/staff/captures/{cid}").text
    row = page.split('<tr data-field="parcel_number"')[1].split("</tr>")[0]
    assert "Thửa đất số" in row and 'data-codes="format">sai định dạng<' in row
    english = archivist.get(f"/staff/captures/{cid}", params={"lang": "en"}).text
    row = english.split('<tr data-field="parcel_number"')[1].split("</tr>")[0]
    assert "Parcel number" in row and "not in the field&#39;s format" in row


def test_a_photo_of_page_1_joins_the_parcel_of_the_same_certificates_spread(
    svc, archivist, tmp_path
):
    page_1 = certificate(svc, tmp_path, "IMG_0001.png", SECTION_I, 64)
    spread = certificate(svc, tmp_path, "IMG_0002.png", SECTION_II, 65)
    linked = parcel_id(YEN_NGHIA, "pre2025", "12", "45")
    page = archivist.get(f"/staff/review/{page_1}").text
    join = re.search(r'<form method="post" action="(/staff/review/[^"]+/join/[^"]+)"', page)
    assert join and join.group(1) == f"/staff/review/{page_1}/join/{spread}"
    assert "IMG_0002.png" in page.split('id="same"')[1][:800]
    answer = archivist.post(
        join.group(1), data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert answer.headers["location"] == f"/staff/review/{spread}?done={page_1}"
    capture = svc.store.capture(page_1)
    assert capture.corrections["parcel_number"]["reason"] == "same certificate as IMG_0002.png"
    assert waiting(svc, page_1) == []
    assert parcel_status(svc, capture)["id"] == str(linked)
    assert page_1 in svc.store.record(linked).captures
    itself = archivist.post(
        f"/staff/review/{spread}/join/{spread}", data={"csrf_token": csrf_of(page)}
    )
    assert itself.status_code == 409


def test_a_certificate_with_its_parcel_is_offered_no_other_photos_parcel(svc, archivist, tmp_path):
    certificate(svc, tmp_path, "IMG_0001.png", SECTION_II, 64)
    other = certificate(svc, tmp_path, "IMG_0002.png", SECTION_II[:1] + SECTION_II[2:], 65)
    lone = certificate(svc, tmp_path, "IMG_0003.png", SECTION_II, 66)
    assert 'id="same"' in archivist.get(f"/staff/review/{other}").text  # its number missing
    assert 'id="same"' not in archivist.get(f"/staff/review/{lone}").text


def spread_of(number: str) -> list[str]:
    return [SECTION_II[0], f"a) Thửa đất số: {number}, tờ bản đồ số: 12", *SECTION_II[2:]]


def test_a_page_1_photo_is_offered_the_photo_after_it_first(svc, tmp_path):
    certificate(svc, tmp_path, "IMG_0001.png", spread_of("45"), 64)  # the previous booklet
    page_1 = certificate(svc, tmp_path, "IMG_0002.png", SECTION_I, 65)
    certificate(svc, tmp_path, "IMG_0003.png", spread_of("46"), 66)  # its own pages 2–3
    offered = same_certificate(svc, str(page_1))
    assert [o["name"] for o in offered] == ["IMG_0003.png", "IMG_0001.png"]
    assert offered[0]["parcel"]["key"]["number"] == "46"


def test_a_photo_that_joined_a_parcel_is_never_offered_to_another(svc, tmp_path):
    spread = certificate(svc, tmp_path, "IMG_0001.png", spread_of("45"), 64)
    first = certificate(svc, tmp_path, "IMG_0002.png", SECTION_I, 65)
    second = certificate(svc, tmp_path, "IMG_0003.png", SECTION_I, 66)
    join_certificate(svc, first, spread, "person:lan")
    assert [o["id"] for o in same_certificate(svc, str(second))] == [str(spread)]


def test_a_finished_certificate_opened_again_stays_open_after_a_change(svc, archivist, tmp_path):
    done = certificate(svc, tmp_path, "gcn-1.png", SECTION_II, 64)
    certificate(svc, tmp_path, "gcn-2.png", GARBLED, 65)
    post_field(archivist, done, "serial", "BV 999451")  # finished: on to the next
    assert post_field(archivist, done, "area_m2", "121").headers["location"] == (
        f"/staff/review/{done}"
    )
