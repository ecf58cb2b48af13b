"""Job round trip through Redis: enqueue → the actor has run, p50 and p95.

    .venv/bin/python bench/bench_jobs.py [--jobs 500] [--worker-timeout 40] [--quick] [--json]

A Dramatiq RedisBroker from `workers.broker.make_broker` on a database of its own (default
redis://127.0.0.1:6379/14, flushed first), a trivial actor on the `default` queue that records
when it ran, and an in-process `dramatiq.Worker` with the settings `sohoa worker` uses
(`workers/runtime.py`: worker_timeout=WORKER_TIMEOUT_MS, SOHOA_WORKER_THREADS=2 threads, Dramatiq's
default prefetch of 2 per thread). One message at a time, two ways:

* back-to-back: the next message is sent as soon as the previous one has run;
* after idle: a random pause of 100–300 ms before each message, as when captures arrive now and
  then. An idle Redis consumer polls with a backoff that starts at 5–10 ms and doubles up to
  worker_timeout (with jitter, 50–100 % of it), so this is the latency a sporadic job sees.

Baseline: a raw redis LPUSH in this thread and a BRPOP in another, same count, same payload
size, measured push → pop.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, load_average, log, parser, percentile, row

DEFAULT_URL = "redis://127.0.0.1:6379/14"
from workers.runtime import WORKER_TIMEOUT_MS as RUNTIME_WORKER_TIMEOUT_MS  # noqa: E402

RUNTIME_WORKER_THREADS = 2  # SOHOA_WORKER_THREADS default (pipeline/settings.py)
IDLE_GAP_S = (0.1, 0.3)
WAIT_S = 10.0


def dramatiq_round_trips(
    url: str, jobs: int, worker_timeout: int, threads: int, idle: bool, seed: int
) -> tuple[list[float], int]:
    """Enqueue→completion seconds for `jobs` messages, and the size of one encoded message."""
    import dramatiq

    from workers.broker import make_broker

    broker = make_broker(url)
    done: dict[int, float] = {}
    finished = threading.Event()

    def bench_ping(token: int) -> None:
        done[token] = time.perf_counter()
        finished.set()

    actor = dramatiq.actor(
        bench_ping, actor_name="bench_ping", queue_name="default", broker=broker, max_retries=0
    )
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=worker_timeout)
    worker.start()
    rng = random.Random(seed)
    latencies: list[float] = []
    try:
        for token in range(-5, jobs):  # five warm-up messages, not counted
            if idle:
                time.sleep(rng.uniform(*IDLE_GAP_S))
            finished.clear()
            sent = time.perf_counter()
            message = actor.send(token)
            if not finished.wait(WAIT_S) or token not in done:
                raise SystemExit(f"job {token} did not run within {WAIT_S} s")
            if token >= 0:
                latencies.append(done[token] - sent)
        size = len(message.encode())
    finally:
        worker.stop()
        broker.close()
    return latencies, size


def redis_round_trips(url: str, jobs: int, payload_size: int) -> list[float]:
    """Push→pop seconds of LPUSH here and BRPOP in another thread."""
    import redis

    key = "bench:raw"
    pusher, popper = redis.Redis.from_url(url), redis.Redis.from_url(url)
    popped: dict[int, float] = {}
    got = threading.Event()
    stop = threading.Event()

    def pop_loop() -> None:
        while not stop.is_set():
            item = popper.brpop([key], timeout=1)
            if item is not None:
                popped[int(item[1][:12])] = time.perf_counter()
                got.set()

    thread = threading.Thread(target=pop_loop, name="brpop", daemon=True)
    thread.start()
    filler = b"x" * max(0, payload_size - 12)
    latencies = []
    try:
        for token in range(-5, jobs):
            got.clear()
            sent = time.perf_counter()
            pusher.lpush(key, b"%012d" % token + filler)
            if not got.wait(WAIT_S):
                raise SystemExit(f"raw message {token} was not popped within {WAIT_S} s")
            if token >= 0:
                latencies.append(popped[token] - sent)
    finally:
        stop.set()
        thread.join(timeout=3)
        pusher.close()
        popper.close()
    return latencies


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, help="messages per mode (default 500; quick 100)")
    p.add_argument("--redis-url", default=os.environ.get("SOHOA_BENCH_REDIS_URL", DEFAULT_URL))
    p.add_argument(
        "--worker-timeout",
        type=int,
        default=RUNTIME_WORKER_TIMEOUT_MS,
        help="dramatiq.Worker worker_timeout in ms: also the idle consumer's longest poll "
        f"interval (default {RUNTIME_WORKER_TIMEOUT_MS}, as workers/runtime.py)",
    )
    p.add_argument("--threads", type=int, default=RUNTIME_WORKER_THREADS)
    args = p.parse_args()
    jobs = args.jobs or (100 if args.quick else 500)
    import logging

    import redis

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("dramatiq").setLevel(logging.ERROR)
    log(f"bench_jobs: {load_average()}")
    redis.Redis.from_url(args.redis_url).flushdb()
    settings = (
        f"Worker(worker_threads={args.threads}, worker_timeout={args.worker_timeout} ms), "
        f"prefetch {2 * args.threads}, RedisBroker from make_broker (heartbeat 60 s, "
        f"maintenance_chance 5%)"
    )
    log(f"Dramatiq back-to-back: {jobs} jobs; {settings}")
    b2b, size = dramatiq_round_trips(
        args.redis_url, jobs, args.worker_timeout, args.threads, idle=False, seed=1
    )
    log(f"Dramatiq after idle ({IDLE_GAP_S[0]}–{IDLE_GAP_S[1]} s pauses): {jobs} jobs")
    idle, _ = dramatiq_round_trips(
        args.redis_url, jobs, args.worker_timeout, args.threads, idle=True, seed=2
    )
    log(f"raw LPUSH/BRPOP: {jobs} messages of {size} bytes")
    raw = redis_round_trips(args.redis_url, jobs, size)
    redis.Redis.from_url(args.redis_url).flushdb()
    log(f"bench_jobs done: {load_average()}")

    ms = 1000.0
    raw50, raw95 = percentile(raw, 50) * ms, percentile(raw, 95) * ms
    rows = []
    t = args.worker_timeout
    why = {
        "back-to-back": "the consumer has just polled: its next poll is 5–10 ms away",
        "after idle": f"{IDLE_GAP_S[0] * 1000:.0f}–{IDLE_GAP_S[1] * 1000:.0f} ms pauses: the "
        f"idle consumer polls every {t // 2}–{t} ms (backoff capped at worker_timeout)",
    }
    for label, values, aim in (
        ("back-to-back", b2b, "sohoa ≤ 20"),
        ("after idle", idle, "sohoa ≤ 20"),
    ):
        note = (
            f"{len(values)} jobs, {label} ({why[label]}); {settings}; baseline: raw "
            f"LPUSH→BRPOP between two threads, {size}-byte payload, back-to-back"
        )
        rows.append(
            row(f"job round trip p50, {label}", "ms", percentile(values, 50) * ms, raw50, aim, note)
        )
        rows.append(
            row(
                f"job round trip p95, {label}",
                "ms",
                percentile(values, 95) * ms,
                raw95,
                "",
                f"max {max(values) * ms:.1f} ms",
            )
        )
    emit(rows, args.json)


if __name__ == "__main__":
    main()
