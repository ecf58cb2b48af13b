"""Splits, merges and renumberings as events on the parcels involved (both backends)."""

from __future__ import annotations

from datetime import date

import pytest

from models.errors import NotFoundError
from models.ids import ParcelKey
from models.places.lineage import LegalBasis, LineageChange, LineageError
from models.record import Record

TODAY = date(2026, 12, 5)
BASIS = LegalBasis("QĐ 123/QĐ-UBND ngày 01/03/2021", capture_id=None)


def key(number: str, unit: str = "00031") -> ParcelKey:
    return ParcelKey.of(unit, "pre2025", "12", number)


def parcel(store, number: str, area: float | None = 100.0, unit: str = "00031", **attrs):
    k = key(number, unit)
    r = Record(kind="parcel", key=k.as_record_key(), source="test")
    values = {"area_m2": area, **attrs} if area is not None else dict(attrs)
    r.record_attributes(attributes=values, source="test")
    store.save(r)
    return k


def change(kind, parents, children, day=date(2021, 3, 1), **kw) -> LineageChange:
    return LineageChange(
        kind=kind,
        parents=tuple(parents),
        children=tuple(children),
        effective=day,
        basis=BASIS,
        recorded_by="minh",
        source="test",
        **kw,
    )


def test_a_split_retires_the_parent_and_links_both_ways(store):
    parent = parcel(store, "45")
    areas = {str(key("45a")): 60.0, str(key("45b")): 40.0}
    warning = store.record_parcel_change(
        change("split", [parent], [key("45a"), key("45b")], child_areas=areas),
        today=TODAY,
        tolerance=0.02,
    )
    assert warning is None
    p = store.record(parent.id)
    assert p.retired == "2021-03-01" and p.attributes["area_m2"] == 100.0  # kept, not deleted
    assert {c["key"] for c in p.children} == {"00031:pre2025/12/45A", "00031:pre2025/12/45B"}
    child = store.record(key("45a").id)
    assert [x["key"] for x in child.parents] == ["00031:pre2025/12/45"]
    assert child.began == "2021-03-01" and child.attributes["area_m2"] == 60.0
    assert child.changes[0]["basis"]["text"] == BASIS.text
    assert child.changes[0]["recorded_by"] == "minh"


def test_recording_the_same_split_twice_adds_nothing(store):
    parent = parcel(store, "45")
    c = change("split", [parent], [key("45a")])
    store.record_parcel_change(c, today=TODAY, tolerance=0.02)
    version = store.record(parent.id).version
    store.record_parcel_change(c, today=TODAY, tolerance=0.02)
    assert store.record(parent.id).version == version


def test_children_larger_than_the_parent_are_recorded_with_a_warning(store):
    parent = parcel(store, "45", area=100.0)
    areas = {str(key("45a")): 70.0, str(key("45b")): 40.0}
    warning = store.record_parcel_change(
        change("split", [parent], [key("45a"), key("45b")], child_areas=areas),
        today=TODAY,
        tolerance=0.05,
    )
    assert warning and "110.0 m²" in warning and "100.0 m²" in warning
    assert store.record(parent.id).changes[-1]["warning"] == warning


def test_a_merge_across_units_is_refused_naming_both(store):
    a, b = parcel(store, "1", unit="00031"), parcel(store, "2", unit="00004")
    with pytest.raises(LineageError, match=r"00031:pre2025/12/1.*00004:pre2025/12/2.*units"):
        store.record_parcel_change(change("merge", [a, b], [key("3")]), today=TODAY, tolerance=0.02)
    assert store.record(a.id).retired is None


def test_a_parcel_split_from_its_own_child_is_a_cycle(store):
    parent = parcel(store, "45")
    store.record_parcel_change(change("split", [parent], [key("46")]), today=TODAY, tolerance=0)
    with pytest.raises(LineageError, match="cycle"):
        store.record_parcel_change(
            change("renumber", [key("46")], [parent], day=date(2022, 1, 1)),
            today=TODAY,
            tolerance=0,
        )


def test_changes_before_the_parcel_existed_or_in_the_future_are_refused(store):
    parent = parcel(store, "45", valid_from="2015-06-01")
    with pytest.raises(LineageError, match=r"00031:pre2025/12/45 dated 2010-01-01.*began 2015"):
        store.record_parcel_change(
            change("split", [parent], [key("46")], day=date(2010, 1, 1)), today=TODAY, tolerance=0
        )
    with pytest.raises(LineageError, match="in the future"):
        store.record_parcel_change(
            change("split", [parent], [key("46")], day=date(2027, 1, 1)), today=TODAY, tolerance=0
        )


def test_a_missing_parent_is_named(store):
    with pytest.raises(NotFoundError, match="00031:pre2025/12/99"):
        store.record_parcel_change(
            change("split", [key("99")], [key("100")]), today=TODAY, tolerance=0
        )


def test_ancestors_are_kept_on_the_child_nearest_first(store):
    current = parcel(store, "1")
    for n in range(2, 6):
        nxt = key(str(n))
        store.record_parcel_change(
            change("renumber", [current], [nxt], day=date(2000 + n, 1, 1)), today=TODAY, tolerance=0
        )
        current = nxt
    last = store.record(current.id)
    assert [a["key"] for a in last.ancestors] == [f"00031:pre2025/12/{n}" for n in (4, 3, 2, 1)]
