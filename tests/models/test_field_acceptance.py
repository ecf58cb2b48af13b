"""A person's acceptance of a certificate field is an event that clears its review for the
value accepted, once (SQLite and PostgreSQL)."""

from __future__ import annotations

from pipeline.presenters import field_status, review_summary
from tests.models.test_record_store import receipt


def fields(parcel: str) -> dict:
    return {
        "kind": "land_certificate",
        "fields": {"parcel_number": parcel, "area_m2": 120.5},
        "review": {
            "parcel_number": {"raw": parcel, "confidence": 0.81, "needs_review": True,
                              "reason": "read with low confidence"},
            "area_m2": {"raw": "120,5", "confidence": 0.95, "needs_review": False, "reason": None},
        },
        "provenance": {},
    }  # fmt: skip


def test_an_acceptance_clears_review_once_and_only_for_the_value_seen(store):
    cid, _ = store.receive(receipt(b"gcn"))
    store.record_fields(
        cid, job_key="f1", run=1, kind="land_certificate", result=fields("45"), record_id=None
    )
    assert field_status(store.capture(cid))["parcel_number"]["needs_review"] is True
    # When an archivist accepts the value, twice (a double key press)
    store.accept_fields(cid, {"parcel_number": "45"}, by="person:lan")
    store.accept_fields(cid, {"parcel_number": "45"}, by="person:lan")
    # Then one event, and the field no longer waits
    events = [e.event for e in store.history(cid)]
    assert events.count("Capture.FieldAccepted") == 1
    status = field_status(store.capture(cid))
    assert (
        status["parcel_number"] | {"status": "accepted", "by": "person:lan"}
        == status["parcel_number"]
    )
    assert review_summary(status) | {"needs_review": 0, "accepted": 1, "read": 1} == (
        review_summary(status)
    )
    # A later run that reads another value asks again
    store.record_fields(
        cid, job_key="f2", run=2, kind="land_certificate", result=fields("46"), record_id=None
    )
    assert field_status(store.capture(cid))["parcel_number"]["status"] == "needs_review"
