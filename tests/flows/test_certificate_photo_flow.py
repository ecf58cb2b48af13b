"""A phone photo of a certificate's open booklet (pages 2–3 side by side, seal, perspective,
glare), ingested as a land certificate, is read on the workers as two pages and its fields
reach the capture; the page's record says what the photo preparation did."""

from __future__ import annotations

from uuid import UUID

import pytest

from pipeline.jobs.text import page_text
from scanners.cli.ingest import ingest_paths
from tests.conftest import SHARED_DATA, need
from tests.factories.certificate_photos import photograph, spread, stamp_seal
from tests.factories.certificates import make_certificate
from tests.helpers import make_services
from workers.runtime import Runtime, wait_until_settled


@pytest.fixture(scope="module")
def photographed(tmp_path_factory):
    import random

    need(SHARED_DATA.is_dir(), f"sample data folder {SHARED_DATA} is absent")
    tmp = tmp_path_factory.mktemp("certificate-photo")
    gazetteer = SHARED_DATA / "heritage" / "admin_units_vn"
    svc = make_services(tmp, SOHOA_GAZETTEER_DIR=str(gazetteer), SOHOA_WORKER_THREADS="2")
    pages, expected = make_certificate("2009-2024", seed=1005)
    left, right = (p.resize((p.width * 2 // 3, p.height * 2 // 3)) for p in pages[1:3])
    left = stamp_seal(left, random.Random(5), at=(0.5, 0.6))
    photo = tmp / "so-do-trang-2-3.jpg"
    photograph(spread(left, right), seed=5, seal=False).save(photo, quality=85)
    results = ingest_paths(svc, [photo], "land-certificate", None, as_json=True)
    capture_id = UUID(results[0].capture_id)
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, [capture_id], timeout_s=600)
    return svc, capture_id, states, expected


def test_the_open_booklet_is_read_as_its_two_pages_with_their_fields(photographed):
    svc, capture_id, states, expected = photographed
    assert states[capture_id] == "done"
    capture = svc.store.capture(capture_id)
    result = capture.fields["result"]
    assert result["kind"] == "land_certificate"
    assert result["pages"] == ["II", "III"]
    fields, want = result["fields"], expected["fields"]
    for name in ("parcel_number", "map_sheet", "issue_date", "purpose_code", "registry_number"):
        assert fields[name] == want[name], name
    assert fields["area_m2"] == pytest.approx(want["area_m2"], rel=0.005)
    assert len(result["corners"]) == len(expected["corners"])


def test_the_page_record_says_the_photo_was_flattened_and_split(photographed):
    svc, capture_id, _, _ = photographed
    capture = svc.store.capture(capture_id)
    (outcome,) = [o for o in capture.page_outcomes(1).values() if o["status"] == "done"]
    photo = page_text(svc, outcome).params["photo"]
    assert photo["photo"] is True and len(photo["page_corners"]) == 4
    assert len(photo["parts"]) == 2
