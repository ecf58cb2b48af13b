"""Entries of a certificate's changes column become dated changes on its parcel's timeline."""

from __future__ import annotations

import hashlib

import pytest

from models.application import Receipt, RecordRef
from models.ids import ParcelKey
from pipeline.usecases.certificates import link_certificate
from pipeline.usecases.lineage import timeline_view
from tests.helpers import make_services

KEY = ParcelKey.of("31", "pre2025", "12", "45")
ENTRIES = [  # fictional entries, as pipeline.stages.certificate.changes gives them
    {
        "date": "2015-04-03",
        "text": "Chuyển nhượng cho ông Lê Văn Thử theo Hợp đồng số 12/2015 công chứng 3/4/2015",
        "page": 2,
        "box": [40, 300, 900, 360],
        "confidence": 0.91,
    },
    {
        "date": "2019-08-20",
        "text": "Đính chính diện tích từ 120,5 m2 thành 118,0 m2 theo Quyết định số 88/QĐ-UBND",
        "page": 2,
        "box": [40, 380, 900, 430],
        "confidence": 0.88,
    },
    {
        "date": None,
        "text": "Xóa đăng ký thế chấp theo đơn ngày 1/2/2020",
        "page": 3,
        "box": [40, 100, 900, 150],
        "confidence": 0.8,
    },
]


@pytest.fixture
def svc(tmp_path):
    s = make_services(tmp_path)
    yield s
    s.close()


def certificate(svc):
    sha = hashlib.sha256(b"certificate").hexdigest()
    receipt = Receipt(sha, "k", 1, "image/png", "land-certificate", "gcn.png", "t", "lan", {})
    cid, _ = svc.store.receive(receipt, [RecordRef("parcel", KEY.as_record_key())])
    return svc.store.capture(cid)


def test_changes_read_off_a_certificate_are_dated_events_on_its_parcel(svc):
    capture = certificate(svc)
    result = {"kind": "land_certificate", "fields": {}, "changes": ENTRIES}
    link_certificate(svc, capture, result)
    link_certificate(svc, capture, result)  # the same certificate read again adds nothing

    record = svc.store.record(KEY.id)
    timeline = timeline_view(record, role="officer")
    assert [c["kind"] for c in timeline] == ["transfer", "area_correction", "mortgage_release"]
    transfer, correction, _ = timeline
    assert transfer["effective"] == "2015-04-03" and transfer["restricted"] is True
    assert transfer["basis"]["text"].startswith("theo Hợp đồng số 12/2015")
    assert (transfer["capture_id"], transfer["page"]) == (str(capture.id), 2)
    assert transfer["box"] == [40, 300, 900, 360]
    assert correction["restricted"] is False

    public = timeline_view(record, role="public")
    assert [c["kind"] for c in public] == ["area_correction"]  # names no one
    assert "Lê Văn Thử" not in str(public)
