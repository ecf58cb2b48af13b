"""The command line as a user runs it, in subprocesses, on embedded defaults."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.factories import samples
from tests.helpers import sohoa


@pytest.fixture
def env(tmp_path):
    # these generated images hold no text: stop after inspection (text:
    # tests/flows/test_text_flow.py)
    return {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_AUTO_RUNS": ""}


def test_ingest_wait_history_show_status_verify(tmp_path, env):
    d = tmp_path / "in"
    d.mkdir()
    samples.make_tiff(d / "register.tif", pages=2)
    samples.make_png(d / "page.png", 120, 80)
    samples.make_random(d / "random.pdf")
    before = datetime.now(UTC).isoformat()

    run = sohoa("ingest", str(d), "--wait", "--json", env=env)

    assert run.returncode == 1, run.stderr  # one file was rejected
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(r["status"] for r in lines) == ["ingested", "ingested", "rejected"]
    rejected = next(r for r in lines if r["status"] == "rejected")
    assert rejected["path"].endswith("random.pdf") and rejected["error"]
    tif = next(r for r in lines if r["path"].endswith("register.tif"))

    hist = json.loads(sohoa("history", tif["capture_id"], "--json", env=env).stdout)
    assert [e["event"] for e in hist] == [
        "Capture.Received",
        "Capture.Inspected",
        "Capture.ThumbnailRendered",
    ]

    now = json.loads(sohoa("show", tif["capture_id"], "--json", env=env).stdout)
    assert now["state"] == "done" and now["inspection"]["pages"] == 2
    assert now["sha256"] == tif["sha256"]
    then = sohoa("show", tif["capture_id"], "--as-of", before, "--json", env=env)
    assert then.returncode == 1 and "not been recorded" in then.stderr

    status = json.loads(sohoa("status", "--json", env=env).stdout)
    assert status["captures"] == {"total": 2, "pending": 0, "done": 2, "partial": 0, "failed": 0}

    ok = sohoa("verify", "--json", env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["problems"] == []


def test_verify_reports_tampered_and_missing_blobs(tmp_path, env):
    a = samples.make_png(tmp_path / "a.png", 30, 30)
    b = samples.make_png(tmp_path / "b.png", 31, 31)
    lines = sohoa("ingest", str(a), str(b), "--json", env=env).stdout.splitlines()
    keys = {}
    for line in lines:
        r = json.loads(line)
        keys[r["path"]] = r["sha256"]
    blobs = tmp_path / "data" / "blobs" / "sha256"
    sa, sb = keys[str(a)], keys[str(b)]
    (blobs / sa[:2] / sa[2:4] / sa).write_bytes(b"bit rot")
    (blobs / sb[:2] / sb[2:4] / sb).unlink()

    run = sohoa("verify", "--json", env=env)

    assert run.returncode == 1
    problems = {
        p["key"].rsplit("/", 1)[-1]: p["problem"] for p in json.loads(run.stdout)["problems"]
    }
    assert "mismatch" in problems[sa] and problems[sb] == "missing"


def test_unknown_id_is_a_clear_error(env):
    run = sohoa("show", "00000000-0000-0000-0000-000000000000", env=env)
    assert run.returncode == 1 and "no capture or record" in run.stderr
    run = sohoa("history", "not-an-id", env=env)
    assert run.returncode == 2 and "not a capture or record id" in run.stderr
