"""Load: generated captures through the whole pipeline, on embedded defaults and on PostgreSQL +
Redis, sampled every second (throughput, queue depth, follower lag, memory), with a plot.

    .venv/bin/python bench/bench_load.py [--captures 10000] [--ocr-captures 500]
        [--configs embedded,distributed] [--phases inspect,ocr] [--quick] [--json]

Two phases per configuration, each on a fresh store, because OCR of one small page costs
~0.2–0.5 s of a core here (Tesseract with `vie` spends most of it loading its model), so
10,000 OCR'd captures would take well over an hour per configuration on 2 cores:

* **inspect** (`--captures`, default 10,000; `--quick` 500): `SOHOA_AUTO_RUNS=""`, so every
  capture goes ingest → dispatcher → `inspect` job (probe, thumbnail) → indexer. The mix is 90 %
  PNG pages (480×100 px, 300 dpi, one line of Vietnamese text), 5 % JPEG photos and 5 % small PLY
  clouds, each linked by its sidecar to one of 100 published heritage sites.
* **ocr** (`--ocr-captures`, default 500; `--quick` 50): the same pages with the default
  `SOHOA_AUTO_RUNS=text`: inspect, one `ocr` job per page (preprocessing, Tesseract with hOCR,
  Vietnamese correction), then the `text` job (full text, searchable PDF), then the indexer puts
  the text into the site's search documents.

Configurations:

* **embedded**: SQLite, local blobs, tantivy, `memory://` (Dramatiq's StubBroker) with
  `workers.runtime.Runtime(workers=True, follow=True)` in this process, as `sohoa serve` runs.
* **distributed**: PostgreSQL (a fresh schema `load_<hex>` in database `test`, dropped
  afterwards), Redis (database 13, flushed), local blobs and tantivy, with `sohoa follow` and
  `sohoa worker` as subprocesses, as in production (`docker-compose.yml`); this process only
  ingests (as `sohoa ingest` would) and watches.

Captures are ingested as fast as one thread can while the pipeline runs. Every second a sampler
records captures ingested, captures settled by state (the same `Capture.state(plan(...))` as
`sohoa status`, re-read only for captures with new events), events (`max_notification_id`),
queue depth (`DramatiqQueue.depth`), dispatcher and indexer lag (`Follower.lag`) and the RSS of
every process (psutil: this one, `sohoa follow`/`worker`, and Tesseract children).

Figures: throughput (captures settled per second, first ingest → last settled), CPU per
capture (user + system seconds of every process of the run: this one, `sohoa follow`/`worker`,
the page pool, Tesseract; the figure that load on a shared machine does not bend), ingest rate
under load, peak queue depth, peak and final lag (final: after the followers drained), peak RSS
and RSS growth, and errors (captures failed or partial, ingest rejections, ERROR log records or
tracebacks from any process: must be 0). Baselines measured in the same run: ingest alone on a
fresh store of the same configuration (no workers, no followers), and the `tesseract` CLI
(`-l vie`, hOCR, 2 processes, OMP_THREAD_LIMIT=1) over the same pages for the ocr phase (pages
per second, and CPU seconds per page).

Plots: var/bench/load-<config>.png (one column per phase).
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["OMP_THREAD_LIMIT"] = "1"

from bench.common import REPO, emit, load_average, log, parser, row, scratch, table

CONFIGS = ("embedded", "distributed")
PHASES = {"inspect": "", "ocr": "text"}
"""Phase → SOHOA_AUTO_RUNS."""
SITES = 100
PAGE_SIZE = (480, 100)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/13"
BASELINE_INGEST = 1000
BASELINE_PAGES = 100
DRAIN_S = 60.0
CAPTURE_TOPIC = "models.capture:Capture."
MB = 1_000_000


# --- inputs ------------------------------------------------------------------------------------


def text_page(path: Path, i: int) -> Path:
    """A one-line Vietnamese page, distinct per `i` (so never a duplicate)."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("L", PAGE_SIZE, 255)
    font = ImageFont.truetype(FONT, 30)
    ImageDraw.Draw(im).text((12, 30), f"Thửa đất số {i}, tờ số {i % 97 + 1}", font=font, fill=0)
    im.save(path, dpi=(300, 300))
    return path


