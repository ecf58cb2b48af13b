"""Land certificates end to end: pages read on the workers → fields extracted → the capture
linked to its parcel (through the gazetteer, in the era of the issue date) → the parcel carries
the values with their provenance and the corner polygon; a person's correction wins; a page
that is not a certificate gets kind "other" and no invented fields."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from models.ids import parcel_id
from scanners.cli.ingest import ingest_paths
from tests.conftest import SHARED_DATA, need
from tests.factories.certificates import make_certificate, make_decree_page
from tests.helpers import make_services, sohoa
from workers.runtime import Runtime, wait_until_settled


@pytest.fixture(scope="module")
def certified(tmp_path_factory):
    need(SHARED_DATA.is_dir(), f"sample data folder {SHARED_DATA} is absent")
    tmp = tmp_path_factory.mktemp("certificate")
    gazetteer = SHARED_DATA / "heritage" / "admin_units_vn"
    svc = make_services(tmp, SOHOA_GAZETTEER_DIR=str(gazetteer), SOHOA_WORKER_THREADS="2")
    pages, expected = make_certificate("2009-2024", seed=1000)
    cert = tmp / "so-do.tif"
    pages[0].save(
        cert, save_all=True, append_images=pages[1:], dpi=(300, 300), compression="tiff_lzw"
    )
    decree = tmp / "quyet-dinh.png"
    make_decree_page(0).save(decree, dpi=(300, 300))
    results = ingest_paths(svc, [cert, decree], "land-certificate", None, as_json=True)
    ids = {r.path.rsplit("/", 1)[-1]: UUID(r.capture_id) for r in results}
    with Runtime(svc, workers=True, follow=True):
        states = wait_until_settled(svc, ids.values(), timeout_s=600)
    return svc, ids, states, expected


def test_fields_are_read_with_their_page_and_box(certified):
    svc, ids, states, expected = certified
    capture = svc.store.capture(ids["so-do.tif"])
    assert states[capture.id] == "done"
    result = capture.fields["result"]
    assert result["kind"] == "land_certificate"
    fields = result["fields"]
    for name in ("parcel_number", "map_sheet", "serial", "issue_date", "purpose_code"):
        assert fields[name] == expected["fields"][name], name
    assert fields["area_m2"] == pytest.approx(expected["fields"]["area_m2"], rel=0.005)
    where = result["provenance"]["serial"]
    assert 0 < where["confidence"] <= 1 and len(where["box"]) == 4 and where["page"] in (0, 1)
    assert [o["id_number"] for o in result["owners"]] == [
        o["id_number"] for o in expected["owners"]
    ]


def test_the_capture_is_linked_to_its_parcel_which_gets_the_values(certified):
    svc, ids, _, expected = certified
    capture = svc.store.capture(ids["so-do.tif"])
    gaz = svc.gazetteer
    ward = expected["fields"]["address"].split("phường ")[1].split(",")[0]
    (unit,) = [u for u in gaz.find(ward, era="pre2025") if u.level == "commune"][:1]
    pid = parcel_id(
        unit.code, "pre2025", expected["fields"]["map_sheet"], expected["fields"]["parcel_number"]
    )
    assert capture.fields["record_id"] == pid and pid in capture.links
    parcel = svc.store.record(pid)
    assert parcel.attributes["serial"] == expected["fields"]["serial"]
    assert parcel.provenance["serial"].startswith(f"capture:{capture.id}")
    assert parcel.attributes["owners"]  # restricted: stored for officers, never public
    if len(capture.fields["result"]["corners"]) >= 3:
        assert parcel.geometry["crs"] == "EPSG:5897"


def test_a_page_that_is_not_a_certificate_gets_no_invented_fields(certified):
    svc, ids, states, _ = certified
    capture = svc.store.capture(ids["quyet-dinh.png"])
    assert states[capture.id] == "done"
    assert capture.fields["result"]["kind"] == "other"
    assert capture.fields["result"]["fields"] == {} and capture.fields["record_id"] is None
    assert capture.links == []


def test_cli_fields_and_a_correction_that_wins(certified):
    svc, ids, _, _ = certified
    cid = str(ids["so-do.tif"])
    env = {
        "SOHOA_DATA_DIR": str(svc.settings.data_dir),
        "SOHOA_GAZETTEER_DIR": svc.settings.gazetteer_dir,
        "SOHOA_OPERATOR": "lan",
    }
    shown = sohoa("fields", cid, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["kind"] == "land_certificate"
    assert set(view) >= {"fields", "corners", "owners", "changes"}
    fixed = sohoa("fields", cid, "--set", "area_m2=123.4", "--reason", "đo lại", "--json", env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["fields"]["area_m2"] in ("123.4", 123.4)
    capture = svc.store.capture(UUID(cid))
    assert capture.corrections["area_m2"]["by"] == "lan"
    parcel = svc.store.record(capture.fields["record_id"])
    assert str(parcel.attributes["area_m2"]) == "123.4"
    assert parcel.provenance["area_m2"].startswith("lan via capture:")
    events = [e.event for e in svc.store.history(capture.id)]
    assert "Capture.FieldCorrected" in events
