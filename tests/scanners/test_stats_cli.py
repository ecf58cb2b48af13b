"""`sohoa stats` prints the same public numbers as `/api/stats`, as a table, JSON or CSV."""

from __future__ import annotations

import json

from tests.factories import samples
from tests.helpers import sohoa


def test_stats_in_three_formats(tmp_path):
    env = {"SOHOA_DATA_DIR": str(tmp_path / "data")}
    page = samples.make_png(tmp_path / "page.png", 200, 120, mode="L")
    assert sohoa("ingest", str(page), env=env, timeout=120).returncode == 0
    as_json = sohoa("stats", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert sum(e["captures"] for e in data["by_month"]) == 1
    as_csv = sohoa("stats", "--csv", env=env).stdout.splitlines()
    assert as_csv[0] == "table,month,unit,unit_name,kind,rank,measure,count"
    assert any(line.endswith(",captures,1") for line in as_csv)
    table = sohoa("stats", "--rebuild", env=env)
    assert table.returncode == 0 and "captures" in table.stdout.splitlines()[0]
    assert sohoa("stats", "--json", "--csv", env=env).returncode == 2