def photo(path: Path, i: int) -> Path:
    """A small JPEG photograph-like image (noise plus a gradient), distinct per `i`."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(i)
    base = np.linspace(40, 220, 320, dtype=np.float32)[None, :, None]
    pixels = np.clip(base + rng.normal(0, 25, (240, 320, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(pixels, "RGB").save(path, quality=85)
    return path


def cloud(path: Path, i: int) -> Path:
    from tests.factories.samples import make_ply

    return make_ply(path, 300 + i)  # distinct sizes: distinct bytes


def make_inputs(folder: Path, n: int, mixed: bool) -> list[Path]:
    """`n` captures: PNG pages, or (mixed) 90 % pages, 5 % JPEG photos, 5 % PLY clouds."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        if mixed and i % 20 == 7:
            paths.append(photo(folder / f"anh-{i:05d}.jpg", i))
        elif mixed and i % 20 == 13:
            paths.append(cloud(folder / f"bia-{i:05d}.ply", i))
        else:
            paths.append(text_page(folder / f"trang-{i:05d}.png", i))
    return paths


def site_code(i: int) -> str:
    return f"LOAD-{i % SITES:03d}"


def register_sites(store) -> None:
    """The published heritage sites the captures are linked to (not timed)."""
    from models.record import Record

    for i in range(SITES):
        r = Record(kind="site", key={"code": site_code(i)}, source="bench")
        r.record_attributes(attributes={"name": f"Đình làng số {i}"}, source="bench")
        r.publish()
        store.save(r)


# --- configurations ----------------------------------------------------------------------------


@dataclass
class Config:
    """Where a phase's stores live, and how to start its pipeline."""

    name: str
    phase: str
    data_dir: Path
    env: dict[str, str]

    def services(self):
        from pipeline.bootstrap import bootstrap
        from pipeline.settings import Settings

        return bootstrap(Settings.from_env({"SOHOA_DATA_DIR": str(self.data_dir), **self.env}))


@contextmanager
def configuration(name: str, phase: str, folder: Path) -> Iterator[Config]:
    """A fresh configuration: a data folder, and for `distributed` a schema and a Redis db."""
    env = {"SOHOA_AUTO_RUNS": PHASES[phase]}
    if name == "embedded":
        yield Config(name, phase, folder, env)
        return
    import psycopg
    import redis

    schema = "load_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    env |= {"SOHOA_EVENTSTORE_URL": f"{PG_URL}?schema={schema}", "SOHOA_BROKER_URL": REDIS_URL}
    try:
        yield Config(name, phase, folder, env)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
        redis.Redis.from_url(REDIS_URL).flushdb()


# --- watching ----------------------------------------------------------------------------------


class Settlement:
    """Captures by state, kept current by reading the notification log after the last id seen
    and re-reading only the captures that have new events."""

    def __init__(self, store) -> None:
        self.store = store
        self.position = 0
        self.states: dict[uuid.UUID, str] = {}

    def poll(self) -> None:
        from models.plan import plan

        dirty: set[uuid.UUID] = set()
        while page := self.store.recorder.select_notifications(self.position + 1, 1000):
            dirty |= {n.originator_id for n in page if n.topic.startswith(CAPTURE_TOPIC)}
            self.position = page[-1].id
        for cid in dirty:
            capture = self.store.capture(cid)
            self.states[cid] = capture.state(plan(capture))

    def counts(self) -> Counter:
        return Counter(self.states.values())


@dataclass
class Sample:
    t: float
    ingested: int
    states: dict[str, int]
    events: int
    queued: int
    dispatcher_lag: int
    indexer_lag: int
    rss_mb: dict[str, float]
    """Resident memory by role: this process, `follow`, `worker`, and their `children`."""

    @property
    def settled(self) -> int:
        return sum(v for k, v in self.states.items() if k != "pending")


@dataclass
class Probes:
    """What a configuration is watched through."""

    queue_depth: Callable[[], int]
    dispatcher_lag: Callable[[], int]
    indexer_lag: Callable[[], int]
    roles: dict[str, int]
    """Role → pid of the processes to measure (with their children)."""
    dead: Callable[[], str | None] = lambda: None
    """What a pipeline process that ended wrote before it ended, if one did."""


