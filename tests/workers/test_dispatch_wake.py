"""The embedded dispatcher wakes when this process saves events, not at its next idle poll."""

from __future__ import annotations

import time
from pathlib import Path
from uuid import UUID

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


def test_every_follower_and_the_wait_wake_on_a_save_here_not_at_their_next_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for name in ("DISPATCHER_IDLE_S", "INDEXER_IDLE_S", "STATS_IDLE_S", "CAPTURES_IDLE_S"):
        monkeypatch.setattr(runtime_module, name, 60.0)
    monkeypatch.setattr(runtime_module, "ALONE_IDLE_S", 60.0)
    svc = make_services(tmp_path, SOHOA_AUTO_RUNS="")
    page = samples.make_png(tmp_path / "trang.png", 120, 80)
    rt = Runtime(svc, workers=True, follow=True).start()
    try:
        time.sleep(0.3)  # every follower has read the empty log and is waiting
        [result] = ingestor(svc).ingest_item(Item(display=page.name, source=page), None)
        started = time.monotonic()
        states = rt.wait_until_settled([UUID(result.capture_id)], timeout_s=20)
        assert time.monotonic() - started < 10
        assert set(states.values()) <= {"done", "partial"}
        head = svc.store.max_notification_id()
        deadline = time.monotonic() + 5.0
        followers = (rt.dispatcher, rt.indexer, rt.stats, rt.captures)
        while any(f.position() < head for f in followers):
            late = [f.name for f in followers if f.position() < head]
            assert time.monotonic() < deadline, f"{late} did not follow the saves"
            time.sleep(0.05)
    finally:
        rt.stop()
        svc.close()
