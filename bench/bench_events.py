"""Events appended per second to the RecordStore, and the dispatcher's catch-up rate.

    .venv/bin/python bench/bench_events.py [--saves 5000] [--events 100000] [--quick] [--json]

1. Appends on SQLite (a fresh file) and on PostgreSQL (a fresh schema `bench_…`, created and
   dropped here): `--saves` captures recorded one per save through `RecordStore.receive` (a
   lookup, then one transaction per capture, as ingest does), then `--events` directly
   constructed `Capture` aggregates saved 100 per `store.save(*aggregates)` call (construction
   is not timed). Each capture is one event. Baseline: the same number of rows of the same
   size inserted into one table of the same shape with the raw driver (`sqlite3` in WAL mode
   like the library; `psycopg` for PostgreSQL), one row per transaction and 100 per
   transaction.
2. Catch-up of `pipeline.dispatch.dispatcher.dispatcher` over `--events` Received events in a fresh
   SQLite store, with a queue that only counts enqueues. Baseline: a raw
   `recorder.select_notifications` scan of the same rows in pages of 1000.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Stopwatch, emit, load_average, log, parser, row, scratch

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 100


def _sha(prefix: str, i: int) -> str:
    return hashlib.sha256(f"{prefix}:{i}".encode()).hexdigest()


def receipt(prefix: str, i: int):
    from models.application import Receipt

    sha = _sha(prefix, i)
    return Receipt(
        sha256=sha,
        blob_key=f"sha256/{sha[:2]}/{sha[2:4]}/{sha}",
        size=24_000_000 + i,
        media_type="image/tiff",
        kind="document",
        original_name=f"/srv/inbox/so-dia-chinh/quyen-{i // 500:03d}/trang-{i:06d}.tif",
        source="station-hoan-kiem-01",
        operator="bench",
        meta={"collection": "bench", "dpi": 300},
    )


def capture(prefix: str, i: int):
    from models.capture import Capture

    r = receipt(prefix, i)
    return Capture(
        sha256=r.sha256,
        blob_key=r.blob_key,
        size=r.size,
        media_type=r.media_type,
        kind=r.kind,
        original_name=r.original_name,
        source=r.source,
        operator=r.operator,
        meta=dict(r.meta),
        member_count=1,
        links=[],
    )


def append_per_save(store, n: int, prefix: str) -> float:
    with Stopwatch() as t:
        for i in range(n):
            store.receive(receipt(prefix, i))
    return t.s


def append_batched(store, n: int, prefix: str) -> tuple[float, float]:
    """(seconds in store.save, seconds constructing the aggregates)."""
    saving = building = 0.0
    for start in range(0, n, BATCH):
        with Stopwatch() as b:
            aggregates = [capture(prefix, i) for i in range(start, min(n, start + BATCH))]
        with Stopwatch() as s:
            store.save(*aggregates)
        saving += s.s
        building += b.s
    return saving, building


# --- raw baselines ------------------------------------------------------------------------------


def _raw_rows(n: int, state_len: int, topic: str, seed: int) -> list[tuple]:
    state = os.urandom(state_len)
    return [(str(uuid.UUID(int=seed << 64 | i)), 1, topic, state) for i in range(n)]


def raw_sqlite(path: Path, per_tx: int, batched: int, state_len: int, topic: str) -> tuple:
    """Seconds for `per_tx` rows one per transaction, and `batched` rows 100 per transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
            "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
        )
        insert = "INSERT INTO stored_events VALUES (?, ?, ?, ?)"
        rows = _raw_rows(per_tx, state_len, topic, 1)
        with Stopwatch() as one:
            for r in rows:
                conn.execute("BEGIN")
                conn.execute(insert, r)
                conn.execute("COMMIT")
        rows = _raw_rows(batched, state_len, topic, 2)
        with Stopwatch() as many:
            for start in range(0, batched, BATCH):
                conn.execute("BEGIN")
                conn.executemany(insert, rows[start : start + BATCH])
                conn.execute("COMMIT")
    finally:
        conn.close()
    return one.s, many.s


def raw_postgres(url: str, schema: str, per_tx: int, batched: int, state_len: int, topic: str):
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            f"CREATE TABLE {schema}.raw_events (originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, topic text, state bytea, "
            "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute(f"CREATE UNIQUE INDEX ON {schema}.raw_events (notification_id)")
        conn.commit()
        insert = (
            f"INSERT INTO {schema}.raw_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)"
        )
        rows = _raw_rows(per_tx, state_len, topic, 1)
        with Stopwatch() as one:
            for r in rows:
                conn.execute(insert, r)
                conn.commit()
        rows = _raw_rows(batched, state_len, topic, 2)
        with Stopwatch() as many, conn.cursor() as cur:
            for start in range(0, batched, BATCH):
                cur.executemany(insert, rows[start : start + BATCH])
                conn.commit()
    return one.s, many.s


def sqlite_state_size(path: Path) -> tuple[int, str]:
    conn = sqlite3.connect(path)
    try:
        size, topic = conn.execute(
            "SELECT CAST(AVG(LENGTH(state)) AS INTEGER), MIN(topic) FROM stored_events"
        ).fetchone()
    finally:
        conn.close()
    return size, topic


# --- appends ------------------------------------------------------------------------------------


