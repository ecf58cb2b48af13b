"""A worker or follower process is healthy only while its parts run: the heartbeat file is
rewritten while they do, and `sohoa health` turns its age into the exit code a container
healthcheck reads."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanners.cli.main import main
from tests.helpers import make_services
from workers import runtime as runtime_module
from workers.heartbeat import check_file
from workers.runtime import Runtime


def _wait_for(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.fixture
def fast_beats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_module, "HEARTBEAT_S", 0.1)


def test_worker_heartbeat_stops_when_its_threads_die(tmp_path: Path, fast_beats) -> None:
    beat_file = tmp_path / "heartbeat.json"
    svc = make_services(tmp_path, SOHOA_HEARTBEAT_FILE=str(beat_file))
    rt = Runtime(svc, workers=True, follow=True).start()
    try:
        _wait_for(lambda: check_file(beat_file, 1.0)[0])
        line = check_file(beat_file, 1.0)[1]
        assert "worker" in line and "dispatcher" in line and "indexer" in line
        rt._worker.stop()  # the consumer and worker threads end; the process lives on
        _wait_for(lambda: not check_file(beat_file, 1.0)[0])
        assert check_file(beat_file, 1.0)[1].startswith("stale: last heartbeat")
    finally:
        rt._worker = None
        rt.stop()


def test_follower_heartbeat_stops_when_its_store_stops_answering(
    tmp_path: Path, fast_beats, monkeypatch: pytest.MonkeyPatch
) -> None:
    beat_file = tmp_path / "heartbeat.json"
    svc = make_services(tmp_path, SOHOA_HEARTBEAT_FILE=str(beat_file))
    monkeypatch.setattr(runtime_module, "FOLLOWER_STALL_S", 0.5)
    with Runtime(svc, workers=False, follow=True) as rt:
        _wait_for(lambda: check_file(beat_file, 1.0)[0])

        def unreachable(*_a, **_k):
            raise ConnectionError("database went away")

        monkeypatch.setattr(rt.dispatcher, "run_once", unreachable)
        _wait_for(lambda: not check_file(beat_file, 1.0)[0])


def test_health_command_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    beat_file = tmp_path / "heartbeat.json"
    monkeypatch.setenv("SOHOA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SOHOA_HEARTBEAT_FILE", raising=False)
    unset = runner.invoke(main, ["health"])
    assert unset.exit_code == 1 and "SOHOA_HEARTBEAT_FILE is not set" in unset.output

    monkeypatch.setenv("SOHOA_HEARTBEAT_FILE", str(beat_file))
    absent = runner.invoke(main, ["health"])
    assert absent.exit_code == 1 and "no heartbeat yet" in absent.output

    beat_file.write_text(f'{{"pid": 1, "time": {time.time()}, "parts": {{"worker": true}}}}')
    fresh = runner.invoke(main, ["health", "--max-age", "30"])
    assert fresh.exit_code == 0 and fresh.output.startswith("alive: pid 1")

    beat_file.write_text(f'{{"pid": 1, "time": {time.time() - 120}, "parts": {{}}}}')
    stale = runner.invoke(main, ["health", "--max-age", "30"])
    assert stale.exit_code == 1 and "stale" in stale.output
