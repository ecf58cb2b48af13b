"""The review queue on the command line, in subprocesses on embedded defaults: `sohoa fields`
as a table of statuses, `sohoa review` weakest first, and `review accept` / `review correct`
recording the staff page's events by the operator, the read audited under the operator."""

from __future__ import annotations

import json
from uuid import UUID

import pytest

from pipeline.usecases.accounts import audit_entries
from tests.helpers import make_services, sohoa
from tests.web.test_review_queue import GARBLED, certificate


@pytest.fixture
def setup(tmp_path):
    """Two certificates read (one with a garbled parcel number); the CLI's environment."""
    svc = make_services(tmp_path)
    garbled = certificate(svc, tmp_path, "gcn-1.png", GARBLED, 64)
    clean = [GARBLED[0], "a) Thửa đất số: 45, tờ bản đồ số: 12", *GARBLED[2:]]
    tidy = certificate(svc, tmp_path, "gcn-2.png", clean, 65)
    svc.close()
    env = {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_OPERATOR": "hoa"}
    return tmp_path, env, str(garbled), str(tidy)


def test_fields_shows_each_status_and_confidence_in_columns(setup):
    _, env, garbled, _ = setup
    run = sohoa("fields", garbled, env=env)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    parcel = next(line for line in lines if line.strip().startswith("parcel_number"))
    area = next(line for line in lines if line.strip().startswith("area_m2"))
    assert "needs review: '4#5" in parcel and " 0.00 " in parcel
    assert area.rstrip().endswith("read") and "120.5" in area
    # aligned: every field's status starts in the same column
    rows = [line for line in lines if line.startswith("  ") and "points" not in line]
    starts = {line.index(" 0.", 20) for line in rows if " 0." in line[20:]}
    assert len(starts) == 1, rows


def test_review_lists_weakest_first_and_records_as_the_operator(setup):
    tmp_path, env, garbled, tidy = setup
    listing = sohoa("review", env=env)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.index(garbled) < listing.stdout.index(tidy)
    queue = json.loads(sohoa("review", "--json", env=env).stdout)
    assert [q["id"] for q in queue["rows"]] == [garbled, tidy]
    assert queue["figures"]["certificates"] == 2

    ok = sohoa("review", "accept", garbled, "area_m2", env=env)
    assert ok.returncode == 0, ok.stderr
    area = next(line for line in ok.stdout.splitlines() if line.strip().startswith("area_m2"))
    assert area.rstrip().endswith("accepted by person:hoa")
    fixed = sohoa("review", "correct", garbled, "parcel_number=45", "--json", env=env)
    view = json.loads(fixed.stdout)
    assert view["fields"]["parcel_number"] == "45"
    assert (
        view["status"]["parcel_number"] | {"status": "corrected", "by": "person:hoa"}
        == (view["status"]["parcel_number"])
    )
    # a field with no value cannot be accepted; an unknown one is refused
    refused = sohoa("review", "accept", garbled, "serial", env=env)
    assert refused.returncode == 1 and "use correct" in refused.stderr
    assert sohoa("review", "accept", garbled, "nope", env=env).returncode == 2

    after = json.loads(sohoa("review", "--json", env=env).stdout)
    settled = next(q for q in after["rows"] if q["id"] == garbled)
    assert (settled["accepted"], settled["corrected"]) == (1, 1)
    svc = make_services(tmp_path)
    try:
        events = [e.event for e in svc.store.history(UUID(garbled))]
        assert "Capture.FieldAccepted" in events and "Capture.FieldCorrected" in events
        reads = [e for e in audit_entries(svc.store) if e["subject_id"] == garbled]
        assert {(e["who"], e["action"]) for e in reads} >= {("hoa", "cli review")}
    finally:
        svc.close()
