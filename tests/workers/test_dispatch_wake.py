"""The embedded dispatcher wakes when this process saves events, not at its next idle poll."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.usecases.inputs import Item
from scanners.cli.ingest import ingestor
from tests.factories import samples
from tests.helpers import make_services
from workers import runtime as runtime_module
from workers.runtime import Runtime


def _queued(rt: Runtime) -> int:
    return sum(rt.queue.depth().values())


@pytest.fixture
def slow_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle poll far longer than the test: only a wake-up can explain a prompt job."""
    monkeypatch.setattr(runtime_module, "DISPATCHER_IDLE_S", 60.0)


def test_a_capture_saved_here_is_dispatched_at_once_and_stop_is_prompt(tmp_path: Path, slow_polls):
    svc = make_services(tmp_path, SOHOA_AUTO_RUNS="")
    page = samples.make_png(tmp_path / "trang.png", 120, 80)
    rt = Runtime(svc, workers=False, follow=True).start()
    try:
        time.sleep(0.3)  # the dispatcher has read the empty log and is waiting
        assert _queued(rt) == 0
        [result] = ingestor(svc).ingest_item(Item(display=page.name, source=page), None)
        assert result.status == "ingested"
        deadline = time.monotonic() + 5.0
        while _queued(rt) == 0:
            assert time.monotonic() < deadline, "the inspect job was not enqueued"
            time.sleep(0.02)
    finally:
        started = time.monotonic()
        rt.stop()
        stop_s = time.monotonic() - started
        svc.close()
    assert stop_s < 5.0  # the waiting dispatcher is woken by stop too