def cpu_seconds(roles: dict[str, int]) -> float:
    """User + system seconds so far of the roles' processes and all their descendants: the
    live ones, and (in `children_*`) the ones that ended and were reaped by a process of the
    tree (Tesseract by a pool process, a pool process by the fork server)."""
    import psutil

    seen: set[int] = set()
    total = 0.0
    for pid in roles.values():
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for proc in tree:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                t = proc.cpu_times()
            except psutil.Error:  # ended between the listing and the reading
                continue
            total += t.user + t.system + t.children_user + t.children_system
    return total


def cpu_by_thread() -> Counter:
    """User + system seconds so far of this process's threads by name (unnamed ones by their
    class: Dramatiq's WorkerThread, _ConsumerThread), and of its child processes."""
    import psutil

    names = {
        t.native_id: type(t).__name__ if t.name.startswith("Thread-") else t.name
        for t in threading.enumerate()
    }
    me = psutil.Process()
    out: Counter = Counter()
    for t in me.threads():
        out[names.get(t.id, "other")] += t.user_time + t.system_time
    out["child processes"] = cpu_seconds({"": me.pid}) - sum(out.values())
    return out


def rss_by_role(roles: dict[str, int]) -> dict[str, float]:
    """RSS in MB of each role's process, and of all their other children together (Tesseract,
    stages run in a child process)."""
    import psutil

    out: dict[str, float] = {"children": 0.0}
    seen = set(roles.values())
    for role, pid in roles.items():
        try:
            proc = psutil.Process(pid)
            out[role] = proc.memory_info().rss / MB
            children = proc.children(recursive=True)
        except psutil.Error:
            continue
        for child in children:
            if child.pid in seen:
                continue
            seen.add(child.pid)
            try:
                out["children"] += child.memory_info().rss / MB
            except psutil.Error:  # a child that just ended
                continue
    return out


class Sampler(threading.Thread):
    """One sample a second until stopped."""

    def __init__(self, store, probes: Probes, ingested: Callable[[], int]) -> None:
        super().__init__(name="sampler", daemon=True)
        self.store, self.probes, self.ingested = store, probes, ingested
        self.settlement = Settlement(store)
        self.samples: list[Sample] = []
        self.stop = threading.Event()
        self.start_time = time.monotonic()

    def run(self) -> None:
        while not self.stop.is_set():
            tick = time.monotonic()
            self.samples.append(self.take())
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - tick)))

    def take(self) -> Sample:
        p = self.probes
        self.settlement.poll()
        return Sample(
            t=time.monotonic() - self.start_time,
            ingested=self.ingested(),
            states=dict(self.settlement.counts()),
            events=self.store.max_notification_id() or 0,
            queued=p.queue_depth(),
            dispatcher_lag=p.dispatcher_lag(),
            indexer_lag=p.indexer_lag(),
            rss_mb=rss_by_role(p.roles),
        )


class ErrorCount(logging.Handler):
    """ERROR records logged in this process (a job that raised, a follower batch that failed)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:200]}")


# --- one phase ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    config: str
    phase: str
    captures: int
    samples: list[Sample]
    wall_s: float
    ingest_s: float
    states: Counter
    rejected: int
    logged_errors: list[str] = field(default_factory=list)
    drain_s: float = 0.0
    cpu_s: float = 0.0
    """User + system seconds of the run's processes from the first ingest to the drain."""

    @property
    def errors(self) -> int:
        bad = self.states.get("failed", 0) + self.states.get("partial", 0)
        return bad + self.rejected + len(self.logged_errors)


def ingest_all(svc, paths: list[Path], done: list[int]) -> int:
    """Ingest every path as its own capture with its site sidecar; returns rejections."""
    from pipeline.usecases.inputs import Item
    from pipeline.usecases.sidecar import validate
    from scanners.cli.ingest import ingestor

    ing = ingestor(svc)
    rejected = 0
    for i, path in enumerate(paths):
        meta = validate({"site_code": site_code(i), "title": path.stem}, "bench")
        [result, *_] = ing.ingest_item(Item(display=path.name, source=path), meta)
        if result.status != "ingested":
            rejected += 1
            log(f"  {path.name}: {result.status}: {result.error}")
        done[0] = i + 1
    return rejected


