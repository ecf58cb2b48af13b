"""Value objects for the strings: outcome names and parcel keys, each built and parsed once."""

from __future__ import annotations

from uuid import UUID, uuid5

import pytest

from models.ids import NAMESPACE, InvalidKeyError, Outcome, ParcelKey, parcel_id


@pytest.mark.parametrize(
    ("outcome", "text"),
    [
        (Outcome("inspect"), "inspect"),
        (Outcome("ocr", 1, 3), "ocr/1/3"),
        (Outcome("ocr", 2, 0), "ocr/2/0"),
        (Outcome("text", 1), "text/1"),
        (Outcome("fields", 4), "fields/4"),
        (Outcome("reconstruct", 12), "reconstruct/12"),
    ],
)
def test_an_outcome_is_its_name_and_parses_back(outcome, text):
    assert str(outcome) == text
    assert Outcome.parse(text) == outcome


def test_only_a_page_outcome_is_a_page():
    assert Outcome.parse("ocr/1/3").is_page
    assert not Outcome.parse("text/1").is_page
    assert not Outcome.parse("inspect").is_page


@pytest.mark.parametrize("bad", ["", "ocr/x", "ocr/1/2/3", "text/-1", "/1", "ocr//2"])
def test_a_malformed_outcome_name_is_refused(bad):
    with pytest.raises(InvalidKeyError):
        Outcome.parse(bad)


def test_a_parcel_key_is_normalised_when_built():
    key = ParcelKey.of("70", "2025", "012", "45")
    assert key == ParcelKey("00070", "2025", "12", "45")
    assert str(key) == "00070:2025:12:45"
    assert ParcelKey.of("00070", "2025", 12, "045") == key


def test_a_parcel_key_parses_back_from_its_string_and_record_key():
    key = ParcelKey.of("4", "pre2025", "7a", "1/2")
    assert ParcelKey.parse(str(key)) == key
    assert ParcelKey.from_record_key(key.as_record_key()) == key
    assert key.as_record_key() == {
        "unit_code": "00004",
        "era": "pre2025",
        "sheet": "7A",
        "number": "1/2",
    }


def test_a_parcel_id_is_unchanged_by_the_value_object():
    """Ids are stored: the uuid5 over "parcel:<code>:<era>:<sheet>:<number>" must not move."""
    expected = uuid5(NAMESPACE, "parcel:00070:2025:12:45")
    assert ParcelKey.of("70", "2025", "012", "45").id == expected
    assert parcel_id("70", "2025", "012", "45") == expected
    assert isinstance(expected, UUID)


@pytest.mark.parametrize("bad", ["", "00070:2025:12", "00070:1999:12:45", "x:2025:1:1"])
def test_a_malformed_parcel_key_is_refused(bad):
    with pytest.raises(InvalidKeyError):
        ParcelKey.parse(bad)
