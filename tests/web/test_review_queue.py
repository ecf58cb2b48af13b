"""The archivists' review queue: a certificate's pages recorded as OCR would give them (no
Tesseract), the real fields job (validation, QR decoding on the stored page images), then the
queue ordered weakest first, a field's crop, raw reading and reason, Enter to accept and typing
to correct (both events, both in the figures and in `sohoa fields --json`'s view)."""

from __future__ import annotations

from uuid import UUID

import pytest

from pipeline.jobs.execute import Attempt
from pipeline.jobs.fields import run_fields
from pipeline.jobs.inspection import run_inspect
from pipeline.presenters import fields_view
from pipeline.usecases.accounts import audit_entries
from scanners.cli.ingest import ingest_paths
from tests.factories import samples
from tests.web.conftest import csrf_of
from tests.web.records import read_pages

GARBLED = [
    "II. Thửa đất, nhà ở và tài sản khác gắn liền với đất",
    "a) Thửa đất số: 4#5, tờ bản đồ số: 12",
    "b) Địa chỉ: phường Dịch Vọng, quận Cầu Giấy, thành phố Hà Nội",
    "c) Diện tích: 120,5 m2",
    "d) Hình thức sử dụng: Sử dụng riêng",
    "đ) Mục đích sử dụng: Đất ở tại đô thị",
    "e) Thời hạn sử dụng: Lâu dài",
    "Hà Nội, ngày 12 tháng 3 năm 2014",
    "TM. ỦY BAN NHÂN DÂN",
    "QUẬN CẦU GIẤY",
    "Số vào sổ cấp GCN: CH 01583",
]


def certificate(svc, folder, name: str, lines: list[str], width: int) -> UUID:
    """A land-certificate capture whose page was read as `lines`, and its fields job run."""
    scan = samples.make_png(folder / name, width, 48)
    [r] = ingest_paths(svc, [scan], "land-certificate", None, True)
    cid = UUID(r.capture_id)
    run_inspect(svc, cid, Attempt(1, False))
    read_pages(svc, cid, [lines], size=(1300, 620))
    run_fields(svc, cid, 1, Attempt(1, False))
    return cid


@pytest.fixture
def queue(svc, tmp_path):
    garbled = certificate(svc, tmp_path, "gcn-1.png", GARBLED, 64)
    clean = [GARBLED[0], "a) Thửa đất số: 45, tờ bản đồ số: 12", *GARBLED[2:]]
    tidy = certificate(svc, tmp_path, "gcn-2.png", clean, 65)
    return garbled, tidy


def test_garbage_reaches_the_review_as_none_with_its_raw_reading(svc, queue):
    garbled, tidy = queue
    view = fields_view(svc.store.capture(garbled))
    assert view["fields"]["parcel_number"] is None
    status = view["status"]["parcel_number"]
    assert status["needs_review"] and status["raw"].startswith("4#5") and status["reason"]
    assert status["box"] and status["page"] == 0
    assert (
        view["status"]["area_m2"] | {"value": 120.5, "status": "read"} == view["status"]["area_m2"]
    )
    assert view["review_summary"]["needs_review"] >= 2  # the parcel, and the serial not read
    assert fields_view(svc.store.capture(tidy))["fields"]["parcel_number"] == "45"


def test_the_queue_lists_certificates_weakest_first_with_figures(svc, archivist, queue):
    garbled, tidy = queue
    page = archivist.get("/staff/review")
    assert page.status_code == 200
    html = page.text
    assert html.index(f"/staff/review/{garbled}") < html.index(f"/staff/review/{tidy}")
    assert 'id="fig-certificates">2<' in html
    assert "/staff/review" in archivist.get("/staff").text


def test_a_field_shows_its_crop_raw_reading_reason_and_labelled_box(svc, archivist, queue):
    garbled, _ = queue
    html = archivist.get(f"/staff/review/{garbled}").text
    status = fields_view(svc.store.capture(garbled))["status"]["parcel_number"]
    box = ",".join(map(str, status["box"]))
    assert f"/api/captures/{garbled}/pages/1/crop.jpg?box={box}" in html
    assert '<label for="v-parcel_number" title="parcel_number">Thửa đất số</label>' in html
    assert 'id="v-parcel_number" name="value" value="4#5' in html  # the raw reading to edit
    # the reason in the page's language (Vietnamese by default), its code beside it
    assert status["reason"] not in html.replace("&#39;", "'")
    assert 'data-codes="format">sai định dạng<' in html
    english = archivist.get(f"/staff/review/{garbled}", params={"lang": "en"}).text
    assert 'data-codes="format">not in the field&#39;s format<' in english
    # the weakest field waiting is focused, so Enter works at once
    first = html.index('id="f-')
    assert html.index("autofocus") > first
    crop = archivist.get(f"/api/captures/{garbled}/pages/1/crop.jpg", params={"box": box})
    assert crop.headers["content-type"] == "image/jpeg"
    capture_page = archivist.get(f"/staff/captures/{garbled}").text
    assert (
        f'href="/staff/review/{garbled}"' in capture_page and 'id="fields-waiting"' in capture_page
    )
    reads = [e for e in audit_entries(svc.store) if e["subject_id"] == str(garbled)]
    assert any(e["action"] == "review queue" for e in reads)


