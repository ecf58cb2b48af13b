"""Search and parcel lookup from the command line, over records imported and indexed."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from tests.helpers import REPO, sohoa

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
        "--recorded-as-of",
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


# -- land queries -----------------------------------------------------------

E, N = 588_405, 2_326_366  # Hoàn Kiếm Lake in VN-2000 / TM-3 105° (EPSG:5897)


def square(x0: float, y0: float, side: float = 20) -> dict:
    ring = [[E + x0, N + y0], [E + x0 + side, N + y0], [E + x0 + side, N + y0 + side]]
    ring += [[E + x0, N + y0 + side], [E + x0, N + y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def land_feature(number: str, x0: float, area: str, serial: str, registry: str) -> dict:
    properties = {
        "unit_code": "00070",
        "unit_era": "2025",
        "sheet": "3",
        "parcel_number": number,
        "area_m2": area,
        "serial": serial,
        "registry_number": registry,
        "published": True,
    }
    return {"type": "Feature", "properties": properties, "geometry": square(x0, 0)}


@pytest.fixture
def land_env(tmp_path):
    e = {"SOHOA_DATA_DIR": str(tmp_path / "data")}
    collection = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5897"}},
        "features": [
            land_feature("1", 0, "400", "BV 999451", "CH 00123"),
            land_feature("2", 20, "90,5", "BV 999452", "CH 00124"),
        ],
    }
    path = tmp_path / "parcels.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    assert sohoa("import", str(path), env=e).returncode == 0
    assert sohoa("reindex", env=e).returncode == 0
    return e


def numbers(result: dict) -> list[str]:
    return sorted(h["parcel_number"] for h in result["hits"])


def test_land_queries_by_vn2000_point_box_area_and_serial(land_env):
    officer = ("--role", "officer", "--crs", "vn2000")
    assert numbers(search(land_env, "--point", f"{E + 10},{N + 10}", *officer)) == ["1"]
    assert numbers(search(land_env, "--bbox", f"{E + 15},{N},{E + 25},{N + 5}", *officer)) == [
        "1",
        "2",
    ]
    assert numbers(search(land_env, "--range", "area_m2=..100", "--role", "officer")) == ["2"]
    assert numbers(search(land_env, "--serial", "bv 999451", "--role", "officer")) == ["1"]
    assert numbers(search(land_env, "--registry", "ch00124", "--role", "officer")) == ["2"]

    run = sohoa("parcel", "--serial", "bv-999452", "--json", env=land_env)
    assert run.returncode == 0, run.stderr
    [p] = json.loads(run.stdout)["parcels"]
    assert p["key"]["number"] == "2" and p["attributes"]["serial"] == "BV 999452"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--bbox", f"{E + 25},{N},{E + 15},{N + 5}", "--crs", "vn2000"), "swapped"),
        (("--point", f"{N},{E}", "--crs", "vn2000"), "look swapped"),
        (("--point", "105.8,95", "--crs", "wgs84"), "not a WGS 84 position"),
        (
            (
                "--point",
                "1,2,3",
            ),
            "is not --point X,Y",
        ),
        (("--range", "area_m2=abc"), "FIELD=MIN..MAX"),
        (("--range", "area_m2=300..100", "--role", "officer"), "above upper bound"),
        (("--serial", "BV 999451"), "land officers only"),
    ],
)
def test_bad_land_queries_are_clear_errors(tmp_path, args, message):
    run = sohoa("search", *args, env={"SOHOA_DATA_DIR": str(tmp_path / "data")})
    assert run.returncode != 0 and message in run.stderr, run.stderr


def test_search_right_after_import_catches_the_index_up_quietly_in_a_pipe(env):
    run = sohoa("search", "dong da", "--json", env=env)  # no follower ran since the import
    assert run.returncode == 0, run.stderr
    assert [h["title"] for h in json.loads(run.stdout)["hits"]] == ["Gò Đống Đa"]
    assert "\r" not in run.stderr and "updating the index" not in run.stderr  # no bar in a pipe
    parcel = sohoa("parcel", "--unit", "00031", "--sheet", "7", "--number", "12", env=env)
    assert parcel.returncode == 0 and "\r" not in parcel.stderr


def test_the_catch_up_shows_a_progress_bar_on_a_terminal(env):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    command = [sys.executable, "-m", "scanners.cli", "search", "dong da"]
    with subprocess.Popen(
        command, env={**os.environ, **env}, cwd=REPO, stdout=subprocess.PIPE, stderr=follower
    ) as proc:
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closes with the process
                break
            if not chunk:
                break
            drawn += chunk
        proc.stdout.read()
    os.close(leader)
    assert proc.returncode == 0
    assert "updating the index" in drawn.decode("utf-8", "replace")


def test_with_a_follower_elsewhere_search_says_how_far_behind_the_index_is(env):
    elsewhere = {**env, "SOHOA_BROKER_URL": "redis://127.0.0.1:1/0"}  # never contacted by search
    run = sohoa("search", "dong da", "--json", env=elsewhere)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["total"] == 0  # nothing indexed: the follower is not running
    assert "event(s) behind" in run.stderr and "sohoa follow" in run.stderr


def test_a_typo_is_forgiven_only_when_nothing_matches_as_typed_and_it_says_so(env):
    result = search(env, "van mieo")
    assert [h["code"] for h in result["hits"]] == ["HN-VM"]
    assert result["showing"] == "Văn Miếu"
    assert search(env, "van mieu")["showing"] == ""
    text = sohoa("search", "van mieo", env=env)
    assert "showing results for 'Văn Miếu'" in text.stdout
