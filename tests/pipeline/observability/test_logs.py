"""Log lines: JSON objects for a log shipper when asked, plain lines otherwise, no personal
data either way."""

from __future__ import annotations

import json
import logging

import pytest

from pipeline.observability.logs import configure_logging
from tests.factories import samples
from tests.helpers import sohoa


def test_json_lines_carry_the_job_context_and_mask_id_numbers(
    tmp_path, capsys, restore_root_logging
):
    configure_logging(True, tmp_path / "logs" / "sohoa.log", "json")
    logging.getLogger("workers.actors").info(
        "ocr of certificate for CCCD 001168054321 token=abc123secret",
        extra={"capture_id": "c-1", "job_key": "k-1", "stage": "ocr", "duration_s": 1.5,
               "outcome": "done"},
    )  # fmt: skip
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["level"] == "INFO" and entry["logger"] == "workers.actors"
    assert entry["timestamp"].endswith("+00:00")
    assert (entry["capture_id"], entry["job_key"], entry["stage"]) == ("c-1", "k-1", "ocr")
    assert entry["duration_s"] == 1.5 and entry["outcome"] == "done"
    assert "001168054321" not in line and "abc123secret" not in line
    written = (tmp_path / "logs" / "sohoa.log").read_text().strip()
    assert json.loads(written)["message"] == entry["message"]


def test_plain_lines_by_default_and_a_wrong_format_is_refused(
    tmp_path, capsys, restore_root_logging
):
    configure_logging(True, tmp_path / "sohoa.log")
    logging.getLogger("pipeline").warning("capture %s stalled, owner CMND 031256789", "c-2")
    err = capsys.readouterr().err
    assert "WARNING pipeline: capture c-2 stalled" in err and "031256789" not in err
    with pytest.raises(ValueError, match="SOHOA_LOG_FORMAT"):
        configure_logging(True, tmp_path / "sohoa.log", "xml")


def test_the_command_line_writes_json_when_asked(tmp_path):
    env = {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_LOG_FORMAT": "json"}
    page = samples.make_png(tmp_path / "page.png", 200, 120, mode="L")
    done = sohoa("-v", "ingest", "--wait", str(page), env=env, timeout=240)
    lines = [json.loads(ln) for ln in done.stderr.splitlines() if ln.startswith("{")]
    assert lines, done.stderr
    assert all({"timestamp", "level", "logger", "message"} <= set(e) for e in lines)
    jobs = [e for e in lines if e.get("stage") == "inspect"]
    assert jobs and jobs[0]["outcome"] == "ok" and jobs[0]["duration_s"] >= 0
