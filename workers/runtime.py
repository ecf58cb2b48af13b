"""Running the job loop: followers and worker threads, together or apart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from uuid import UUID

import dramatiq
from dramatiq.brokers.stub import StubBroker

from models.plan import plan
from pipeline.bootstrap import Services
from pipeline.dispatch.dispatcher import dispatcher
from pipeline.dispatch.follower import Follower
from pipeline.dispatch.indexer import IDLE_S as INDEXER_IDLE_S
from pipeline.dispatch.indexer import indexer
from pipeline.dispatch.sweeper import sweep
from pipeline.jobs.ocr import page_pool
from pipeline.observability.metrics import Sampler, followers_probe
from pipeline.projections.captures import IDLE_S as CAPTURES_IDLE_S
from pipeline.projections.captures import captures_follower
from pipeline.projections.follower import IDLE_S as STATS_IDLE_S
from pipeline.projections.follower import stats_follower
from workers import heartbeat
from workers.actors import declare_actors
from workers.broker import DramatiqQueue, make_broker
from workers.metrics import JobMetrics

log = logging.getLogger(__name__)

DISPATCHER_IDLE_S = 0.2
"""How often an idle dispatcher looks for events saved by other processes (those saved in
this one wake it at once)."""
ALONE_IDLE_S = 2.0
"""How often an idle follower, or `wait_until_settled`, looks for events saved by other
processes when the jobs all run in this one (an in-process broker, memory://): this process's
saves wake them at once, so polling faster only spent CPU (0.03 CPU-s a second, a fifth of the
embedded `ingest --wait`'s own process)."""
WORKER_TIMEOUT_MS = 40
"""Longest wait between an idle consumer's polls: job latency against Redis load."""
HEARTBEAT_S = 10.0
FOLLOWER_STALL_S = 60.0
"""A follower whose last successful poll is older than this withholds the heartbeat."""


class Runtime:
    """A broker with actors; optionally worker threads and the dispatcher in this process."""

    def __init__(
        self,
        services: Services,
        *,
        workers: bool,
        follow: bool,
        queues: Iterable[str] | None = None,
    ) -> None:
        self.services = services
        s = services.settings
        self.broker = make_broker(s.broker_url, s.redelivery_timeout_s)
        self.broker.add_middleware(JobMetrics())
        declare_actors(self.broker, services)
        self.queue = DramatiqQueue(self.broker)
        self.dispatcher: Follower = dispatcher(services.store, services.positions, self.queue)
        self.indexer = indexer(services) if follow else None
        self.stats = stats_follower(services) if follow else None
        self.captures = captures_follower(services) if follow else None
        self._stop = threading.Event()
        self._saved = threading.Event()
        """Set after each save in this process: the dispatcher enqueues the next jobs at once."""
        self._bells = {"dispatcher": self._saved}
        """Each follower's: set after each save in this process, it looks at once."""
        if follow:
            self._bells |= {name: threading.Event() for name in ("indexer", "stats", "captures")}
        self._unrings = (
            [services.store.on_save(b.set) for b in self._bells.values()] if follow else []
        )
        self._threads: list[threading.Thread] = []
        self._worker: dramatiq.Worker | None = None
        self._workers, self._follow, self._queues = workers, follow, queues
        self.sampler = Sampler(self._probes())

    def start(self) -> Runtime:
        if self._workers:
            # Pages' OCR runs in a pool of processes (see `pipeline.jobs.ocr`): start it now,
            # so its processes load while the first jobs (inspection) run; a thread more than
            # it has processes keeps every one busy while a thread records its last page.
            pool = page_pool(self.services)
            self._worker = dramatiq.Worker(
                self.broker,
                worker_threads=max(self.services.settings.worker_threads, pool.processes + 1),
                worker_timeout=WORKER_TIMEOUT_MS,
                queues=set(self._queues) if self._queues else None,
            )
            self._worker.start()
        if self._follow:
            # Each follower looks when this process saves, and every IDLE_S for other
            # processes' saves; with an in-process broker every job saves here.
            alone = self._workers and isinstance(self.broker, StubBroker)
            idle = {
                "dispatcher": DISPATCHER_IDLE_S,
                "indexer": INDEXER_IDLE_S,
                "stats": STATS_IDLE_S,
                "captures": CAPTURES_IDLE_S,
            }
            followers = (self.dispatcher, self.indexer, self.stats, self.captures)
            loops = [
                (
                    f.name,
                    f.run,
                    (
                        max(idle[f.name], ALONE_IDLE_S) if alone else idle[f.name],
                        self._bells[f.name],
                    ),
                )
                for f in followers
            ]
            loops.append(("sweeper", self._sweep, ()))
            for name, loop, extra in loops:
                t = threading.Thread(target=loop, args=(self._stop, *extra), name=name, daemon=True)
                t.start()
                self._threads.append(t)
        self.sampler.start()
        if self.services.settings.heartbeat_file:
            t = threading.Thread(
                target=heartbeat.run,
                args=(Path(self.services.settings.heartbeat_file), self._checks(), self._stop),
                kwargs={"every_s": HEARTBEAT_S},
                name="heartbeat",
                daemon=True,
            )
            t.start()
            self._threads.append(t)
        return self

    def _probes(self) -> list:
        """The slow gauges of `/metrics`: queue depth, and the followers' lag when here."""
        probes: list = [("queues", self.queue.depth)]
        if self._follow:
            followers = (self.dispatcher, self.indexer, self.stats, self.captures)
            probes.append(("lag", followers_probe(self.services.store, followers)))
        return probes

    def _checks(self) -> dict[str, heartbeat.Check]:
        """What must be alive for this process to be healthy (see `workers.heartbeat`)."""
        checks: dict[str, heartbeat.Check] = {}
        if self._worker is not None:
            worker = self._worker

            def threads_alive() -> bool:
                threads = [*worker.consumers.values(), *worker.workers]
                return bool(threads) and all(t.is_alive() for t in threads)

            checks["worker"] = threads_alive
        if self._follow:
            for follower in (self.dispatcher, self.indexer, self.stats, self.captures):
                checks[follower.name] = partial(_polling, follower)
        return checks

    def _sweep(self, stop: threading.Event) -> None:
        """Now and then, enqueue again what a broker lost (see
        `pipeline.dispatch.sweeper.sweep`)."""
        every = self.services.settings.sweep_s
        while not stop.wait(every):
            try:
                sweep(self.services, self.queue, quiet_s=every)
            except Exception:  # a database blip: try again next time
                log.exception("sweep failed")

    def stop(self) -> None:
        self._stop.set()
        for bell in self._bells.values():
            bell.set()
        for unring in self._unrings:
            unring()
        self.sampler.stop()
        for t in self._threads:
            t.join(timeout=10)
        if self._worker is not None:
            self._worker.stop()
        self.broker.close()

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_until_settled(
        self, capture_ids: Iterable[UUID], timeout_s: float | None = None, on_progress=None
    ) -> dict[UUID, str]:
        return wait_until_settled(self.services, capture_ids, timeout_s, on_progress)


def _polling(follower: Follower) -> bool:
    return time.monotonic() - follower.last_poll < FOLLOWER_STALL_S


def wait_until_settled(
    services: Services,
    capture_ids: Iterable[UUID],
    timeout_s: float | None = None,
    on_progress=None,
) -> dict[UUID, str]:
    """Block until every capture has an outcome for every planned stage; returns their states.

    The captures are loaded again only when the event log has grown (one cheap query a poll):
    rebuilding each from its events ten times a second cost the embedded `ingest --wait` more
    CPU than recording its pages. A save in this process wakes it at once; it polls for other
    processes' every 0.1 s, or every `ALONE_IDLE_S` when the jobs all run here (memory://)."""
    saved = threading.Event()
    unring = services.store.on_save(saved.set)
    try:
        return _settle(services, set(capture_ids), timeout_s, on_progress, saved)
    finally:
        unring()


def _settle(services, pending, timeout_s, on_progress, saved) -> dict[UUID, str]:
    idle_s = ALONE_IDLE_S if services.settings.broker_url.startswith("memory") else 0.1
    states: dict[UUID, str] = {}
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    seen = -1
    while pending:
        saved.clear()  # before the look: a save after it wakes the next wait
        looked = time.monotonic()
        head = services.store.max_notification_id()
        for cid in list(pending) if head != seen else ():
            capture = services.store.capture(cid)
            state = capture.state(plan(capture))
            if state != "pending":
                states[cid] = state
                pending.discard(cid)
                if on_progress:
                    on_progress(cid, state)
        seen = head
        if pending:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} captures still pending")
            wait = idle_s if deadline is None else min(idle_s, deadline - time.monotonic())
            if saved.wait(max(0.0, wait)):  # at most 10 looks a second, as when it polled
                time.sleep(max(0.0, looked + 0.1 - time.monotonic()))
    return states
