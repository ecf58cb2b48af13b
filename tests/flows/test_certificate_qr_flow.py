"""A 2025 certificate's page 1 with a real QR code, end to end: ingested, read on the workers,
its QR code decoded on the stored page image by the fields job, and the parcel number the QR
code contradicts sent to review ("QR says …"); `sohoa fields --json`'s view carries it all."""

from __future__ import annotations

from uuid import UUID

import pytest

from pipeline.presenters import fields_view
from scanners.cli.ingest import ingest_paths
from tests.factories.certificate_qr import qr_text, with_qr
from tests.factories.certificates import make_certificate
from tests.helpers import make_services
from workers.runtime import Runtime, wait_until_settled


@pytest.fixture(scope="module")
def read_with_qr(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("qr")
    svc = make_services(tmp, SOHOA_WORKER_THREADS="1")
    pages, expected = make_certificate("2025", seed=21)
    said = {
        **expected["fields"],
        "parcel_number": str(int(expected["fields"]["parcel_number"]) + 1),
    }
    page, _ = with_qr(pages[0], qr_text(said))
    path = tmp / "gcn-2025.png"
    page.save(path, dpi=(300, 300))
    [r] = ingest_paths(svc, [path], "land-certificate", None, as_json=True)
    cid = UUID(r.capture_id)
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, [cid], timeout_s=600)
    yield svc, cid, states, expected, said
    svc.close()


def test_the_qr_code_is_decoded_and_a_disagreement_sent_to_review(read_with_qr):
    svc, cid, states, expected, said = read_with_qr
    assert states[cid] == "done"
    view = fields_view(svc.store.capture(cid))
    assert view["qr"]["codes"][0]["text"] == qr_text(said)
    assert view["qr"]["fields"]["parcel_number"] == said["parcel_number"]
    assert view["qr"]["fields"]["serial"] == expected["fields"]["serial"]
    status = view["status"]["parcel_number"]
    assert status["needs_review"] is True
    assert f"QR says {said['parcel_number']}" in status["reason"]
    # the fields the code and the print agree on are not flagged for it
    assert "QR says" not in (view["status"]["map_sheet"]["reason"] or "")
    events = [e.event for e in svc.store.history(cid)]
    assert "Capture.FieldsExtracted" in events
