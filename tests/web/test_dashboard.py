"""The digitisation dashboard's API: bad input answers quickly and correctly."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from pipeline.projections.follower import stats_follower
from pipeline.usecases.accounts import add_user
from tests.helpers import make_services
from tests.pipeline.projections.test_stats import history
from tests.web.conftest import PASSWORD, login
from web.app import create_app


@pytest.fixture
def staff(tmp_path, shared_data):
    svc = make_services(
        tmp_path, SOHOA_GAZETTEER_DIR=str(shared_data / "heritage" / "admin_units_vn")
    )
    add_user(svc.store, "lan", "archivist", PASSWORD)
    history(svc)
    stats_follower(svc).catch_up()
    assert svc.gazetteer is not None  # loaded once per process, as a running server has it
    yield login(TestClient(create_app(svc)), "lan")
    svc.close()


def timed(client, url: str, **kw):
    start = time.monotonic()
    r = client.get(url, **kw)
    return r, time.monotonic() - start


def test_a_range_of_a_hundred_years_is_drawn_by_month_quickly(staff):
    r, took = timed(staff, "/api/staff/dashboard?since=1926-01-01&until=2026-12-31")
    assert r.status_code == 200 and took < 1.0
    data = r.json()
    assert data["range"]["monthly"] is True
    assert all(len(p["period"]) == 7 for p in data["series"])
    assert sum(p["captures"] for p in data["series"]) in (0, 3)  # 3 unless the run is dated 2027


def test_a_unit_with_no_data_answers_empty(staff):
    r, took = timed(staff, "/api/staff/dashboard?unit=2025:00008&since=2000-01-01")
    assert r.status_code == 200 and took < 1.0
    data = r.json()
    assert data["series"] == [] and data["by_unit"] == [] and data["failures"] == []
    assert data["unit"]["unit_name"] == "Phường Ngọc Hà"
    assert [b["captures"] for b in data["backlog"]] == [0, 0, 0, 0]


def test_unit_names_of_both_eras(staff):
    data = staff.get("/api/staff/dashboard?since=2000-01-01").json()
    units = {u["unit"]: u for u in data["by_unit"]}
    assert units["pre2025:00031"]["unit_name"] == "Phường Giảng Võ"
    assert units["pre2025:00031"]["other_era_names"] == ["Phường Giảng Võ"]
    assert units["2025:00004"]["unit_name"] == "Phường Ba Đình"


def test_dates_backwards_or_malformed_are_refused(staff):
    assert staff.get("/api/staff/dashboard?since=2026-02-01&until=2026-01-01").status_code == 400
    assert staff.get("/api/staff/dashboard?since=yesterday").status_code == 400


def test_a_targets_csv_with_unknown_codes_reports_them_by_line_and_applies_the_rest(staff):
    body = "unit_code,target\n00004,120\n99999,50\n00025,abc\n00008,30\n"
    r = staff.post("/api/staff/dashboard/targets", content=body.encode())
    assert r.status_code == 200
    assert r.json() == {
        "applied": 2,
        "problems": [
            "line 3: unknown unit code '99999'",
            "line 4: target 'abc' is not a whole number",
        ],
    }
    data = staff.get("/api/staff/dashboard").json()
    targets = {c["unit"]: c["target"] for c in data["certificates"]}
    assert targets["2025:00004"] == 120 and targets["2025:00008"] == 30
    assert "2025:99999" not in targets


def test_the_dashboard_is_for_staff_only(tmp_path):
    svc = make_services(tmp_path)
    try:
        public = TestClient(create_app(svc))
        assert public.get("/api/staff/dashboard").status_code == 401
        page = public.get(
            "/staff/dashboard", headers={"Accept": "text/html"}, follow_redirects=False
        )
        assert page.status_code == 303
    finally:
        svc.close()