def post_field(client, cid, name: str, value: str):
    token = csrf_of(client.get(f"/staff/review/{cid}").text)
    return client.post(
        f"/staff/review/{cid}/fields/{name}",
        data={"value": value, "csrf_token": token},
        follow_redirects=False,
    )


def test_enter_accepts_typing_corrects_and_both_count(svc, archivist, queue):
    garbled, _ = queue
    # When the archivist types the parcel number the crop shows, and presses Enter on the area
    assert post_field(archivist, garbled, "parcel_number", "45").status_code == 303
    assert post_field(archivist, garbled, "area_m2", "120.5").status_code == 303
    # Then the parcel number is corrected, the area accepted, neither needs review any more
    view = fields_view(svc.store.capture(garbled))
    assert view["fields"]["parcel_number"] == "45"
    assert view["status"]["parcel_number"]["status"] == "corrected"
    assert view["status"]["area_m2"]["status"] == "accepted"
    assert not view["status"]["area_m2"]["needs_review"]
    assert view["status"]["area_m2"]["by"] == "person:lan"
    events = [e.event for e in svc.store.history(garbled)]
    assert "Capture.FieldCorrected" in events and "Capture.FieldAccepted" in events
    # and Enter again on the corrected value adds nothing
    post_field(archivist, garbled, "parcel_number", "45")
    events = [e.event for e in svc.store.history(garbled)]
    assert (
        events.count("Capture.FieldCorrected") == 1 and events.count("Capture.FieldAccepted") == 1
    )
    # and the figures count them
    html = archivist.get("/staff/review").text
    assert 'id="fig-accepted">1<' in html and 'id="fig-corrected">1<' in html
    # and the acceptance records the value the person saw
    assert view["acceptances"]["area_m2"]["value"] == 120.5


def test_accepting_by_api_and_refusals(svc, archivist, officer, public, queue):
    garbled, _ = queue
    r = archivist.post(f"/api/captures/{garbled}/fields/accept", json={"names": ["issuer"]})
    assert r.status_code == 200 and r.json()["status"]["issuer"]["status"] == "accepted"
    # a field with no value cannot be accepted: it stays waiting for a value
    r = archivist.post(f"/api/captures/{garbled}/fields/accept", json={"names": ["parcel_number"]})
    assert r.json()["status"]["parcel_number"]["needs_review"] is True
    assert post_field(archivist, garbled, "no_such_field", "1").status_code == 404
    assert officer.get(f"/staff/review/{garbled}").status_code == 403
    assert public.get("/staff/review", follow_redirects=False).status_code in (303, 401)


def synthetic(svc, n: int) -> None:
    """`n` certificates in the review table as the follower would write them (no captures):
    certificate i has i % 4 fields waiting and its weakest field at confidence i / n."""
    from pipeline.projections.captures import capture_tables

    tables = capture_tables(svc)
    tables.create()
    rows = [
        {
            "capture_id": f"00000000-0000-0000-0000-{i:012}", "received": i,
            "title": f"gcn-{i:05}.jpg", "waiting": i % 4, "accepted": 1, "corrected": 0,
            "left_blank": 0, "read": 9, "weakest": i / n,
        }
        for i in range(n)
    ]  # fmt: skip
    with tables.base.transaction(commit=True) as cursor:
        tables.review.write(cursor, [], rows)


def test_the_queue_pages_from_the_projection_weakest_first(svc, archivist):
    synthetic(svc, 120)
    html = archivist.get("/staff/review").text
    first = [int(n[:5]) for n in html.split(">gcn-")[1:]]
    assert len(first) == 50
    # waiting ones first (i % 4 != 0), by confidence: 1, 2, 3, 5, 6, 7 …
    assert first[:6] == [1, 2, 3, 5, 6, 7]
    assert 'id="fig-certificates">120<' in html and 'id="fig-needs-review">' in html
    assert 'rel="prev"' not in html
    last = archivist.get("/staff/review?page=3").text
    tail = [int(n[:5]) for n in last.split(">gcn-")[1:]]
    assert len(tail) == 20 and tail[-1] == 116, "the settled ones last, weakest first"
    assert 'rel="prev" href="/staff/review?page=2"' in last and 'rel="next"' not in last


def test_the_queue_is_rebuilt_on_a_database_older_than_its_table(svc, archivist, queue):
    from pipeline.projections.captures import capture_tables, current

    garbled, tidy = queue
    tables = current(svc)
    with tables.base.transaction(commit=True) as cursor:  # as before the review table existed
        cursor.execute("DROP TABLE certificate_review")
    tables._ready = False
    svc.__dict__.pop("_capture_tables")
    again = current(svc)
    assert [r["capture_id"] for r in again.review_page()] == [str(garbled), str(tidy)]
    assert sum(capture_tables(svc).counts().values()) == 2, "the capture counts replayed once"


def test_the_next_link_and_a_settled_certificate_move_in_the_queue(svc, archivist, queue):
    garbled, tidy = queue
    for name, f in fields_view(svc.store.capture(garbled))["status"].items():
        if f["needs_review"]:
            post_field(archivist, garbled, name, "1" if f["value"] is None else str(f["value"]))
    html = archivist.get("/staff/review").text
    assert html.index(f"/staff/review/{tidy}") < html.index(f"/staff/review/{garbled}")
