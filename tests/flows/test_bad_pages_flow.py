"""Bad pages inside good files, end to end: a PDF with broken pages and a TIFF cut short in its
last page are ingested, their good pages read, and each bad page recorded as failed with its
reason, which the archivist sees on the capture page."""

from __future__ import annotations

from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from pipeline.settings import WebSettings
from pipeline.usecases.accounts import add_user
from tests.factories.broken_pdf import write_scan_pdf
from tests.flows.test_text_flow import PAGES, ingest_and_wait, page_image, words, write_tiff
from tests.helpers import make_services
from tests.web.conftest import PASSWORD, login
from web.app import create_app


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-pages")
    svc = make_services(tmp, SOHOA_WORKER_THREADS="2")
    pdf = write_scan_pdf(
        tmp / "so-dia-chinh.pdf", ["good", "not a JPEG", "missing object"], page_image(PAGES[0])
    )
    whole = write_tiff(tmp / "whole.tif", [PAGES[0], PAGES[1], PAGES[1]])
    tiff = tmp / "quyet-dinh.tif"
    tiff.write_bytes(whole.read_bytes()[: whole.stat().st_size * 9 // 10])
    ids, states = ingest_and_wait(svc, [pdf, tiff])
    by_name = {svc.store.capture(i).title: i for i in ids}
    yield svc, by_name, states
    svc.close()


def test_a_pdf_s_broken_pages_are_recorded_with_reasons_and_its_good_page_read(damaged):
    svc, by_name, states = damaged
    capture = svc.store.capture(by_name["so-dia-chinh.pdf"])
    assert states[capture.id] == "partial"
    assert capture.text["pages"] == 3 and capture.text["pages_failed"] == [1, 2]
    assert "not a readable JPEG" in capture.outcomes["ocr/1/1"]["message"]
    assert "draws nothing" in capture.outcomes["ocr/1/2"]["message"]
    full = svc.blobs.read_bytes(capture.text["text_key"]).decode()
    assert {"quyet", "dinh"} <= words(full)


def test_a_tiff_cut_short_is_read_up_to_the_cut_and_its_last_page_recorded(damaged):
    svc, by_name, states = damaged
    capture = svc.store.capture(by_name["quyet-dinh.tif"])
    assert states[capture.id] == "partial"
    assert capture.inspection["bad_pages"][0]["page"] == 3
    assert capture.text["pages_failed"] == [2]
    assert "TIFF page 3 cannot be" in capture.outcomes["ocr/1/2"]["message"]
    full = svc.blobs.read_bytes(capture.text["text_key"]).decode()
    assert {"quyet", "dinh", "giao"} <= words(full)


def test_the_archivist_sees_each_failed_page_and_its_reason(damaged):
    svc, by_name, _ = damaged
    add_user(svc.store, "lan", "archivist", PASSWORD)
    client = login(TestClient(create_app(svc, WebSettings())), "lan")
    page = client.get(f"/staff/captures/{UUID(str(by_name['so-dia-chinh.pdf']))}").text
    assert "ocr/1/1" in page and "not a readable JPEG" in page
    assert "ocr/1/2" in page and "draws nothing" in page