def drive(config: Config, svc, paths: list[Path], probes: Probes, timeout_s: float) -> Outcome:
    """Ingest while the pipeline runs; wait until every capture settled and followers drained.

    The followers first catch up with the sites registered before (and the subprocesses
    start), so the clock starts with an idle pipeline."""
    wait_drained(probes)
    count = [0]
    sampler = Sampler(svc.store, probes, lambda: count[0])
    sampler.start()
    cpu_start, threads_start = cpu_seconds(probes.roles), cpu_by_thread()
    start = time.monotonic()
    rejected = ingest_all(svc, paths, count)
    ingest_s = time.monotonic() - start
    log(f"  ingested {len(paths)} in {ingest_s:.1f} s; waiting for the pipeline")
    wall_s = wait_settled(sampler, probes, len(paths) - rejected, start, timeout_s)
    drain_s = wait_drained(probes)
    cpu_s = cpu_seconds(probes.roles) - cpu_start
    by_thread = cpu_by_thread()
    by_thread.subtract(threads_start)
    log("  CPU s by thread: " + ", ".join(f"{k} {v:.1f}" for k, v in by_thread.most_common()))
    time.sleep(1.1)  # one more sample after the drain
    sampler.stop.set()
    sampler.join()
    states = sampler.settlement.counts()
    return Outcome(
        config.name, config.phase, len(paths), sampler.samples, wall_s, ingest_s, states, rejected,
        drain_s=drain_s, cpu_s=cpu_s,
    )  # fmt: skip


def wait_settled(
    sampler: Sampler, probes: Probes, expected: int, start: float, timeout_s: float
) -> float:
    last_note = 0.0
    while True:
        if died := probes.dead():
            raise SystemExit(f"a pipeline process ended during the load:\n{died}")
        s = sampler.samples[-1] if sampler.samples else None
        if s is not None and s.settled >= expected:
            return time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            raise SystemExit(f"not settled within {timeout_s:.0f} s: {s}")
        if s is not None and time.monotonic() - last_note > 30:
            last_note = time.monotonic()
            log(
                f"  t={s.t:.0f}s settled {s.settled}/{expected}, queue {s.queued}, "
                f"lag {s.dispatcher_lag}/{s.indexer_lag}, events {s.events}"
            )
        time.sleep(0.5)


def wait_drained(probes: Probes) -> float:
    """Seconds until both followers have no lag (they do their last batches after the
    captures settled: the indexer indexes the final text)."""
    start = time.monotonic()
    while time.monotonic() - start < DRAIN_S:
        if probes.dispatcher_lag() == 0 and probes.indexer_lag() == 0:
            break
        time.sleep(0.2)
    return time.monotonic() - start


def run_embedded(config: Config, paths: list[Path], timeout_s: float) -> Outcome:
    from workers.runtime import Runtime

    svc = config.services()
    register_sites(svc.store)
    runtime = Runtime(svc, workers=True, follow=True).start()
    probes = Probes(
        queue_depth=lambda: sum(runtime.queue.depth().values()),
        dispatcher_lag=runtime.dispatcher.lag,
        indexer_lag=runtime.indexer.lag,
        roles={"bench+sohoa": os.getpid()},
    )
    try:
        return drive(config, svc, paths, probes, timeout_s)
    finally:
        runtime.stop()
        svc.close()


def spawn(config: Config, command: str, logs: Path) -> subprocess.Popen:
    """`sohoa <command>` with this configuration; stderr kept to look for errors."""
    env = {**os.environ, "SOHOA_DATA_DIR": str(config.data_dir), **config.env}
    err = (logs / f"{command}.stderr").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "scanners.cli", command],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=err,
    )


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ended(procs: dict[str, subprocess.Popen], logs: Path) -> str | None:
    for name, proc in procs.items():
        if proc.poll() is not None:
            tail = (logs / f"{name}.stderr").read_text(errors="replace").splitlines()[-15:]
            return f"sohoa {name} exited with {proc.returncode}:\n" + "\n".join(tail)
    return None


def stderr_errors(logs: Path) -> list[str]:
    """ERROR/CRITICAL records and tracebacks the subprocesses wrote."""
    found = []
    for f in sorted(logs.glob("*.stderr")):
        for line in f.read_text(errors="replace").splitlines():
            if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback"):
                found.append(f"{f.stem}: {line[:200]}")
    return found


