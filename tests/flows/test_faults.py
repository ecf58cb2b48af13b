"""Faults an archive meets in production: the broker restarted and its queue lost, the search
backend gone for a while, a worker killed while a reconstruction runs. Nothing lost, nothing
done twice, every capture in a final state."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from uuid import UUID

from pipeline.dispatch.follower import Follower
from search.index import SearchUnavailableError
from search.query import Query
from tests.conftest import need
from tests.factories import samples, scans
from tests.flows.test_crash import start
from tests.helpers import make_services, sohoa
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

    from pipeline.usecases.importing.records import import_records
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


def _cmdline(process) -> str:
    """A process's command line, or "" when it ended between being listed and being read."""
    import psutil

    try:
        return " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return ""


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
            child = next((k for k in kids if "spawn_main" in _cmdline(k)), None)
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


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own on a free port, so it can be stopped and started
    again without touching the machine's server."""

    def __init__(self) -> None:
        import tempfile
        from pathlib import Path

        self.bin = "/usr/lib/postgresql/15/bin"
        need(os.path.exists(f"{self.bin}/initdb"), "PostgreSQL 15 server binaries are absent")
        need(shutil.which("runuser") is not None, "runuser is absent")
        # a folder the postgres user can reach (pytest's are private to root)
        self.home = Path(tempfile.mkdtemp(prefix="sohoa-pg-"))
        self.home.chmod(0o777)
        self.dir = self.home / "pgdata"
        self.port = free_port()
        initdb = f"{self.bin}/initdb"
        self._as_postgres(initdb, "-D", str(self.dir), "-A", "trust", "-U", "postgres")

    def _as_postgres(self, *args: str) -> None:
        cmd = args if os.geteuid() != 0 else ("runuser", "-u", "postgres", "--", *args)
        # output to a log file: the server keeps inherited pipes open
        with open(self.home / "log.txt", "ab") as log:
            subprocess.run(cmd, check=True, stdout=log, stderr=log, timeout=120)

    def start(self) -> None:
        opts = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.home / "server.log")
        ctl = f"{self.bin}/pg_ctl"
        self._as_postgres(ctl, "-D", str(self.dir), "-l", log, "-o", opts, "-w", "start")

    def stop(self) -> None:
        self._as_postgres(f"{self.bin}/pg_ctl", "-D", str(self.dir), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


def test_postgres_restarted_during_a_batch_loses_nothing(tmp_path):
    """The event store goes away mid-batch: followers and workers back off, jobs whose
    retries ran out while it was down are found by the sweeper, every capture ends once."""
    from scanners.cli.ingest import ingest_paths
    from workers.runtime import Runtime

    pg = PrivatePostgres()
    pg.start()
    try:
        svc = make_services(
            tmp_path,
            SOHOA_EVENTSTORE_URL=pg.url,
            SOHOA_AUTO_RUNS="",
            SOHOA_SWEEP_S="2",
            SOHOA_JOB_RETRIES="2",
        )
        folder = tmp_path / "in"
        folder.mkdir()
        for i in range(40):
            samples.make_png(folder / f"{i}.png", 1600 + i, 1200)
        results = ingest_paths(svc, [folder], None, None, as_json=True)
        ids = [r.capture_id for r in results]
        with Runtime(svc, workers=True, follow=True):
            while not any(svc.store.capture(UUID(i)).inspection for i in ids):
                time.sleep(0.05)
            done_before = sum(bool(svc.store.capture(UUID(i)).inspection) for i in ids)
            pg.stop()  # mid-batch
            time.sleep(3)
            pg.start()
            states = wait_until_settled(svc, [UUID(i) for i in ids], timeout_s=180)
        assert done_before < len(ids), "the batch finished before the restart; make it bigger"
        assert set(states.values()) == {"done"}
        for i in ids:
            events = [e.event for e in svc.store.history(UUID(i))]
            assert events.count("Capture.Inspected") == 1
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            pg.stop()
        shutil.rmtree(pg.home, ignore_errors=True)
