"""A parcel valid on an effective date, as recorded at a time: both times."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from models.errors import NotYetRecordedError
from models.ids import ParcelKey
from models.record import Record
from pipeline.usecases.lineage import parcel_on, record_change
from tests.helpers import make_services

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
HALF = {"type": "Polygon", "coordinates": [[[0, 0], [0.5, 0], [0.5, 1], [0, 1], [0, 0]]]}


@pytest.fixture
def svc(tmp_path):
    s = make_services(tmp_path)
    yield s
    s.close()


def key(number: str) -> ParcelKey:
    return ParcelKey.of("00031", "pre2025", "12", number)


def registered(svc, number="45", **attrs) -> ParcelKey:
    r = Record(kind="parcel", key=key(number).as_record_key(), source="import:a.jsonl:1")
    r.record_attributes(attributes={"area_m2": 100.0, **attrs}, source="import:a.jsonl:1")
    r.set_geometry(geometry=SQUARE, crs="EPSG:4326", source="import:a.jsonl:1")
    svc.store.save(r)
    return key(number)


def test_valid_on_shows_the_facts_in_force_that_day(svc):
    k = registered(svc, valid_from="2010-01-01")
    svc.store.update(
        k.id,
        lambda r: r.record_attributes(
            attributes={"area_m2": 80.0, "valid_from": "2020-06-01"}, source="import:b.jsonl:3"
        ),
    )
    before = parcel_on(svc.store, k.id, valid_on=date(2019, 1, 1)).view
    after = parcel_on(svc.store, k.id, valid_on=date(2021, 1, 1)).view
    assert before["attributes"]["area_m2"] == 100.0 and after["attributes"]["area_m2"] == 80.0
    assert after["provenance"]["area_m2"] == "import:b.jsonl:3"
    assert before["times"]["meaning"].startswith("effective date")
    assert parcel_on(svc.store, k.id, valid_on=date(2005, 1, 1)).view["existed"] is False


def test_a_split_parcel_is_retired_only_from_the_split_date(svc):
    k = registered(svc)
    record_change(
        svc.store,
        "split",
        [k],
        [key("45a")],
        effective=date(2021, 3, 1),
        basis="QĐ 1",
        basis_capture=None,
        recorded_by="minh",
        tolerance=0.02,
    )
    assert parcel_on(svc.store, k.id, valid_on=date(2021, 2, 28)).view["retired"] is None
    on = parcel_on(svc.store, k.id, valid_on=date(2021, 3, 1)).view
    assert on["retired"] == "2021-03-01"
    assert [c["key"] for c in on["lineage"]["children"]] == ["00031:pre2025/12/45A"]
    assert on["lineage"]["children"][0]["effective"] == "2021-03-01"
    child = parcel_on(svc.store, key("45a").id, valid_on=date(2020, 1, 1)).view
    assert child["existed"] is False and child["began"] == "2021-03-01"


def test_recorded_as_of_keeps_its_old_meaning(svc):
    k = registered(svc)
    time.sleep(0.02)
    between = datetime.now(UTC)
    time.sleep(0.02)
    svc.store.update(
        k.id, lambda r: r.record_attributes(attributes={"area_m2": 90.0}, source="person:lan")
    )
    then = parcel_on(svc.store, k.id, recorded_as_of=between).view
    assert then["attributes"]["area_m2"] == 100.0
    assert then["times"]["meaning"].startswith("recorded time")
    with pytest.raises(NotYetRecordedError):
        parcel_on(svc.store, k.id, recorded_as_of=datetime(2001, 1, 1, tzinfo=UTC))


def test_the_geometry_of_a_dated_row_is_in_force_from_its_date(svc):
    k = registered(svc, valid_from="2010-01-01")

    def redrawn(r):
        src = "import:c.jsonl:2"
        r.record_attributes(attributes={"area_m2": 50.0, "valid_from": "2022-01-01"}, source=src)
        r.set_geometry(geometry=HALF, crs="EPSG:4326", source=src)

    svc.store.update(k.id, redrawn)
    old = parcel_on(svc.store, k.id, valid_on=date(2021, 1, 1)).view["geometry"]["geometry"]
    new = parcel_on(svc.store, k.id, valid_on=date(2023, 1, 1)).view["geometry"]["geometry"]
    assert old == SQUARE and new == HALF