def run_distributed(config: Config, paths: list[Path], timeout_s: float) -> Outcome:
    from pipeline.dispatch.dispatcher import dispatcher
    from pipeline.dispatch.indexer import indexer
    from workers.broker import DramatiqQueue, make_broker

    svc = config.services()
    register_sites(svc.store)
    queue = DramatiqQueue(make_broker(svc.settings.broker_url))
    watch_dispatcher = dispatcher(svc.store, svc.positions, queue)  # read-only: lag()
    watch_indexer = indexer(svc)  # creates the index before `sohoa follow` opens it
    logs = config.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs = {"follow": spawn(config, "follow", logs)}
    probes = Probes(
        queue_depth=lambda: sum(queue.depth().values()),
        dispatcher_lag=watch_dispatcher.lag,
        indexer_lag=watch_indexer.lag,
        roles={"bench (ingest)": os.getpid()},
        dead=lambda: ended(procs, logs),
    )
    # one at a time: two processes creating the event store's tables at once can meet
    # "tuple concurrently updated" in PostgreSQL (see the report); `follow` is up once it
    # has caught up with the registered sites
    wait_drained(probes)
    procs["worker"] = spawn(config, "worker", logs)
    probes.roles |= {k: p.pid for k, p in procs.items()}
    try:
        outcome = drive(config, svc, paths, probes, timeout_s)
    finally:
        for p in procs.values():
            stop(p)
        queue.broker.close()
        svc.close()
    outcome.logged_errors += stderr_errors(logs)
    return outcome


def run_phase(name: str, phase: str, paths: list[Path], folder: Path, timeout_s: float) -> Outcome:
    handler = ErrorCount()
    logging.getLogger().addHandler(handler)
    try:
        with configuration(name, phase, folder) as config:
            run = run_embedded if name == "embedded" else run_distributed
            outcome = run(config, paths, timeout_s)
    finally:
        logging.getLogger().removeHandler(handler)
    outcome.logged_errors += handler.records
    return outcome


# --- baselines ---------------------------------------------------------------------------------


@dataclass
class Rate:
    """A baseline: items per second, and CPU seconds per item."""

    per_s: float
    cpu_s: float


def ingest_only_rate(name: str, paths: list[Path], folder: Path) -> Rate:
    """Ingest alone on a fresh store of this configuration (nothing running)."""
    with configuration(name, "inspect", folder) as config:
        svc = config.services()
        register_sites(svc.store)
        try:
            start, cpu = time.perf_counter(), time.process_time()
            ingest_all(svc, paths, [0])
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            return Rate(len(paths) / wall, cpu / len(paths))
        finally:
            svc.close()


def tesseract_rate(pages: list[Path]) -> Rate:
    """The `tesseract` CLI (-l vie, hOCR) over these pages, 2 at a time."""
    import resource

    def one(p: Path) -> None:
        subprocess.run(
            ["tesseract", str(p), "stdout", "-l", "vie", "hocr"],
            check=True,
            capture_output=True,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    start, cpu = time.perf_counter(), children_cpu()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, pages))
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    return Rate(len(pages) / wall, cpu / len(pages))


# --- figures -----------------------------------------------------------------------------------


def peak(samples: list[Sample], key: Callable[[Sample], float]) -> float:
    return max((key(s) for s in samples), default=0.0)


def rss_total(s: Sample) -> float:
    return sum(s.rss_mb.values())


def rss_sohoa(s: Sample) -> float:
    """The long-lived processes only (children come and go with each page or stage)."""
    return sum(v for k, v in s.rss_mb.items() if k != "children")


def rss_growth(o: Outcome) -> float:
    """RSS of the Python processes at the end minus when 10 % of the captures had settled."""
    early = next((s for s in o.samples if s.settled >= o.captures / 10), o.samples[0])
    return rss_sohoa(o.samples[-1]) - rss_sohoa(early)


