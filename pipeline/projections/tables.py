"""The statistics tables, in the event store's own database (SQLite or PostgreSQL).

Counts live in `stats_count`, one row per (grain, period, measure, kind, collection, unit,
detail); each grain keeps only the dimensions its questions group by, so no question reads a
row per capture:

- `day`      period = day,   kind;          "pages per day", "backlog by age"
- `dayunit`  period = day,   unit;          the same for one administrative unit
- `month`    period = month, kind and unit; "counts by unit, kind and month", targets per ward
- `monthcol` period = month, collection;    "by collection"
- `unit`     no period,      unit;          all-time totals per unit (certificates, workload)

The key leads with (grain, measure, unit, period): every question names its grain, measure and
unit (`*` for all) and reads one range of periods.

`stats_capture` and `stats_record` hold the little each capture or record needs for the next
event (its unit, state, certificate progress, rank); `stats_position` is how far the follower
got, written in the same transaction as the counts (counts are not idempotent, so a batch must
count once or not at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

GRAINS = ("day", "dayunit", "month", "monthcol", "unit")
ANY = "*"
"""A dimension a grain does not keep."""

CAPTURE_COLUMNS = (
    "capture_id",
    "day",
    "kind",
    "collection",
    "unit",
    "state",
    "bytes",
    "entered",
    "reviewed",
    "linked",
)
RECORD_COLUMNS = ("record_id", "kind", "unit", "rank", "published")

_DDL = (
    "CREATE TABLE IF NOT EXISTS {p}stats_count (grain TEXT NOT NULL, period TEXT NOT NULL,"
    " measure TEXT NOT NULL, kind TEXT NOT NULL, collection TEXT NOT NULL, unit TEXT NOT NULL,"
    " detail TEXT NOT NULL, n BIGINT NOT NULL,"
    " PRIMARY KEY (grain, measure, unit, period, kind, collection, detail)){clustered}",
    "CREATE TABLE IF NOT EXISTS {p}stats_capture (capture_id TEXT PRIMARY KEY,"
    " day TEXT NOT NULL, kind TEXT NOT NULL, collection TEXT NOT NULL, unit TEXT NOT NULL,"
    " state TEXT NOT NULL, bytes BIGINT NOT NULL, entered TEXT NOT NULL,"
    " reviewed TEXT NOT NULL, linked TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}stats_record (record_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " unit TEXT NOT NULL, rank TEXT NOT NULL, published TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}stats_position (name TEXT PRIMARY KEY,"
    " position BIGINT NOT NULL)",
)
_TABLES = ("stats_count", "stats_capture", "stats_record", "stats_position")

CountKey = tuple[str, str, str, str, str, str, str]
"""(grain, period, measure, kind, collection, unit, detail)."""


class PositionMovedError(Exception):
    """Another follower recorded this batch first; ours is rolled back."""


class StatsTables:
    """SQL over the statistics tables, for the SQLite and the PostgreSQL event store."""

    def __init__(self, datastore: Any, postgres: bool) -> None:
        self.datastore = datastore
        self.postgres = postgres
        schema = getattr(datastore, "schema", "") if postgres else ""
        self.prefix = f"{schema}." if schema else ""
        self._ready = False

    @classmethod
    def of(cls, store: Any) -> StatsTables:
        """The tables beside a `RecordStore`'s events."""
        datastore = store.recorder.datastore
        return cls(datastore, postgres=type(datastore).__name__.startswith("Postgres"))

    def _sql(self, text: str) -> str:
        text = text.replace("{p}", self.prefix)
        return text.replace("?", "%s") if self.postgres else text

    @contextmanager
    def transaction(self, commit: bool = False) -> Iterator[Any]:
        self.create()
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def create(self) -> None:
        if self._ready:
            return
        with self.datastore.transaction(commit=True) as cursor:
            for ddl in _DDL:
                # SQLite: the rows in key order, so a grain's range is read in one sweep
                clustered = "" if self.postgres else " WITHOUT ROWID"
                cursor.execute(
                    ddl.replace("{p}", self.prefix)
                    .replace("{i}", "")
                    .replace("{clustered}", clustered)
                )
        self._ready = True

    def drop(self) -> None:
        """Forget every count and the position: the follower rebuilds from the first event."""
        with self.datastore.transaction(commit=True) as cursor:
            for table in _TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {self.prefix}{table}")
        self._ready = False

    def query(self, text: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.transaction() as cursor:
            cursor.execute(self._sql(text), tuple(params))
            return [dict(row) for row in cursor.fetchall()]

    # -- the follower's side ---------------------------------------------------

    def position(self, name: str) -> int:
        rows = self.query("SELECT position FROM {p}stats_position WHERE name = ?", (name,))
        return int(rows[0]["position"]) if rows else 0

    def rows(self, table: str, columns: Sequence[str], ids: Iterable[str]) -> dict[str, dict]:
        ids = list(ids)
        found: dict[str, dict] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            text = f"SELECT {','.join(columns)} FROM {{p}}{table} WHERE {columns[0]} IN ({marks})"
            for row in self.query(text, chunk):
                found[row[columns[0]]] = row
        return found

    def save(
        self,
        name: str,
        expected: int,
        position: int,
        counts: dict[CountKey, int],
        captures: Sequence[dict],
        records: Sequence[dict],
    ) -> None:
        """Counts, rows and the new position in one transaction; `PositionMovedError` if the
        stored position is no longer `expected` (another follower got there first)."""
        with self.transaction(commit=True) as cursor:
            self._move_position(cursor, name, expected, position)
            cursor.executemany(
                self._sql(
                    "INSERT INTO {p}stats_count AS c (grain, period, measure, kind, collection,"
                    " unit, detail, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (grain,"
                    " measure, period, kind, collection, unit, detail) DO UPDATE SET"
                    " n = c.n + excluded.n"
                ),
                [(*key, n) for key, n in counts.items() if n],
            )
            for table, columns, rows in (
                ("stats_capture", CAPTURE_COLUMNS, captures),
                ("stats_record", RECORD_COLUMNS, records),
            ):
                if rows:
                    values = [_values(r, columns) for r in rows]
                    cursor.executemany(self._upsert(table, columns), values)

    def _move_position(self, cursor: Any, name: str, expected: int, position: int) -> None:
        if expected == 0:
            cursor.execute(
                self._sql(
                    "INSERT INTO {p}stats_position (name, position) VALUES (?, 0)"
                    " ON CONFLICT (name) DO NOTHING"
                ),
                (name,),
            )
        cursor.execute(
            self._sql(
                "UPDATE {p}stats_position SET position = ? WHERE name = ? AND position = ?"
                " RETURNING position"
            ),
            (position, name, expected),
        )
        if len(cursor.fetchall()) != 1:
            raise PositionMovedError(f"{name}: position is no longer {expected}")

    def _upsert(self, table: str, columns: Sequence[str]) -> str:
        names = ",".join(columns)
        marks = ",".join("?" * len(columns))
        updates = ",".join(f"{c} = excluded.{c}" for c in columns[1:])
        return self._sql(
            f"INSERT INTO {{p}}{table} ({names}) VALUES ({marks})"
            f" ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}"
        )


def _values(row: dict, columns: Sequence[str]) -> tuple:
    return tuple(row[c] for c in columns)
