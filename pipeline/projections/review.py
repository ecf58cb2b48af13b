"""The certificate-review table: one row per land certificate read, so the archivists' queue
(`/staff/review`, `sohoa review`) is ordered and paged without loading a capture.

A row holds what orders the queue: fields waiting for a person, accepted, corrected, left
blank (not on the pages photographed) and read as is, and the weakest confidence among the
fields nobody has looked at. The captures projection (`pipeline.projections.captures`)
writes these rows in the same transaction as its own, at the same position: there is no
second follower. A capture whose fields stop being a certificate's (a later run) loses its
row.

A database whose captures table predates this one, or whose table predates a column (the
fields left blank), is brought level by replaying the log once (the captures position is
reset when this table is (re)created; rows are upserts, so the replay changes nothing else).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.capture import Capture
from pipeline.presenters import capture_title, field_status, review_summary

PAGE_SIZE = 50
COLUMNS = (
    "capture_id",
    "received",
    "title",
    "waiting",
    "accepted",
    "corrected",
    "left_blank",
    "read",
    "weakest",
)
"""`waiting`: fields needing review; `weakest`: the lowest confidence of the fields waiting or
read as is (NULL when a person has settled every field)."""
FIGURES = ("waiting", "accepted", "corrected", "left_blank", "read")
ORDER = "(waiting = 0), COALESCE(weakest, 1.0), waiting DESC, capture_id"
"""Weakest first: certificates with fields waiting, then the lowest confidence, then the most
fields waiting (the index below has the same expressions, so a page is a range of it)."""

DDL = (
    "CREATE TABLE IF NOT EXISTS {p}certificate_review (capture_id TEXT PRIMARY KEY,"
    " received BIGINT NOT NULL, title TEXT NOT NULL, waiting INTEGER NOT NULL,"
    " accepted INTEGER NOT NULL, corrected INTEGER NOT NULL, left_blank INTEGER NOT NULL,"
    " read INTEGER NOT NULL,"
    " weakest DOUBLE PRECISION)",
    f"CREATE INDEX IF NOT EXISTS certificate_review_order ON {{p}}certificate_review ({ORDER})",
)


def review_row(capture: Capture, received: int) -> dict[str, Any] | None:
    """The queue's row of a capture, or None when its fields are not a land certificate's."""
    if (capture.fields or {}).get("kind") != "land_certificate":
        return None
    summary = review_summary(field_status(capture))
    return {
        "capture_id": str(capture.id),
        "received": received,
        "title": capture_title(capture),  # never the path on the ingesting machine
        "waiting": summary["needs_review"],
        "accepted": summary["accepted"],
        "corrected": summary["corrected"],
        "left_blank": summary["left_blank"],
        "read": summary["read"],
        "weakest": summary["weakest"],
    }


class ReviewTable:
    """SQL over `certificate_review`, through the captures tables (same database and
    transactions)."""

    def __init__(self, base: Any) -> None:
        self.base = base  # a StatsTables

    def created(self, cursor: Any) -> bool:
        """Create the table; True when it did not exist before, or lacked a column and was
        made again (the caller replays the log)."""
        prefix = self.base.prefix
        found = set(self._columns(cursor))
        existed = set(COLUMNS) <= found
        if found and not existed:
            self.drop(cursor)
        for ddl in DDL:
            cursor.execute(ddl.replace("{p}", prefix))
        return not existed

    def _columns(self, cursor: Any) -> list[str]:
        """The table's columns as it stands (none when there is no table)."""
        if self.base.postgres:
            cursor.execute(
                "SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass(%s)"
                " AND attnum > 0 AND NOT attisdropped",
                (f"{self.base.prefix}certificate_review",),
            )
        else:
            cursor.execute("SELECT name FROM pragma_table_info('certificate_review')")
        return [dict(row)["name"] for row in cursor.fetchall()]

    def drop(self, cursor: Any) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {self.base.prefix}certificate_review")

    def write(self, cursor: Any, touched: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        """Upsert `rows`; remove the rows of the other `touched` captures."""
        kept = {r["capture_id"] for r in rows}
        gone = [(c,) for c in touched if c not in kept]
        if gone:
            sql = "DELETE FROM {p}certificate_review WHERE capture_id = ?"
            cursor.executemany(self.base._sql(sql), gone)
        if rows:
            names, marks = ",".join(COLUMNS), ",".join("?" * len(COLUMNS))
            updates = ",".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
            sql = (
                f"INSERT INTO {{p}}certificate_review ({names}) VALUES ({marks})"
                f" ON CONFLICT (capture_id) DO UPDATE SET {updates}"
            )
            cursor.executemany(self.base._sql(sql), [tuple(r[c] for c in COLUMNS) for r in rows])

    # -- the questions ---------------------------------------------------------

    def figures(self, query: Any) -> dict[str, int]:
        """Fields across the queue by status, and how many certificates."""
        sums = ", ".join(f"COALESCE(SUM({c}), 0) AS {c}" for c in FIGURES)
        [found] = query(f"SELECT COUNT(*) AS certificates, {sums} FROM {{p}}certificate_review")
        return {k: int(v) for k, v in found.items()}

    def page(self, query: Any, page: int = 1, size: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """One page of the queue, weakest first."""
        return query(
            f"SELECT * FROM {{p}}certificate_review ORDER BY {ORDER} LIMIT ? OFFSET ?",
            [size, (max(page, 1) - 1) * size],
        )

    def next_waiting(self, query: Any, after: str) -> str | None:
        """The weakest certificate still waiting, other than `after`."""
        found = query(
            "SELECT capture_id FROM {p}certificate_review WHERE waiting > 0 AND capture_id <> ?"
            f" ORDER BY {ORDER} LIMIT 1",
            [after],
        )
        return found[0]["capture_id"] if found else None

    def neighbours(self, query: Any, capture_id: str, n: int = 2) -> list[dict[str, Any]]:
        """The `n` certificates received just before `capture_id` and the `n` just after
        (`before` says which), nearest first: the photos of one certificate are usually taken
        one after the other (page 1, pages 2–3, page 4)."""
        mine = query(
            "SELECT received FROM {p}certificate_review WHERE capture_id = ?", [capture_id]
        )
        if not mine:
            return []
        at = mine[0]["received"]
        found = []
        for sign, order in (("<", "DESC"), (">", "ASC")):
            rows = query(
                "SELECT capture_id, title, received FROM {p}certificate_review"
                f" WHERE received {sign} ? ORDER BY received {order} LIMIT ?",
                [at, n],
            )
            found += [{**r, "before": sign == "<"} for r in rows]
        return sorted(found, key=lambda r: abs(r["received"] - at))
