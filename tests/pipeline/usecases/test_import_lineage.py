"""Import rows that split, merge and renumber parcels, and re-imports that correct values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.application import RecordStore
from models.ids import ParcelKey
from pipeline.settings import eventstore_env
from pipeline.usecases.importing.records import import_records
from pipeline.usecases.lineage import parcel_on


@pytest.fixture
def store(tmp_path):
    s = RecordStore(env=eventstore_env(f"sqlite:///{tmp_path}/e.sqlite3"))
    yield s
    s.close()


def jsonl(path: Path, *rows: dict) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def row(number: str, unit: str = "61", **values) -> dict:
    base = {"unit_code": unit, "unit_era": "pre2025", "sheet": 12, "parcel_number": number}
    return {**base, **values}


def key(number: str, unit: str = "61") -> ParcelKey:
    return ParcelKey.of(unit, "pre2025", "12", number)


def test_split_rows_retire_the_parent_and_link_the_children(store, tmp_path):
    path = jsonl(
        tmp_path / "split.jsonl",
        row("34", area_m2=100),
        row("34a", area_m2=60, split_from="61/12/34", effective_date="2021-03-01"),
        row(
            "34b",
            area_m2=40,
            split_from="00061:pre2025/12/34",
            effective_date="01/03/2021",
            legal_basis="QĐ 12/QĐ-UBND",
        ),
    )
    report = import_records(store, path, recorded_by="lan")
    assert (report.registered, report.rejected, report.warnings) == (3, [], [])
    parent = store.record(key("34").id)
    assert parent.retired == "2021-03-01"
    assert [c["key"] for c in parent.children] == ["00061:pre2025/12/34A", "00061:pre2025/12/34B"]
    child = parcel_on(store, key("34b").id).view
    assert child["lineage"]["parents"][0]["key"] == "00061:pre2025/12/34"
    assert child["timeline"][0]["basis"]["text"] == "QĐ 12/QĐ-UBND"
    assert child["timeline"][0]["recorded_by"] == "lan"
    again = import_records(store, path)
    assert again.unchanged == 3  # a re-import adds nothing


def test_a_row_whose_parent_does_not_exist_is_rejected_with_its_line(store, tmp_path):
    path = jsonl(
        tmp_path / "orphan.jsonl",
        row("1", area_m2=10),
        row("2", split_from="61/12/99", effective_date="2021-03-01"),
    )
    report = import_records(store, path)
    assert report.registered == 1
    [rejected] = report.rejected
    assert rejected["line"] == 2 and "00061:pre2025/12/99 does not exist" in rejected["reason"]


def test_bad_changes_are_rejected_naming_the_parcels(store, tmp_path):
    path = jsonl(
        tmp_path / "bad.jsonl",
        row("1", area_m2=10, valid_from="2015-01-01"),
        row("2", unit="31", area_m2=10),
        row("3", merged_from=["61/12/1", "31/12/2"], effective_date="2021-01-01"),
        row("4", split_from="61/12/1", effective_date="2010-01-01"),
        row("5", split_from="61/12/1", effective_date="2999-01-01"),
        row("6", split_from="61/12/1"),
    )
    report = import_records(store, path)
    reasons = {r["line"]: r["reason"] for r in report.rejected}
    assert "00061:pre2025/12/1, 00031:pre2025/12/2" in reasons[3] and "units" in reasons[3]
    assert "did not exist yet" in reasons[4] and "00061:pre2025/12/1" in reasons[4]
    assert "future" in reasons[5]
    assert "effective_date" in reasons[6]
    assert store.record(key("1").id).retired is None


def test_a_split_with_too_large_children_is_recorded_with_a_warning(store, tmp_path):
    path = jsonl(
        tmp_path / "big.jsonl",
        row("7", area_m2=100),
        row("7a", area_m2=80, split_from="61/12/7", effective_date="2020-01-01"),
        row("7b", area_m2=30, split_from="61/12/7", effective_date="2020-01-01"),
    )
    report = import_records(store, path, split_area_tolerance=0.05)
    assert report.registered == 3
    [warned] = report.warnings
    assert warned["line"] == 3 and "110.0 m²" in warned["warning"]


def test_a_reimport_with_a_changed_value_records_the_correction_with_its_source(store, tmp_path):
    import_records(store, jsonl(tmp_path / "v1.jsonl", row("8", area_m2=100, purpose="ODT")))
    v2 = jsonl(
        tmp_path / "v2.jsonl", row("8", area_m2=95.5, purpose="ODT", valid_from="2023-04-01")
    )
    report = import_records(store, v2)
    assert report.updated == 1 and report.rejected == []
    [change] = store.record(key("8").id).changes
    assert change["kind"] == "area_correction" and change["effective"] == "2023-04-01"
    assert (change["from"], change["to"]) == ({"area_m2": 100.0}, {"area_m2": 95.5})
    assert change["source"] == "import:v2.jsonl:1"
