"""The statistics projection: what the dashboard, `/api/stats` and `/metrics` count.

A follower (`stats_follower`) hands it batches of notifications; it turns each event into
increments of `stats_count` (see `pipeline.projections.tables` for the grains) and keeps one
small row per capture and per record so the next event knows the capture's unit and state, or
the record's rank. A batch's counts, rows and position are written in one transaction.

Where a count is attributed:

- captures, bytes and state count on the day the capture was **received**; a capture's state
  is re-read (`Capture.state`) when an outcome event arrives, and its count moves from the old
  state to the new one, so "pending by day received" is the backlog by age;
- pages, OCR confidence and failures count on the day they **happened**;
- certificates: *entered* when their fields are extracted, *reviewed* at the first correction,
  *linked* when a parcel record is linked (each once per capture);
- a capture's administrative unit is its sidecar's `unit_code`/`unit_era`, else the unit of
  the first parcel or site it is linked to; when it becomes known later, its captures, bytes,
  state and certificate counts move to it (pages counted before stay where they were);
- published heritage sites count by rank on the day published; a withdrawal takes one off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from models.application import RecordStore
from models.capture import Capture
from models.ids import Outcome
from models.plan import plan
from models.record import Record
from pipeline.projections.tables import (
    ANY,
    CAPTURE_COLUMNS,
    RECORD_COLUMNS,
    CountKey,
    StatsTables,
)

NAME = "stats"
MONTHLY = frozenset({"captures", "pages", "relics"})
"""The measures the public numbers give by unit, kind and month (the `month` grain)."""
HANOI_TIME = timezone(timedelta(hours=7))
CERTIFICATE = "land-certificate"
CONF_BUCKETS = ((50, "<50"), (70, "50-70"), (85, "70-85"), (95, "85-95"), (101, "95+"))
"""Upper bounds of the OCR mean-confidence buckets (Tesseract's 0–100)."""
STATE_EVENTS = frozenset(
    {
        "Inspected",
        "ProcessingFailed",
        "TextRequested",
        "PageRecognised",
        "TextAssembled",
        "FieldsExtracted",
        "ReconstructionRequested",
        "ModelReconstructed",
        "RetryRequested",
    }
)
_CAPTURE = get_topic(Capture) + "."
_RECORD = get_topic(Record) + "."

StateOf = Callable[[UUID], str | None]
"""A capture's state now (None: unknown); the default loads it from the store."""
RecordUnit = Callable[[Any], str]
"""A site's unit key from its attributes (`era:code`), "" when it cannot be told."""


def conf_bucket(mean_conf: float) -> str:
    return next(label for bound, label in CONF_BUCKETS if mean_conf < bound)


def unit_key(code: Any, era: Any) -> str:
    """`2025:00025`, the key search documents use too (`models.places.units.Unit.key`)."""
    code = str(code or "").strip()
    if not code:
        return ""
    return f"{era or '2025'}:{code.zfill(5) if code.isdigit() and len(code) > 3 else code}"


class StatsProjection:
    """Notifications in, increments of the statistics tables out."""

    def __init__(
        self,
        store: RecordStore,
        tables: StatsTables,
        state_of: StateOf | None = None,
        record_unit: RecordUnit | None = None,
        on_events: Callable[[Sequence[Any]], None] | None = None,
    ) -> None:
        self.store = store
        self.tables = tables
        self.state_of = state_of or self._load_state
        self.record_unit = record_unit
        self.on_events = on_events
        """Told of each batch's events once counted (the live metrics)."""

    # -- the Positions protocol: the position lives with the counts ----------------

    def position(self, follower: str) -> int:
        return self.tables.position(follower)

    def set_position(self, follower: str, notification_id: int) -> None:
        """Written by `handle` with the counts; nothing left to do."""

    def handle(self, notifications: Sequence[Notification]) -> None:
        if not notifications:
            return
        expected = self.tables.position(NAME)
        fresh = [n for n in notifications if n.id > expected]
        if not fresh:
            return
        events = [
            self.store.mapper.to_domain_event(n)
            for n in fresh
            if n.topic.startswith((_CAPTURE, _RECORD))
        ]
        self.apply(events, expected, fresh[-1].id)

    def apply(self, events: Sequence[Any], expected: int, position: int) -> Counter[CountKey]:
        """Count `events` and move the position from `expected` to `position`."""
        batch = _Batch(self, events)
        for event in events:
            batch.count(event)
        batch.settle_states()
        self.tables.save(
            NAME,
            expected,
            position,
            batch.counts,
            list(batch.captures.values()),
            list(batch.records.values()),
        )
        if self.on_events is not None:
            self.on_events(events)
        return batch.counts

    def _load_state(self, capture_id: UUID) -> str | None:
        try:
            capture = self.store.capture(capture_id)
        except Exception:  # not a capture after all: nothing to count
            return None
        return capture.state(plan(capture))


class _Batch:
    """One batch's increments, and the capture and record rows it read and changed."""

    def __init__(self, projection: StatsProjection, events: Sequence[Any]) -> None:
        self.p = projection
        self.counts: Counter[CountKey] = Counter()
        capture_ids, record_ids = set(), set()
        for e in events:
            (capture_ids if isinstance(e, Capture.Event) else record_ids).add(str(e.originator_id))
            if isinstance(e, Capture.Received | Capture.RecordLinked):
                record_ids.update(str(r) for r in _linked(e))
            if isinstance(e, Record.CaptureLinked):
                capture_ids.add(str(e.capture_id))
        tables = projection.tables
        self.captures = tables.rows("stats_capture", CAPTURE_COLUMNS, capture_ids)
        self.records = tables.rows("stats_record", RECORD_COLUMNS, record_ids)
        self.stale: set[str] = set()

    # -- counting ------------------------------------------------------------------

    def add(self, day: str, measure: str, row: dict, detail: str = "", n: int = 1) -> None:
        kind, unit, month = row["kind"], row["unit"], day[:7]
        self.counts[("day", day, measure, kind, ANY, ANY, detail)] += n
        self.counts[("dayunit", day, measure, ANY, ANY, unit, detail)] += n
        if measure in MONTHLY:
            self.counts[("month", month, measure, kind, ANY, unit, detail)] += n
        self.counts[("monthcol", month, measure, ANY, row["collection"], ANY, detail)] += n
        self.counts[("unit", ANY, measure, ANY, ANY, unit, detail)] += n

    def count(self, e: Any) -> None:
        day = _day(e.timestamp)
        if isinstance(e, Capture.Received):
            self.received(e, day)
            return
        if isinstance(e, Capture.Event):
            row = self.captures.get(str(e.originator_id))
            if row is None:  # a capture received before a rebuild began cannot be: skip
                return
            self.capture_event(e, row, day)
        else:
            self.record_event(e, day)

    def received(self, e: Capture.Received, day: str) -> None:
        cid = str(e.originator_id)
        if cid in self.captures:  # a repeated batch after a lost position: counted already
            return
        meta = e.meta or {}
        row = {
            "capture_id": cid,
            "day": day,
            "kind": e.kind,
            "collection": str(meta.get("collection") or ""),
            "unit": unit_key(meta.get("unit_code"), meta.get("unit_era")),
            "state": "pending",
            "bytes": int(e.size),
            "entered": "",
            "reviewed": "",
            "linked": "",
        }
        self.captures[cid] = row
        self.add(day, "captures", row)
        self.add(day, "bytes", row, n=int(e.size))
        self.add(day, "state", row, "pending")
        for rid in _linked(e):
            self.link(row, self.records.get(str(rid)), day)

    def capture_event(self, e: Any, row: dict, day: str) -> None:
        name = type(e).__name__
        if name in STATE_EVENTS:
            self.stale.add(row["capture_id"])
        if isinstance(e, Capture.PageRecognised):
            self.add(day, "pages", row)
            self.add(day, "ocr_conf", row, conf_bucket(float(e.mean_conf)))
        elif isinstance(e, Capture.ProcessingFailed):
            stage = Outcome.parse(e.stage).stage
            self.add(day, "failures", row, f"{stage}: {e.error_class}")
        elif isinstance(e, Capture.FieldsExtracted):
            if e.kind == "land_certificate" and not row["entered"]:
                row["entered"] = day
                self.add(day, "cert_entered", row)
            if e.record_id is not None:
                self.link(row, self.records.get(str(e.record_id)), day)
        elif isinstance(e, Capture.FieldCorrected):
            if not row["reviewed"] and (row["entered"] or row["kind"] == CERTIFICATE):
                row["reviewed"] = day
                self.add(day, "cert_reviewed", row)
        elif isinstance(e, Capture.RecordLinked):
            self.link(row, self.records.get(str(e.record_id)), day)

    def record_event(self, e: Any, day: str) -> None:
        rid = str(e.originator_id)
        if isinstance(e, Record.Registered):
            unit = unit_key(e.key.get("unit_code"), e.key.get("era")) if e.kind == "parcel" else ""
            self.records.setdefault(
                rid,
                {"record_id": rid, "kind": e.kind, "unit": unit, "rank": "", "published": ""},
            )
            return
        record = self.records.get(rid)
        if record is None:
            return
        if isinstance(e, Record.AttributesRecorded):
            self.attributes(record, e.attributes)
        elif isinstance(e, Record.CaptureLinked):
            row = self.captures.get(str(e.capture_id))
            if row is not None:
                self.link(row, record, day)
        elif isinstance(e, Record.Published) and record["kind"] == "site":
            if not record["published"]:
                record["published"] = day
                self.relic(record, day, 1)
        elif isinstance(e, Record.Withdrawn) and record["published"]:
            self.relic(record, record["published"], -1)
            record["published"] = ""

    def attributes(self, record: dict, attributes: dict[str, Any]) -> None:
        rank = attributes.get("rank")
        if isinstance(rank, str) and rank != record["rank"]:
            if record["published"]:
                self.relic(record, record["published"], -1)
            record["rank"] = rank
            if record["published"]:
                self.relic(record, record["published"], 1)
        if record["kind"] == "site" and "ward" in attributes and self.p.record_unit:
            unit = self.p.record_unit(_site(record, attributes))
            if unit and unit != record["unit"]:
                if record["published"]:
                    self.relic(record, record["published"], -1)
                record["unit"] = unit
                if record["published"]:
                    self.relic(record, record["published"], 1)

    def relic(self, record: dict, day: str, n: int) -> None:
        row = {"kind": "site", "unit": record["unit"], "collection": ""}
        self.add(day, "relics", row, record["rank"] or "unranked", n)

    def link(self, row: dict, record: dict | None, day: str) -> None:
        """A capture linked to a record: its unit if it had none; a certificate's parcel."""
        if record is None:
            return
        if record["unit"] and not row["unit"]:
            self.move(row, record["unit"])
        if record["kind"] == "parcel" and row["kind"] == CERTIFICATE and not row["linked"]:
            row["linked"] = day
            self.add(day, "cert_linked", row)

    def move(self, row: dict, unit: str) -> None:
        """The capture's counts kept by day received (and its certificate's) to `unit`."""
        for sign in (-1, 1):
            self.add(row["day"], "captures", row, n=sign)
            self.add(row["day"], "bytes", row, n=sign * int(row["bytes"]))
            self.add(row["day"], "state", row, row["state"], sign)
            for measure in ("entered", "reviewed", "linked"):
                if row[measure]:
                    self.add(row[measure], f"cert_{measure}", row, n=sign)
            row["unit"] = unit

    def settle_states(self) -> None:
        for cid in self.stale:
            row = self.captures[cid]
            state = self.p.state_of(UUID(cid))
            if state is not None and state != row["state"]:
                self.add(row["day"], "state", row, row["state"], -1)
                row["state"] = state
                self.add(row["day"], "state", row, state, 1)


def _linked(e: Any) -> Iterable[UUID]:
    if isinstance(e, Capture.Received):
        return e.links or ()
    return (e.record_id,)


def _site(record: dict, attributes: dict[str, Any]) -> Any:
    """A stand-in record with what the unit lookup reads (kind, key, ward and district)."""
    return SimpleNamespace(kind=record["kind"], key={}, attributes=dict(attributes))


def _day(when: datetime) -> str:
    """The day in Hà Nội (UTC+7, no daylight saving): work done at 06:00 counts that day."""
    return when.astimezone(HANOI_TIME).date().isoformat()