def rows_for(
    o: Outcome, ingest_baseline: Rate, ocr_baseline: Rate | None, pages: int
) -> list[dict]:
    tag = f"load {o.phase}, {o.config}"
    throughput = o.captures / o.wall_s
    peaks = {
        k: max(s.rss_mb.get(k, 0.0) for s in o.samples) for k in o.samples[-1].rss_mb
    }  # fmt: skip
    where = (
        "SQLite, memory:// + in-process workers and followers, tantivy"
        if o.config == "embedded"
        else "PostgreSQL + Redis, `sohoa follow` and `sohoa worker` subprocesses, tantivy"
    )
    what = (
        "ingest → inspect → index (SOHOA_AUTO_RUNS='')"
        if o.phase == "inspect"
        else "ingest → inspect → OCR → text + PDF → index"
    )
    base_note = (
        f"baseline: tesseract CLI -l vie hocr, 2 processes, {pages} of the same pages"
        if ocr_baseline
        else "baseline: ingest alone on a fresh store of this configuration"
    )
    peer = ocr_baseline or ingest_baseline
    last = o.samples[-1]
    out = [
        row(
            f"{tag}: throughput", "captures/s", throughput, peer.per_s,
            "ratio ≥ 0.5" if ocr_baseline else "",
            f"{o.captures} captures, {what}; {where}; first ingest → last settled "
            f"{o.wall_s:.0f} s, {last.events} events; {base_note}",
        ),
        row(
            f"{tag}: CPU per capture", "s", o.cpu_s / o.captures, peer.cpu_s, "",
            "user + system of every process of the run (watching included), first ingest to "
            f"drain; {base_note} (CPU per page or per capture)",
        ),
        row(
            f"{tag}: ingest rate under load", "captures/s", o.captures / o.ingest_s,
            ingest_baseline.per_s, "",
            "one ingest thread while the pipeline runs; baseline: ingest alone, fresh store",
        ),
        row(f"{tag}: peak queue depth", "jobs", float(peak(o.samples, lambda s: s.queued)), None),
        row(
            f"{tag}: dispatcher lag, peak", "events",
            float(peak(o.samples, lambda s: s.dispatcher_lag)), None,
        ),
        row(
            f"{tag}: indexer lag, peak", "events",
            float(peak(o.samples, lambda s: s.indexer_lag)), None,
        ),
        row(
            f"{tag}: follower lag, final", "events",
            float(last.dispatcher_lag + last.indexer_lag), None, "sohoa ≤ 0",
            f"dispatcher + indexer after the last capture settled and {o.drain_s:.1f} s of drain",
        ),
        row(
            f"{tag}: peak RSS", "MB", peak(o.samples, rss_total), None, "",
            "sum over processes; peaks by role: "
            + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()),
        ),
        row(
            f"{tag}: RSS growth", "MB", rss_growth(o), None, "",
            "Python processes, from 10 % of the captures settled to the end",
        ),
        row(
            f"{tag}: errors", "count", float(o.errors), None, "sohoa ≤ 0",
            f"states {dict(o.states)}; {o.rejected} rejected at ingest; "
            f"{len(o.logged_errors)} ERROR records or tracebacks",
        ),
    ]  # fmt: skip
    return out


# --- plot --------------------------------------------------------------------------------------


