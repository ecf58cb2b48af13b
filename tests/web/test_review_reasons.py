"""Why a field needs review, in the reader's language: every reason code has a Vietnamese and
an English label (with the numbers the check named), and a certificate read before the codes
existed (its stored event has only the English text) still shows that text."""

from __future__ import annotations

import hashlib

from models.application import Receipt
from pipeline.stages.certificate.reasons import REASON_CODES
from web.labels import REASONS, Labels


def test_every_reason_code_has_both_labels_and_names_its_numbers():
    assert set(REASON_CODES) == set(REASONS)
    vi, en = Labels("vi"), Labels("en")
    assert vi.reasons(["qr_disagrees"], {"qr": "45"}, "QR says 45") == "mã QR ghi 45"
    assert en.reasons(["area_polygon"], {"m2": 118.0}, "…") == "the corner polygon gives 118 m²"
    both = vi.reasons(["low_confidence", "qr_disagrees"], {"qr": "CH 01583"}, "x")
    assert both == "độ tin cậy thấp; mã QR ghi CH 01583"
    # a code whose numbers were not stored still reads as a sentence
    assert vi.reasons(["area_words"], {}, "the area in words is 12.0 m²") == (
        "diện tích bằng chữ là"
    )


def test_a_certificate_checked_before_the_codes_shows_its_english_reason(svc, archivist):
    sha = hashlib.sha256(b"old certificate").hexdigest()
    receipt = Receipt(
        sha256=sha, blob_key=f"blobs/{sha}", size=10, media_type="image/png",
        kind="land-certificate", original_name="old.png", source="test", operator="lan", meta={},
    )  # fmt: skip
    cid, _ = svc.store.receive(receipt)
    result = {  # as the fields job stored it before reasons had codes
        "kind": "land_certificate",
        "fields": {"parcel_number": None, "map_sheet": "12"},
        "review": {
            "parcel_number": {"raw": "4#5", "confidence": 0.0, "needs_review": True,
                              "reason": "'4#5' is not a parcel number"},
            "map_sheet": {"raw": "12", "confidence": 0.95, "needs_review": False, "reason": None},
        },
    }  # fmt: skip
    svc.store.record_fields(
        cid, job_key="fields-old", run=1, kind="land_certificate", result=result, record_id=None
    )
    page = archivist.get(f"/staff/review/{cid}").text
    assert 'data-codes="">&#39;4#5&#39; is not a parcel number<' in page
    queue = archivist.get("/staff/review").text
    assert f"/staff/review/{cid}" in queue and 'id="fig-needs-review">1<' in queue
