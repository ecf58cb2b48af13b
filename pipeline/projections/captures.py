"""The captures projection: one row per capture, so no question reads every capture.

`sohoa status` (captures by state, reconstructions under way), the staff lists (recent,
pending, failed; a page at a time) and the sweeper (captures pending and quiet for a while)
read `capture_list` and `capture_count` instead of loading aggregates.

A row is what the capture aggregate says once the batch is applied: state (`Capture.state`
over its plan), the jobs it waits for (`ready_jobs`), failures, pages, first linked record, a
reconstruction's progress. A capture received in the batch is folded from the batch's own
events (all of its events so far are there); any other capture the batch touches is loaded
once. Rows are upserts of what the aggregate says, so a repeated batch changes nothing;
`capture_count` moves with each row's state in the same transaction as the rows and the
position (kept in `stats_position`, compare-and-set as the statistics projection's).

The archivists' review queue is a second table written here, in the same transaction and at
the same position (`pipeline.projections.review`: one row per land certificate read).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from models.application import RecordStore
from models.capture import Capture
from models.plan import plan, ready_jobs
from pipeline.bootstrap import Services
from pipeline.dispatch.follower import Follower
from pipeline.presenters import capture_title, model_progress
from pipeline.projections.follower import stats_tables
from pipeline.projections.review import ReviewTable, review_row
from pipeline.projections.tables import PositionMovedError, StatsTables

NAME = "captures"
STATES = ("pending", "done", "partial", "failed")
PAGE_SIZE = 50
IDLE_S = 0.2
"""How often an idle captures follower looks for new events (the staff lists are live)."""

COLUMNS = (
    "capture_id",
    "received",
    "received_at",
    "last_event",
    "kind",
    "collection",
    "title",
    "size",
    "state",
    "pending",
    "attempts",
    "failures",
    "pages",
    "record_id",
    "progress",
)
"""`received`: the Received event's notification id (the order captures arrived in);
`last_event`: the time of the capture's last event (UTC, ISO, sortable as text); `pending`:
the stages of the jobs it could run now; `attempts`: failures recorded (retries included);
`failures`: JSON [{stage, message}]; `progress`: JSON of a reconstruction under way, or ""."""

_DDL = (
    "CREATE TABLE IF NOT EXISTS {p}capture_list (capture_id TEXT PRIMARY KEY,"
    " received BIGINT NOT NULL, received_at TEXT NOT NULL, last_event TEXT NOT NULL,"
    " kind TEXT NOT NULL, collection TEXT NOT NULL, title TEXT NOT NULL, size BIGINT NOT NULL,"
    " state TEXT NOT NULL, pending TEXT NOT NULL, attempts INTEGER NOT NULL,"
    " failures TEXT NOT NULL, pages INTEGER NOT NULL, record_id TEXT NOT NULL,"
    " progress TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS capture_list_received ON {p}capture_list (received)",
    "CREATE INDEX IF NOT EXISTS capture_list_state ON {p}capture_list (state, received)",
    "CREATE INDEX IF NOT EXISTS capture_list_quiet ON {p}capture_list (state, last_event)",
    "CREATE INDEX IF NOT EXISTS capture_list_running ON {p}capture_list (received)"
    " WHERE progress <> ''",
    "CREATE TABLE IF NOT EXISTS {p}capture_count (state TEXT PRIMARY KEY, n BIGINT NOT NULL)",
)
_CAPTURE = get_topic(Capture) + "."
_RECEIVED = get_topic(Capture.Received)


def when(moment: datetime) -> str:
    """A time as `last_event` keeps it: UTC, microseconds, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def capture_row(capture: Capture, received: int) -> dict[str, Any]:
    """What the lists show of a capture, from the aggregate."""
    running = model_progress(capture)
    return {
        "capture_id": str(capture.id),
        "received": received,
        "received_at": capture.created_on.isoformat(),
        "last_event": when(capture.modified_on),
        "kind": capture.kind,
        "collection": str((capture.meta or {}).get("collection") or ""),
        "title": capture_title(capture),  # never the path on the ingesting machine
        "size": int(capture.size),
        "state": capture.state(plan(capture)),
        "pending": ",".join(dict.fromkeys(j.stage for j in ready_jobs(capture))),
        "attempts": len(capture.failures),
        "failures": json.dumps(
            [{"stage": f["stage"], "message": f["message"]} for f in capture.failures],
            ensure_ascii=False,
        ),
        "pages": int(capture.inspection.get("pages") or 0),
        "record_id": str(capture.links[0]) if capture.links else "",
        "progress": json.dumps(running) if running else "",
    }


