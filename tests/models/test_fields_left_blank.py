"""A field a person says is not on a capture's pages is left blank (`FieldsLeftBlank`), not
corrected: counted apart, no value, and a later correction or acceptance wins; a blank stored
the old way (a correction to "") still loads and reads as left blank. A parcel gives back the
values of a capture (`CaptureValuesWithdrawn`), in its current state and as valid on a day."""

from __future__ import annotations

from datetime import date

from models.application import RecordRef
from models.places.validtime import state_on
from pipeline.presenters import field_status, review_summary
from tests.models.test_field_acceptance import fields
from tests.models.test_record_store import receipt


def read_certificate(store, number: str = "45"):
    cid, _ = store.receive(receipt(b"gcn-" + number.encode()))
    result = fields(number)
    result["fields"]["serial"] = None
    result["review"]["serial"] = {"raw": None, "confidence": None, "needs_review": True}
    store.record_fields(cid, job_key="f1", run=1, kind="land_certificate", result=result,
                        record_id=None)  # fmt: skip
    return cid


def test_a_blank_is_counted_apart_from_corrections_and_a_later_correction_wins(store):
    cid = read_certificate(store)
    store.leave_blank(cid, ["serial"], by="person:lan", reason="not on the pages")
    store.leave_blank(cid, ["serial"], by="person:lan", reason="not on the pages")  # a repeat
    capture = store.capture(cid)
    assert [e.event for e in store.history(cid)].count("Capture.FieldsLeftBlank") == 1
    assert capture.corrections == {} and capture.field_values()["serial"] is None
    status = field_status(capture)["serial"]
    assert (status["status"], status["by"], status["needs_review"]) == (
        "left_blank", "person:lan", False
    )  # fmt: skip
    summary = review_summary(field_status(capture))
    assert (summary["left_blank"], summary["corrected"]) == (1, 0)
    # a later correction wins over the blank
    store.correct_fields(cid, {"serial": "BV 999451"}, by="person:minh", reason="trang 1")
    status = field_status(store.capture(cid))["serial"]
    assert (status["status"], status["value"]) == ("corrected", "BV 999451")
    assert store.capture(cid).left_blank() == {}
    # and a blank after a correction takes its value away
    store.leave_blank(cid, ["serial"], by="person:lan", reason="not on the pages")
    assert field_status(store.capture(cid))["serial"]["status"] == "left_blank"
    assert store.capture(cid).field_values()["serial"] is None


def test_a_blank_stored_as_a_correction_to_empty_still_reads_as_left_blank(store):
    cid = read_certificate(store)
    store.correct_fields(cid, {"serial": ""}, by="person:lan", reason="not on the pages")
    capture = store.capture(cid)  # the old way: loads unchanged
    status = field_status(capture)["serial"]
    assert (status["status"], status["value"], status["by"]) == ("left_blank", None, "person:lan")
    assert review_summary(field_status(capture))["corrected"] == 0
    assert capture.field_values()["serial"] is None
    store.correct_fields(cid, {"serial": "BV 999451"}, by="person:lan", reason="trang 1")
    assert field_status(store.capture(cid))["serial"]["status"] == "corrected"


def test_a_parcel_gives_back_a_captures_values_now_and_as_valid_on_a_day(store):
    cid = read_certificate(store)
    ref = RecordRef("parcel", {"unit_code": "09562", "era": "pre2025", "sheet": "12",
                               "number": "45"})  # fmt: skip
    source = f"capture:{cid}:fields/1"
    shape = {"type": "Polygon", "coordinates": [[[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [0.0, 0.0]]]}
    store.record_certificate(
        ref, capture_id=cid, attributes={"parcel_number": "45", "area_m2": 120.5},
        corrected_by={"area_m2": "person:lan"}, geometry=shape, crs="EPSG:5897", source=source,
    )  # fmt: skip
    store.correct_attributes(ref.id, {"purpose": "ODT"}, by="minh")
    assert sorted(store.record(ref.id).capture_values(cid)) == ["area_m2", "parcel_number"]
    # a blank field only: the capture stays
    assert store.withdraw_capture_values(ref.id, cid, names=["area_m2"], by="person:lan",
                                         reason="not on the pages") == ["area_m2"]  # fmt: skip
    record = store.record(ref.id)
    assert "area_m2" not in record.attributes and cid in record.captures
    assert record.geometry is not None  # the shape stays while the capture does
    # all of it: the capture leaves the parcel, the other values stay
    store.withdraw_capture_values(ref.id, cid, names=None, by="person:lan", reason="misread")
    store.withdraw_capture_values(ref.id, cid, names=None, by="person:lan", reason="misread")
    record = store.record(ref.id)
    assert record.attributes == {"purpose": "ODT"} and cid not in record.captures
    assert record.geometry is None  # drawn from its corner table: gone with it
    history = store.history(ref.id)
    assert [e.event for e in history].count("Record.CaptureValuesWithdrawn") == 2
    valid = state_on(history, date(2030, 1, 1))
    assert valid.attributes == {"purpose": "ODT"} and set(valid.provenance) == {"purpose"}
    assert valid.geometry is None


def test_a_withdrawn_captures_value_gives_way_to_the_one_it_replaced(store):
    """A misread certificate overwrote a parcel's area; moved to its right parcel, it gives
    the area back as it was (from the register, or a person), now and as valid on a day."""
    ref = RecordRef("parcel", {"unit_code": "09562", "era": "pre2025", "sheet": "12",
                               "number": "45"})  # fmt: skip
    right = read_certificate(store, "45")
    store.record_certificate(
        ref, capture_id=right, attributes={"area_m2": 100.0, "purpose": "ODT"},
        corrected_by={}, geometry=None, crs="EPSG:5897", source=f"capture:{right}:fields/1",
    )  # fmt: skip
    store.correct_attributes(ref.id, {"purpose": "ONT"}, by="minh")
    misread = read_certificate(store, "46")
    store.record_certificate(
        ref, capture_id=misread, attributes={"area_m2": 120.5, "purpose": "CLN"},
        corrected_by={}, geometry=None, crs="EPSG:5897", source=f"capture:{misread}:fields/1",
    )  # fmt: skip
    assert store.record(ref.id).attributes == {"area_m2": 120.5, "purpose": "CLN"}
    store.withdraw_capture_values(ref.id, misread, names=None, by="person:lan", reason="misread")
    record = store.record(ref.id)
    assert record.attributes == {"area_m2": 100.0, "purpose": "ONT"}
    assert record.provenance["area_m2"] == f"capture:{right}:fields/1"
    assert misread not in record.captures and right in record.captures
    valid = state_on(store.history(ref.id), date(2030, 1, 1))
    assert valid.attributes == {"area_m2": 100.0, "purpose": "ONT"}
    assert valid.provenance["area_m2"] == f"capture:{right}:fields/1"