def plot(config: str, outcomes: list[Outcome], path: Path) -> None:
    """Four rows (captures, queue, lag, memory) by one column per phase."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, len(outcomes), figsize=(7 * len(outcomes), 11), squeeze=False)
    for col, o in enumerate(outcomes):
        _plot_phase([axes[r][col] for r in range(4)], o)
    fig.suptitle(f"sohoa load, {config}", fontsize=14)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_phase(ax: list, o: Outcome) -> None:
    t = [s.t for s in o.samples]
    ax[0].plot(t, [s.ingested for s in o.samples], label="ingested")
    ax[0].plot(t, [s.settled for s in o.samples], label="settled")
    rate = ax[0].twinx()
    rate.plot(t, _rate(o.samples), color="grey", lw=0.8, label="settled/s (10 s)")
    rate.set_ylabel("captures/s")
    ax[0].set_title(f"{o.phase}: {o.captures} captures, {o.captures / o.wall_s:.1f}/s")
    ax[0].set_ylabel("captures")
    ax[0].legend(loc="upper left")
    rate.legend(loc="lower right")
    ax[1].plot(t, [s.queued for s in o.samples], color="tab:red")
    ax[1].set_ylabel("queue depth (jobs)")
    ax[2].plot(t, [s.dispatcher_lag for s in o.samples], label="dispatcher")
    ax[2].plot(t, [s.indexer_lag for s in o.samples], label="indexer")
    ax[2].set_ylabel("lag (events)")
    ax[2].legend(loc="upper left")
    for role in o.samples[-1].rss_mb:
        ax[3].plot(t, [s.rss_mb.get(role, 0.0) for s in o.samples], label=role)
    ax[3].set_ylabel("RSS (MB)")
    ax[3].set_xlabel("seconds")
    ax[3].legend(loc="upper left")


def _rate(samples: list[Sample], window: int = 10) -> list[float]:
    out = []
    for i, s in enumerate(samples):
        j = max(0, i - window)
        dt = s.t - samples[j].t
        out.append((s.settled - samples[j].settled) / dt if dt else 0.0)
    return out


# --- main --------------------------------------------------------------------------------------


def services_up() -> bool:
    import socket

    for port in (5432, 6379):
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return False
    return True


def run_config(
    name: str, phases: list[str], inputs: dict[str, list[Path]], root: Path, timeout_s: float
) -> tuple[list[Outcome], Rate]:
    """The phases and the ingest baseline of one configuration."""
    outcomes = []
    for phase in phases:
        log(f"{name}/{phase}: {len(inputs[phase])} captures; {load_average()}")
        outcomes.append(run_phase(name, phase, inputs[phase], root / f"{name}-{phase}", timeout_s))
        shutil.rmtree(root / f"{name}-{phase}", ignore_errors=True)
    sample = inputs["inspect"][:BASELINE_INGEST]
    log(f"{name}: baseline, ingest alone of {len(sample)} captures")
    rate = ingest_only_rate(name, sample, root / f"{name}-baseline")
    shutil.rmtree(root / f"{name}-baseline", ignore_errors=True)
    return outcomes, rate


def main() -> list[dict]:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--captures", type=int, help="inspect phase (default 10000; quick 500)")
    p.add_argument("--ocr-captures", type=int, help="ocr phase (default 500; quick 50)")
    p.add_argument("--configs", default=",".join(CONFIGS), help="embedded,distributed")
    p.add_argument("--phases", default=",".join(PHASES), help="inspect,ocr")
    p.add_argument("--timeout", type=float, default=3600.0, help="per phase, seconds")
    p.add_argument("--plots", type=Path, default=REPO / "var" / "bench")
    args = p.parse_args()
    n = args.captures or (500 if args.quick else 10_000)
    n_ocr = args.ocr_captures or (50 if args.quick else 500)
    configs = [c for c in args.configs.split(",") if c]
    phases = [ph for ph in PHASES if ph in args.phases.split(",")]
    if "distributed" in configs and not services_up():
        log("PostgreSQL or Redis is not listening on 127.0.0.1: skipping distributed")
        configs.remove("distributed")
    logging.basicConfig(level=logging.WARNING)
    log(f"bench_load: {load_average()}")
    rows: list[dict] = []
    with scratch("load") as root:
        log(f"generating {n} + {n_ocr} captures")
        inputs = {
            # the inspect mix is also the ingest baseline's input
            "inspect": make_inputs(
                root / "in-inspect", n if "inspect" in phases else min(n, BASELINE_INGEST), True
            ),
            "ocr": make_inputs(root / "in-ocr", n_ocr if "ocr" in phases else 0, mixed=False),
        }
        pages = random.Random(7).sample(inputs["ocr"], min(BASELINE_PAGES, len(inputs["ocr"])))
        log(f"baseline: tesseract CLI over {len(pages)} pages")
        ocr_rate = tesseract_rate(pages) if pages else None
        for name in configs:
            outcomes, ingest_rate = run_config(name, phases, inputs, root, args.timeout)
            done: list[dict] = []
            for o in outcomes:
                done += rows_for(o, ingest_rate, ocr_rate if o.phase == "ocr" else None, len(pages))
                for line in o.logged_errors[:10]:
                    log(f"  error: {line}")
            log(f"{name} done:\n{table(done, with_notes=False)}")
            rows += done
            plot(name, outcomes, args.plots / f"load-{name}.png")
            log(f"plot: {args.plots / f'load-{name}.png'}")
    log(f"bench_load done: {load_average()}")
    emit(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
