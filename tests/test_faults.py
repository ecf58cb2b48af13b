"""Faults an archive meets in production: the broker restarted and its queue lost, the search
backend gone for a while, a worker killed while a reconstruction runs. Nothing lost, nothing
done twice, every capture in a final state."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

from pipeline.followers import Follower
from search.index import SearchUnavailableError
from search.query import Query
from tests import samples, scans
from tests.conftest import need
from tests.helpers import make_services, sohoa
from tests.test_crash import start
from workers.runtime import wait_until_settled


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server(port: int) -> subprocess.Popen:
    binary = shutil.which("redis-server")
    need(binary is not None, "redis-server is not installed")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def stop(*procs: subprocess.Popen) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def test_redis_restarted_with_its_queue_lost_then_the_sweeper_redoes_the_work(tmp_path):
    port = free_port()
    redis = redis_server(port)
    url = f"redis://127.0.0.1:{port}/0"
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        samples.make_png(folder / f"{i}.png", 64 + i, 48)
    env = {
        "SOHOA_DATA_DIR": str(tmp_path / "data"),
        "SOHOA_BROKER_URL": url,
        "SOHOA_AUTO_RUNS": "",
        "SOHOA_SWEEP_S": "2",
    }
    assert sohoa("ingest", str(folder), "--json", env=env).returncode == 0
    svc = make_services(tmp_path)
    ids = list(svc.store.capture_ids())
    follow = start(["follow"], env)  # jobs queue up in Redis: no worker yet
    worker = None
    try:
        import redis as redis_client

        client = redis_client.Redis.from_url(url)
        deadline = time.monotonic() + 60
        while client.llen("dramatiq:default") < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.llen("dramatiq:default") == 6
        redis.kill()  # the broker dies with its queue (no persistence)
        redis.wait()
        redis = redis_server(port)
        assert redis_client.Redis.from_url(url).llen("dramatiq:default") == 0
        worker = start(["worker"], env)
        states = wait_until_settled(svc, ids, timeout_s=120)
    finally:
        stop(*(p for p in (worker, follow) if p), redis)
    assert set(states.values()) == {"done"}
    for i in ids:
        events = [e.event for e in svc.store.history(i)]
        assert events.count("Capture.Inspected") == 1


class FlakyIndex:
    """The real index behind our own interface, unavailable for the first `down` calls."""

    def __init__(self, index, down: int) -> None:
        self.index, self.down = index, down

    def __getattr__(self, name):
        attr = getattr(self.index, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            if self.down > 0:
                self.down -= 1
                raise SearchUnavailableError("search backend is down")
            return attr(*args, **kwargs)

        return call


def test_the_indexer_catches_up_after_the_search_backend_was_gone(tmp_path):
    import threading

    from pipeline.importer import import_records
    from scanners.demo import SAMPLES

    svc = make_services(tmp_path)
    import_records(svc.store, SAMPLES / "hanoi_sites.jsonl")
    flaky = FlakyIndex(svc.index, down=5)
    # the indexer's projection, over an index that fails its first calls
    from search.indexer import IndexProjection

    projection = IndexProjection(svc.store, flaky)
    follower = Follower("indexer", svc.store, flaky, projection.handle)
    stop_event = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop_event, 0.05), daemon=True)
    thread.start()
    real = Follower("indexer", svc.store, svc.index, projection.handle)  # reads, never fails
    deadline = time.monotonic() + 60
    while (flaky.down or real.lag()) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop_event.set()
    thread.join(10)
    assert flaky.down == 0 and real.lag() == 0
    assert svc.index.search(Query(text="van mieu")).total == 1


def test_worker_killed_mid_reconstruction_then_the_model_is_made_once(tmp_path, redis_url):
    import psutil
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    mesh = scans.stele_mesh(step_m=0.004)
    points, colours = scans.surface_cloud(mesh, 30_000)
    cloud = scans.write_ply(tmp_path / "stele.ply", points, colours)
    env = {
        "SOHOA_DATA_DIR": str(tmp_path / "data"),
        "SOHOA_BROKER_URL": redis_url,
        "SOHOA_REDELIVERY_TIMEOUT_S": "3",
        "SOHOA_WORKER_THREADS": "1",
    }
    assert sohoa("ingest", str(cloud), "--json", env=env).returncode == 0
    svc = make_services(tmp_path)
    (cid,) = list(svc.store.capture_ids())
    follow = start(["follow"], env)
    worker = start(["worker", "--queue", "default", "--queue", "reconstruction"], env)
    try:
        deadline = time.monotonic() + 120
        child = None
        while child is None and time.monotonic() < deadline:  # the isolated stage has started
            kids = psutil.Process(worker.pid).children(recursive=True)
            child = next((k for k in kids if "spawn_main" in " ".join(k.cmdline())), None)
            time.sleep(0.05)
        assert child is not None, "the reconstruction never started"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        child.wait(timeout=10)  # the stage's child dies with its worker
        assert svc.store.capture(cid).model is None
        worker = start(["worker", "--queue", "default", "--queue", "reconstruction"], env)
        states = wait_until_settled(svc, [cid], timeout_s=300)
    finally:
        stop(worker, follow)
    assert states[cid] == "done"
    events = [e.event for e in svc.store.history(cid)]
    assert events.count("Capture.ModelReconstructed") == 1
