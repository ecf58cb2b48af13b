"""Search and parcel lookup from the command line, over records imported and indexed."""

from __future__ import annotations

import json

import pytest

from tests.helpers import sohoa

SITES = [
    {
        "kind": "site",
        "code": "HN-VM",
        "name": "Văn Miếu – Quốc Tử Giám",
        "rank": "quốc gia đặc biệt",
        "type": ["di tích lịch sử"],
        "lat": 21.0293,
        "lon": 105.8355,
        "published": True,
    },
    {
        "kind": "site",
        "code": "HN-DD",
        "name": "Gò Đống Đa",
        "lat": 21.0166,
        "lon": 105.8227,
        "published": True,
    },
    {
        "kind": "site",
        "code": "HN-KN",
        "name": "Đình Kim Ngân",
        "ward": "Phường Hàng Bạc",
        "published": True,
    },  # filed under a pre-2025 ward, now part of Phường Hoàn Kiếm
    {"kind": "site", "code": "HN-DRAFT", "name": "Đình Đống Đa chưa công bố", "published": False},
]
PARCELS = [  # filed under the pre-2025 Phường Giảng Võ (00031), later Phường Giảng Võ (00025)
    {
        "kind": "parcel",
        "unit_code": "00031",
        "unit_era": "pre2025",
        "sheet": "7",
        "parcel_number": "12",
        "area_m2": "120,5",
        "purpose": "ODT",
        "owner": "Nguyễn Văn Mẫu",
    },
]


@pytest.fixture
def env(tmp_path, shared_data):
    e = {
        "SOHOA_DATA_DIR": str(tmp_path / "data"),
        "SOHOA_GAZETTEER_DIR": str(shared_data / "heritage" / "admin_units_vn"),
    }
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in SITES + PARCELS), encoding="utf-8"
    )
    assert sohoa("import", str(rows), env=e).returncode == 0
    return e


def search(env, *args):
    run = sohoa("search", *args, "--json", env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_search_without_diacritics_finds_published_sites_only(env):
    # the indexer runs inside `sohoa follow`; catch it up once
    sohoa("reindex", env=env)
    result = search(env, "dong da")
    assert [h["title"] for h in result["hits"]] == ["Gò Đống Đa"]
    assert "<mark>" in result["hits"][0]["highlight"]
    near = search(env, "", "--near", "21.03,105.835,1")
    assert [h["code"] for h in near["hits"]] == ["HN-VM"]
    assert search(env, "Nguyen Van Mau")["total"] == 0  # owners never reach the public
    officer = search(env, "Nguyen Van Mau", "--role", "officer")
    assert officer["total"] == 1 and officer["hits"][0]["kind"] == "parcel"
    hostile = search(env, '"unbalanced (AND OR :* ~' + "x" * 10_000)
    assert hostile["total"] == 0


def test_parcel_by_new_ward_name_finds_it_filed_under_the_old_unit(env):
    run = sohoa(
        "parcel", "--unit", "Phường Giảng Võ", "--sheet", "07", "--number", "12", "--json", env=env
    )
    assert run.returncode == 0, run.stderr
    [p] = json.loads(run.stdout)["parcels"]
    assert p["key"] == {"unit_code": "00031", "era": "pre2025", "sheet": "7", "number": "12"}
    assert p["attributes"]["area_m2"] == 120.5

    before = sohoa(
        "parcel",
        "--unit",
        "giang vo",
        "--sheet",
        "7",
        "--number",
        "12",
        "--as-of",
        "2001-01-01",
        "--json",
        env=env,
    )
    assert json.loads(before.stdout)["parcels"][0]["state"] == "not yet recorded then"


def test_unknown_unit_gets_suggestions(env):
    run = sohoa("parcel", "--unit", "Giang Voo", "--sheet", "1", "--number", "1", env=env)
    assert run.returncode == 1 and "did you mean" in run.stderr and "Giảng Võ" in run.stderr


def test_a_site_filed_under_an_old_ward_is_found_and_faceted_by_the_new_one(env):
    sohoa("reindex", env=env)
    result = search(env, "phuong hoan kiem", "--facet", "ward", "--facet", "ward_old")
    assert [h["code"] for h in result["hits"]] == ["HN-KN"]
    assert result["facets"]["ward"].get("Phường Hoàn Kiếm") == 1
    assert result["facets"]["ward_old"] == {"Phường Hàng Bạc": 1}
