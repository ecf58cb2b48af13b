"""`sohoa review blank ID`: the fields a photo does not hold (page 1 of a booklet) left blank
in one go, as the review page's Alt+B, by the operator; they no longer wait in the queue.
`sohoa review join ID OTHER`: the photo takes the other photo's parcel fields (Alt+L)."""

from __future__ import annotations

import json

from tests.helpers import make_services, sohoa
from tests.web.test_review_queue import certificate

PAGE_1 = [
    "GIẤY CHỨNG NHẬN",
    "QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT",
    "I. Người sử dụng đất, chủ sở hữu nhà ở và tài sản khác gắn liền với đất",
]


def test_blank_settles_the_fields_not_read_by_the_operator(tmp_path):
    svc = make_services(tmp_path)
    cid = str(certificate(svc, tmp_path, "trang-1.png", PAGE_1, 64))
    svc.close()
    env = {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_OPERATOR": "hoa"}
    before = json.loads(sohoa("review", "--json", env=env).stdout)["figures"]
    assert before["needs_review"] > 0
    run = sohoa("review", "blank", cid, "--json", env=env)
    assert run.returncode == 0, run.stderr
    view = json.loads(run.stdout)
    assert {f["status"] for f in view["status"].values()} == {"left_blank"}  # not corrected
    assert {f["by"] for f in view["status"].values()} == {"person:hoa"}
    after = json.loads(sohoa("review", "--json", env=env).stdout)["figures"]
    assert after["needs_review"] == after["corrected"] == 0
    assert after["left_blank"] == before["needs_review"]
    shown = sohoa("review", env=env).stdout
    assert f"left blank {before['needs_review']}" in shown


def test_join_takes_the_other_photos_parcel_by_the_operator(tmp_path):
    from tests.web.test_review_walk import SECTION_II

    svc = make_services(tmp_path)
    page_1 = str(certificate(svc, tmp_path, "IMG_0001.png", PAGE_1, 64))
    spread = str(certificate(svc, tmp_path, "IMG_0002.png", SECTION_II, 65))
    svc.close()
    env = {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_OPERATOR": "hoa"}
    run = sohoa("review", "join", page_1, spread, "--json", env=env)
    assert run.returncode == 0, run.stderr
    view = json.loads(run.stdout)
    assert view["fields"]["parcel_number"] == "45" and view["fields"]["map_sheet"] == "12"
    assert view["status"]["parcel_number"]["by"] == "person:hoa"
    assert view["review_summary"]["needs_review"] == 0
    assert sohoa("review", "join", page_1, "nope", env=env).returncode != 0