def append_rows(
    backend: str, saves: int, events: int, state_len: int, raw: tuple, figures: tuple
) -> list[dict]:
    (per_save_s, batched_s, building_s), (raw_one_s, raw_many_s) = figures, raw
    driver = "sqlite3" if backend == "SQLite" else "psycopg"
    aim = "sohoa ≥ 5000" if backend == "SQLite" else ""
    return [
        row(
            f"append, 1 capture per save (receive), {backend}",
            "events/s",
            saves / per_save_s,
            saves / raw_one_s,
            aim,
            f"{saves:,} captures via RecordStore.receive (one optimistic transaction each); "
            f"baseline: raw {driver}, one {state_len}-byte row per transaction",
        ),
        row(
            f"append, {BATCH} captures per save, {backend}",
            "events/s",
            events / batched_s,
            events / raw_many_s,
            aim,
            f"{events:,} Capture aggregates, store.save(*100); building them (untimed) ran at "
            f"{events / building_s:,.0f}/s; baseline: raw {driver}, {BATCH} rows per transaction",
        ),
    ]


def bench_sqlite(root: Path, saves: int, events: int) -> tuple[list[dict], int, str]:
    from models.application import RecordStore
    from pipeline.settings import eventstore_env

    path = root / "events.sqlite3"
    store = RecordStore(env=eventstore_env(f"sqlite:///{path}"))
    try:
        log(f"SQLite: {saves:,} captures one per save")
        per_save = append_per_save(store, saves, "one")
        log(f"SQLite: {events:,} captures {BATCH} per save")
        batched, building = append_batched(store, events, "many")
    finally:
        store.close()
    state_len, topic = sqlite_state_size(path)
    log(f"SQLite raw baseline ({state_len}-byte rows)")
    raw = raw_sqlite(root / "raw.sqlite3", saves, events, state_len, topic)
    rows = append_rows("SQLite", saves, events, state_len, raw, (per_save, batched, building))
    return rows, state_len, topic


def bench_postgres(url: str, saves: int, events: int, state_len: int, topic: str) -> list[dict]:
    import psycopg

    from models.application import RecordStore
    from pipeline.settings import eventstore_env

    schema = "bench_" + uuid.uuid4().hex[:10]
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as e:
        log(f"PostgreSQL unreachable, skipped: {e}")
        return []
    try:
        store = RecordStore(env=eventstore_env(f"{url}?schema={schema}"))
        try:
            log(f"PostgreSQL ({schema}): {saves:,} captures one per save")
            per_save = append_per_save(store, saves, "one")
            log(f"PostgreSQL: {events:,} captures {BATCH} per save")
            batched, building = append_batched(store, events, "many")
        finally:
            store.close()
        log("PostgreSQL raw baseline")
        raw = raw_postgres(url, schema, saves, events, state_len, topic)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return append_rows("PostgreSQL", saves, events, state_len, raw, (per_save, batched, building))


# --- follower catch-up --------------------------------------------------------------------------


class CountingQueue:
    """A JobQueue that only counts."""

    def __init__(self) -> None:
        self.count = 0

    def enqueue(self, job) -> None:
        self.count += 1

    def depth(self) -> dict[str, int]:
        return {}


def bench_follower(root: Path, events: int) -> list[dict]:
    from models.application import RecordStore
    from pipeline.dispatch.dispatcher import dispatcher
    from pipeline.settings import eventstore_env

    store = RecordStore(env=eventstore_env(f"sqlite:///{root / 'follow.sqlite3'}"))
    try:
        log(f"follower: filling a SQLite store with {events:,} events")
        append_batched(store, events, "follow")
        positions = store.factory.tracking_recorder()

        log("follower: raw select_notifications scan")
        with Stopwatch() as scan:
            seen, start = 0, 1
            while page := store.recorder.select_notifications(start, 1000):
                seen += len(page)
                start = page[-1].id + 1
        assert seen == events, (seen, events)

        log("follower: dispatcher catch-up")
        queue = CountingQueue()
        follower = dispatcher(store, positions, queue)
        with Stopwatch() as t:
            covered = follower.catch_up()
        assert covered == events and queue.count == events, (covered, queue.count, events)

    finally:
        store.close()

    base = events / scan.s
    return [
        row(
            f"dispatcher catch-up, {events:,} events, SQLite",
            "events/s",
            events / t.s,
            base,
            "sohoa ≥ 20000",
            f"pipeline.dispatch.dispatcher.dispatcher(...).catch_up(), counting queue; it decodes "
            f"each Received notification (no per-event SELECT); baseline: raw "
            f"select_notifications scan in pages of 1000 ({scan.s:.2f} s)",
        ),
    ]


def main() -> None:
    p = parser(__doc__.split("\n\n")[0])
    p.add_argument("--saves", type=int, help="captures saved one by one (default 5000; quick 1000)")
    p.add_argument(
        "--events",
        type=int,
        help="batched events and follower events (default 100000; quick 20000)",
    )
    p.add_argument("--pg-url", default=os.environ.get("SOHOA_BENCH_POSTGRES_URL", DEFAULT_PG))
    p.add_argument("--skip-postgres", action="store_true")
    args = p.parse_args()
    saves = args.saves or (1000 if args.quick else 5000)
    events = args.events or (20_000 if args.quick else 100_000)
    log(f"bench_events: {load_average()}")
    with scratch("events") as root:
        rows, state_len, topic = bench_sqlite(root, saves, events)
        if not args.skip_postgres:
            rows += bench_postgres(args.pg_url, saves, events, state_len, topic)
        rows += bench_follower(root, events)
    log(f"bench_events done: {load_average()}")
    emit(rows, args.json)


if __name__ == "__main__":
    main()
