"""The archivist's day, end to end: a pile of phone photos of a certificate (page 1, and pages
2–3 photographed open side by side) and a bank statement, ingested as land certificates and
read by the real workers (Tesseract); the review queue, weakest first; the archivist works
through it on the web (Enter accepts, typing corrects, the fields not on a photo left blank
in one go or joined to the parcel of the certificate's other photo, each settled
certificate leading to the next); the land officer then finds the
parcel with the corrected values and the certificate as their source, and the queue's
figures count what was done."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from pipeline.presenters import fields_view
from pipeline.settings import WebSettings
from pipeline.usecases.accounts import add_user
from pipeline.usecases.review import review_queue
from scanners.cli.ingest import ingest_paths
from tests.conftest import SHARED_DATA, need
from tests.factories.certificate_photos import (
    bank_statement_like,
    photograph,
    photograph_certificate,
)
from tests.helpers import make_services
from tests.web.conftest import PASSWORD, csrf_of, login
from web.app import create_app
from workers.runtime import Runtime, wait_until_settled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pile(tmp_path_factory):
    """Three photos ingested as land certificates and read; the certificate's expected values."""
    need(SHARED_DATA.is_dir(), f"sample data folder {SHARED_DATA} is absent")
    tmp = tmp_path_factory.mktemp("review-flow")
    gazetteer = SHARED_DATA / "heritage" / "admin_units_vn"
    svc = make_services(tmp, SOHOA_GAZETTEER_DIR=str(gazetteer), SOHOA_WORKER_THREADS="2")
    shots, expected = photograph_certificate("2009-2024", seed=21)
    folder = tmp / "pile"
    folder.mkdir()
    shots[0].save(folder / "IMG_0001.jpg", quality=85)  # page 1: owners and serial
    shots[1].save(folder / "IMG_0002.jpg", quality=85)  # pages 2–3: the parcel
    photograph(bank_statement_like(3), seed=3, seal=False).save(folder / "IMG_0003.jpg")
    results = ingest_paths(svc, [folder], "land-certificate", None, as_json=True)
    ids = {r.path.rsplit("/", 1)[-1]: UUID(r.capture_id) for r in results}
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, ids.values(), timeout_s=900)
    assert set(states.values()) == {"done"}, states
    add_user(svc.store, "lan", "archivist", PASSWORD)
    add_user(svc.store, "minh", "officer", PASSWORD)
    app = create_app(svc, WebSettings())
    yield svc, app, ids, expected["fields"]
    svc.close()


def submit(client: TestClient, cid: UUID, action: str, data: dict[str, str]) -> str:
    """Post one of the certificate page's forms as Enter does; returns where it leads."""
    token = csrf_of(client.get(f"/staff/review/{cid}").text)
    answer = client.post(
        f"/staff/review/{cid}/{action}", data={**data, "csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def waiting(svc, cid: UUID) -> list[str]:
    status = fields_view(svc.store.capture(cid))["status"]
    return [n for n, f in status.items() if f["needs_review"]]


@pytest.fixture(scope="module")
def worked(pile):
    """The archivist's walk on the web, from the queue's first certificate to its end: the
    queue before, and where each key led."""
    svc, app, ids, want = pile
    page_1, spread = ids["IMG_0001.jpg"], ids["IMG_0002.jpg"]
    before = review_queue(svc)
    archivist = login(TestClient(app), "lan")
    start = archivist.get("/staff/review").text
    join = f"join/{spread}"  # page 1 holds no parcel fields: it joins the spread's parcel
    led = {"join": submit(archivist, page_1, join, {})}
    led["accept"] = submit(archivist, spread, "fields/issue_date", {"value": want["issue_date"]})
    submit(archivist, spread, "fields/area_m2", {"value": "1400,5", "reason": "đo lại"})
    for name in waiting(svc, spread):  # the serial, printed on page 1, typed from it
        led["last"] = submit(archivist, spread, f"fields/{name}", {"value": str(want[name])})
    return before, start, led


def test_the_queue_holds_the_certificates_photos_weakest_first(pile, worked):
    svc, _, ids, _ = pile
    before, start, _ = worked
    page_1, spread = ids["IMG_0001.jpg"], ids["IMG_0002.jpg"]
    assert [r["id"] for r in before["rows"]] == [str(page_1), str(spread)]
    assert svc.store.capture(ids["IMG_0003.jpg"]).fields["result"]["kind"] == "other"
    assert re.search(rf'id="start" href="/staff/review/{page_1}"', start)


def test_each_key_leads_on_until_the_queue_is_done(pile, worked):
    _, _, ids, _ = pile
    page_1, spread = ids["IMG_0001.jpg"], ids["IMG_0002.jpg"]
    _, _, led = worked
    assert led["join"] == f"/staff/review/{spread}?done={page_1}"
    assert led["accept"] == f"/staff/review/{spread}"  # the serial still waits
    assert led["last"] == f"/staff/review?done={spread}"


def test_corrections_and_acceptances_are_events_with_who_and_when(pile, worked):
    svc, _, ids, _ = pile
    history = svc.store.history(ids["IMG_0002.jpg"])
    corrected = [e for e in history if e.event == "Capture.FieldCorrected"]
    assert {"area_m2", "serial"} <= {e.data["field"] for e in corrected}
    assert all(e.data["by"] == "person:lan" and e.timestamp for e in corrected)
    accepted = [e.data["field"] for e in history if e.event == "Capture.FieldAccepted"]
    assert accepted == ["issue_date"]


def test_the_queues_figures_count_what_was_done(pile, worked):
    svc, _, ids, _ = pile
    figures = review_queue(svc)["figures"]
    corrections = sum(len(svc.store.capture(c).corrections) for c in ids.values())
    blanks = sum(len(svc.store.capture(c).blanks) for c in ids.values())
    assert figures["needs_review"] == 0 and figures["accepted"] == 1
    assert figures["corrected"] == corrections >= 3
    assert figures["left_blank"] == blanks > 0  # page 1's parcel fields: apart, not corrected
    page_1 = fields_view(svc.store.capture(ids["IMG_0001.jpg"]))["status"]
    assert {f["status"] for f in page_1.values()} <= {"corrected", "left_blank", "read"}


def test_the_officer_finds_the_parcel_with_the_corrected_values_from_the_certificate(pile, worked):
    svc, app, ids, want = pile
    spread = ids["IMG_0002.jpg"]
    record_id = fields_view(svc.store.capture(spread))["record_id"]
    parcel = svc.store.record(UUID(record_id))
    assert (parcel.key["sheet"], parcel.key["number"]) == (want["map_sheet"], want["parcel_number"])
    officer = login(TestClient(app), "minh")
    shown = officer.get(f"/api/land/parcels/{record_id}").json()
    attributes = shown["record"]["attributes"]
    assert attributes["area_m2"] == 1400.5 and attributes["serial"] == want["serial"]
    source = shown["record"]["provenance"]
    assert source["area_m2"].startswith(f"person:lan via capture:{spread}")
    assert source["issue_date"].startswith(f"capture:{spread}")
    assert {str(spread), str(ids["IMG_0001.jpg"])} <= set(shown["documents"])
    assert len(attributes["owners"]) == 2  # read on page 1, which joined the parcel
    html = officer.get(f"/land/parcels/{record_id}", params={"lang": "en"}).text
    assert "1 400.5" in html and "IMG_0002.jpg" in html
    area = html.split('<td data-attribute="area_m2">')[1].split("</tr>")[0]
    assert "corrected by lan on" in area and "IMG_0002.jpg" in area  # who, on the page too