class CaptureTables:
    """SQL over `capture_list` and `capture_count`, beside the statistics tables (same
    database, same transactions and position table)."""

    def __init__(self, base: StatsTables) -> None:
        self.base = base
        self.review = ReviewTable(base)
        self._ready = False

    def _sql(self, text: str) -> str:
        return self.base._sql(text)

    def create(self) -> None:
        if self._ready:
            return
        with self.base.transaction(commit=True) as cursor:
            for ddl in _DDL:
                cursor.execute(ddl.replace("{p}", self.base.prefix))
            if self.review.created(cursor):  # older than the review table: read the log again
                cursor.execute(self._sql("DELETE FROM {p}stats_position WHERE name = ?"), (NAME,))
        self._ready = True

    def drop(self) -> None:
        """Forget the rows and the position: the follower rebuilds from the first event."""
        with self.base.transaction(commit=True) as cursor:
            for table in ("capture_list", "capture_count"):
                cursor.execute(f"DROP TABLE IF EXISTS {self.base.prefix}{table}")
            self.review.drop(cursor)
            cursor.execute(self._sql("DELETE FROM {p}stats_position WHERE name = ?"), (NAME,))
        self._ready = False

    def query(self, text: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.create()
        return self.base.query(text, params)

    def position(self) -> int:
        self.create()
        return self.base.position(NAME)

    def rows(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.create()
        return self.base.rows("capture_list", COLUMNS, ids)

    def save(
        self,
        expected: int,
        position: int,
        rows: Sequence[dict[str, Any]],
        review: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Rows, the counts by state, the review queue's rows (of certificates among `rows`)
        and the position in one transaction; `PositionMovedError` when another follower
        recorded this batch first."""
        old = self.rows([r["capture_id"] for r in rows])
        moves: Counter[str] = Counter()
        for row in rows:
            before = old.get(row["capture_id"])
            if before is not None:
                moves[before["state"]] -= 1
            moves[row["state"]] += 1
        with self.base.transaction(commit=True) as cursor:
            self.base._move_position(cursor, NAME, expected, position)
            if rows:
                cursor.executemany(self._upsert(), [tuple(r[c] for c in COLUMNS) for r in rows])
                self.review.write(cursor, [r["capture_id"] for r in rows], review)
            changes = [(state, n) for state, n in moves.items() if n]
            if changes:
                cursor.executemany(
                    self._sql(
                        "INSERT INTO {p}capture_count AS c (state, n) VALUES (?, ?)"
                        " ON CONFLICT (state) DO UPDATE SET n = c.n + excluded.n"
                    ),
                    changes,
                )

    def _upsert(self) -> str:
        names = ",".join(COLUMNS)
        marks = ",".join("?" * len(COLUMNS))
        # `received` stays as first written: a capture keeps its place in the list
        updates = ",".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
        return self._sql(
            f"INSERT INTO {{p}}capture_list ({names}) VALUES ({marks})"
            f" ON CONFLICT (capture_id) DO UPDATE SET {updates}"
        )

    # -- the questions ---------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Captures by state (every state named, 0 when none)."""
        found = {
            r["state"]: int(r["n"]) for r in self.query("SELECT state, n FROM {p}capture_count")
        }
        return {state: found.get(state, 0) for state in STATES}

    def page(
        self, state: str | None = None, page: int = 1, size: int = PAGE_SIZE
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of captures, newest first (all, or in one state), and how many in all."""
        counts = self.counts()
        total = counts.get(state, 0) if state else sum(counts.values())
        where, params = ("WHERE state = ?", [state]) if state else ("", [])
        rows = self.query(
            f"SELECT * FROM {{p}}capture_list {where} ORDER BY received DESC LIMIT ? OFFSET ?",
            [*params, size, (max(page, 1) - 1) * size],
        )
        return rows, total

    def quiet(self, state: str, before: datetime, limit: int = 10_000) -> list[dict[str, Any]]:
        """Captures in `state` whose last event is older than `before`, quietest first."""
        return self.query(
            "SELECT * FROM {p}capture_list WHERE state = ? AND last_event < ?"
            " ORDER BY last_event LIMIT ?",
            [state, when(before), limit],
        )

    def review_page(self, page: int = 1, size: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """One page of the review queue, weakest first (`pipeline.projections.review`)."""
        return self.review.page(self.query, page, size)

    def review_figures(self) -> dict[str, int]:
        """Certificates in the queue, and their fields by status."""
        return self.review.figures(self.query)

    def next_waiting(self, after: str) -> str | None:
        """The weakest certificate still waiting for a person, other than `after`."""
        return self.review.next_waiting(self.query, after)

    def running(self) -> list[dict[str, Any]]:
        """Captures with a reconstruction under way, in the order they arrived."""
        return self.query("SELECT * FROM {p}capture_list WHERE progress <> '' ORDER BY received")


class CapturesProjection:
    """Notifications in, capture rows out; the position lives with the rows."""

    def __init__(self, store: RecordStore, tables: CaptureTables) -> None:
        self.store = store
        self.tables = tables

    def position(self, follower: str) -> int:
        return self.tables.position()

    def set_position(self, follower: str, notification_id: int) -> None:
        """Written by `handle` with the rows; nothing left to do."""

    def handle(self, notifications: Sequence[Notification]) -> None:
        expected = self.tables.position()
        fresh = [n for n in notifications if n.id > expected]
        if not fresh:
            return
        captures = self.captures([n for n in fresh if n.topic.startswith(_CAPTURE)])
        rows = [capture_row(c, received) for c, received in captures]
        review = [r for c, received in captures if (r := review_row(c, received))]
        try:
            self.tables.save(expected, fresh[-1].id, rows, review)
        except PositionMovedError:  # another catch-up wrote this batch: the same rows
            return

    def rows(self, notifications: Sequence[Notification]) -> list[dict[str, Any]]:
        """The row of every capture the notifications touch."""
        return [capture_row(c, received) for c, received in self.captures(notifications)]

    def captures(self, notifications: Sequence[Notification]) -> list[tuple[Capture, int]]:
        """Every capture the notifications touch, as of the batch (folded) or as of now
        (loaded, for captures received in an earlier batch), with its Received's id."""
        folded: dict[UUID, Capture | None] = {}
        received: dict[UUID, int] = {}
        touched: dict[UUID, None] = {}
        for n in notifications:
            cid = n.originator_id
            touched[cid] = None
            if n.topic == _RECEIVED:
                received[cid] = n.id
                folded[cid] = None
            if cid in folded:  # received in this batch: every event of it so far is here
                folded[cid] = self.store.mapper.to_domain_event(n).mutate(folded[cid])
        known = self.tables.rows([str(c) for c in touched if c not in received])
        out = []
        for cid in touched:
            capture = folded.get(cid) or self._load(cid)
            if capture is None:
                continue
            row = known.get(str(cid))
            out.append((capture, received.get(cid) or int(row["received"] if row else 0)))
        return out

    def _load(self, capture_id: UUID) -> Capture | None:
        try:
            return self.store.capture(capture_id)
        except Exception:  # gone or not a capture: no row
            return None


def capture_tables(services: Services) -> CaptureTables:
    """The tables beside the services' event store (one per `Services`)."""
    tables = services.__dict__.get("_capture_tables")
    if tables is None:
        tables = services.__dict__["_capture_tables"] = CaptureTables(stats_tables(services))
    return tables


def captures_follower(services: Services, batch: int = 1000) -> Follower:
    """The follower that keeps `capture_list`; its position lives beside the rows."""
    projection = CapturesProjection(services.store, capture_tables(services))
    return Follower(NAME, services.store, projection, projection.handle, batch=batch)


def current(services: Services, catch_up: bool | None = None) -> CaptureTables:
    """The tables, brought up to date first when asked to, or by default on embedded
    defaults (memory:// broker: no `follow` process keeps them)."""
    if catch_up is None:
        catch_up = services.settings.broker_url.startswith("memory")
    if catch_up:
        captures_follower(services).catch_up()
    return capture_tables(services)


def rebuild(services: Services) -> int:
    """Drop the rows and read the whole log again; returns how many events it read."""
    capture_tables(services).drop()
    return captures_follower(services).catch_up()
