"""kill -9 in the middle of a batch, then the same command again: exactly once, nothing lost."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from uuid import UUID

import numpy as np
from PIL import Image

from tests.helpers import REPO, make_services, sohoa
from workers.runtime import wait_until_settled


def noisy_pngs(folder, n, size=600):
    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(
            folder / f"{i:03d}.png"
        )


def start(args, env):
    return subprocess.Popen(
        [sys.executable, "-m", "scanners.cli", *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_ingest_killed_mid_batch_then_rerun_records_every_file_once(tmp_path):
    folder = tmp_path / "batch"
    noisy_pngs(folder, 60)
    env = {"SOHOA_DATA_DIR": str(tmp_path / "data"), "SOHOA_AUTO_RUNS": ""}  # ingest only

    proc = start(["ingest", str(folder), "--json"], env)
    for _ in range(15):  # let it get well into the batch
        proc.stdout.readline()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    run = sohoa("ingest", str(folder), "--json", "--wait", env=env)

    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(results) == 60
    statuses = {r["status"] for r in results}
    assert statuses <= {"ingested", "duplicate"} and "duplicate" in statuses
    svc = make_services(tmp_path)
    ids = list(svc.store.capture_ids())
    assert len(ids) == len(set(ids)) == 60
    for r in results:
        expected = hashlib.sha256((folder / os.path.basename(r["path"])).read_bytes()).hexdigest()
        assert r["sha256"] == expected
        capture = svc.store.capture(UUID(r["capture_id"]))
        assert capture.sha256 == expected and capture.state(["inspect"]) == "done"
    assert sohoa("verify", env=env).returncode == 0


def test_worker_killed_mid_batch_loses_no_job_and_does_none_twice(tmp_path, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    folder = tmp_path / "batch"
    noisy_pngs(folder, 40, size=1200)
    env = {
        "SOHOA_DATA_DIR": str(tmp_path / "data"),
        "SOHOA_BROKER_URL": redis_url,
        "SOHOA_REDELIVERY_TIMEOUT_S": "3",
        "SOHOA_WORKER_THREADS": "1",
        "SOHOA_AUTO_RUNS": "",
    }
    assert sohoa("ingest", str(folder), "--json", env=env).returncode == 0
    svc = make_services(tmp_path)
    ids = list(svc.store.capture_ids())

    follow = start(["follow"], env)
    worker = start(["worker"], env)
    try:
        while sum(bool(svc.store.capture(i).inspection) for i in ids) < 5:
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        done_at_kill = sum(bool(svc.store.capture(i).inspection) for i in ids)
        assert done_at_kill < len(ids), "the batch finished before the kill; make it bigger"
        worker = start(["worker"], env)
        states = wait_until_settled(svc, ids, timeout_s=180)
    finally:
        for p in (worker, follow):
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)

    assert set(states.values()) == {"done"}
    for i in ids:
        events = [e.event for e in svc.store.history(i)]
        assert events.count("Capture.Inspected") == 1, events


def test_worker_killed_mid_ocr_reads_every_page_exactly_once(tmp_path, redis_url):
    """One document of 8 text pages, one `ocr` job per page; the only worker is killed after
    a few pages: a new worker reads the rest, no page is read twice, the text is assembled."""
    import redis

    from tests.factories.degrade import render_page

    redis.Redis.from_url(redis_url).flushdb()
    pages = [render_page(seed=i, size="A5", dpi=200) for i in range(8)]
    tiff = tmp_path / "register.tif"
    pages[0].save(tiff, save_all=True, append_images=pages[1:], dpi=(200, 200))
    env = {
        "SOHOA_DATA_DIR": str(tmp_path / "data"),
        "SOHOA_BROKER_URL": redis_url,
        "SOHOA_REDELIVERY_TIMEOUT_S": "3",
        "SOHOA_WORKER_THREADS": "1",
        "SOHOA_AUTO_RUNS": "text",
    }
    assert sohoa("ingest", str(tiff), "--json", env=env).returncode == 0
    svc = make_services(tmp_path)
    (cid,) = list(svc.store.capture_ids())

    def pages_read() -> int:
        return len(svc.store.capture(cid).page_outcomes(1))

    follow = start(["follow"], env)
    worker = start(["worker"], env)
    try:
        deadline = time.monotonic() + 240
        while pages_read() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        assert pages_read() < 8, "every page was read before the kill; make it bigger"
        worker = start(["worker"], env)
        states = wait_until_settled(svc, [cid], timeout_s=300)
    finally:
        for p in (worker, follow):
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)

    assert states[cid] == "done"
    events = [e.event for e in svc.store.history(cid)]
    assert events.count("Capture.PageRecognised") == 8
    assert events.count("Capture.TextAssembled") == 1
    text = svc.blobs.read_bytes(svc.store.capture(cid).text["text_key"]).decode()
    assert len(text.split("\f")) == 8
    assert "CỘNG" in text and "Độc lập - Tự do - Hạnh phúc" in text
