"""`sohoa show ID` of a parcel tells where it came from, what it became, and when it retired."""

from __future__ import annotations

import json

from models.ids import ParcelKey
from tests.helpers import sohoa


def show(env, record_id: object) -> dict:
    run = sohoa("show", str(record_id), "--json", env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_show_gives_a_split_parcels_lineage_and_retirement(tmp_path):
    # Given parcel 34 split into 35 on 2021-03-01, imported
    env = {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_OPERATOR": "minh"}
    base = {"unit_code": "61", "unit_era": "pre2025", "sheet": 12}
    lines = [
        {**base, "parcel_number": "34", "area_m2": 100},
        {**base, "parcel_number": "35", "area_m2": 70, "split_from": "61/12/34"}
        | {"effective_date": "2021-03-01"},
    ]
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))
    assert sohoa("import", str(rows), env=env).returncode == 0
    parent, child = (ParcelKey.of("61", "pre2025", "12", n) for n in ("34", "35"))

    # When each is shown
    old, new = show(env, parent.id), show(env, child.id)

    # Then the parent is retired on the split's date and names its child, and back
    assert old["retired"] == "2021-03-01" and old["lineage"]["parents"] == []
    assert [(c["key"], c["kind"], c["effective"]) for c in old["lineage"]["children"]] == [
        ("00061:pre2025/12/35", "split", "2021-03-01")
    ]
    assert new["retired"] is None and new["lineage"]["children"] == []
    assert [(p["key"], p["id"]) for p in new["lineage"]["parents"]] == [
        ("00061:pre2025/12/34", str(parent.id))
    ]
